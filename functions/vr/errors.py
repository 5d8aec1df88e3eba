"""Errors of the VR flow. Client errors are families of functions/shared/exceptions.py; `code` is
what the client reads in {"error": {"code", ...}}. The two the end's first state raises keep the
class names the ASL catches (a Lambda error's name is its exception's class name)."""

from __future__ import annotations

from http import HTTPStatus

from functions.shared.exceptions import ArcadeflowError, InvalidRequest, NotFound


class PayloadTooLarge(InvalidRequest):
    code = "payload_too_large"
    http_status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class Forbidden(ArcadeflowError):
    """Another player's private listing (their sessions)."""

    code = "forbidden"
    http_status = HTTPStatus.FORBIDDEN


class SessionNotFound(NotFound):
    """Unknown, expired or someone else's session: the answer never says which. Also the error
    of vr_session_end's first state (Error "SessionNotFound")."""

    code = "session_not_found"


class SessionAlreadyEnded(ArcadeflowError):
    """The session's end was started (or is done): no more events, no second end. Also the error
    of vr_session_end's first state (Error "SessionAlreadyEnded")."""

    code = "session_ended"
    http_status = HTTPStatus.CONFLICT


class EndNotStarted(NotFound):
    code = "end_not_started"


# --- flow steps (raised inside vr_session_end's tasks; the class name is the ASL error) ---------


class SessionBusy(Exception):
    """A batch of events is being written into the session (its reservation is younger than the
    lease): the end waits for it, by the ASL's Retry, so every accepted event is counted."""


class SessionEndLost(Exception):
    """The session's end is no longer this execution's (another execution took over an end this
    one had left): this execution must not record anything more."""


class ProgressConflict(Exception):
    """Another transaction touched the player's progress at the same moment (two sessions of one
    player ending together): the ASL retries the grant with backoff and jitter."""
