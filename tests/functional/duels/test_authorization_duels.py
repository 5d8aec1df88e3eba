"""The duels' WebSocket routes act for the connection's user only: the authorizer's identity,
never a field of the frame, says who invites, and a disconnect removes that user's connection
and nobody else's."""

from __future__ import annotations

import pytest

from functions.duels.repositories import SessionsRepository
from tests.functional.duels.conftest import message_event
from tests.support.lambda_events import FakeLambdaContext

SESSION_ID = "11111111-2222-4333-8444-555555555555"


def _error(world, connection_id: str) -> str:
    frame = world.frames(connection_id)[-1]
    assert frame["type"] == "error", frame
    return str(frame["code"])


@pytest.mark.authorization("WS invite")
def test_an_invite_is_from_the_connections_user_and_a_frame_naming_another_sender_is_refused(world):
    mallory = world.connect("mallory")
    world.connect("bob")
    world.connect("alice")
    for impersonation in ({"from": "alice"}, {"fromUserId": "alice"}, {"userId": "alice"}):
        world.send("mallory", mallory, {"action": "invite", "to": "bob", **impersonation})
        assert _error(world, mallory) == "invalid_frame", impersonation
    assert world.scan("invites") == [] and world.scan("pending_invites") == []
    assert world.executions("duel_invite") == []
    world.send("mallory", mallory, {"action": "invite", "to": "bob"})
    (invite,) = world.scan("invites")
    assert (invite["fromUserId"], invite["toUserId"]) == ("mallory", "bob")


def _disconnect_event(user_id: str, connection_id: str) -> dict:
    event = message_event(user_id, connection_id, "")
    context = event["requestContext"]
    context.update(routeKey="$disconnect", eventType="DISCONNECT", disconnectStatusCode=1001)
    context["disconnectReason"] = "Going away"
    event.pop("body")
    # As the emulator (and API Gateway) sends them on $disconnect.
    event["headers"] = {"Host": "127.0.0.1:8001"}
    event["multiValueHeaders"] = {"Host": ["127.0.0.1:8001"]}
    return event


@pytest.mark.authorization("WS $disconnect")
def test_a_disconnect_removes_only_that_users_connection(world):
    alice = world.connect("alice")
    alice_tab = world.connect("alice")
    bob = world.connect("bob")
    # API Gateway hands $disconnect the closing connection's own identity; naming another
    # user's connection with it removes nothing of theirs.
    world.handler("ws_connections")(_disconnect_event("mallory", alice), FakeLambdaContext())
    world.handler("ws_connections")(_disconnect_event("alice", alice), FakeLambdaContext())
    left = {(c["userId"], c["connectionId"]) for c in world.scan("connections")}
    assert left == {("alice", alice_tab), ("bob", bob)}


@pytest.mark.authorization("WS sessions")
def test_sessions_lists_nothing_of_a_duel_the_caller_is_not_in(world):
    world.use_function("duel_open_session")
    world.handler("duel_open_session")(
        {
            "sessionId": SESSION_ID,
            "inviteId": "i",
            "userA": "alice",
            "userB": "bob",
            "durationSeconds": 600,
            "leadSeconds": 2,
        },
        FakeLambdaContext(),
    )
    SessionsRepository(world.client, world.names["sessions"]).activate(SESSION_ID, "token-s")
    listings = {}
    for user in ("alice", "mallory"):
        connection = world.connect(user)
        world.send(user, connection, {"action": "sessions"})
        (listing,) = [f for f in world.frames(connection) if f["type"] == "sessions"]
        listings[user] = [s["sessionId"] for s in listing["sessions"]]
    assert listings == {"alice": [SESSION_ID], "mallory": []}
