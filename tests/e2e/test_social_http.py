"""Followers, presence, profiles and scores over HTTP against the real `arcadeflow up`."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import requests

from tests.support.stack import RunningStack, wait_for

pytestmark = pytest.mark.e2e


class Player:
    """A client as a game would hold one: a user id, a token, and the base URL."""

    def __init__(self, stack: RunningStack, name: str | None = None):
        self.stack = stack
        self.user_id = f"{name or 'p'}-{uuid.uuid4().hex[:8]}"
        self.name = (name or "Player").title()
        self.token = stack.token(self.user_id, self.name)

    def call(self, method: str, path: str, body=None, raw: bytes | None = None, token: str | None = None):
        headers = {"Authorization": f"Bearer {token or self.token}"}
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        return requests.request(
            method, f"{self.stack.http_url}{path}", data=data, headers=headers, timeout=30
        )


@pytest.fixture(scope="module")
def short_presence_stack(tmp_path_factory):
    """Presence lasts 2 s and TTL sweeps every second, so expiry runs through the TTL path."""
    running = RunningStack(
        tmp_path_factory.mktemp("presence"), ["--presence-ttl", "2", "--ttl-interval", "1"]
    )
    yield running
    running.stop()


def _table_item_count(stack: RunningStack, logical: str) -> int:
    name = stack.endpoints()["tables"][logical]
    return stack.client("dynamodb").scan(TableName=name, Select="COUNT")["Count"]


@pytest.mark.needs("local_routes")
def test_health_needs_no_token_and_openapi_lists_every_route(stack):
    assert requests.get(f"{stack.http_url}/health", timeout=5).json() == {"status": "ok"}
    doc = requests.get(f"{stack.http_url}/openapi.json", timeout=5).json()
    assert doc["openapi"].startswith("3.")
    assert doc["paths"]["/followers"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "required"
    ] == ["targetUserId"]
    assert {"get", "post"} <= set(doc["paths"]["/followers"])
    assert "/games/{gameId}/leaderboard" in doc["paths"]


@pytest.mark.parametrize("case", ["no token", "bad signature", "expired", "not a jwt"])
def test_requests_without_a_valid_token_are_401_and_write_nothing(stack, case, tmp_path):
    before = _table_item_count(stack, "users"), _table_item_count(stack, "presence")
    if case == "bad signature":
        # Same claims, signed by another key: a token from a different stack.
        other = RunningStack.__new__(RunningStack)
        other.state_dir = tmp_path
        token = RunningStack.token(other, "mallory", "Mallory")
    elif case == "expired":
        token = stack.token("mallory", "Mallory", "--expires-in", "-60")
    elif case == "not a jwt":
        token = "abc.def.ghi"
    else:
        token = None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = requests.put(f"{stack.http_url}/presence", json={"status": "home"}, headers=headers, timeout=10)
    assert resp.status_code == 401
    assert resp.json() == {"message": "Unauthorized"}
    assert (_table_item_count(stack, "users"), _table_item_count(stack, "presence")) == before


def test_a_user_exists_once_they_call_and_can_rename_themselves(stack):
    alice = Player(stack, "alice")
    me = alice.call("GET", "/users/me")
    assert me.status_code == 200
    assert me.json()["screenName"] == "Alice"
    updated = alice.call(
        "PUT", "/users/me", {"screenName": "Queen Alice", "avatar": "https://img.example/a.png"}
    )
    assert updated.status_code == 200, updated.text
    profile = Player(stack, "bob").call("GET", f"/users/{alice.user_id}").json()
    assert profile["screenName"] == "Queen Alice"
    assert profile["avatar"] == "https://img.example/a.png"


def test_follow_list_unfollow_and_counts(stack):
    star, fans = Player(stack, "star"), [Player(stack, "fan") for _ in range(3)]
    star.call("GET", "/users/me")  # the target must exist
    for fan in fans:
        resp = fan.call("POST", "/followers", {"targetUserId": star.user_id})
        assert resp.status_code == 201, resp.text

    page = star.call("GET", f"/followers?userId={star.user_id}&direction=followers&limit=2").json()
    second = star.call(
        "GET", f"/followers?userId={star.user_id}&direction=followers&limit=2&cursor={page['nextCursor']}"
    ).json()
    listed = [e["userId"] for e in page["items"] + second["items"]]
    assert sorted(listed) == sorted(f.user_id for f in fans)
    assert second.get("nextCursor") is None

    # Counts are kept by a stream consumer: eventually consistent, as on AWS.
    def counts():
        body = fans[0].call("GET", f"/users/{star.user_id}").json()
        return body["followerCount"] == 3 and body

    wait_for(counts, timeout=20, message="follower count 3")
    assert fans[0].call("DELETE", f"/followers/{star.user_id}").status_code == 204
    wait_for(
        lambda: fans[1].call("GET", f"/users/{star.user_id}").json()["followerCount"] == 2,
        timeout=20,
        message="follower count back to 2",
    )
    assert fans[0].call("GET", f"/users/{fans[0].user_id}").json()["followingCount"] == 0


@pytest.mark.parametrize(
    "body, raw, status",
    [
        (None, b"{not json", 400),
        ({"targetUserId": 42}, None, 400),
        ({"targetUserId": "x", "extra": 1}, None, 400),
        ({"targetUserId": "a" * 20000}, None, 413),
        ({"targetUserId": "nobody-here-ever"}, None, 404),
    ],
    ids=["malformed", "wrong type", "unknown field", "oversize", "unknown user"],
)
def test_bad_follow_requests_are_4xx_with_a_clear_error_and_write_nothing(stack, body, raw, status):
    fan = Player(stack, "fan")
    fan.call("GET", "/users/me")
    resp = fan.call("POST", "/followers", body, raw=raw)
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error["code"] and error["message"]
    listing = fan.call("GET", f"/followers?userId={fan.user_id}&direction=following").json()
    assert listing["items"] == []


def test_following_yourself_is_refused(stack):
    solo = Player(stack, "solo")
    resp = solo.call("POST", "/followers", {"targetUserId": solo.user_id})
    assert 400 <= resp.status_code < 500
    assert resp.json()["error"]["code"] == "cannot_follow_self"


def test_a_tampered_cursor_is_400(stack):
    fan = Player(stack, "fan")
    resp = fan.call("GET", f"/followers?userId={fan.user_id}&direction=following&cursor=AAAA-not-ours")
    assert resp.status_code == 400
    assert "cursor" in resp.json()["error"]["message"].lower()


def test_scores_best_never_drops_and_concurrent_posts_keep_the_best(stack):
    game = f"g{uuid.uuid4().hex[:6]}"
    players = [Player(stack, "gamer") for _ in range(2)]
    ace = players[0]
    for score in (50, 10):
        assert ace.call("POST", "/scores", {"gameId": game, "score": score}).status_code in (200, 201)
    scores = list(range(100, 124))
    threads = [
        threading.Thread(target=ace.call, args=("POST", "/scores", {"gameId": game, "score": s}))
        for s in scores
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    players[1].call("POST", "/scores", {"gameId": game, "score": 77})

    profile = ace.call("GET", f"/users/{ace.user_id}").json()
    best = {g["gameId"]: g for g in profile["bestScores"]}[game]
    assert best["bestScore"] == max(scores)
    board = ace.call("GET", f"/games/{game}/leaderboard?limit=5").json()
    assert [(r["userId"], r["bestScore"]) for r in board["entries"]] == [
        (ace.user_id, max(scores)),
        (players[1].user_id, 77),
    ]
    assert ace.call("POST", "/scores", {"gameId": game, "score": -1}).status_code == 400


def test_presence_of_people_i_follow(stack):
    me, friend, stranger = Player(stack, "me"), Player(stack, "friend"), Player(stack, "stranger")
    friend.call("PUT", "/presence", {"status": "playing", "gameId": "chess", "context": "round 2"})
    stranger.call("PUT", "/presence", {"status": "home"})
    assert me.call("POST", "/followers", {"targetUserId": friend.user_id}).status_code == 201
    following = me.call("GET", "/presence/following").json()["items"]
    assert [(p["userId"], p["status"], p["gameId"]) for p in following] == [
        (friend.user_id, "playing", "chess")
    ]
    online = {p["userId"] for p in me.call("GET", "/presence/online?limit=100").json()["items"]}
    assert {friend.user_id, stranger.user_id} <= online


def test_presence_expires_offline_then_ttl_deletes_it_and_last_seen_is_recorded(short_presence_stack):
    stack = short_presence_stack
    walker, watcher = Player(stack, "walker"), Player(stack, "watcher")
    assert walker.call("PUT", "/presence", {"status": "home"}).status_code == 200
    assert watcher.call("GET", f"/users/{walker.user_id}").json()["presence"]["status"] == "home"
    presence_table = stack.endpoints()["tables"]["presence"]
    ddb = stack.client("dynamodb")
    record = ddb.get_item(TableName=presence_table, Key={"userId": {"S": walker.user_id}})["Item"]
    # The one wait on the clock itself: until the record's own expiry has passed.
    time.sleep(max(0.0, float(record["expiresAt"]["N"]) - time.time()) + 0.05)
    # Expired reads as offline whether or not TTL has deleted it yet.
    assert watcher.call("GET", f"/users/{walker.user_id}").json()["presence"]["status"] == "offline"
    wait_for(
        lambda: "Item" not in ddb.get_item(TableName=presence_table, Key={"userId": {"S": walker.user_id}}),
        timeout=15,
        message="TTL to delete the presence record",
    )
    # The TTL REMOVE reached presence_expiry through the stream.
    seen = wait_for(
        lambda: watcher.call("GET", f"/users/{walker.user_id}").json()["presence"].get("lastSeenAt"),
        timeout=15,
        message="lastSeenAt from the TTL stream record",
    )
    assert seen
    online = {p["userId"] for p in watcher.call("GET", "/presence/online?limit=100").json()["items"]}
    assert walker.user_id not in online
