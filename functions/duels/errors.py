"""Errors of the duels flows. Each is a family of functions/shared/exceptions.py; `code` is what
the client sees in the error frame {"type": "error", "code": ..., "message": ...}, which the
WebSocket edge (functions/duels/push.py) makes from the class, never from the text."""

from __future__ import annotations

# The frame errors are the one family every flow's frames share (functions/shared/exceptions.py),
# re-exported here where the duels' code finds them.
from functions.shared.exceptions import FrameTooLarge as FrameTooLarge
from functions.shared.exceptions import InvalidFrame as InvalidFrame
from functions.shared.exceptions import MalformedFrame as MalformedFrame
from functions.shared.exceptions import NotFound, RuleViolation
from functions.shared.exceptions import UnknownAction as UnknownAction

# --- a rule of the duel is broken ------------------------------------------------------------


class CannotInviteSelf(RuleViolation):
    code = "cannot_invite_self"


class InviteeOffline(RuleViolation):
    code = "invitee_offline"


class InviteAlreadyPending(RuleViolation):
    code = "invite_already_pending"


class UnknownInvite(NotFound):
    code = "unknown_invite"


class NotYourInvite(RuleViolation):
    code = "not_your_invite"


class InviteClosed(RuleViolation):
    """Already answered, or its answer window has passed."""

    code = "invite_closed"


class UnknownSession(NotFound):
    code = "unknown_session"


class NotInSession(RuleViolation):
    code = "not_in_session"


class SessionNotStarted(RuleViolation):
    code = "session_not_started"


class SessionEnded(RuleViolation):
    code = "session_ended"


# --- flow steps (raised inside state machine tasks; the class name is the ASL error) -------------


class InviteNotFound(Exception):
    """A flow step names an invite that does not exist: a wiring bug, not a user error."""


class SessionNotFound(Exception):
    """A flow step names a session that does not exist: a wiring bug, not a user error."""
