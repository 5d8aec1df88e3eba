"""Settings a function reads from its environment, read when asked (tests set them per test).

Every flow reads its settings here, by one rule: an unset (or empty) required setting is a
MissingConfiguration, a value that is not what the setting needs (not an integer, below its
minimum) an InvalidConfiguration. Both are wiring bugs of the deployment, never a user's error,
so they are not ArcadeflowErrors: a caller sees a 500 or a failed task, and the log says which.
Integer settings are counts and durations: at least 1 unless the setting says otherwise.
"""

from __future__ import annotations

import os

# Powertools reads the same variable when no namespace is given; naming it here keeps one
# default for functions deployed without it (a local run, a test).
METRICS_NAMESPACE_VARIABLE = "POWERTOOLS_METRICS_NAMESPACE"
DEFAULT_METRICS_NAMESPACE = "arcadeflow"


class ConfigurationError(RuntimeError):
    """The deployment gave this function a setting it cannot work with."""


class MissingConfiguration(ConfigurationError):
    """A setting the function needs is not set."""


class InvalidConfiguration(ConfigurationError):
    """A setting is set to something the function cannot use."""


def required(variable: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise MissingConfiguration(f"{variable} is not set: check the function in infra/deployment.json")
    return value


def table_name(logical: str) -> str:
    """Physical name of a table, from <LOGICAL>_TABLE, which the deployment sets per declared table."""
    variable = f"{logical.upper()}_TABLE"
    value = os.environ.get(variable)
    if not value:
        raise MissingConfiguration(f"{variable} is not set: does this function declare table {logical!r}?")
    return value


def int_setting(variable: str, default: int, minimum: int = 1) -> int:
    """An integer setting; unset or empty means `default`, which must itself respect `minimum`."""
    if default < minimum:
        raise ValueError(f"the default of {variable} ({default}) is below its minimum {minimum}")
    raw = os.environ.get(variable)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidConfiguration(f"{variable}={raw!r} is not an integer") from exc
    if value < minimum:
        raise InvalidConfiguration(f"{variable}={value} is below {minimum}")
    return value


def metrics_namespace() -> str:
    """The CloudWatch namespace every function publishes its metrics under."""
    return os.environ.get(METRICS_NAMESPACE_VARIABLE) or DEFAULT_METRICS_NAMESPACE
