"""The duels handlers in-process against moto: what they write, what they refuse, and how the
conditional writes settle races. Flows themselves run in tests/flows."""

from __future__ import annotations

import time

import pytest

from functions.duels.repositories import InvitesRepository, SessionsRepository
from tests.functional.answers import check_execution_input


def _error(world, connection_id: str) -> str:
    frame = world.frames(connection_id)[-1]
    assert frame["type"] == "error" and frame["message"]
    return frame["code"]


def test_invite_records_the_invite_and_its_pair_guard_and_starts_the_flow(world):
    alice, bob = world.connect("alice"), world.connect("bob")
    assert world.send("alice", alice, {"action": "invite", "to": "bob"}) == {"statusCode": 200}
    (sent,) = world.frames(alice)
    assert sent["type"] == "invite_sent" and sent["to"] == "bob"
    invite = world.item("invites", inviteId=sent["inviteId"])
    assert (invite["status"], invite["fromUserId"], invite["fromName"]) == ("pending", "alice", "Alice")
    assert invite["answerWindowSeconds"] == 60 and invite["sessionDurationSeconds"] == 600
    assert world.item("pending_invites", fromUserId="alice", toUserId="bob")["inviteId"] == sent["inviteId"]
    (execution,) = world.executions("duel_invite")
    assert execution["name"] == sent["inviteId"]
    assert world.frames(bob) == []  # the flow delivers it, not the handler


def test_the_invite_flow_is_started_with_an_input_its_schema_accepts(world):
    alice = world.connect("alice")
    world.connect("bob")
    world.send("alice", alice, {"action": "invite", "to": "bob"})
    (execution,) = world.executions("duel_invite")
    started = world.sfn.describe_execution(executionArn=execution["executionArn"])["input"]
    flow_input = check_execution_input("duel_invite", started)
    assert (flow_input["fromUserId"], flow_input["toUserId"]) == ("alice", "bob")


def test_refused_invites_change_nothing(world):
    alice = world.connect("alice")
    world.connect("bob")
    world.send("alice", alice, {"action": "invite", "to": "alice"})
    assert _error(world, alice) == "cannot_invite_self"
    world.send("alice", alice, {"action": "invite", "to": "carol"})
    assert _error(world, alice) == "invitee_offline"
    world.send("alice", alice, '{"action": "invite", "to": ')
    assert _error(world, alice) == "malformed_frame"
    assert world.scan("invites") == [] and world.scan("pending_invites") == []
    assert world.executions("duel_invite") == []
    world.send("alice", alice, {"action": "invite", "to": "bob"})
    world.send("alice", alice, {"action": "invite", "to": "bob"})
    assert _error(world, alice) == "invite_already_pending"
    assert len(world.scan("invites")) == 1 and len(world.executions("duel_invite")) == 1


def _pending_invite(world, token: str = "token-1") -> str:
    alice = world.connect("alice")
    world.connect("bob")
    world.send("alice", alice, {"action": "invite", "to": "bob"})
    invite_id = world.frames(alice)[-1]["inviteId"]
    world.use_function("duel_notify_invitee")
    InvitesRepository(world.client, world.names["invites"]).store_token(invite_id, token)
    return invite_id


@pytest.mark.authorization("WS respond")
def test_an_answer_is_recorded_once_and_only_by_the_invitee_in_time(world):
    invite_id = _pending_invite(world)
    mallory, bob_tab = world.connect("mallory"), world.connect("bob")
    world.send("mallory", mallory, {"action": "respond", "inviteId": invite_id, "accept": True})
    assert _error(world, mallory) == "not_your_invite"
    assert world.item("invites", inviteId=invite_id)["status"] == "pending"
    world.send("bob", bob_tab, {"action": "respond", "inviteId": invite_id, "accept": True})
    invite = world.item("invites", inviteId=invite_id)
    assert invite["status"] == "accepted" and invite["sessionId"]
    world.send("bob", bob_tab, {"action": "respond", "inviteId": invite_id, "accept": False})
    assert _error(world, bob_tab) == "invite_closed"
    assert world.item("invites", inviteId=invite_id)["status"] == "accepted"


def test_the_expiry_and_the_answer_cannot_both_win(world):
    invite_id = _pending_invite(world)
    invites = InvitesRepository(world.client, world.names["invites"])
    now_ms = int(time.time() * 1000)
    # The flow's ExpireInvite condition (status = pending), then a late answer: the answer loses.
    world.client.update_item(
        TableName=world.names["invites"],
        Key={"inviteId": {"S": invite_id}},
        UpdateExpression="SET #s = :expired",
        ConditionExpression="#s = :pending",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":expired": {"S": "expired"}, ":pending": {"S": "pending"}},
    )
    assert invites.decide(invite_id, "bob", True, "session-1", now_ms) is False
    # An answer after expiresAt loses even before the flow wrote its expiry.
    other = _pending_invite_between(world, "carol", "dave")
    late = world.item("invites", inviteId=other)["expiresAtMs"] + 1
    assert invites.decide(other, "dave", True, "session-2", late) is False
    assert invites.decide(other, "dave", True, "session-2", late - 2) is True


