"""Errors of matchmaking. Client errors are families of functions/shared/exceptions.py; `code` is
what the client sees in the error frame {"type": "error", "code", "message"}, which the WebSocket
edge (functions/matchmaking/push.py) makes from the class, never from the text."""

from __future__ import annotations

from http import HTTPStatus

from functions.shared.exceptions import InvalidRequest, NotFound, RuleViolation

# --- the frame itself is wrong (the same codes as the duels' frames) -----------------------------


class FrameTooLarge(InvalidRequest):
    code = "frame_too_large"
    http_status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class MalformedFrame(InvalidRequest):
    """Not UTF-8 JSON, or not a JSON object."""

    code = "malformed_frame"


class UnknownAction(InvalidRequest):
    code = "unknown_action"


class InvalidFrame(InvalidRequest):
    """A known action with missing, unknown or wrongly typed fields (a cell outside 0-8 too)."""

    code = "invalid_frame"


# --- a rule of the queue or of the game is broken ----------------------------------------------


class AlreadyQueued(RuleViolation):
    """A second joinQueue (another tab, a double tap): the first ticket stands, nothing changes."""

    code = "already_queued"


class AlreadyInGame(RuleViolation):
    code = "already_in_game"


class NotQueued(RuleViolation):
    code = "not_queued"


class UnknownGame(NotFound):
    code = "unknown_game"


class NotInGame(RuleViolation):
    """The game is someone else's."""

    code = "not_in_game"


class NotYourTurn(RuleViolation):
    code = "not_your_turn"


class CellTaken(RuleViolation):
    code = "cell_taken"


class GameOver(RuleViolation):
    code = "game_over"


# --- flow steps (raised inside queue_pairing's task; the class name is the ASL error) ------------


class PairingConflict(Exception):
    """Another pairing took one of the two tickets first: the ASL retries with backoff and jitter."""
