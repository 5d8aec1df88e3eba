"""A VR session is started for the caller only: the token, never the body, says whose it is."""

from __future__ import annotations

import pytest


@pytest.mark.authorization("POST /vr/sessions")
def test_a_session_is_the_callers_and_a_body_naming_another_player_is_refused(world):
    for impersonation in ({"playerId": "bob"}, {"userId": "bob"}):
        reply = world.call("POST", "/vr/sessions", user="mallory", body=impersonation)
        assert reply.status == 400 and reply.code == "invalid_request", (impersonation, reply.body)
    assert world.scan("player_sessions") == []
    session_id = world.start("mallory")
    assert [(s["playerId"], s["sessionId"]) for s in world.scan("player_sessions")] == [
        ("mallory", session_id)
    ]
    assert world.call("GET", "/vr/players/bob/sessions", user="bob").body["items"] == []
