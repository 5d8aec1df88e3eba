"""Rules of the social features, with no AWS in sight: pure functions over plain values."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from functions.shared.exceptions import CannotFollowSelf, PresenceNeedsGame

OFFLINE = "offline"
STATUSES_NEEDING_GAME = frozenset({"playing", "game_lobby"})
DEFAULT_PRESENCE_TTL_SECONDS = 120
DEFAULT_ONLINE_SHARDS = 4
RECENT_GAMES_SHOWN = 10
BEST_SCORES_SHOWN = 100


# --- follows --------------------------------------------------------------------------------


def ensure_can_follow(follower_id: str, target_id: str) -> None:
    if follower_id == target_id:
        raise CannotFollowSelf("you cannot follow yourself")


def follow_edge(follower: Mapping[str, Any], target: Mapping[str, Any], now_iso: str) -> dict[str, Any]:
    """A follow edge with snapshots of both profiles, so either listing needs no extra reads."""
    return {
        "userId": follower["userId"],
        "targetUserId": target["userId"],
        "targetScreenName": target.get("screenName"),
        "targetAvatar": target.get("avatar"),
        "followerScreenName": follower.get("screenName"),
        "followerAvatar": follower.get("avatar"),
        "createdAt": now_iso,
    }


def following_entry(edge: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "userId": edge["targetUserId"],
        "screenName": edge.get("targetScreenName"),
        "avatar": edge.get("targetAvatar"),
        "followedAt": edge.get("createdAt"),
    }


def follower_entry(edge: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "userId": edge["userId"],
        "screenName": edge.get("followerScreenName"),
        "avatar": edge.get("followerAvatar"),
        "followedAt": edge.get("createdAt"),
    }


def count_changes(
    event_name: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> list[tuple[str, str, int]]:
    """(userId, counter, delta) for one change to the follows table. A MODIFY rewrites an edge
    that already existed (both images present), so it changes no count."""
    if event_name == "INSERT" and new is not None:
        return [(new["userId"], "followingCount", 1), (new["targetUserId"], "followerCount", 1)]
    if event_name == "REMOVE" and old is not None:
        return [(old["userId"], "followingCount", -1), (old["targetUserId"], "followerCount", -1)]
    return []


# --- presence -------------------------------------------------------------------------------


def require_game_for_status(status: str, game_id: str | None) -> None:
    if status in STATUSES_NEEDING_GAME and not game_id:
        # The handler passes a PresenceStatus: the message names its value, as the client sent it.
        name = getattr(status, "value", status)
        raise PresenceNeedsGame(f"status {name!r} needs a gameId")


def online_shard(user_id: str, shards: int) -> str:
    """Spreads presence writes over `shards` index partitions (each takes ~1000 writes/s), by a
    hash that is stable across processes (Python's hash() is salted)."""
    digest = hashlib.sha256(user_id.encode()).digest()
    return f"online#{int.from_bytes(digest[:4], 'big') % shards}"


def all_online_shards(shards: int) -> list[str]:
    return [f"online#{n}" for n in range(shards)]


def presence_record(
    user: Mapping[str, Any],
    status: str,
    game_id: str | None,
    context: str | None,
    now_iso: str,
    now_epoch: int,
    ttl_seconds: int,
    shards: int,
) -> dict[str, Any]:
    return {
        "userId": user["userId"],
        "status": status,
        "gameId": game_id,
        "context": context,
        "screenName": user.get("screenName"),
        "avatar": user.get("avatar"),
        "updatedAt": now_iso,
        "expiresAt": now_epoch + ttl_seconds,
        "onlineShard": online_shard(user["userId"], shards),
    }


def is_online(record: Mapping[str, Any] | None, now_epoch: int) -> bool:
    # TTL deletes late: an item past expiresAt is offline whether or not it is still stored.
    return record is not None and int(record.get("expiresAt", 0)) > now_epoch


def presence_view(
    record: Mapping[str, Any] | None, now_epoch: int, last_seen_at: str | None = None
) -> dict[str, Any]:
    if is_online(record, now_epoch):
        assert record is not None
        return {
            "status": record["status"],
            "gameId": record.get("gameId"),
            "context": record.get("context"),
            "updatedAt": record.get("updatedAt"),
        }
    # An expired record not yet deleted still tells when the user was last heard from.
    seen = [t for t in (last_seen_at, record.get("updatedAt") if record else None) if t]
    return {"status": OFFLINE, "lastSeenAt": max(seen) if seen else None}


def online_entry(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "userId": record["userId"],
        "screenName": record.get("screenName"),
        "avatar": record.get("avatar"),
        "status": record["status"],
        "gameId": record.get("gameId"),
        "context": record.get("context"),
        "updatedAt": record.get("updatedAt"),
    }


def online_order(record: Mapping[str, Any]) -> tuple[int, str]:
    """Listing order of who is online: most recently refreshed first, then by userId (descending),
    a total order so a cursor can name the exact place to resume."""
    return (int(record["expiresAt"]), record["userId"])


def online_page(
    candidates: Iterable[Mapping[str, Any]], limit: int, before: tuple[int, str] | None
) -> tuple[list[Mapping[str, Any]], tuple[int, str] | None]:
    """The first `limit` records in listing order strictly after `before`, and the position to
    resume from (None when these were the last). `candidates` must hold, for every shard, every
    record that could be among the first limit + 1."""
    ordered = sorted(
        (c for c in candidates if before is None or online_order(c) < before), key=online_order, reverse=True
    )
    page = ordered[:limit]
    resume = online_order(page[-1]) if len(ordered) > limit else None
    return page, resume


# --- scores ---------------------------------------------------------------------------------


def recent_key(played_at_iso: str, game_id: str) -> str:
    """Sort key of UserRecentGames: ISO timestamps sort as strings; gameId keeps it unique."""
    return f"{played_at_iso}#{game_id}"


def game_stats_entry(stats: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "gameId": stats["gameId"],
        "bestScore": stats.get("bestScore"),
        "lastScore": stats.get("lastScore"),
        "lastPlayedAt": stats.get("lastPlayedAt"),
    }


def leaderboard(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Ranked entries; equal scores share a rank (standard competition ranking: 1, 1, 3)."""
    entries: list[dict[str, Any]] = []
    previous_score = None
    rank = 0
    for position, row in enumerate(rows, start=1):
        if row["bestScore"] != previous_score:
            rank = position
            previous_score = row["bestScore"]
        entries.append(
            {
                "rank": rank,
                "userId": row["userId"],
                "screenName": row.get("screenName"),
                "avatar": row.get("avatar"),
                "bestScore": row["bestScore"],
                "lastPlayedAt": row.get("lastPlayedAt"),
            }
        )
    return entries


# --- profiles -------------------------------------------------------------------------------


def profile_view(
    user: Mapping[str, Any],
    presence: dict[str, Any],
    best_scores: Sequence[Mapping[str, Any]],
    recent_games: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    return {
        "userId": user["userId"],
        "screenName": user.get("screenName"),
        "avatar": user.get("avatar"),
        "createdAt": user.get("createdAt"),
        "presence": presence,
        "followerCount": max(0, int(user.get("followerCount", 0))),
        "followingCount": max(0, int(user.get("followingCount", 0))),
        "bestScores": [
            {"gameId": s["gameId"], "bestScore": s.get("bestScore")}
            for s in sorted(best_scores, key=lambda s: s["gameId"])
        ],
        "recentGames": [game_stats_entry(s) for s in recent_games],
    }
