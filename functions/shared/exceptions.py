"""The one family of errors a client can cause and be told about, HTTP and WebSocket alike.

Every such error is an ArcadeflowError with a stable, machine-readable `code` (what clients see
in {"error": {"code": ...}} and in {"type": "error", "code": ...}) and an `http_status` that
its family sets. The HTTP edge (functions/shared/http.py) and the WebSocket edge
(functions/duels/push.py) each map them once, by class, never by message text. A flow adds its
own errors as subclasses of these families (functions/<flow>/errors.py).
"""

from __future__ import annotations

from http import HTTPStatus


class ArcadeflowError(Exception):
    """Base of every error a caller can cause and be told about."""

    code = "error"
    http_status = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


# --- the request itself is wrong -----------------------------------------------------------


class InvalidRequest(ArcadeflowError):
    code = "invalid_request"


class MalformedJson(InvalidRequest):
    code = "malformed_json"


class InvalidBody(InvalidRequest):
    """Wrong types, missing or unknown fields: the body does not match its JSON Schema."""

    code = "invalid_body"


class InvalidQuery(InvalidRequest):
    code = "invalid_query"


class InvalidCursor(InvalidRequest):
    code = "invalid_cursor"


class BodyTooLarge(InvalidRequest):
    code = "body_too_large"
    http_status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


# --- a WebSocket frame is wrong (every flow's frames: the duels', matchmaking's) ----------------


class FrameTooLarge(InvalidRequest):
    code = "frame_too_large"
    http_status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class MalformedFrame(InvalidRequest):
    """Not UTF-8 JSON, or not a JSON object."""

    code = "malformed_frame"


class UnknownAction(InvalidRequest):
    code = "unknown_action"


class InvalidFrame(InvalidRequest):
    """A known action with missing, unknown or wrongly typed fields."""

    code = "invalid_frame"


class Unauthenticated(ArcadeflowError):
    """No usable identity in the token claims or on the connection (the authorizer should have
    refused it)."""

    code = "unauthenticated"
    http_status = HTTPStatus.UNAUTHORIZED


# --- the request is well formed but names something that is not there ----------------------


class NotFound(ArcadeflowError):
    code = "not_found"
    http_status = HTTPStatus.NOT_FOUND


class UserNotFound(NotFound):
    code = "user_not_found"


# --- the request is well formed but breaks a rule of the domain -----------------------------


class RuleViolation(ArcadeflowError):
    code = "rule_violation"
    http_status = HTTPStatus.UNPROCESSABLE_ENTITY


class CannotFollowSelf(RuleViolation):
    code = "cannot_follow_self"


class PresenceNeedsGame(RuleViolation):
    code = "presence_needs_game"
