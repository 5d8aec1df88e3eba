"""The social routes act for the caller only: who follows, who is renamed, whose score and
presence are written come from the token, never from the body or the path, and a cursor works
only for the listing (and the reader) it was handed to."""

from __future__ import annotations

import pytest

from functions.shared.pagination import encode_cursor

F, P, U, S = "followers_api", "presence_api", "users_api", "scores_api"


def register(world, *users: str) -> None:
    for user in users:
        assert world.call(F, "GET", "/followers", user=user).status == 200


def edges(world) -> set[tuple[str, str]]:
    return {(e["userId"], e["targetUserId"]) for e in world.scan("follows")}


@pytest.mark.authorization("POST /followers")
def test_a_follow_is_the_callers_and_a_body_naming_another_follower_is_refused(world):
    register(world, "alice", "bob", "carol")
    refused = world.call(
        F, "POST", "/followers", user="mallory", body={"targetUserId": "bob", "userId": "alice"}
    )
    assert (refused.status, refused.error_code) == (400, "invalid_body")
    assert edges(world) == set()
    made = world.call(F, "POST", "/followers", user="mallory", body={"targetUserId": "bob"})
    assert made.status == 201
    assert edges(world) == {("mallory", "bob")}  # mallory's edge, nobody else's


@pytest.mark.authorization("DELETE /followers/{targetUserId}")
def test_an_unfollow_removes_only_the_callers_edge(world):
    register(world, "alice", "bob", "mallory")
    for follower in ("alice", "mallory"):
        assert world.call(F, "POST", "/followers", user=follower, body={"targetUserId": "bob"}).status == 201
    assert world.call(F, "DELETE", "/followers/bob", user="mallory").status == 204
    # Nobody can remove an edge of someone else: the path names the target, the token the follower.
    assert world.call(F, "DELETE", "/followers/alice", user="mallory").status == 204
    assert edges(world) == {("alice", "bob")}
    alice_view = world.call(F, "GET", "/followers", user="alice", query={"direction": "following"})
    assert [e["userId"] for e in alice_view.body["items"]] == ["bob"]


@pytest.mark.authorization("PUT /users/me")
def test_a_profile_update_changes_only_the_callers_profile(world):
    register(world, "alice", "mallory")
    before = world.call(U, "GET", "/users/alice", user="alice").body
    refused = world.call(
        U, "PUT", "/users/me", user="mallory", body={"screenName": "Hacked", "userId": "alice"}
    )
    assert (refused.status, refused.error_code) == (400, "invalid_body")
    assert world.call(U, "PUT", "/users/me", user="mallory", body={"screenName": "Mal"}).status == 200
    assert world.call(U, "GET", "/users/alice", user="alice").body == before
    assert world.call(U, "GET", "/users/mallory", user="alice").body["screenName"] == "Mal"


@pytest.mark.authorization("POST /scores")
def test_a_score_is_recorded_for_the_caller_and_a_body_naming_another_player_is_refused(world):
    refused = world.call(
        S, "POST", "/scores", user="mallory", body={"gameId": "tetris", "score": 999, "userId": "alice"}
    )
    assert (refused.status, refused.error_code) == (400, "invalid_body")
    assert world.scan("user_game_stats") == []
    assert (
        world.call(S, "POST", "/scores", user="mallory", body={"gameId": "tetris", "score": 5}).status == 200
    )
    assert [(s["userId"], s["bestScore"]) for s in world.scan("user_game_stats")] == [("mallory", 5)]


@pytest.mark.authorization("PUT /presence")
def test_presence_is_set_for_the_caller_and_a_body_naming_another_user_is_refused(world):
    refused = world.call(P, "PUT", "/presence", user="mallory", body={"status": "home", "userId": "alice"})
    assert (refused.status, refused.error_code) == (400, "invalid_body")
    assert world.scan("presence") == []
    assert world.call(P, "PUT", "/presence", user="mallory", body={"status": "home"}).status == 200
    assert [p["userId"] for p in world.scan("presence")] == ["mallory"]


@pytest.mark.authorization("GET /presence/following")
def test_a_following_presence_cursor_is_good_only_for_its_reader(world):
    register(world, "alice", "bob", "carol", "mallory")
    for target in ("bob", "carol"):
        world.call(F, "POST", "/followers", user="alice", body={"targetUserId": target})
        world.call(P, "PUT", "/presence", user=target, body={"status": "home"})
    first = world.call(P, "GET", "/presence/following", user="alice", query={"limit": "1"})
    cursor = first.body["nextCursor"]
    assert cursor
    for reply in (
        world.call(P, "GET", "/presence/following", user="mallory", query={"cursor": cursor}),
        # Forged for alice's listing by someone who is not alice.
        world.call(
            P,
            "GET",
            "/presence/following",
            user="mallory",
            query={"cursor": encode_cursor({"userId": "alice", "targetUserId": "bob"})},
        ),
    ):
        assert (reply.status, reply.error_code) == (400, "invalid_cursor")
    rest = world.call(P, "GET", "/presence/following", user="alice", query={"cursor": cursor})
    assert rest.status == 200
