"""The one source of time for functions; tests replace `now` to move time.

Every other reading here derives from `now`, so moving it moves all of them.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def now_ms() -> int:
    """Epoch milliseconds (the duels store times this way)."""
    return int(now().timestamp() * 1000)


def iso(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601, so timestamps sort as strings (sort keys rely on it)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_ms(epoch_ms: int) -> str:
    """UTC ISO 8601 with milliseconds and a Z, the form WebSocket clients parse."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())
