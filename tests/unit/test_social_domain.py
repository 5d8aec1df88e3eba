"""Pure rules of the social features: no AWS, no mocks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.shared.exceptions import CannotFollowSelf, PresenceNeedsGame
from functions.social import domain
from functions.social.models import PresenceStatus


def test_nobody_follows_themselves():
    with pytest.raises(CannotFollowSelf):
        domain.ensure_can_follow("alice", "alice")
    domain.ensure_can_follow("alice", "bob")


def test_follow_inserts_and_removes_move_both_counters_and_modifies_none():
    edge = {"userId": "alice", "targetUserId": "bob"}

    assert domain.count_changes("INSERT", None, edge) == [
        ("alice", "followingCount", 1),
        ("bob", "followerCount", 1),
    ]
    assert domain.count_changes("REMOVE", edge, None) == [
        ("alice", "followingCount", -1),
        ("bob", "followerCount", -1),
    ]
    assert domain.count_changes("MODIFY", edge, edge) == []


@pytest.mark.parametrize("status", ["playing", "game_lobby"])
def test_playing_or_in_a_lobby_needs_a_game(status):
    with pytest.raises(PresenceNeedsGame):
        domain.require_game_for_status(status, None)
    domain.require_game_for_status(status, "chess")
    domain.require_game_for_status("home", None)


@given(st.text(min_size=1, max_size=64), st.integers(min_value=1, max_value=64))
def test_a_user_always_lands_in_the_same_valid_shard(user_id, shards):
    shard = domain.online_shard(user_id, shards)

    assert shard == domain.online_shard(user_id, shards)
    assert shard in domain.all_online_shards(shards)


def test_presence_is_online_until_expires_at_and_offline_from_then_on():
    record = {
        "userId": "bob",
        "status": "home",
        "expiresAt": 1000,
        "updatedAt": "2030-01-01T00:00:00.000000Z",
    }

    assert domain.presence_view(record, 999)["status"] == "home"
    assert domain.presence_view(record, 1000) == {
        "status": "offline",
        "lastSeenAt": "2030-01-01T00:00:00.000000Z",
    }
    assert (
        domain.presence_view(None, 0, "2029-12-31T00:00:00.000000Z")["lastSeenAt"]
        == "2029-12-31T00:00:00.000000Z"
    )


def test_presence_record_expires_ttl_seconds_after_the_update():
    record = domain.presence_record({"userId": "bob"}, "home", None, None, "t", 1000, 120, 4)

    assert record["expiresAt"] == 1120
    assert record["onlineShard"] == domain.online_shard("bob", 4)


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=5), st.sampled_from("abcdefgh")),
        unique_by=lambda t: t[1],
    ),
    st.integers(min_value=1, max_value=4),
)
def test_paging_who_is_online_yields_everyone_once_in_order(entries, limit):
    records = [{"userId": user, "expiresAt": expires} for expires, user in entries]
    seen = []
    before = None
    for _ in range(len(records) + 2):
        page, before = domain.online_page(records, limit, before)
        seen += page
        if before is None:
            break

    assert [domain.online_order(r) for r in seen] == sorted(
        (domain.online_order(r) for r in records), reverse=True
    )


def test_leaderboard_ranks_ties_together():
    rows = [{"userId": u, "bestScore": s} for u, s in [("a", 9), ("b", 7), ("c", 7), ("d", 1)]]

    assert [e["rank"] for e in domain.leaderboard(rows)] == [1, 2, 2, 4]


def test_recent_keys_sort_by_time():
    assert domain.recent_key("2030-01-02T00:00:00.000000Z", "a") > domain.recent_key(
        "2030-01-01T23:59:59.999999Z", "z"
    )


def test_the_missing_game_message_names_the_status_as_the_client_sent_it():
    with pytest.raises(PresenceNeedsGame) as refused:
        domain.require_game_for_status(PresenceStatus.GAME_LOBBY, None)
    assert str(refused.value) == "status 'game_lobby' needs a gameId"
