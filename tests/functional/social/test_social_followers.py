"""POST /followers, DELETE /followers/{targetUserId}, GET /followers against moto."""

from __future__ import annotations

import pytest

from functions.shared.http import MAX_BODY_BYTES
from functions.shared.pagination import encode_cursor

F = "followers_api"


def register(world, *users: str) -> None:
    """A user exists once they have called the API; GET /followers is the cheapest call."""
    for user in users:
        assert world.call(F, "GET", "/followers", user=user).status == 200


def follow(world, follower: str, target: str):
    return world.call(F, "POST", "/followers", user=follower, body={"targetUserId": target})


def test_follow_then_both_listings_show_the_edge_with_profile_snapshots(world):
    world.call(F, "GET", "/followers", user="bob", name="Bobby B", picture="https://cdn.example/bob.png")

    reply = follow(world, "alice", "bob")

    assert reply.status == 201
    assert reply.body["userId"] == "bob"
    assert reply.body["screenName"] == "Bobby B"
    following = world.call(F, "GET", "/followers", user="alice", query={"direction": "following"})
    assert [(e["userId"], e["screenName"], e["avatar"]) for e in following.body["items"]] == [
        ("bob", "Bobby B", "https://cdn.example/bob.png")
    ]
    followers = world.call(
        F, "GET", "/followers", user="alice", query={"userId": "bob", "direction": "followers"}
    )
    assert [(e["userId"], e["screenName"]) for e in followers.body["items"]] == [("alice", "Alice")]
    assert followers.body["nextCursor"] is None


def test_following_twice_keeps_one_edge_and_its_first_time(world):
    register(world, "bob")
    first = follow(world, "alice", "bob")

    second = follow(world, "alice", "bob")

    assert (first.status, second.status) == (201, 200)
    assert second.body["followedAt"] == first.body["followedAt"]
    assert len(world.scan("follows")) == 1


def test_following_yourself_is_refused_and_writes_nothing(world):
    reply = follow(world, "alice", "alice")

    assert reply.status == 422
    assert reply.error_code == "cannot_follow_self"
    assert world.scan("follows") == []


def test_following_a_user_who_never_called_the_api_is_not_found(world):
    reply = follow(world, "alice", "ghost")

    assert reply.status == 404
    assert reply.error_code == "user_not_found"
    assert "ghost" in reply.body["error"]["message"]
    assert world.scan("follows") == []


def test_unfollow_removes_the_edge_and_repeating_it_is_harmless(world):
    register(world, "bob")
    follow(world, "alice", "bob")

    first = world.call(F, "DELETE", "/followers/bob", user="alice")
    second = world.call(F, "DELETE", "/followers/bob", user="alice")

    assert (first.status, second.status) == (204, 204)
    assert world.call(F, "GET", "/followers", user="alice").body["items"] == []


@pytest.mark.parametrize("direction", ["following", "followers"])
def test_pages_with_cursors_cover_every_edge_exactly_once(world, direction):
    others = [f"user{n:02d}" for n in range(7)]
    register(world, "alice", *others)
    for other in others:
        if direction == "following":
            assert follow(world, "alice", other).status == 201
        else:
            assert follow(world, other, "alice").status == 201

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = {"direction": direction, "limit": "3", "userId": "alice"}
        if cursor:
            query["cursor"] = cursor
        page = world.call(F, "GET", "/followers", user="bob", query=query)
        assert page.status == 200
        assert len(page.body["items"]) <= 3
        seen += [entry["userId"] for entry in page.body["items"]]
        cursor = page.body["nextCursor"]
        if not cursor:
            break

    assert sorted(seen) == others
    assert len(seen) == len(set(seen))


@pytest.mark.authorization("GET /followers")
def test_a_cursor_that_is_garbage_or_from_another_listing_is_refused(world):
    register(world, "bob", "carol")
    for target in ("bob", "carol"):
        follow(world, "alice", target)
    alice_cursor = world.call(F, "GET", "/followers", user="alice", query={"limit": "1"}).body["nextCursor"]
    assert alice_cursor

    garbage = world.call(F, "GET", "/followers", user="alice", query={"cursor": "not-a-cursor!!"})
    foreign = world.call(F, "GET", "/followers", user="bob", query={"cursor": alice_cursor})
    forged = world.call(
        F, "GET", "/followers", user="alice", query={"cursor": encode_cursor({"userId": "alice"})}
    )

    for reply in (garbage, foreign, forged):
        assert reply.status == 400
        assert reply.error_code == "invalid_cursor"


def test_listing_an_unknown_user_or_with_a_bad_limit_is_a_client_error(world):
    unknown = world.call(F, "GET", "/followers", user="alice", query={"userId": "ghost"})
    bad_limit = world.call(F, "GET", "/followers", user="alice", query={"limit": "0"})
    bad_direction = world.call(F, "GET", "/followers", user="alice", query={"direction": "sideways"})

    assert (unknown.status, unknown.error_code) == (404, "user_not_found")
    assert (bad_limit.status, bad_limit.error_code) == (400, "invalid_query")
    assert (bad_direction.status, bad_direction.error_code) == (400, "invalid_query")


@pytest.mark.parametrize(
    ("raw_body", "status", "code", "mentions"),
    [
        ('{"targetUserId": "bob"', 400, "malformed_json", "not valid JSON"),
        ("", 400, "malformed_json", "empty"),
        ('["bob"]', 400, "invalid_body", "JSON object"),
        ('{"targetUserId": 42}', 400, "invalid_body", "targetUserId"),
        ('{"targetUserId": "bob", "note": "hi"}', 400, "invalid_body", "note"),
        ("{}", 400, "invalid_body", "targetUserId"),
        ('{"targetUserId": "bob#1"}', 400, "invalid_body", "targetUserId"),
        ('{"targetUserId": "' + "b" * MAX_BODY_BYTES + '"}', 413, "body_too_large", str(MAX_BODY_BYTES)),
    ],
)
def test_bad_bodies_get_a_clear_client_error_and_write_nothing(world, raw_body, status, code, mentions):
    register(world, "bob")

    reply = world.call(F, "POST", "/followers", user="alice", raw_body=raw_body)

    assert reply.status == status
    assert reply.error_code == code
    assert mentions in reply.body["error"]["message"]
    assert world.scan("follows") == []


def test_an_unknown_route_answers_in_the_error_shape(world):
    reply = world.call(F, "PATCH", "/followers", user="alice")

    assert reply.status == 404
    assert reply.error_code == "route_not_found"
