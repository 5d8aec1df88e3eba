"""Sending frames to users over the WebSocket API's Management API (post_to_connection).

A user may hold several connections (tabs): each gets the frame. A connection the API calls gone
(410) is removed from the connections table, unless it is young enough to still be connecting.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from functions.duels.models import ErrorFrame, to_wire
from functions.duels.repositories import ConnectionsRepository
from functions.shared import clock
from functions.shared.dynamo import error_code
from functions.shared.exceptions import ArcadeflowError

log = logging.getLogger(__name__)
_PARALLEL_POSTS = 8


@dataclass
class Delivery:
    delivered: int = 0
    gone: int = 0

    def add(self, other: Delivery) -> None:
        self.delivered += other.delivered
        self.gone += other.gone


class Pusher:
    def __init__(self, management_api: Any, connections: ConnectionsRepository) -> None:
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

    def to_users(self, user_ids: list[str], payload: bytes) -> Delivery:
        now_ms = clock.now_ms()
        targets = [
            (user_id, connection_id)
            for user_id in dict.fromkeys(user_ids)
            for connection_id in self.connections.live(user_id, now_ms // 1000)
        ]
        outcome = Delivery()
        if not targets:
            return outcome
        if len(targets) == 1:
            results = [self.post(targets[0][1], payload)]
        else:
            with ThreadPoolExecutor(max_workers=min(_PARALLEL_POSTS, len(targets))) as pool:
                results = list(pool.map(lambda target: self.post(target[1], payload), targets))
        for (user_id, connection_id), delivered in zip(targets, results, strict=True):
            if delivered:
                outcome.delivered += 1
            else:
                outcome.gone += 1
                self.connections.remove_gone(user_id, connection_id, now_ms)
        return outcome

    def error_to(self, connection_id: str, error: ArcadeflowError) -> None:
        """The reply to a refused frame goes to the connection that sent it, not to every tab."""
        self.post(connection_id, to_wire(error_frame(error)))


def error_frame(error: ArcadeflowError) -> ErrorFrame:
    """The one mapping of a client error to the WebSocket wire (the HTTP one is functions/shared/http.py)."""
    return ErrorFrame(code=error.code, message=error.message)
