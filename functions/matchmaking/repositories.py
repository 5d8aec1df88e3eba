"""DynamoDB access of matchmaking: tickets (the queue), games, and what it reads or writes of the
connections and presence tables.

Every contested change is one conditional write or one transaction here; the caller learns
whether it won (True / a record) or lost (False / None) and never overwrites the winner. Every
read filters on the expiry attribute: TTL deletes late.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from functions.matchmaking import rules
from functions.matchmaking.errors import AlreadyInGame, AlreadyQueued
from functions.shared import clock
from functions.shared.clock import iso_ms
from functions.shared.dynamo import (
    error_code,
    expression_values,
    from_item,
    from_items,
    is_conditional_check_failure,
    to_item,
)

WAITING_BY_JOIN = "WaitingByJoin"
# The one item of queue_tickets that is not a player's ticket ('#' is in no userId): who pairs.
PAIRING_LEASE = "#pairing-lease"
# Presence statuses matchmaking writes (functions/social/models.py PresenceStatus has them all).
PRESENCE_MATCHMAKING, PRESENCE_PLAYING, PRESENCE_HOME = "matchmaking", "playing", "home"
_LOST_RACE = {
    "TransactionCanceledException",
    "TransactionConflictException",
    "ConditionalCheckFailedException",
}


def _lost_race(error: ClientError) -> bool:
    return error_code(error) in _LOST_RACE


class TicketsRepository:
    """queue_tickets: one item per player (userId). status `waiting` (with waitingShard and joinKey,
    so the ticket is in the sparse index WaitingByJoin, oldest first) or `playing` (with gameId).
    expireAt (epoch seconds) is the TTL attribute."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client, self.table = client, table_name

    def get(self, user_id: str, now_ms: int) -> dict[str, Any] | None:
        item = from_item(
            self.client.get_item(
                TableName=self.table, Key=to_item({"userId": user_id}), ConsistentRead=True
            ).get("Item")
        )
        return item if rules.is_live(item, now_ms) else None

    def join(self, ticket: dict[str, Any], now_ms: int) -> None:
        """Put a waiting ticket unless the player has a live one: AlreadyQueued or AlreadyInGame
        then, from what is recorded, and nothing changes."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=to_item(ticket),
                ConditionExpression="attribute_not_exists(userId) OR expireAt <= :now",
                ExpressionAttributeValues=expression_values(now=now_ms // 1000),
            )
            return
        except ClientError as error:
            if not is_conditional_check_failure(error):
                raise
        current = self.get(ticket["userId"], now_ms)
        if current is not None and current["status"] == rules.PLAYING:
            raise AlreadyInGame("you are in a game; finish it before joining the queue")
        raise AlreadyQueued("you are already in the queue")

    def leave(self, user_id: str, now_ms: int) -> bool:
        """Delete the player's ticket if it is still waiting (not yet paired)."""
        return self._delete_waiting(user_id, None, now_ms)

    def remove_waiting(self, user_id: str, join_key: str, now_ms: int) -> bool:
        """Delete exactly this waiting ticket (a ghost found by the pairing or a push)."""
        return self._delete_waiting(user_id, join_key, now_ms)

    def _delete_waiting(self, user_id: str, join_key: str | None, now_ms: int) -> bool:
        condition = "#status = :waiting AND expireAt > :now"
        values = {"waiting": rules.WAITING, "now": now_ms // 1000}
        if join_key is not None:
            condition += " AND joinKey = :joinKey"
            values["joinKey"] = join_key
        try:
            self.client.delete_item(
                TableName=self.table,
                Key=to_item({"userId": user_id}),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=expression_values(**values),
            )
        except ClientError as error:
            if is_conditional_check_failure(error):
                return False
            raise
        return True

    def waiting(self, now_ms: int, limit: int | None = None) -> list[dict[str, Any]]:
        """Waiting tickets, longest-waiting first (at most `limit`), expired ones left out."""
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": WAITING_BY_JOIN,
            "KeyConditionExpression": "waitingShard = :shard",
            "FilterExpression": "expireAt > :now",
            "ExpressionAttributeValues": expression_values(shard=rules.WAITING_SHARD, now=now_ms // 1000),
            "ScanIndexForward": True,
        }
        if limit is not None:
            # The limit counts items before the filter: read a little more than needed.
            request["Limit"] = limit + 8
        while True:
            page = self.client.query(**request)
            found += from_items(page.get("Items", []))
            if (limit is not None and len(found) >= limit) or "LastEvaluatedKey" not in page:
                return found[:limit] if limit is not None else found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def position(self, join_key: str, now_ms: int) -> tuple[int, int]:
        """(position, waiting) of the ticket with `join_key`: 1 + those ahead, and all waiting."""
        ahead = self._count("waitingShard = :shard AND joinKey < :joinKey", join_key, now_ms)
        total = self._count("waitingShard = :shard", None, now_ms)
        return ahead + 1, max(total, ahead + 1)

    def _count(self, key_condition: str, join_key: str | None, now_ms: int) -> int:
        values: dict[str, Any] = {"shard": rules.WAITING_SHARD, "now": now_ms // 1000}
        if join_key is not None:
            values["joinKey"] = join_key
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": WAITING_BY_JOIN,
            "KeyConditionExpression": key_condition,
            "FilterExpression": "expireAt > :now",
            "ExpressionAttributeValues": expression_values(**values),
            "Select": "COUNT",
        }
        count = 0
        while True:
            page = self.client.query(**request)
            count += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return count
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def acquire_lease(self, holder: str, now_ms: int, seconds: int) -> bool:
        """Take (or renew) the pairing lease unless another live holder has it."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=to_item(
                    {
                        "userId": PAIRING_LEASE,
                        "holder": holder,
                        "leaseUntilMs": now_ms + seconds * 1000,
                        "expireAt": now_ms // 1000 + seconds + 60,
                    }
                ),
                ConditionExpression="attribute_not_exists(userId) OR leaseUntilMs < :now OR holder = :holder",
                ExpressionAttributeValues=expression_values(now=now_ms, holder=holder),
            )
        except ClientError as error:
            if is_conditional_check_failure(error):
                return False
            raise
        return True

    def release_lease(self, holder: str) -> None:
        try:
            self.client.delete_item(
                TableName=self.table,
                Key=to_item({"userId": PAIRING_LEASE}),
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues=expression_values(holder=holder),
            )
        except ClientError as error:
            if not is_conditional_check_failure(error):
                raise

    def pair(
        self, x: dict[str, Any], o: dict[str, Any], game: dict[str, Any], games_table: str, now_ms: int
    ) -> bool:
        """One transaction: both tickets still waiting with the join keys read (so neither is in a
        game, and neither left and joined again), both become `playing` this game, the game is
        created. False when another pairing (or a leave) got there first: nothing changed."""
        updates = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": to_item({"userId": ticket["userId"]}),
                    "UpdateExpression": "SET #status = :playing, gameId = :gameId, marker = :marker, "
                    "pairedAtMs = :now, expireAt = :expireAt REMOVE waitingShard",
                    "ConditionExpression": (
                        "#status = :waiting AND joinKey = :joinKey AND expireAt > :nowEpoch"
                    ),
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": expression_values(
                        playing=rules.PLAYING,
                        waiting=rules.WAITING,
                        gameId=game["gameId"],
                        marker=marker,
                        now=now_ms,
                        nowEpoch=now_ms // 1000,
                        expireAt=game["expireAt"],
                        joinKey=ticket["joinKey"],
                    ),
                }
            }
            for ticket, marker in ((x, "X"), (o, "O"))
        ]
        create_game = {
            "Put": {
                "TableName": games_table,
                "Item": to_item(game),
                "ConditionExpression": "attribute_not_exists(gameId)",
            }
        }
        try:
            self.client.transact_write_items(TransactItems=[*updates, create_game])
        except ClientError as error:
            if _lost_race(error):
                return False
            raise
        return True


class GamesRepository:
    """games: gameId; the board, whose turn, status (active, won, draw, abandoned), expireAt TTL.
    A game's end and its players' tickets change in one transaction."""

    def __init__(self, client: Any, table_name: str, tickets_table: str) -> None:
        self.client, self.table, self.tickets_table = client, table_name, tickets_table

    def get(self, game_id: str, now_ms: int) -> dict[str, Any] | None:
        item = from_item(
            self.client.get_item(
                TableName=self.table, Key=to_item({"gameId": game_id}), ConsistentRead=True
            ).get("Item")
        )
        return item if rules.is_live(item, now_ms) else None

    def _free_players(self, game: dict[str, Any]) -> list[dict[str, Any]]:
        """Deletes of both players' tickets, where they still name this game."""
        return [
            {
                "Delete": {
                    "TableName": self.tickets_table,
                    "Key": to_item({"userId": player}),
                    "ConditionExpression": "attribute_not_exists(userId) OR gameId = :gameId",
                    "ExpressionAttributeValues": expression_values(gameId=game["gameId"]),
                }
            }
            for player in (game["playerX"], game["playerO"])
        ]

    def record_move(
        self, game: dict[str, Any], board: str, status: str, winner: str | None, now_ms: int
    ) -> bool:
        """The move, conditional on the game being exactly as read (active, same board, same
        turn): two moves racing cannot both land. When the move ends the game, the players'
        tickets go in the same transaction, so they can join again at once."""
        names = {"#status": "status", "#board": "board", "#turn": "turn"}
        values: dict[str, Any] = {
            "active": rules.ACTIVE,
            "oldBoard": game["board"],
            "oldTurn": game["turn"],
            "board": board,
            "status": status,
            "turn": rules.next_turn(game["turn"]),
            "one": 1,
            "now": now_ms,
        }
        expression = (
            "SET #board = :board, #status = :status, #turn = :turn, "
            "moveCount = moveCount + :one, lastMoveAtMs = :now"
        )
        if winner is not None:
            expression += ", winner = :winner"
            values["winner"] = winner
        if status != rules.ACTIVE:
            expression += ", endedAt = :endedAt"
            values["endedAt"] = iso_ms(now_ms)
        update = {
            "TableName": self.table,
            "Key": to_item({"gameId": game["gameId"]}),
            "UpdateExpression": expression,
            "ConditionExpression": "#status = :active AND #board = :oldBoard AND #turn = :oldTurn",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": expression_values(**values),
        }
        try:
            if status == rules.ACTIVE:
                self.client.update_item(**update)
            else:
                self.client.transact_write_items(
                    TransactItems=[{"Update": update}, *self._free_players(game)]
                )
        except ClientError as error:
            if _lost_race(error):
                return False
            raise
        return True

    def abandon(self, game: dict[str, Any], leaver: str, now_ms: int) -> bool:
        """Record the game abandoned by `leaver` if it is still active, and free both players.
        False when it had already ended (a last move won the race): nothing changed."""
        update = {
            "TableName": self.table,
            "Key": to_item({"gameId": game["gameId"]}),
            "UpdateExpression": "SET #status = :abandoned, abandonedBy = :leaver, endedAt = :endedAt",
            "ConditionExpression": "#status = :active",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": expression_values(
                abandoned=rules.ABANDONED, active=rules.ACTIVE, leaver=leaver, endedAt=iso_ms(now_ms)
            ),
        }
        try:
            self.client.transact_write_items(TransactItems=[{"Update": update}, *self._free_players(game)])
        except ClientError as error:
            if _lost_race(error):
                return False
            raise
        return True


