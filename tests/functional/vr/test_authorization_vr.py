"""A VR session is started for the caller only: the token, never the body, says whose it is."""

from __future__ import annotations

import pytest

from tests.functional.vr.conftest import objective


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


@pytest.mark.authorization("POST /vr/sessions/{sessionId}/events")
def test_another_players_batch_with_the_same_batch_id_does_not_make_mine_a_retry(world):
    mine, theirs = world.start("alice"), world.start("mallory")
    # Mallory sends first, under the batchId Alice is about to use: it names Mallory's batch only.
    assert world.send(theirs, [objective(1)], user="mallory", batchId="batch-1").status == 200
    stored = world.send(mine, [objective(1), objective(2)], user="alice", batchId="batch-1")
    assert stored.status == 200, stored.body
    assert len(world.events_of(mine)) == 2 and len(world.events_of(theirs)) == 1
    assert world.session_item(mine, "alice")["eventCount"] == 2
