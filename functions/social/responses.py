"""What the social API answers (presence, followers, profiles, scores): one model per body.

Every field the API has always sent is sent, null when unknown, so clients never test for
absence; the offline presence is the one shape with fewer fields ({status, lastSeenAt}).
"""

from __future__ import annotations

from typing import Literal

from functions.shared.responses import NextCursor, ResponseModel

# --- followers ------------------------------------------------------------------------------


class FollowEntry(ResponseModel):
    """Someone followed (or following): a snapshot of their profile when the follow was made."""

    user_id: str
    screen_name: str | None
    avatar: str | None
    followed_at: str | None


class FollowPage(NextCursor):
    """GET /followers"""

    user_id: str
    direction: Literal["following", "followers"]
    items: list[FollowEntry]


# --- presence -------------------------------------------------------------------------------


class OnlinePresence(ResponseModel):
    status: str
    game_id: str | None
    context: str | None
    updated_at: str | None


class OfflinePresence(ResponseModel):
    status: Literal["offline"]
    last_seen_at: str | None


class PresenceUpdated(OnlinePresence):
    """PUT /presence: the presence as stored, and when it lapses unless refreshed (epoch seconds)."""

    expires_at: int


class OnlineEntry(ResponseModel):
    user_id: str
    screen_name: str | None
    avatar: str | None
    status: str
    game_id: str | None
    context: str | None
    updated_at: str | None


class OnlinePage(NextCursor):
    """GET /presence/online and GET /presence/following"""

    items: list[OnlineEntry]


# --- profiles -------------------------------------------------------------------------------


class Profile(ResponseModel):
    """PUT /users/me"""

    user_id: str
    screen_name: str | None
    avatar: str | None


class BestScore(ResponseModel):
    game_id: str
    best_score: int | None


class GameStats(ResponseModel):
    game_id: str
    best_score: int | None
    last_score: int | None
    last_played_at: str | None


class UserProfile(Profile):
    """GET /users/{id}"""

    created_at: str | None
    presence: OnlinePresence | OfflinePresence
    follower_count: int
    following_count: int
    best_scores: list[BestScore]
    recent_games: list[GameStats]


# --- scores ---------------------------------------------------------------------------------


class ScoreRecorded(GameStats):
    """POST /scores: the player's stats for the game after this score."""

    new_best: bool


class LeaderboardEntry(ResponseModel):
    rank: int
    user_id: str
    screen_name: str | None
    avatar: str | None
    best_score: int
    last_played_at: str | None


class Leaderboard(ResponseModel):
    """GET /games/{gameId}/leaderboard"""

    game_id: str
    entries: list[LeaderboardEntry]
