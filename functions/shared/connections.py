"""Players' WebSocket connections and pushing frames to them, for every flow that talks to players.

The connections table (userId + connectionId, expireAt TTL) is written on $connect/$disconnect;
any flow reads it to reach a player's every tab. A connection the Management API calls gone
(410) is removed, unless it is young enough to still be connecting.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from functions.shared import clock
from functions.shared.clock import iso_ms
from functions.shared.dynamo import error_code, expression_values, is_conditional_check_failure, to_item
from functions.shared.exceptions import ArcadeflowError

# A connection record lives at most this long (API Gateway closes a connection after 2 h).
CONNECTION_LIFETIME_SECONDS = 2 * 3600
# A 410 for a connection younger than this may come from a $connect still in progress.
GONE_GRACE_SECONDS = 30


class ConnectionsRepository:
    """connections: userId (partition) + connectionId (sort); expireAt is the TTL attribute."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client, self.table = client, table_name

    def add(self, user_id: str, connection_id: str, screen_name: str, now_ms: int) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=to_item(
                {
                    "userId": user_id,
                    "connectionId": connection_id,
                    "screenName": screen_name,
                    "connectedAt": iso_ms(now_ms),
                    "connectedAtMs": now_ms,
                    "expireAt": now_ms // 1000 + CONNECTION_LIFETIME_SECONDS,
                }
            ),
        )

    def remove(self, user_id: str, connection_id: str) -> None:
        self.client.delete_item(
            TableName=self.table, Key=to_item({"userId": user_id, "connectionId": connection_id})
        )

    def remove_gone(self, user_id: str, connection_id: str, now_ms: int) -> bool:
        """Forget a connection the Management API called gone, unless it may still be connecting."""
        try:
            self.client.delete_item(
                TableName=self.table,
                Key=to_item({"userId": user_id, "connectionId": connection_id}),
                ConditionExpression="connectedAtMs < :cutoff",
                ExpressionAttributeValues=expression_values(cutoff=now_ms - GONE_GRACE_SECONDS * 1000),
            )
        except ClientError as error:
            if is_conditional_check_failure(error):
                return False
            raise
        return True

    def live(self, user_id: str, now_epoch: int) -> list[str]:
        """Connection ids of the user; TTL deletes late, so expired records are filtered here."""
        ids: list[str] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "userId = :user",
            "FilterExpression": "expireAt > :now",
            "ExpressionAttributeValues": expression_values(user=user_id, now=now_epoch),
            "ProjectionExpression": "connectionId",
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**request)
            ids += [item["connectionId"]["S"] for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return ids
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dataclass
class Delivery:
    delivered: int = 0
    gone: int = 0
    # Players none of whose connections took the frame (none live, or every one gone).
    unreachable: set[str] = field(default_factory=set)

    def add(self, other: Delivery) -> None:
        self.delivered += other.delivered
        self.gone += other.gone
        self.unreachable |= other.unreachable


class Pusher:
    """post_to_connection for a flow: `encode_error` is the flow's one mapping of a client error
    to its error frame (each flow's frames are its own models)."""

    def __init__(
        self,
        management_api: Any,
        connections: ConnectionsRepository,
        encode_error: Callable[[ArcadeflowError], bytes],
        parallel_posts: int = 8,
    ) -> None:
        self.api = management_api
        self.connections = connections
        self.encode_error = encode_error
        self.parallel_posts = parallel_posts

    def post(self, connection_id: str, payload: bytes) -> bool:
        """True when delivered, False when the connection is gone."""
        try:
            self.api.post_to_connection(ConnectionId=connection_id, Data=payload)
        except ClientError as error:
            if error_code(error) == "GoneException":
                return False
            raise
        return True

    def to_users(self, user_ids: list[str], payload: bytes, skip_connection: str | None = None) -> Delivery:
        """The same frame to every live connection of each user (but `skip_connection`)."""
        return self.frames_to_users(dict.fromkeys(user_ids, payload), skip_connection)

    def frames_to_users(self, frames: dict[str, bytes], skip_connection: str | None = None) -> Delivery:
        """Each user's own frame to every live connection of theirs (but `skip_connection`)."""
        now_ms = clock.now_ms()
        users = list(frames)
        if len(users) > 1:
            with ThreadPoolExecutor(max_workers=min(self.parallel_posts, len(users))) as pool:
                live = list(pool.map(lambda user: self.connections.live(user, now_ms // 1000), users))
        else:
            live = [self.connections.live(user, now_ms // 1000) for user in users]
        targets = [
            (user, connection)
            for user, connections in zip(users, live, strict=True)
            for connection in connections
            if connection != skip_connection
        ]
        outcome = Delivery(
            unreachable={user for user, connections in zip(users, live, strict=True) if not connections}
        )
        if not targets:
            return outcome
        if len(targets) == 1:
            results = [self.post(targets[0][1], frames[targets[0][0]])]
        else:
            with ThreadPoolExecutor(max_workers=min(self.parallel_posts, len(targets))) as pool:
                results = list(pool.map(lambda target: self.post(target[1], frames[target[0]]), targets))
        reached: set[str] = set()
        for (user, connection), delivered in zip(targets, results, strict=True):
            if delivered:
                outcome.delivered += 1
                reached.add(user)
            else:
                outcome.gone += 1
                self.connections.remove_gone(user, connection, now_ms)
        outcome.unreachable |= {user for user, _ in targets} - reached
        return outcome

    def error_to(self, connection_id: str, error: ArcadeflowError) -> None:
        """The reply to a refused frame goes to the connection that sent it, not to every tab."""
        self.post(connection_id, self.encode_error(error))
