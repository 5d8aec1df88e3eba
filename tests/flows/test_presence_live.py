"""Presence goes live: a user's connected followers hear when the user connects, changes
presence, has it expire, and disconnects. Follows and presence go through the HTTP API."""

from __future__ import annotations

import asyncio
import json

import pytest
import requests

from tests.flows.conftest import PRESENCE_TTL_SECONDS
from tests.flows.duel_support import player, token, unique

pytestmark = pytest.mark.e2e


def _call(stack, user_id: str, method: str, path: str, body=None) -> requests.Response:
    response = requests.request(
        method,
        f"{stack.http_url}{path}",
        data=json.dumps(body) if body is not None else None,
        headers={"Authorization": f"Bearer {token(stack, user_id)}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code < 300, response.text
    return response


@pytest.mark.needs("ttl_expiry")  # the presence record's expiry reaches followers through TTL
def test_followers_hear_connect_presence_changes_expiry_and_disconnect(duel_stack):
    star, fan, stranger = unique("star"), unique("fan"), unique("stranger")
    _call(duel_stack, star, "GET", f"/users/{star}")  # registers the star
    _call(duel_stack, fan, "POST", "/followers", {"targetUserId": star})

    async def scenario():
        fan_ws = await player(duel_stack, fan)
        stranger_ws = await player(duel_stack, stranger)
        star_ws = await player(duel_stack, star)
        connected = await fan_ws.frame("presence", userId=star)
        assert connected == {
            "type": "presence",
            "userId": star,
            "status": "online",
            "gameId": None,
            "context": None,
        }

        # A second tab is not news; a change of presence is.
        star_tab2 = await player(duel_stack, star)
        await asyncio.to_thread(
            _call,
            duel_stack,
            star,
            "PUT",
            "/presence",
            {"status": "playing", "gameId": "chess", "context": "lvl 2"},
        )
        playing = await fan_ws.frame("presence", userId=star)
        assert (playing["status"], playing["gameId"], playing["context"]) == ("playing", "chess", "lvl 2")

        # The presence record expires (TTL) while the star is still connected: online again.
        expired = await fan_ws.frame("presence", userId=star, timeout=PRESENCE_TTL_SECONDS + 10)
        assert (expired["status"], expired["gameId"]) == ("online", None)

        # Closing one of two tabs is not news; closing the last is.
        await star_tab2.close()
        await star_ws.close()
        offline = await fan_ws.frame("presence", userId=star)
        assert offline["status"] == "offline"
        await asyncio.sleep(1)
        # Delivery is at least once: two tabs closing together may both find the user gone, and a
        # client treats a repeated status as no change. What followers see changing is exact.
        statuses = [f["status"] for f in fan_ws.frames("presence", userId=star)]
        changes = [s for i, s in enumerate(statuses) if i == 0 or s != statuses[i - 1]]
        assert changes == [
            "online",
            "playing",
            "online",
            "offline",
        ]
        assert stranger_ws.frames("presence") == []  # only followers hear
        await fan_ws.close()
        await stranger_ws.close()

    asyncio.run(scenario())