def test_an_answer_after_the_window_is_refused_and_changes_nothing(world, time_machine):
    invite_id = _pending_invite(world)
    bob = world.connect("bob")
    time_machine.advance(61)  # the answer window is 60 s: the flow has not written its expiry yet
    world.send("bob", bob, {"action": "respond", "inviteId": invite_id, "accept": True})
    assert _error(world, bob) == "invite_closed"
    assert "already expired" in world.frames(bob)[-1]["message"]
    invite = world.item("invites", inviteId=invite_id)
    assert invite["status"] == "pending" and "sessionId" not in invite


def test_a_stop_after_the_sessions_end_is_refused(world, time_machine):
    session_id = _active_session(world)["sessionId"]
    bob = world.connect("bob")
    time_machine.advance(2 + 600 + 1)  # lead + duration: the session is over on the clock
    world.send("bob", bob, {"action": "stop", "sessionId": session_id})
    assert _error(world, bob) == "session_ended"
    assert world.item("sessions", sessionId=session_id)["status"] == "active"  # the flow ends it


def _pending_invite_between(world, inviter: str, invitee: str) -> str:
    connection = world.connect(inviter)
    world.connect(invitee)
    world.send(inviter, connection, {"action": "invite", "to": invitee})
    invite_id = world.frames(connection)[-1]["inviteId"]
    InvitesRepository(world.client, world.names["invites"]).store_token(invite_id, "t")
    return invite_id


def _active_session(world) -> dict:
    world.use_function("duel_open_session")
    handler = world.handler("duel_open_session")
    from tests.support.lambda_events import FakeLambdaContext

    opened = handler(
        {
            "sessionId": "11111111-2222-4333-8444-555555555555",
            "inviteId": "i",
            "userA": "alice",
            "userB": "bob",
            "durationSeconds": 600,
            "leadSeconds": 2,
        },
        FakeLambdaContext(),
    )
    SessionsRepository(world.client, world.names["sessions"]).activate(opened["sessionId"], "token-s")
    return opened


def test_open_session_is_idempotent_and_waits_until_the_end(world):
    first = _active_session(world)
    assert 600 <= first["waitSeconds"] <= 603
    again = _active_session(world)
    assert again["startAt"] == first["startAt"] and again["endsAt"] == first["endsAt"]


@pytest.mark.authorization("WS stop")
def test_stop_is_recorded_once_and_only_by_a_player(world):
    session_id = _active_session(world)["sessionId"]
    mallory, bob = world.connect("mallory"), world.connect("bob")
    world.send("mallory", mallory, {"action": "stop", "sessionId": session_id})
    assert _error(world, mallory) == "not_in_session"
    assert world.item("sessions", sessionId=session_id)["status"] == "active"
    world.send("bob", bob, {"action": "stop", "sessionId": session_id})
    session = world.item("sessions", sessionId=session_id)
    assert (session["status"], session["endReason"], session["stoppedBy"]) == ("stopped", "stop", "bob")
    world.send("bob", bob, {"action": "stop", "sessionId": session_id})
    assert _error(world, bob) == "session_ended"
    world.send("bob", bob, {"action": "stop", "sessionId": "00000000-0000-4000-8000-000000000000"})
    assert _error(world, bob) == "unknown_session"


def test_sessions_lists_only_running_sessions_of_the_caller(world):
    session_id = _active_session(world)["sessionId"]
    alice = world.connect("alice")
    world.send("alice", alice, {"action": "sessions"})
    (listing,) = [f for f in world.frames(alice) if f["type"] == "sessions"]
    assert [(s["sessionId"], s["opponent"]) for s in listing["sessions"]] == [(session_id, "bob")]


def test_push_removes_gone_connections_but_not_one_still_connecting(world):
    live = world.connect("bob")
    gone_old = world.connect("bob", connected_ms_ago=3_600_000)
    gone_young = world.connect("bob")
    world.api.open -= {gone_old, gone_young}
    world.use_function("duel_push")
    handler = world.handler("duel_push")
    from tests.support.lambda_events import FakeLambdaContext

    payload = {
        "recipients": ["bob"],
        "frame": {"type": "no_response", "inviteId": "i-1"},
        "dedupeKey": "exec/NotifyNoResponse",
    }
    assert handler(payload, FakeLambdaContext()) == {"delivered": 1, "gone": 2}
    remaining = {c["connectionId"] for c in world.scan("connections")}
    assert remaining == {live, gone_young}
    # A retried attempt of the same state sends nothing twice.
    handler(payload, FakeLambdaContext())
    assert world.frames(live) == [{"type": "no_response", "inviteId": "i-1"}]
