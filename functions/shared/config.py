"""Settings a function reads from its environment, read when asked (tests set them per test)."""

from __future__ import annotations

import os


class MissingConfiguration(RuntimeError):
    """The deployment did not give this function a setting it needs: a wiring bug, not a user error."""


def table_name(logical: str) -> str:
    """Physical name of a table, from <LOGICAL>_TABLE, which the deployment sets per declared table."""
    variable = f"{logical.upper()}_TABLE"
    value = os.environ.get(variable)
    if not value:
        raise MissingConfiguration(f"{variable} is not set: does this function declare table {logical!r}?")
    return value


def int_setting(variable: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(variable)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise MissingConfiguration(f"{variable}={raw!r} is not an integer") from exc
    if value < minimum:
        raise MissingConfiguration(f"{variable}={value} is below {minimum}")
    return value


METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "arcadeflow")
