"""The users table: profiles, follower/following counters and lastSeenAt, one item per user.

A user exists once they have called the API with a valid token: the first call creates the
profile from the token's claims; later calls leave it alone, so PUT /users/me is not undone by
the next request. An item written only by the stream consumers (counters, lastSeenAt) is not a
user: a profile always has createdAt.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from functions.shared import clock
from functions.shared.dynamo import from_item, is_conditional_check_failure, to_value
from functions.shared.identity import Caller


class UsersRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, user_id: str) -> dict[str, Any] | None:
        """The user's item, or None when no such user has ever called the API."""
        item = from_item(
            self._client.get_item(TableName=self._table, Key={"userId": {"S": user_id}}).get("Item")
        )
        if item is None or "createdAt" not in item:
            return None
        return item

    def register(self, caller: Caller) -> dict[str, Any]:
        """Make sure the caller exists; return their current item. Repeating it changes nothing."""
        existing = self.get(caller.user_id)
        if existing is not None:
            return existing
        now = clock.iso(clock.now())
        names = {"#screenName": "screenName", "#createdAt": "createdAt", "#updatedAt": "updatedAt"}
        values = {":screenName": to_value(caller.screen_name), ":now": to_value(now)}
        assignments = ["#screenName = :screenName", "#createdAt = :now", "#updatedAt = :now"]
        if caller.avatar:
            names["#avatar"] = "avatar"
            values[":avatar"] = to_value(caller.avatar)
            assignments.append("#avatar = :avatar")
        try:
            # SET, not PUT: counters a stream consumer may already have added stay.
            response = self._client.update_item(
                TableName=self._table,
                Key={"userId": {"S": caller.user_id}},
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression="attribute_not_exists(#createdAt)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not is_conditional_check_failure(exc):
                raise
            # A concurrent first request registered them; theirs stands.
            registered = self.get(caller.user_id)
            if registered is None:
                raise
            return registered
        return from_item(response["Attributes"]) or {}

    def update_profile(self, user_id: str, screen_name: str, avatar: str | None) -> dict[str, Any]:
        names = {"#screenName": "screenName", "#avatar": "avatar", "#updatedAt": "updatedAt"}
        values = {":screenName": to_value(screen_name), ":now": to_value(clock.iso(clock.now()))}
        expression = "SET #screenName = :screenName, #updatedAt = :now"
        if avatar is None:
            expression += " REMOVE #avatar"
        else:
            values[":avatar"] = to_value(avatar)
            expression += ", #avatar = :avatar"
        response = self._client.update_item(
            TableName=self._table,
            Key={"userId": {"S": user_id}},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(createdAt)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return from_item(response["Attributes"]) or {}

    def record_last_seen(self, user_id: str, seen_at: str) -> bool:
        """Set lastSeenAt unless a later one is there already. False when nothing changed."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"userId": {"S": user_id}},
                UpdateExpression="SET lastSeenAt = :seen",
                ConditionExpression="attribute_not_exists(lastSeenAt) OR lastSeenAt < :seen",
                ExpressionAttributeValues={":seen": to_value(seen_at)},
            )
        except ClientError as exc:
            if is_conditional_check_failure(exc):
                return False
            raise
        return True
