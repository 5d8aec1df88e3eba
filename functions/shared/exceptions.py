"""Domain errors. One base class; the HTTP layer maps them to status codes by class, never by text.

`code` is the stable, machine-readable name clients see in {"error": {"code": ...}}.
"""

from __future__ import annotations


class ArcadeflowError(Exception):
    """Base of every error a caller can cause and be told about."""

    code = "error"

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


class Unauthenticated(ArcadeflowError):
    """No usable identity in the token claims (the authorizer should have refused it)."""

    code = "unauthenticated"


# --- the request is well formed but names something that is not there ----------------------


class NotFound(ArcadeflowError):
    code = "not_found"


class UserNotFound(NotFound):
    code = "user_not_found"


# --- the request is well formed but breaks a rule of the domain -----------------------------


class RuleViolation(ArcadeflowError):
    code = "rule_violation"


class CannotFollowSelf(RuleViolation):
    code = "cannot_follow_self"


class PresenceNeedsGame(RuleViolation):
    code = "presence_needs_game"
