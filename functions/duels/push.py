"""The duels' WebSocket wire for refused frames; pushing itself is functions/shared/connections.py."""

from __future__ import annotations

from functions.duels.models import ErrorFrame, to_wire
from functions.shared.exceptions import ArcadeflowError


def error_frame(error: ArcadeflowError) -> ErrorFrame:
    """The one mapping of a client error to the WebSocket wire (the HTTP one is functions/shared/http.py)."""
    return ErrorFrame(code=error.code, message=error.message)


def encode_error(error: ArcadeflowError) -> bytes:
    return to_wire(error_frame(error))
