"""The one source of time for functions; tests replace `now` to move time."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601, so timestamps sort as strings (sort keys rely on it)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())
