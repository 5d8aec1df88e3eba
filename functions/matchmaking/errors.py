"""Errors of matchmaking. Client errors are families of functions/shared/exceptions.py; `code` is
what the client sees in the error frame {"type": "error", "code", "message"}, which the WebSocket
edge (functions/matchmaking/push.py) makes from the class, never from the text."""

from __future__ import annotations

from functions.shared.exceptions import NotFound, RuleViolation

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
