"""Who is calling: the user the JWT authorizer verified. Pure (no AWS).

API Gateway's JWT authorizer has checked the token; its claims arrive in
requestContext.authorizer.jwt.claims: `sub` is the userId, `name` the screen name,
`picture` the avatar URL (may be absent), as Cognito issues them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from functions.shared.exceptions import Unauthenticated

MAX_SCREEN_NAME = 32
MAX_AVATAR_URL = 2048


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str
    screen_name: str
    avatar: str | None = None


def claims_of(event: Mapping[str, Any]) -> Mapping[str, Any]:
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    return (authorizer.get("jwt") or {}).get("claims") or {}


def caller_from_event(event: Mapping[str, Any]) -> Caller:
    return caller_from_claims(claims_of(event))


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    """The caller a verified token names (also how the WebSocket $connect authorizer reads one)."""
    user_id = claims.get("sub")
    if not isinstance(user_id, str) or not user_id.strip():
        raise Unauthenticated("the token has no subject (sub) claim")
    # A token without a name still makes a usable profile; the user can rename with PUT /users/me.
    name = (
        claims.get("name")
        or claims.get("preferred_username")
        or claims.get("cognito:username")
        or claims.get("username")  # Cognito access tokens
        or user_id
    )
    screen_name = str(name).strip()[:MAX_SCREEN_NAME] or user_id[:MAX_SCREEN_NAME]
    picture = claims.get("picture")
    avatar = picture if isinstance(picture, str) and picture and len(picture) <= MAX_AVATAR_URL else None
    return Caller(user_id=user_id, screen_name=screen_name, avatar=avatar)
