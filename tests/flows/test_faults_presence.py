"""Presence under each fault, on the real `arcadeflow up`: a user's connected followers hear each
change of presence (README "Duels", the `presence` frame; functions/duels/presence_push.py:
delivery at least once, and what followers see changing is exact).

- the presence push fails on a stream batch (an error, a timeout, a crashed worker): the stream
  mapping retries the batch, in order, and the followers hear the change;
- the user's connection drops (no close frame): API Gateway runs $disconnect, and the
  followers hear `offline`;
- the presence table throttles PUT /presence: the SDK retries; the change is recorded and heard.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import requests

from tests.flows.duel_support import close_all, player, token, unique
from tests.support import faults
from tests.support.faults import LAMBDA_MODES, settle

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def no_faults_left(duel_stack):
    faults.clear(duel_stack)
    yield
    faults.clear(duel_stack)


def _call(stack, user_id: str, method: str, path: str, body=None) -> requests.Response:
    return requests.request(
        method,
        f"{stack.http_url}{path}",
        data=json.dumps(body) if body is not None else None,
        headers={"Authorization": f"Bearer {token(stack, user_id)}", "Content-Type": "application/json"},
        timeout=30,
    )


def _follow(stack, fan: str, star: str) -> None:
    assert _call(stack, star, "GET", f"/users/{star}").status_code == 200  # registers the star
    answer = _call(stack, fan, "POST", "/followers", {"targetUserId": star})
    assert answer.status_code < 300, answer.text


def _changes(client, user_id: str) -> list[str]:
    statuses = [f["status"] for f in client.frames("presence", userId=user_id)]
    return [s for i, s in enumerate(statuses) if i == 0 or s != statuses[i - 1]]


@pytest.mark.parametrize("mode", LAMBDA_MODES)
def test_followers_hear_a_connect_whose_presence_push_failed_once(duel_stack, mode):
    stack = duel_stack
    star, probe, fan = unique("star"), unique("probe"), unique("fan")
    _follow(stack, fan, star)
    _follow(stack, fan, probe)

    async def scenario():
        fan_ws = await player(stack, fan)
        probe_ws = await player(stack, probe)
        star_ws = None
        try:
            # The fan hears the probe: the push has taken every connection record before it, so
            # the fault's first invocation is the star's connect.
            await fan_ws.frame("presence", userId=probe)
            faults.fail_function(stack, "presence_push", [1], mode)
            star_ws = await player(stack, star)
            online = await fan_ws.frame("presence", userId=star, timeout=30)
            assert (online["status"], online["gameId"]) == ("online", None)
            await settle(fan_ws)
            assert _changes(fan_ws, star) == ["online"]
        finally:
            await close_all(*(c for c in (fan_ws, probe_ws, star_ws) if c))

    asyncio.run(scenario())
    assert faults.lambda_fault(stack, "presence_push")["failed"] == [1]


def test_followers_hear_a_dropped_user_go_offline(duel_stack):
    stack = duel_stack
    star, fan = unique("star"), unique("fan")
    _follow(stack, fan, star)

    async def scenario():
        fan_ws = await player(stack, fan)
        star_ws = await player(stack, star)
        try:
            await fan_ws.frame("presence", userId=star, status="online")
            faults.drop_connection(stack, user_id=star)
            offline = await fan_ws.frame("presence", userId=star, status="offline", timeout=30)
            assert offline["gameId"] is None
            await asyncio.to_thread(faults.wait_for_no_connections, stack, star)
            await settle(fan_ws)
            assert _changes(fan_ws, star) == ["online", "offline"]
        finally:
            await close_all(fan_ws, star_ws)

    asyncio.run(scenario())


def test_a_presence_change_while_the_table_throttles_is_recorded_and_heard(duel_stack):
    stack = duel_stack
    star, fan = unique("star"), unique("fan")
    _follow(stack, fan, star)

    async def scenario():
        fan_ws = await player(stack, fan)
        star_ws = await player(stack, star)
        try:
            await fan_ws.frame("presence", userId=star, status="online")
            faults.throttle_table(stack, "presence", [1, 2])
            answer = await asyncio.to_thread(
                _call, stack, star, "PUT", "/presence", {"status": "playing", "gameId": "chess"}
            )
            assert answer.status_code == 200, answer.text
            playing = await fan_ws.frame("presence", userId=star, status="playing", timeout=30)
            assert playing["gameId"] == "chess"
            await settle(fan_ws)
            # The short --presence-ttl of the duel stack may already have expired it (online).
            assert _changes(fan_ws, star) in (["online", "playing"], ["online", "playing", "online"])
        finally:
            await close_all(fan_ws, star_ws)

    asyncio.run(scenario())
    assert faults.throttled_calls(stack, "presence") == 2
