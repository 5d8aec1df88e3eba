"""DynamoDB access of the VR flow. No rules here (functions/vr/rules.py has them).

player_sessions: playerId + sessionId; index SessionsByStart (playerId, startedAt) for newest
first. interaction_events: sessionId + timestamp ('<UTC ms>#<tie-breaker>'); index PlayerIdIndex.
player_rewards: playerId + rewardId, kept forever. player_progress: playerId, counters across
ended sessions. `ttl` (epoch seconds) is the expiry of sessions and events; DynamoDB deletes late,
so every read here filters on it. "ttl", "status", "timestamp" and "data" are reserved words in
expressions: they are always written through #names.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from functions.shared.dynamo import (
    error_code,
    expression_values,
    from_item,
    from_items,
    is_conditional_check_failure,
    to_item,
    to_value,
)
from functions.vr.errors import (
    ProgressConflict,
    SessionAlreadyEnded,
    SessionBusy,
    SessionEndLost,
    SessionNotFound,
)
from functions.vr.rules import Progress

SESSIONS_BY_START_INDEX = "SessionsByStart"
BATCH_WRITE_LIMIT = 25
NAMES = {"#ttl": "ttl", "#status": "status"}
# A counter of player_progress per counted event type: a top-level attribute each (ADD cannot
# create a key inside a map that does not exist yet).
EVENT_COUNTER_PREFIX = "events:"


def _plain(value: Any) -> Any:
    """Numbers inside an event's data map as JSON numbers (the shared deserialiser converts only
    top-level attributes)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _key(player_id: str, session_id: str) -> dict[str, Any]:
    return to_item({"playerId": player_id, "sessionId": session_id})


def _cancellation_codes(error: ClientError) -> list[str]:
    return [str(r.get("Code", "None")) for r in error.response.get("CancellationReasons", [])]


@dataclass(frozen=True)
class RecordedEnd:
    end_time: str
    expires_at: int


class SessionsRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client, self.table = client, table

    # --- the player's side --------------------------------------------------------------------

    def start(
        self, player_id: str, session_id: str, started_at: str, started_ms: int, expires_at: int
    ) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=to_item(
                {
                    "playerId": player_id,
                    "sessionId": session_id,
                    "startedAt": started_at,
                    "startedAtMs": started_ms,
                    "createdAt": started_at,
                    "status": "open",
                    "eventCount": 0,
                    "rewards": [],
                    # Batches being written (batch key -> lease end, epoch ms): the end waits for them.
                    "writing": {},
                    "ttl": expires_at,
                }
            ),
            ConditionExpression="attribute_not_exists(sessionId)",
        )

    def get(self, player_id: str, session_id: str) -> dict[str, Any] | None:
        found = self.client.get_item(
            TableName=self.table, Key=_key(player_id, session_id), ConsistentRead=True
        )
        return from_item(found.get("Item"))

    def live(self, player_id: str, session_id: str, now_epoch: int) -> dict[str, Any] | None:
        """The session unless it is missing or past its ttl (TTL deletes late)."""
        item = self.get(player_id, session_id)
        return item if item is not None and int(item.get("ttl", 0)) > now_epoch else None

    def page(
        self, player_id: str, now_epoch: int, limit: int, start_key: Mapping[str, Any] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Newest first; expired sessions filtered (a page may hold fewer than `limit`)."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": SESSIONS_BY_START_INDEX,
            "KeyConditionExpression": "playerId = :player",
            "FilterExpression": "#ttl > :now",
            "ExpressionAttributeNames": {"#ttl": "ttl"},
            "ExpressionAttributeValues": expression_values(player=player_id, now=now_epoch),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start_key:
            request["ExclusiveStartKey"] = to_item(start_key)
        response = self.client.query(**request)
        last = from_item(response.get("LastEvaluatedKey"))
        return from_items(response.get("Items", [])), last

    def reserve_batch(
        self, player_id: str, session_id: str, batch_key: str, now_ms: int, lease_ms: int, expires_at: int
    ) -> None:
        """Marks a batch as being written into the open session and moves the session's ttl
        (a session never ended expires the retention after its last event); the end's first
        state waits while a reservation is held. SessionNotFound / SessionAlreadyEnded otherwise."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(player_id, session_id),
                UpdateExpression="SET writing.#batch = :lease, #ttl = :expires, lastEventAt = :now_ms",
                ConditionExpression="attribute_exists(sessionId) AND #status = :open AND #ttl > :now",
                ExpressionAttributeNames={**NAMES, "#batch": batch_key},
                ExpressionAttributeValues=expression_values(
                    lease=now_ms + lease_ms,
                    expires=expires_at,
                    now_ms=now_ms,
                    open="open",
                    now=now_ms // 1000,
                ),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_conditional_check_failure(error):
                raise
            item = from_item(error.response.get("Item"))
            if item is None or int(item.get("ttl", 0)) <= now_ms // 1000:
                raise SessionNotFound(f"no session {session_id} of yours") from error
            raise SessionAlreadyEnded(f"session {session_id} has ended: it takes no more events") from error

    def release_batch(self, player_id: str, session_id: str, batch_key: str, stored: int) -> None:
        """The batch is written: its reservation goes, and the events it stored are counted."""
        self.client.update_item(
            TableName=self.table,
            Key=_key(player_id, session_id),
            UpdateExpression="REMOVE writing.#batch ADD eventCount :stored",
            ConditionExpression="attribute_exists(sessionId)",
            ExpressionAttributeNames={"#batch": batch_key},
            ExpressionAttributeValues=expression_values(stored=stored),
        )

    # --- the end (vr_session_end's tasks) ---------------------------------------------------------

    def record_end(
        self,
        player_id: str,
        session_id: str,
        execution_id: str,
        now_ms: int,
        end_time: str,
        expires_at: int,
        takeover_after_ms: int,
    ) -> RecordedEnd:
        """Records status "ending", its time and the ttl, on the caller's open session with no
        batch being written; or finds it already ending by this execution (a retried task), or
        left by an execution that failed (released) or died (older than `takeover_after_ms`).
        SessionNotFound, SessionAlreadyEnded or SessionBusy (a batch in flight) otherwise."""
        for _ in range(3):
            try:
                self.client.update_item(
                    TableName=self.table,
                    Key=_key(player_id, session_id),
                    UpdateExpression=(
                        "SET #status = :ending, endTime = :end_time, #ttl = :expires,"
                        " endingBy = :me, endingAtMs = :now_ms"
                    ),
                    ConditionExpression=(
                        "attribute_exists(sessionId) AND #status = :open AND #ttl > :now"
                        " AND size(writing) = :none"
                    ),
                    ExpressionAttributeNames=NAMES,
                    ExpressionAttributeValues=expression_values(
                        ending="ending",
                        end_time=end_time,
                        expires=expires_at,
                        me=execution_id,
                        now_ms=now_ms,
                        open="open",
                        now=now_ms // 1000,
                        none=0,
                    ),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return RecordedEnd(end_time, expires_at)
            except ClientError as error:
                if not is_conditional_check_failure(error):
                    raise
                item = from_item(error.response.get("Item"))
            if item is None:
                raise SessionNotFound(f"no session {session_id} of player {player_id}")
            status = item.get("status")
            if status == "open":
                if int(item.get("ttl", 0)) <= now_ms // 1000:
                    raise SessionNotFound(f"no session {session_id} of player {player_id} (expired)")
                writing: dict[str, int] = item.get("writing") or {}
                if any(int(lease) >= now_ms for lease in writing.values()):
                    raise SessionBusy(
                        f"session {session_id}: {len(writing)} batch(es) of events being written"
                    )
                self._clear_lapsed(player_id, session_id, writing)
                continue
            if status == "ending":
                owner = item.get("endingBy")
                recorded = RecordedEnd(str(item["endTime"]), int(item["ttl"]))
                if owner == execution_id:
                    return recorded
                if owner is None or int(item.get("endingAtMs", 0)) < now_ms - takeover_after_ms:
                    if self._take_over(player_id, session_id, owner, execution_id, now_ms):
                        return recorded
                    continue
            raise SessionAlreadyEnded(f"session {session_id} has already ended (or its end is under way)")
        raise SessionBusy(f"session {session_id} changed under the end three times")

    def _clear_lapsed(self, player_id: str, session_id: str, writing: Mapping[str, int]) -> None:
        """Reservations of writers that died (their Lambda timed out long before the lease)."""
        names = {f"#b{i}": key for i, key in enumerate(writing)}
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(player_id, session_id),
                UpdateExpression="REMOVE " + ", ".join(f"writing.{n}" for n in names),
                ConditionExpression=" AND ".join(f"writing.{n} = :v{i}" for i, n in enumerate(names)),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    f":v{i}": to_value(int(v)) for i, v in enumerate(writing.values())
                },
            )
        except ClientError as error:
            if not is_conditional_check_failure(error):
                raise

    def _take_over(
        self, player_id: str, session_id: str, owner: str | None, execution_id: str, now_ms: int
    ) -> bool:
        condition = "#status = :ending AND " + (
            "attribute_not_exists(endingBy)" if owner is None else "endingBy = :owner"
        )
        values = expression_values(ending="ending", me=execution_id, now_ms=now_ms)
        if owner is not None:
            values[":owner"] = to_value(owner)
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(player_id, session_id),
                UpdateExpression="SET endingBy = :me, endingAtMs = :now_ms",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if is_conditional_check_failure(error):
                return False
            raise
        return True

    def release_end(self, player_id: str, session_id: str, execution_id: str) -> bool:
        """A failed end leaves the session "ending" with no owner: another execution may finish it."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(player_id, session_id),
                UpdateExpression="REMOVE endingBy",
                ConditionExpression="#status = :ending AND endingBy = :me",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=expression_values(ending="ending", me=execution_id),
            )
        except ClientError as error:
            if is_conditional_check_failure(error):
                return False
            raise
        return True

    def finish(self, player_id: str, session_id: str, execution_id: str, rewards: list[str]) -> list[str]:
        """Status "ended" with the rewards this session granted; the rewards recorded."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(player_id, session_id),
                UpdateExpression="SET #status = :ended, rewards = :rewards REMOVE endingBy, endingAtMs",
                ConditionExpression="#status = :ending AND endingBy = :me",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=expression_values(
                    ended="ended", rewards=rewards, ending="ending", me=execution_id
                ),
            )
            return rewards
        except ClientError as error:
            if not is_conditional_check_failure(error):
                raise
        item = self.get(player_id, session_id)
        if item is not None and item.get("status") == "ended":
            return list(item.get("rewards") or [])  # a retried task after its success
        raise SessionEndLost(f"session {session_id}: the end is no longer {execution_id}'s")


class EventsRepository:
    def __init__(
        self,
        client: Any,
        table: str,
        max_attempts: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.table = client, table
        self.max_attempts, self.sleep = max_attempts, sleep

    def store_batch(self, items: Sequence[Mapping[str, Any]], replayable: bool) -> bool:
        """All the batch's events or none (one transaction of at most 100 puts). `replayable`
        (a batchId names them): each put requires its key to be new, and a batch already stored
        is not stored again; returns False then."""
        condition = {
            "ConditionExpression": "attribute_not_exists(#ts)",
            "ExpressionAttributeNames": {"#ts": "timestamp"},
        }
        actions = [
            {"Put": {"TableName": self.table, "Item": to_item(item), **(condition if replayable else {})}}
            for item in items
        ]
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            cancelled = error_code(error) == "TransactionCanceledException"
            if replayable and cancelled and "ConditionalCheckFailed" in _cancellation_codes(error):
                return False
            raise
        return True

    def page(
        self, session_id: str, now_epoch: int, limit: int, start_key: Mapping[str, Any] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """A page of the session's events in time order, expired ones filtered."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "sessionId = :session",
            "FilterExpression": "#ttl > :now",
            "ExpressionAttributeNames": {"#ttl": "ttl"},
            "ExpressionAttributeValues": expression_values(session=session_id, now=now_epoch),
            "Limit": limit,
        }
        if start_key:
            request["ExclusiveStartKey"] = to_item(start_key)
        response = self.client.query(**request)
        items = [_plain(item) for item in from_items(response.get("Items", []))]
        return items, from_item(response.get("LastEvaluatedKey"))

    def page_after(
        self, session_id: str, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The end's read: up to `limit` raw events after sort key `after`, and where the next
        page starts (None: that was the last)."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "sessionId = :session",
            "ExpressionAttributeValues": expression_values(session=session_id),
            "ConsistentRead": True,
            "Limit": limit,
        }
        if after is not None:
            request["ExclusiveStartKey"] = to_item({"sessionId": session_id, "timestamp": after})
        response = self.client.query(**request)
        last = response.get("LastEvaluatedKey")
        return from_items(response.get("Items", [])), (last["timestamp"]["S"] if last else None)

    def rewrite(self, items: Sequence[Mapping[str, Any]]) -> int:
        """Puts the items again (25 a BatchWriteItem), retrying what DynamoDB leaves unprocessed
        with exponential backoff and full jitter; the requests it retried."""
        retried = 0
        for start in range(0, len(items), BATCH_WRITE_LIMIT):
            pending = [{"PutRequest": {"Item": to_item(i)}} for i in items[start : start + BATCH_WRITE_LIMIT]]
            for attempt in range(self.max_attempts):
                response = self.client.batch_write_item(RequestItems={self.table: pending})
                pending = response.get("UnprocessedItems", {}).get(self.table, [])
                if not pending:
                    break
                retried += 1
                self.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
            else:
                raise RuntimeError(
                    f"{len(pending)} events still unprocessed after {self.max_attempts} attempts"
                )
        return retried


class RewardsRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client, self.table = client, table

    def of_player(self, player_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "playerId = :player",
            "ExpressionAttributeValues": expression_values(player=player_id),
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**request)
            items += from_items(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def grant(self, player_id: str, reward_id: str, session_id: str, granted_at: str) -> str:
        """Grants the reward unless the player holds it (one conditional put): the session that
        holds it now, this one or an earlier one."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=to_item(
                    {
                        "playerId": player_id,
                        "rewardId": reward_id,
                        "granted": True,
                        "grantedAt": granted_at,
                        "sessionId": session_id,
                    }
                ),
                ConditionExpression="attribute_not_exists(rewardId)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_conditional_check_failure(error):
                raise
            held = from_item(error.response.get("Item")) or {}
            return str(held.get("sessionId", ""))
        return session_id


class ProgressRepository:
    """player_progress, and the one transaction that adds a session's counts to it once."""

    def __init__(self, client: Any, table: str, sessions_table: str) -> None:
        self.client, self.table, self.sessions_table = client, table, sessions_table

    def count_session_once(
        self, player_id: str, session_id: str, execution_id: str, counts: Mapping[str, int], event_count: int
    ) -> bool:
        """Adds the session's counts to the player's progress and marks the session counted, in
        one transaction: True when this call counted it, False when it was counted before."""
        names = {f"#c{i}": f"{EVENT_COUNTER_PREFIX}{t}" for i, t in enumerate(sorted(counts))}
        values = {f":c{i}": to_value(counts[t]) for i, t in enumerate(sorted(counts))}
        adds = ", ".join(["sessionsEnded :one", *(f"{n} :{n[1:]}" for n in names)])
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.sessions_table,
                            "Key": _key(player_id, session_id),
                            "UpdateExpression": (
                                "SET progressCounted = :yes, eventCount = :events, eventTypeCounts = :counts"
                            ),
                            "ConditionExpression": (
                                "#status = :ending AND endingBy = :me"
                                " AND attribute_not_exists(progressCounted)"
                            ),
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": expression_values(
                                yes=True,
                                events=event_count,
                                counts=dict(counts),
                                ending="ending",
                                me=execution_id,
                            ),
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": to_item({"playerId": player_id}),
                            "UpdateExpression": f"ADD {adds}",
                            **({"ExpressionAttributeNames": names} if names else {}),
                            "ExpressionAttributeValues": {":one": to_value(1), **values},
                        }
                    },
                ]
            )
        except ClientError as error:
            if error_code(error) == "TransactionConflictException":
                raise ProgressConflict(f"player {player_id}: progress busy") from error
            if error_code(error) != "TransactionCanceledException":
                raise
            codes = _cancellation_codes(error)
            if "TransactionConflict" in codes:
                raise ProgressConflict(f"player {player_id}: progress busy ({codes})") from error
            if codes[:1] != ["ConditionalCheckFailed"]:
                raise
            session = SessionsRepository(self.client, self.sessions_table).get(player_id, session_id) or {}
            if session.get("progressCounted"):
                return False
            raise SessionEndLost(f"session {session_id}: the end is no longer {execution_id}'s") from error
        return True

    def of_player(self, player_id: str) -> Progress:
        found = (
            from_item(
                self.client.get_item(
                    TableName=self.table, Key=to_item({"playerId": player_id}), ConsistentRead=True
                ).get("Item")
            )
            or {}
        )
        counts = {
            name.removeprefix(EVENT_COUNTER_PREFIX): int(value)
            for name, value in found.items()
            if name.startswith(EVENT_COUNTER_PREFIX)
        }
        return Progress(sessions_ended=int(found.get("sessionsEnded", 0)), event_counts=counts)
