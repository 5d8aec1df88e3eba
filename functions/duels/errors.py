"""Errors of the duels flows. One base class; `code` is what the client sees in the error frame
{"type": "error", "code": ..., "message": ...}. Handlers map errors by class, never by text."""

from __future__ import annotations


class DuelError(Exception):
    """Base of every error a WebSocket client can cause and be told about."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- the frame itself is wrong ---------------------------------------------------------------


class FrameTooLarge(DuelError):
    code = "frame_too_large"


class MalformedFrame(DuelError):
    """Not UTF-8 JSON, or not a JSON object."""

    code = "malformed_frame"


class UnknownAction(DuelError):
    code = "unknown_action"


class InvalidFrame(DuelError):
    """A known action with missing, unknown or wrongly typed fields."""

    code = "invalid_frame"


class Unauthenticated(DuelError):
    """No verified identity on the connection (the $connect authorizer should have refused it)."""

    code = "unauthenticated"


# --- a rule of the duel is broken ------------------------------------------------------------


class CannotInviteSelf(DuelError):
    code = "cannot_invite_self"


class InviteeOffline(DuelError):
    code = "invitee_offline"


class InviteAlreadyPending(DuelError):
    code = "invite_already_pending"


class UnknownInvite(DuelError):
    code = "unknown_invite"


class NotYourInvite(DuelError):
    code = "not_your_invite"


class InviteClosed(DuelError):
    """Already answered, or its answer window has passed."""

    code = "invite_closed"


class UnknownSession(DuelError):
    code = "unknown_session"


class NotInSession(DuelError):
    code = "not_in_session"


class SessionNotStarted(DuelError):
    code = "session_not_started"


class SessionEnded(DuelError):
    code = "session_ended"


# --- flow steps (raised inside state machine tasks; the class name is the ASL error) -------------


class InviteNotFound(Exception):
    """A flow step names an invite that does not exist: a wiring bug, not a user error."""


class SessionNotFound(Exception):
    """A flow step names a session that does not exist: a wiring bug, not a user error."""
