"""Statuses over HTTP on the real `arcadeflow up`: post, followers' feeds, the author's story."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.support.http_client import ApiUser
from tests.support.stack import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def people(stack):
    suffix = uuid.uuid4().hex[:6]
    author, fans = ApiUser(stack, f"author-{suffix}"), [ApiUser(stack, f"fan{i}-{suffix}") for i in range(3)]
    assert author.get("/followers").status_code == 200  # registers the author
    for fan in fans:
        assert fan.post("/followers", {"targetUserId": author.user_id}).status_code == 201
    return author, fans


def _feed_ids(client: ApiUser) -> list[str]:
    return [item["statusId"] for item in client.get("/feed").json()["items"]]


def test_post_returns_202_at_once_and_every_follower_then_reads_it_in_their_feed(people):
    author, fans = people

    started = time.monotonic()
    reply = author.post("/statuses", {"post": "gg everyone"})
    elapsed = time.monotonic() - started

    assert reply.status_code == 202, reply.text
    status_id = reply.json()["statusId"]
    assert elapsed < 5  # never waits for the fan-out (figures are in the benchmark)
    story = author.get(f"/users/{author.user_id}/story").json()
    assert [(s["statusId"], s["post"]) for s in story["items"]][:1] == [(status_id, "gg everyone")]
    assert story["items"][0]["author"]["userId"] == author.user_id
    for fan in fans:
        wait_for(lambda fan=fan: status_id in _feed_ids(fan), timeout=30, message=f"{fan.user_id}'s feed")
        item = fan.get("/feed").json()["items"][0]
        assert (item["post"], item["author"]["screenName"]) == ("gg everyone", author.user_id.capitalize())


@pytest.mark.authorization("GET /feed")
def test_pages_come_newest_first_with_an_opaque_cursor_only_their_reader_can_use(people):
    author, fans = people
    posted = [author.post("/statuses", {"post": f"update {n}"}).json()["statusId"] for n in range(3)]
    reader, stranger = fans[0], fans[1]
    wait_for(lambda: set(posted) <= set(_feed_ids(reader)), timeout=30, message="the updates in the feed")

    first = reader.get("/feed", limit=2).json()
    second = reader.get("/feed", limit=2, cursor=first["nextCursor"]).json()

    assert [s["statusId"] for s in first["items"]] == [posted[2], posted[1]]
    assert second["items"][0]["statusId"] == posted[0]
    cursor = first["nextCursor"]
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    for response in (
        reader.get("/feed", limit=2, cursor=tampered),
        stranger.get("/feed", limit=2, cursor=cursor),  # someone else's cursor
        reader.get(f"/users/{author.user_id}/story", cursor=cursor),  # another listing's cursor
        reader.get("/feed", cursor="not-a-cursor"),
    ):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_cursor"
    story = author.get(f"/users/{author.user_id}/story", limit=1).json()
    assert story["items"][0]["statusId"] == posted[2]
    older = author.get(f"/users/{author.user_id}/story", limit=1, cursor=story["nextCursor"]).json()
    assert older["items"][0]["statusId"] == posted[1]


def test_a_retried_post_with_the_same_idempotency_key_is_one_status(stack, people):
    author, _ = people
    key = {"Idempotency-Key": f"retry-{uuid.uuid4().hex}"}

    first = author.post("/statuses", {"post": "only once"}, headers=key)
    again = author.post("/statuses", {"post": "only once"}, headers=key)
    different = author.post("/statuses", {"post": "something else"}, headers=key)

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["statusId"] == first.json()["statusId"]
    assert again.json()["timestamp"] == first.json()["timestamp"]
    assert different.status_code == 422
    assert different.json()["error"]["code"] == "idempotency_key_reused"
    story = author.get(f"/users/{author.user_id}/story", limit=100).json()["items"]
    assert [s["post"] for s in story].count("only once") == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"post": ""}, "invalid_body"),
        ({"post": "x" * 501}, "invalid_body"),
        ({"post": 7}, "invalid_body"),
        ({"post": "hi", "extra": 1}, "invalid_body"),
        ([], "invalid_body"),
        ("{not json", "malformed_json"),
    ],
)
def test_bad_posts_are_refused_and_change_nothing(stack, body, code):
    poster = ApiUser(stack, f"bad-{uuid.uuid4().hex[:6]}")
    if isinstance(body, str):
        reply = poster.post("/statuses", data=body, headers={"Content-Type": "application/json"})
    else:
        reply = poster.post("/statuses", body)

    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == code
    assert poster.get(f"/users/{poster.user_id}/story").json()["items"] == []
