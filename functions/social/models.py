"""Request bodies and query strings of the social API (presence, followers, profiles, scores).

Bodies are strict: exact JSON types, no unknown fields. Their JSON Schemas are checked in under
schemas/ (tools/schemas.py generates them; a test compares).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter
from pydantic.alias_generators import to_camel

from functions.shared.models import QueryParams, UserId

GameId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
ScreenName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[^\x00-\x1f\x7f]+$")
]
# JSON's safe integer range: every client can hold it exactly.
Score = Annotated[int, Field(ge=0, le=2**53 - 1)]

GAME_ID = TypeAdapter(GameId)


class PresenceStatus(StrEnum):
    HOME = "home"
    GAME_LOBBY = "game_lobby"
    PLAYING = "playing"
    HIGH_SCORES = "high_scores"
    SPECTATING = "spectating"
    MATCHMAKING = "matchmaking"  # written by functions/matchmaking while the player is queued


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, alias_generator=to_camel, frozen=True)


class FollowRequest(RequestBody):
    """POST /followers"""

    target_user_id: UserId


class ProfileUpdate(RequestBody):
    """PUT /users/me: the whole profile; an absent or null avatar removes it."""

    screen_name: ScreenName
    avatar: Annotated[AnyHttpUrl, Field(max_length=2048)] | None = None


class ScoreSubmission(RequestBody):
    """POST /scores"""

    game_id: GameId
    score: Score


class PresenceUpdate(RequestBody):
    """PUT /presence, sent by clients every 30 s. playing and game_lobby need a gameId."""

    status: PresenceStatus
    game_id: GameId | None = None
    context: Annotated[str, StringConstraints(max_length=200)] | None = None


# --- query strings (not bodies: every value arrives as a string, so types are lax) ----------


class FollowListQuery(QueryParams):
    """GET /followers?userId=&direction=following|followers&limit=&cursor="""

    user_id: UserId | None = None
    direction: Literal["following", "followers"] = "following"
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = None


class LeaderboardQuery(QueryParams):
    limit: int = Field(default=10, ge=1, le=100)
