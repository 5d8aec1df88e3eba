"""Authorization over HTTP on the real `arcadeflow up`, where the JWT authorizer matters: no
route of the description runs without a valid token, and a story cursor is its reader's own."""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from arcadeflow.deployment import load
from tests.support.http_client import ApiUser

pytestmark = pytest.mark.e2e

ROUTES = sorted(load().http_api.routes)


def _concrete(route_key: str) -> tuple[str, str]:
    method, path = route_key.split(" ", 1)
    return method, re.sub(r"\{[^}]+\}", "x-1", path)


@pytest.mark.parametrize("route_key", ROUTES)
def test_every_route_of_the_description_refuses_a_request_without_a_valid_token(stack, route_key):
    method, path = _concrete(route_key)
    assert load().http_api.routes[route_key].auth, f"{route_key} is served without a token"
    for headers in ({}, {"Authorization": "Bearer not.a.jwt"}, {"Authorization": "Basic YTpi"}):
        answer = requests.request(method, f"{stack.http_url}{path}", json={}, headers=headers, timeout=10)
        assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"}), (
            route_key,
            headers,
        )


@pytest.mark.authorization("GET /users/{id}/story")
def test_a_story_cursor_handed_to_one_reader_is_refused_to_another(stack):
    suffix = uuid.uuid4().hex[:6]
    author, reader, other = (ApiUser(stack, f"{who}-{suffix}") for who in ("author", "reader", "other"))
    for n in range(3):
        assert author.post("/statuses", {"post": f"story {n}"}).status_code == 202
    story = f"/users/{author.user_id}/story"
    first = reader.get(story, limit=1)
    assert first.status_code == 200, first.text
    cursor = first.json()["nextCursor"]
    assert cursor
    refused = other.get(story, limit=1, cursor=cursor)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_cursor", refused.text
    # Another author's story with the same cursor: another listing.
    elsewhere = reader.get(f"/users/{other.user_id}/story", limit=1, cursor=cursor)
    assert elsewhere.status_code == 400 and elsewhere.json()["error"]["code"] == "invalid_cursor"
    again = reader.get(story, limit=1, cursor=cursor)
    assert again.status_code == 200
    assert again.json()["items"] and again.json()["items"][0] != first.json()["items"][0]
