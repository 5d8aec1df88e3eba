"""Errors of token verification. One base; the authorizer maps them by class."""

from __future__ import annotations

from functions.shared.config import MissingConfiguration


class TokenVerificationError(Exception):
    """Base of every error verifying a token."""


class InvalidToken(TokenVerificationError):
    """The token is not acceptable: malformed, wrongly signed, expired, or for someone else.
    The caller's fault: the authorizer denies."""


class SigningKeysUnavailable(TokenVerificationError):
    """The issuer's signing keys could not be fetched. Not the caller's fault: the authorizer
    fails, so API Gateway answers 500 rather than telling a valid user they are refused."""


class AuthorizerMisconfigured(TokenVerificationError, MissingConfiguration):
    """The deployment did not give the authorizer its JWT settings: a wiring bug, of the same
    family as every function's missing setting (functions/shared/config.py)."""