class PresenceWriter:
    """The social flow's presence table, written the way PUT /presence writes it (same shape, same
    shard hash), so GET /presence and the followers' live presence read it as any other status."""

    def __init__(self, client: Any, table_name: str, ttl_seconds: int, shards: int) -> None:
        self.client, self.table, self.ttl_seconds, self.shards = client, table_name, ttl_seconds, shards

    def put(
        self,
        user_id: str,
        screen_name: str,
        status: str,
        game_id: str | None,
        now_ms: int,
        unless_playing_since_ms: int | None = None,
    ) -> bool:
        """Write the presence record. With `unless_playing_since_ms`, a `playing` written at or
        after that moment stands (a join's `matchmaking` must not undo the pairing that took the
        ticket meanwhile). False when it stood."""
        digest = hashlib.sha256(user_id.encode()).digest()
        request: dict[str, Any] = {
            "TableName": self.table,
            "Item": to_item(
                {
                    "userId": user_id,
                    "status": status,
                    "gameId": game_id,
                    "screenName": screen_name,
                    "updatedAt": clock.iso(clock.now()),
                    "expiresAt": now_ms // 1000 + self.ttl_seconds,
                    "onlineShard": f"online#{int.from_bytes(digest[:4], 'big') % self.shards}",
                }
            ),
        }
        if unless_playing_since_ms is not None:
            since = clock.iso(datetime.fromtimestamp(unless_playing_since_ms / 1000, UTC))
            request["ConditionExpression"] = (
                "attribute_not_exists(userId) OR #status <> :playing OR updatedAt < :since"
            )
            request["ExpressionAttributeNames"] = {"#status": "status"}
            request["ExpressionAttributeValues"] = expression_values(playing=PRESENCE_PLAYING, since=since)
        try:
            self.client.put_item(**request)
        except ClientError as error:
            if is_conditional_check_failure(error):
                return False
            raise
        return True
