"""The VR flow's rules, pure (no AWS): event keys, retention, which rewards a session earns.

Event sort keys are the event's own time, normalised to UTC with milliseconds, then '#' and a
tie-breaker, so two events of one millisecond never overwrite each other. With a batchId the
tie-breaker derives from the batchId and the event's index: a retried batch writes the same keys.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from functions.vr.catalog import (
    CumulativeEventCount,
    CumulativeSessionCount,
    RewardCatalog,
    SessionEnded,
    SessionEventCount,
)

TIE_BREAKER_CHARS = 16


def normalised_timestamp(text: str) -> str:
    """ISO 8601 with a zone -> fixed-width UTC with milliseconds ('...T12:00:00.123Z');
    ValueError for anything else (no zone, not a date)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamp needs a zone (Z or +hh:mm)")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tie_breaker(batch_id: str | None, index: int) -> str:
    if batch_id is None:
        return uuid.uuid4().hex[:TIE_BREAKER_CHARS]
    return hashlib.sha256(f"{batch_id}\x00{index}".encode()).hexdigest()[:TIE_BREAKER_CHARS]


def event_sort_key(timestamp: str, batch_id: str | None, index: int) -> str:
    return f"{normalised_timestamp(timestamp)}#{tie_breaker(batch_id, index)}"


def timestamp_of(sort_key: str) -> str:
    return sort_key.split("#", 1)[0]


def expires_at(epoch_seconds: int, retention_seconds: int) -> int:
    """The ttl of what is kept `retention_seconds` after `epoch_seconds`."""
    return epoch_seconds + retention_seconds


def session_status(item: Mapping[str, object]) -> str:
    """open, ending (the end has been recorded, the flow is at work) or ended."""
    return str(item.get("status", "open"))


# --- counting a session's events and evaluating the catalog ---------------------------------------


def tally(counts: Mapping[str, int], event_types: Iterable[str], counted: frozenset[str]) -> dict[str, int]:
    """`counts` plus one per event whose type the catalog counts (only those: payloads stay small)."""
    out = dict(counts)
    for event_type in event_types:
        if event_type in counted:
            out[event_type] = out.get(event_type, 0) + 1
    return out


@dataclass(frozen=True)
class Progress:
    """A player's counters across ended sessions (player_progress), this session included."""

    sessions_ended: int = 0
    event_counts: Mapping[str, int] = field(default_factory=dict)


def earned_rewards(
    catalog: RewardCatalog, session_counts: Mapping[str, int], progress: Progress
) -> list[str]:
    """The rewards an ended session with these event counts earns, given the player's progress
    (whether the player already holds them is not this function's concern), in catalog order."""
    earned = []
    for reward in catalog.rewards:
        rule = reward.rule
        if isinstance(rule, SessionEnded):
            ok = True
        elif isinstance(rule, SessionEventCount):
            ok = session_counts.get(rule.event_type, 0) >= rule.at_least
        elif isinstance(rule, CumulativeEventCount):
            ok = progress.event_counts.get(rule.event_type, 0) >= rule.at_least
        elif isinstance(rule, CumulativeSessionCount):
            ok = progress.sessions_ended >= rule.at_least
        else:  # pragma: no cover - the catalog model admits no other kind
            raise TypeError(f"unknown rule {rule!r}")
        if ok:
            earned.append(reward.reward_id)
    return earned


def rewards_to_grant(earned: Iterable[str], held: Mapping[str, str], session_id: str) -> list[str]:
    """Of the earned rewards, those this session grants: not held yet, or held by this very
    session (a retried grant still records and announces what it granted). `held`: rewardId ->
    the session that granted it."""
    return [reward_id for reward_id in earned if held.get(reward_id, session_id) == session_id]


# --- a batch of events as items -------------------------------------------------------------------

MAX_DATA_DEPTH = 16


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _has_empty_key(value: object) -> bool:
    if isinstance(value, dict):
        return any(key == "" or _has_empty_key(v) for key, v in value.items())
    if isinstance(value, list):
        return any(_has_empty_key(v) for v in value)
    return False


def event_item(
    session_id: str,
    player_id: str,
    event_type: str,
    timestamp: str,
    data: Mapping[str, object],
    sort_key: str,
    received_at: str,
    expires_at: int,
    batch_id: str | None,
) -> dict[str, object]:
    """One interaction_events item; ValueError when `data` cannot be stored as a DynamoDB map
    (nested too deep, a number beyond DynamoDB's 38 digits)."""
    if _depth(data) > MAX_DATA_DEPTH:
        raise ValueError(f"data is nested deeper than {MAX_DATA_DEPTH} levels")
    if _has_empty_key(data):
        raise ValueError("data has an empty key (DynamoDB map keys are at least one character)")
    return {
        "sessionId": session_id,
        "timestamp": sort_key,
        "eventTime": normalised_timestamp(timestamp),
        "playerId": player_id,
        "eventType": event_type,
        "data": _decimals(data),
        "receivedAt": received_at,
        "batchId": batch_id,
        "ttl": expires_at,
    }


def _decimals(value: object) -> object:
    """JSON numbers as DynamoDB takes them (Decimal; floats are refused by boto3's serialiser)."""
    import json
    from decimal import Decimal

    return json.loads(json.dumps(value), parse_float=Decimal)
