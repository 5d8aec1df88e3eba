"""DynamoDB access for follows, presence and per-game stats. Small classes; no rules here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from functions.shared.dynamo import from_item, is_conditional_check_failure, to_item, to_value

Key = dict[str, Any]
Page = tuple[list[dict[str, Any]], Key | None]

FOLLOWED_BY_INDEX = "FollowedBy"
ONLINE_BY_EXPIRY_INDEX = "OnlineByExpiry"
GAME_STATS_BY_GAME_INDEX = "GameStatsByGame"
USER_RECENT_GAMES_INDEX = "UserRecentGames"


def _page(response: dict[str, Any]) -> Page:
    items = [from_item(item) or {} for item in response.get("Items", [])]
    return items, from_item(response.get("LastEvaluatedKey"))


class FollowsRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, edge: dict[str, Any]) -> bool:
        """Store the edge unless it exists. True when it was new: a repeated follow leaves the
        first edge (and its createdAt) as it was and emits no stream record to count again."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(edge),
                ConditionExpression="attribute_not_exists(targetUserId)",
            )
        except ClientError as exc:
            if is_conditional_check_failure(exc):
                return False
            raise
        return True

    def get(self, user_id: str, target_user_id: str) -> dict[str, Any] | None:
        key = {"userId": {"S": user_id}, "targetUserId": {"S": target_user_id}}
        return from_item(self._client.get_item(TableName=self._table, Key=key).get("Item"))

    def remove(self, user_id: str, target_user_id: str) -> bool:
        """Delete the edge; True when there was one. Deleting twice is harmless."""
        response = self._client.delete_item(
            TableName=self._table,
            Key={"userId": {"S": user_id}, "targetUserId": {"S": target_user_id}},
            ReturnValues="ALL_OLD",
        )
        return bool(response.get("Attributes"))

    def following(self, user_id: str, limit: int, start: Key | None) -> Page:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "userId = :user",
            "ExpressionAttributeValues": {":user": {"S": user_id}},
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        return _page(self._client.query(**request))

    def followers(self, user_id: str, limit: int, start: Key | None) -> Page:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": FOLLOWED_BY_INDEX,
            "KeyConditionExpression": "targetUserId = :user",
            "ExpressionAttributeValues": {":user": {"S": user_id}},
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        return _page(self._client.query(**request))


class PresenceRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put(self, record: dict[str, Any]) -> None:
        # A refresh replaces the whole record: the latest status is the truth, and repeating the
        # same PUT leaves the same record.
        self._client.put_item(TableName=self._table, Item=to_item(record))

    def get(self, user_id: str) -> dict[str, Any] | None:
        return from_item(
            self._client.get_item(TableName=self._table, Key={"userId": {"S": user_id}}).get("Item")
        )

    def get_many(self, user_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Presence records by userId (absent users left out), 100 keys per BatchGetItem."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(user_ids))
        for start in range(0, len(unique), 100):
            keys = [{"userId": {"S": user_id}} for user_id in unique[start : start + 100]]
            request: dict[str, Any] = {self._table: {"Keys": keys}}
            for attempt in range(8):
                response = self._client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    record = from_item(item) or {}
                    found[record["userId"]] = record
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise RuntimeError("presence lookup still throttled after 8 attempts")
        return found

    def online_in_shard(
        self, shard: str, now_epoch: int, at_or_below: int | None
    ) -> Iterator[dict[str, Any]]:
        """Unexpired records of one shard, latest expiresAt first, page after page as needed."""
        if at_or_below is not None and at_or_below <= now_epoch:
            return  # everything up to the cursor has expired since
        if at_or_below is None:
            condition = "onlineShard = :shard AND expiresAt > :now"
            values = {":shard": to_value(shard), ":now": to_value(now_epoch)}
        else:
            condition = "onlineShard = :shard AND expiresAt BETWEEN :after AND :upto"
            values = {
                ":shard": to_value(shard),
                ":after": to_value(now_epoch + 1),
                ":upto": to_value(at_or_below),
            }
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": ONLINE_BY_EXPIRY_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": 100,
        }
        while True:
            items, last = _page(self._client.query(**request))
            yield from items
            if not last:
                return
            request["ExclusiveStartKey"] = to_item(last)


class GameStatsRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def record_score(
        self, user: dict[str, Any], game_id: str, score: int, played_at: str, recent_key: str
    ) -> tuple[dict[str, Any], bool]:
        """Record a play; returns (stats after, whether best rose). Each path is one UpdateItem,
        so best, last and lastPlayedAt change together. Raising best is conditional on the stored
        best being lower, evaluated by DynamoDB at write time: a lower score never lowers it and
        concurrent posts cannot overwrite a higher best with a stale read."""
        key = {"userId": {"S": user["userId"]}, "gameId": {"S": game_id}}
        values = {
            ":score": to_value(score),
            ":playedAt": to_value(played_at),
            ":recentKey": to_value(recent_key),
            ":screenName": to_value(user.get("screenName") or user["userId"]),
        }
        common = (
            "lastScore = :score, lastPlayedAt = :playedAt, recentKey = :recentKey, screenName = :screenName"
        )
        avatar_clause = ""
        if user.get("avatar"):
            values[":avatar"] = to_value(user["avatar"])
            avatar_clause = ", avatar = :avatar"
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression=f"SET {common}{avatar_clause}, bestScore = :score, bestScoreAt = :playedAt",
                ConditionExpression="attribute_not_exists(bestScore) OR bestScore < :score",
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
            return from_item(response["Attributes"]) or {}, True
        except ClientError as exc:
            if not is_conditional_check_failure(exc):
                raise
        response = self._client.update_item(
            TableName=self._table,
            Key=key,
            UpdateExpression=f"SET {common}{avatar_clause}",
            # The first attempt failed because a best exists; keep it a pure update of that item.
            ConditionExpression="attribute_exists(bestScore)",
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return from_item(response["Attributes"]) or {}, False

    def top_scores(self, game_id: str, limit: int) -> list[dict[str, Any]]:
        items, _ = _page(
            self._client.query(
                TableName=self._table,
                IndexName=GAME_STATS_BY_GAME_INDEX,
                KeyConditionExpression="gameId = :game",
                ExpressionAttributeValues={":game": {"S": game_id}},
                ScanIndexForward=False,
                Limit=limit,
            )
        )
        return items

    def of_user(self, user_id: str, limit: int) -> list[dict[str, Any]]:
        items, _ = _page(
            self._client.query(
                TableName=self._table,
                KeyConditionExpression="userId = :user",
                ExpressionAttributeValues={":user": {"S": user_id}},
                Limit=limit,
            )
        )
        return items

    def recent_of_user(self, user_id: str, limit: int) -> list[dict[str, Any]]:
        items, _ = _page(
            self._client.query(
                TableName=self._table,
                IndexName=USER_RECENT_GAMES_INDEX,
                KeyConditionExpression="userId = :user",
                ExpressionAttributeValues={":user": {"S": user_id}},
                ScanIndexForward=False,
                Limit=limit,
            )
        )
        return items
