"""Errors of the status API a caller can cause; the shared HTTP layer maps them by class."""

from __future__ import annotations

from functions.shared.exceptions import InvalidRequest, RuleViolation


class InvalidIdempotencyKey(InvalidRequest):
    code = "invalid_idempotency_key"


class IdempotencyKeyReused(RuleViolation):
    """The same Idempotency-Key came with a different post: the first post stands."""

    code = "idempotency_key_reused"
