"""Sending matchmaking frames to players over the WebSocket API's Management API.

A player may hold several connections (tabs): each gets the frame. A connection the API calls
gone (410) is removed from the connections table (unless young enough to still be connecting);
the caller learns which players have no connection left, so their tickets can leave the queue.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from functions.matchmaking.models import ErrorFrame, to_wire
from functions.matchmaking.repositories import ConnectionsReader
from functions.shared import clock
from functions.shared.dynamo import error_code
from functions.shared.exceptions import ArcadeflowError

log = logging.getLogger(__name__)
_PARALLEL_POSTS = 16


@dataclass
class Delivery:
    delivered: int = 0
    gone: int = 0
    # Players none of whose connections took the frame (none live, or every one gone).
    unreachable: set[str] = field(default_factory=set)


class Pusher:
    def __init__(self, management_api: Any, connections: ConnectionsReader) -> None:
        self.api = management_api
        self.connections = connections

    def post(self, connection_id: str, payload: bytes) -> bool:
        """True when delivered, False when the connection is gone."""
        try:
            self.api.post_to_connection(ConnectionId=connection_id, Data=payload)
        except ClientError as error:
            if error_code(error) == "GoneException":
                return False
            raise
        return True

    def to_users(self, frames: dict[str, bytes], skip_connection: str | None = None) -> Delivery:
        """Each user's frame to every live connection of theirs (but `skip_connection`)."""
        now_ms = clock.now_ms()
        users = list(frames)
        if len(users) > 1:
            with ThreadPoolExecutor(max_workers=min(_PARALLEL_POSTS, len(users))) as pool:
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
            with ThreadPoolExecutor(max_workers=min(_PARALLEL_POSTS, len(targets))) as pool:
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

    def same_to_users(
        self, user_ids: list[str], payload: bytes, skip_connection: str | None = None
    ) -> Delivery:
        return self.to_users(dict.fromkeys(user_ids, payload), skip_connection)

    def error_to(self, connection_id: str, error: ArcadeflowError) -> None:
        """The reply to a refused frame goes to the connection that sent it, not to every tab."""
        self.post(connection_id, to_wire(error_frame(error)))


def error_frame(error: ArcadeflowError) -> ErrorFrame:
    """The one mapping of a client error to matchmaking's WebSocket wire."""
    return ErrorFrame(code=error.code, message=error.message)
