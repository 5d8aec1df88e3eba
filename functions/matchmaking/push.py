"""Matchmaking's WebSocket wire for refused frames; pushing itself is functions/shared/connections.py
(its Delivery names the players none of whose connections took a frame, so their tickets can
leave the queue)."""

from __future__ import annotations

from functions.matchmaking.models import ErrorFrame, to_wire
from functions.shared.exceptions import ArcadeflowError


def error_frame(error: ArcadeflowError) -> ErrorFrame:
    """The one mapping of a client error to matchmaking's WebSocket wire."""
    return ErrorFrame(code=error.code, message=error.message)


def encode_error(error: ArcadeflowError) -> bytes:
    return to_wire(error_frame(error))
