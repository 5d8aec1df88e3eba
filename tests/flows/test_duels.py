"""duel_invite and duel_session end to end: real WebSocket players against `arcadeflow up`.

Windows are short (see conftest.py); every user is new per test, so tests do not see each other.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from datetime import datetime

import pytest

from tests.flows.conftest import INVITE_TIMEOUT_SECONDS, SESSION_DURATION_SECONDS, SESSION_LEAD_SECONDS
from tests.flows.duel_support import (
    close_all,
    invited,
    invites_from,
    item,
    player,
    players,
    settled,
    started,
    unique,
)
from tests.support.stack import wait_for

pytestmark = pytest.mark.e2e


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_accept_starts_one_session_with_a_shared_start_time(duel_stack):
    async def scenario():
        alice, bob = await players(duel_stack, "alice", "bob")
        asked = time.time()
        sent, invitation = await invited(alice, bob)
        delivered = time.time()
        assert invitation["from"] == alice.name
        assert invitation["expiresAt"] == sent["expiresAt"]
        # The window is the configured one, counted from when the invite was recorded: between
        # the send and the delivery (however long the engine took), to the millisecond it is written.
        recorded = _epoch(invitation["expiresAt"]) - INVITE_TIMEOUT_SECONDS
        assert asked - 0.001 <= recorded <= delivered + 0.001
        await bob.send(action="respond", inviteId=invitation["inviteId"], accept=True)
        start_a = await alice.frame("start")
        start_b = await bob.frame("start")
        assert start_a == start_b
        assert start_a["players"] == [alice.name, bob.name]
        assert start_a["durationSeconds"] == SESSION_DURATION_SECONDS
        lead = _epoch(start_a["startAt"]) - time.time()
        assert 0 < lead <= SESSION_LEAD_SECONDS
        session = item(duel_stack, "sessions", {"sessionId": start_a["sessionId"]})
        assert session["status"] == "active" and session["userA"] == alice.name
        await close_all(alice, bob)
        return start_a

    start = asyncio.run(scenario())
    invite = item(duel_stack, "invites", {"inviteId": start["inviteId"]})
    assert invite["status"] == "accepted" and invite["sessionId"] == start["sessionId"]


def test_reject_tells_only_the_inviter(duel_stack):
    async def scenario():
        alice, bob = await players(duel_stack, "alice", "bob")
        _, invitation = await invited(alice, bob)
        await bob.send(action="respond", inviteId=invitation["inviteId"], accept=False)
        assert await alice.frame("rejected") == {"type": "rejected", "inviteId": invitation["inviteId"]}
        # Nothing else may follow, not even at expiry: the flow that would announce it is over.
        assert await settled(duel_stack, "duel_invite", invitation["inviteId"]) == "SUCCEEDED"
        assert [f["type"] for f in alice.frames()] == ["invite_sent", "rejected"]
        assert [f["type"] for f in bob.frames()] == ["invite"]
        await close_all(alice, bob)
        return invitation

    invitation = asyncio.run(scenario())
    assert item(duel_stack, "invites", {"inviteId": invitation["inviteId"]})["status"] == "rejected"


@pytest.mark.needs("task_timeout_path")
def test_no_answer_within_the_window_tells_both_no_response(duel_stack):
    async def scenario():
        alice, bob = await players(duel_stack, "alice", "bob")
        _, invitation = await invited(alice, bob)
        expected = {"type": "no_response", "inviteId": invitation["inviteId"]}
        assert await alice.frame("no_response", timeout=INVITE_TIMEOUT_SECONDS + 5) == expected
        assert await bob.frame("no_response", timeout=5) == expected
        # Answering afterwards changes nothing.
        await bob.send(action="respond", inviteId=invitation["inviteId"], accept=True)
        assert (await bob.frame("error"))["code"] == "invite_closed"
        await close_all(alice, bob)
        return invitation

    invitation = asyncio.run(scenario())
    assert item(duel_stack, "invites", {"inviteId": invitation["inviteId"]})["status"] == "expired"


@pytest.mark.parametrize("stopper", ["inviter", "invitee"])
def test_either_player_can_stop_and_both_hear_it_once(duel_stack, stopper):
    async def scenario():
        alice, bob = await players(duel_stack, "alice", "bob")
        start, _ = await started(alice, bob)
        who = alice if stopper == "inviter" else bob
        await who.send(action="stop", sessionId=start["sessionId"])
        expected = {"type": "stop", "sessionId": start["sessionId"], "by": who.name}
        assert await alice.frame("stop") == expected
        assert await bob.frame("stop") == expected
        # The session flow is over, so nothing can come at the planned end.
        assert await settled(duel_stack, "duel_session", start["sessionId"]) == "SUCCEEDED"
        for p in (alice, bob):
            assert [f["type"] for f in p.frames() if f["type"] in ("stop", "timeout")] == ["stop"]
        await close_all(alice, bob)
        return start, who.name

    start, by = asyncio.run(scenario())
    session = item(duel_stack, "sessions", {"sessionId": start["sessionId"]})
    assert (session["status"], session["endReason"], session["stoppedBy"]) == ("stopped", "stop", by)


@pytest.mark.needs("task_timeout_path")
def test_session_ends_on_time_with_timeout_for_both(duel_stack):
    async def scenario():
        alice, bob = await players(duel_stack, "alice", "bob")
        start, _ = await started(alice, bob)
        end = await alice.next("timeout", timeout=SESSION_LEAD_SECONDS + SESSION_DURATION_SECONDS + 5)
        await bob.frame("timeout")
        assert end.frame == {"type": "timeout", "sessionId": start["sessionId"]}
        # Never before the end both clients computed from startAt + durationSeconds.
        planned_end = _epoch(start["startAt"]) + start["durationSeconds"]
        assert time.time() >= planned_end
        await bob.send(action="stop", sessionId=start["sessionId"])
        assert (await bob.frame("error"))["code"] == "session_ended"
        await close_all(alice, bob)
        return start

    start = asyncio.run(scenario())
    session = item(duel_stack, "sessions", {"sessionId": start["sessionId"]})
    assert (session["status"], session["endReason"]) == ("stopped", "timeout")


# Races run in waves: the whole stack shares two cores, and a race is about timing at the
# boundary, not about load.
RACE_WAVES, RACES_PER_WAVE = 3, 4


@pytest.fixture
def race_rng(request):
    """Seeded jitter: a failing race reproduces with ARCADEFLOW_RACE_SEED=<the seed printed>."""
    seed = int(os.environ.get("ARCADEFLOW_RACE_SEED", random.SystemRandom().randrange(2**32)))
    print(f"{request.node.name}: ARCADEFLOW_RACE_SEED={seed}")
    return random.Random(seed)


@pytest.mark.needs("task_timeout_path")
def test_accept_racing_the_window_yields_start_or_no_response_never_both(duel_stack, race_rng):
    """Many invites at once, each answered within a few hundred ms either side of its expiry."""

    async def one(index: int) -> str:
        alice, bob = await players(duel_stack, f"racer{index}a", f"racer{index}b")
        _, invitation = await invited(alice, bob)
        await asyncio.sleep(max(0.0, _epoch(invitation["expiresAt"]) - time.time() + jitter[index]))
        await bob.send(action="respond", inviteId=invitation["inviteId"], accept=True)
        await alice.next(None, timeout=10)
        # Both flows over: every outcome they announced is on the sockets.
        await settled(duel_stack, "duel_invite", invitation["inviteId"])
        invite = item(duel_stack, "invites", {"inviteId": invitation["inviteId"]})
        if invite["status"] == "accepted":
            await settled(duel_stack, "duel_session", invite["sessionId"])
        else:  # the refusal of the late answer comes from the handler, not the flow
            await bob.seen("error", timeout=10)
        kinds_a = [f["type"] for f in alice.frames() if f["type"] in ("start", "no_response")]
        kinds_b = [f["type"] for f in bob.frames() if f["type"] in ("start", "no_response")]
        assert kinds_a == kinds_b and len(kinds_a) == 1, (alice.frames(), bob.frames())
        # A late answer is refused exactly when the invite expired.
        assert [f["code"] for f in bob.frames("error")] == ([] if kinds_a == ["start"] else ["invite_closed"])
        status = item(duel_stack, "invites", {"inviteId": invitation["inviteId"]})["status"]
        assert status == {"start": "accepted", "no_response": "expired"}[kinds_a[0]]
        await close_all(alice, bob)
        return kinds_a[0]

    indexes = [wave * 100 + i for wave in range(RACE_WAVES) for i in range(RACES_PER_WAVE)]
    jitter = {index: race_rng.uniform(-0.3, 0.3) for index in indexes}

    async def all_races():
        outcomes = []
        for wave in range(RACE_WAVES):
            outcomes += await asyncio.gather(*(one(wave * 100 + i) for i in range(RACES_PER_WAVE)))
        return outcomes

    outcomes = asyncio.run(all_races())
    assert set(outcomes) <= {"start", "no_response"}


@pytest.mark.needs("task_timeout_path")
def test_stop_racing_the_end_yields_exactly_one_end_message(duel_stack, race_rng):
    """Many sessions at once, each stopped within a few hundred ms either side of its end."""

    async def one(index: int) -> str:
        alice, bob = await players(duel_stack, f"ender{index}a", f"ender{index}b")
        start, _ = await started(alice, bob)
        end = _epoch(start["startAt"]) + start["durationSeconds"]
        await asyncio.sleep(max(0.0, end - time.time() + jitter[index]))
        stopper = (alice, bob)[stoppers[index]]
        await stopper.send(action="stop", sessionId=start["sessionId"])
        await alice.next(None, timeout=10)
        await settled(duel_stack, "duel_session", start["sessionId"])  # every end message is out
        ends = {p.name: [f for f in p.frames() if f["type"] in ("stop", "timeout")] for p in (alice, bob)}
        assert len(ends[alice.name]) == 1 and ends[alice.name] == ends[bob.name], ends
        kind = ends[alice.name][0]["type"]
        if kind == "timeout":  # the refusal of the late stop comes from the handler, not the flow
            await stopper.seen("error", timeout=10)  # (alice.next above may have taken it)
        errors = [f["code"] for f in stopper.frames("error")]
        assert errors == ([] if kind == "stop" else ["session_ended"])
        session = item(duel_stack, "sessions", {"sessionId": start["sessionId"]})
        assert session["endReason"] == kind
        await close_all(alice, bob)
        return kind

    indexes = [wave * 100 + i for wave in range(RACE_WAVES) for i in range(RACES_PER_WAVE)]
    jitter = {index: race_rng.uniform(-0.3, 0.3) for index in indexes}
    stoppers = {index: race_rng.randrange(2) for index in indexes}

    async def all_races():
        outcomes = []
        for wave in range(RACE_WAVES):
            outcomes += await asyncio.gather(*(one(wave * 100 + i) for i in range(RACES_PER_WAVE)))
        return outcomes

    outcomes = asyncio.run(all_races())
    assert set(outcomes) <= {"stop", "timeout"}


def test_every_tab_of_a_user_receives_the_users_messages(duel_stack):
    async def scenario():
        alice, bob = await players(duel_stack, "alice", "bob")
        alice_tab2 = await player(duel_stack, alice.name)
        bob_tab2 = await player(duel_stack, bob.name)
        _, invitation = await invited(alice, bob)
        assert (await bob_tab2.frame("invite"))["inviteId"] == invitation["inviteId"]
        assert (await alice_tab2.frame("invite_sent"))["inviteId"] == invitation["inviteId"]
        await bob_tab2.send(action="respond", inviteId=invitation["inviteId"], accept=True)
        starts = [await p.frame("start") for p in (alice, alice_tab2, bob, bob_tab2)]
        assert all(s == starts[0] for s in starts)
        # The other tab answering too is refused: the invite is settled.
        await bob.send(action="respond", inviteId=invitation["inviteId"], accept=False)
        assert (await bob.frame("error"))["code"] == "invite_closed"
        assert bob_tab2.frames("error") == []
        await close_all(alice, alice_tab2, bob, bob_tab2)

    asyncio.run(scenario())


def test_invitee_disconnecting_mid_invite_can_answer_from_a_new_connection(duel_stack):
    async def scenario():
        alice, bob = await players(duel_stack, "alice", "bob")
        _, invitation = await invited(alice, bob)
        await bob.close()
        bob_again = await player(duel_stack, bob.name)
        await bob_again.send(action="respond", inviteId=invitation["inviteId"], accept=True)
        assert (await bob_again.frame("start"))["inviteId"] == invitation["inviteId"]
        assert (await alice.frame("start"))["inviteId"] == invitation["inviteId"]
        await close_all(alice, bob_again)

    asyncio.run(scenario())


@pytest.mark.needs("task_timeout_path")
def test_invitee_gone_for_good_mid_invite_ends_in_no_response_for_the_inviter(duel_stack):
    async def scenario():
        alice, bob = await players(duel_stack, "alice", "bob")
        _, invitation = await invited(alice, bob)
        await bob.close()
        expected = {"type": "no_response", "inviteId": invitation["inviteId"]}
        assert await alice.frame("no_response", timeout=INVITE_TIMEOUT_SECONDS + 5) == expected
        await alice.close()

    asyncio.run(scenario())


def test_a_gone_connection_is_removed_from_the_connections_table(duel_stack):
    async def scenario():
        alice, bob = await players(duel_stack, "alice", "bob")
        table = duel_stack.endpoints()["tables"]["connections"]
        ddb = duel_stack.client("dynamodb")
        # A connection API Gateway has dropped without $disconnect reaching us (an hour old).
        stale = {
            "userId": {"S": bob.name},
            "connectionId": {"S": "Stale0000000="},
            "connectedAtMs": {"N": str(int(time.time() * 1000) - 3600_000)},
            "expireAt": {"N": str(int(time.time()) + 3600)},
        }
        ddb.put_item(TableName=table, Item=stale)
        _, invitation = await invited(alice, bob)  # the push to bob meets the 410
        stale_key = {"userId": bob.name, "connectionId": "Stale0000000="}
        await asyncio.to_thread(
            wait_for,
            lambda: item(duel_stack, "connections", stale_key) is None,
            10,
            0.1,
            "stale record removed",
        )
        assert item(duel_stack, "connections", {"userId": bob.name, "connectionId": _own_id(bob)}) is not None
        await close_all(alice, bob)

    def _own_id(client) -> str:
        table = duel_stack.endpoints()["tables"]["connections"]
        out = duel_stack.client("dynamodb").query(
            TableName=table,
            KeyConditionExpression="userId = :u",
            ExpressionAttributeValues={":u": {"S": client.name}},
        )
        return next(i["connectionId"]["S"] for i in out["Items"] if i["connectionId"]["S"] != "Stale0000000=")

    asyncio.run(scenario())


def test_disconnect_removes_the_connection_record(duel_stack):
    async def scenario():
        (alice,) = await players(duel_stack, "alice")
        table = duel_stack.endpoints()["tables"]["connections"]
        ddb = duel_stack.client("dynamodb")

        def records():
            out = ddb.query(
                TableName=table,
                KeyConditionExpression="userId = :u",
                ExpressionAttributeValues={":u": {"S": alice.name}},
            )
            return out["Items"]

        assert len(records()) == 1
        await alice.close()
        for _ in range(50):
            if not records():
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the connection record outlived the disconnect")

    asyncio.run(scenario())


def test_sessions_lists_a_users_active_sessions(duel_stack):
    async def scenario():
        alice, bob, carol = await players(duel_stack, "alice", "bob", "carol")
        with_bob, _ = await started(alice, bob)
        with_carol, _ = await started(carol, alice)
        await alice.send(action="sessions")
        listing = await alice.frame("sessions")
        assert {(s["sessionId"], s["opponent"]) for s in listing["sessions"]} == {
            (with_bob["sessionId"], bob.name),
            (with_carol["sessionId"], carol.name),
        }
        await bob.send(action="stop", sessionId=with_bob["sessionId"])
        await alice.frame("stop")
        await alice.send(action="sessions")
        assert [s["sessionId"] for s in (await alice.frame("sessions"))["sessions"]] == [
            with_carol["sessionId"]
        ]
        await close_all(alice, bob, carol)

    asyncio.run(scenario())


def test_ping_round_trips(duel_stack):
    async def scenario():
        (alice,) = await players(duel_stack, "alice")
        await alice.send(action="ping", id="abc")
        assert await alice.frame("pong") == {"type": "pong", "id": "abc"}
        await alice.close()

    asyncio.run(scenario())


# --- every refusal: an error frame to the sender, and nothing changes ---------------------------


def _error(frame) -> str:
    assert frame["type"] == "error" and frame["message"], frame
    return frame["code"]


def test_inviting_yourself_is_refused(duel_stack):
    async def scenario():
        (alice,) = await players(duel_stack, "alice")
        await alice.send(action="invite", to=alice.name)
        assert _error(await alice.frame("error")) == "cannot_invite_self"
        assert invites_from(duel_stack, alice.name) == []
        await alice.close()

    asyncio.run(scenario())


def test_inviting_an_offline_user_is_refused(duel_stack):
    async def scenario():
        (alice,) = await players(duel_stack, "alice")
        await alice.send(action="invite", to=unique("nobody"))
        assert _error(await alice.frame("error")) == "invitee_offline"
        assert invites_from(duel_stack, alice.name) == []
        await alice.close()

    asyncio.run(scenario())


def test_a_second_pending_invite_to_the_same_user_is_refused(duel_stack):
    async def scenario():
        alice, bob, carol = await players(duel_stack, "alice", "bob", "carol")
        _, first = await invited(alice, bob)
        await alice.send(action="invite", to=bob.name)
        assert _error(await alice.frame("error")) == "invite_already_pending"
        assert [i["inviteId"] for i in invites_from(duel_stack, alice.name)] == [first["inviteId"]]
        assert len(bob.frames("invite")) == 1
        # Someone else may still invite bob, and alice may invite again once the first is settled.
        await invited(carol, bob)
        await bob.send(action="respond", inviteId=first["inviteId"], accept=False)
        await alice.frame("rejected")
        await invited(alice, bob)
        await close_all(alice, bob, carol)

    asyncio.run(scenario())


def test_answering_an_invite_addressed_to_someone_else_is_refused(duel_stack):
    async def scenario():
        alice, bob, mallory = await players(duel_stack, "alice", "bob", "mallory")
        _, invitation = await invited(alice, bob)
        before = item(duel_stack, "invites", {"inviteId": invitation["inviteId"]})
        for intruder in (mallory, alice):
            await intruder.send(action="respond", inviteId=invitation["inviteId"], accept=True)
            assert _error(await intruder.frame("error")) == "not_your_invite"
        assert item(duel_stack, "invites", {"inviteId": invitation["inviteId"]}) == before
        await bob.send(action="respond", inviteId=invitation["inviteId"], accept=False)
        await alice.frame("rejected")
        await close_all(alice, bob, mallory)

    asyncio.run(scenario())


def test_stopping_a_session_you_are_not_in_is_refused(duel_stack):
    async def scenario():
        alice, bob, mallory = await players(duel_stack, "alice", "bob", "mallory")
        start, _ = await started(alice, bob)
        before = item(duel_stack, "sessions", {"sessionId": start["sessionId"]})
        await mallory.send(action="stop", sessionId=start["sessionId"])
        assert _error(await mallory.frame("error")) == "not_in_session"
        assert item(duel_stack, "sessions", {"sessionId": start["sessionId"]}) == before
        await alice.send(action="stop", sessionId=start["sessionId"])
        assert (await bob.frame("stop"))["by"] == alice.name
        await close_all(alice, bob, mallory)

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (
            {"action": "respond", "inviteId": "00000000-0000-4000-8000-000000000000", "accept": True},
            "unknown_invite",
        ),
        ({"action": "stop", "sessionId": "00000000-0000-4000-8000-000000000000"}, "unknown_session"),
        ({"action": "respond", "inviteId": "not-an-id", "accept": True}, "invalid_frame"),
        (
            {"action": "respond", "inviteId": "00000000-0000-4000-8000-000000000000", "accept": "yes"},
            "invalid_frame",
        ),
        ({"action": "invite"}, "invalid_frame"),
        ({"action": "invite", "to": "bob", "extra": 1}, "invalid_frame"),
        ({"action": "dance"}, "unknown_action"),
        ({"to": "bob"}, "unknown_action"),
        (["invite"], "malformed_frame"),
    ],
)
def test_unknown_ids_and_bad_frames_are_refused(duel_stack, frame, code):
    async def scenario():
        (alice,) = await players(duel_stack, "alice")
        await alice.send_raw(json.dumps(frame))
        assert _error(await alice.frame("error")) == code
        assert invites_from(duel_stack, alice.name) == []
        await alice.close()

    asyncio.run(scenario())


def test_malformed_and_oversize_frames_are_refused(duel_stack):
    async def scenario():
        (alice,) = await players(duel_stack, "alice")
        await alice.send_raw("{not json")
        assert _error(await alice.frame("error")) == "malformed_frame"
        await alice.send_raw(json.dumps({"action": "invite", "to": "x" * 5000}))
        error = await alice.frame("error")
        assert _error(error) == "frame_too_large" and "4096" in error["message"]
        # (A binary frame closes the connection with 1003, as on API Gateway: test_websocket_fuzz.py.)
        # The connection is still usable.
        await alice.send(action="ping")
        await alice.frame("pong")
        assert invites_from(duel_stack, alice.name) == []
        await alice.close()

    asyncio.run(scenario())


# --- failure paths: a wiring bug still tells both players how it ended, and fails the execution ---


def _start_flow_directly(stack, flow: str, execution_input: dict) -> str:
    """Starts a flow as its starter would, with input the deployment cannot serve."""
    sfn = stack.client("stepfunctions")
    return sfn.start_execution(
        stateMachineArn=stack.endpoints()["stateMachines"][flow],
        name=str(uuid.uuid4()),
        input=json.dumps(execution_input),
    )["executionArn"]


def _finished(stack, execution_arn: str) -> dict:
    sfn = stack.client("stepfunctions")
    return wait_for(
        lambda: (d := sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING" and d,
        timeout=30,
        message="the execution to finish",
    )


def _failure(stack, execution_arn: str) -> tuple[str, str]:
    events = stack.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]
    (failed,) = [e["executionFailedEventDetails"] for e in events if e["type"] == "ExecutionFailed"]
    return failed["error"], failed["cause"]


@pytest.mark.needs("callback_task_failure")  # NotifyInvitee fails: InviteNotFound
def test_an_invite_the_flow_cannot_find_tells_both_no_response_and_fails(duel_stack):
    invite_id = str(uuid.uuid4())  # never recorded: NotifyInvitee fails with InviteNotFound

    async def scenario():
        alice, bob = await players(duel_stack, "alice", "bob")
        execution_arn = _start_flow_directly(
            duel_stack,
            "duel_invite",
            {
                "inviteId": invite_id,
                "fromUserId": alice.name,
                "toUserId": bob.name,
                "answerWindowSeconds": INVITE_TIMEOUT_SECONDS,
                "sessionDurationSeconds": SESSION_DURATION_SECONDS,
                "sessionLeadSeconds": SESSION_LEAD_SECONDS,
            },
        )
        expected = {"type": "no_response", "inviteId": invite_id}
        assert await alice.frame("no_response") == expected
        assert await bob.frame("no_response") == expected
        await close_all(alice, bob)
        return execution_arn

    execution_arn = asyncio.run(scenario())
    assert _finished(duel_stack, execution_arn)["status"] == "FAILED"
    error, cause = _failure(duel_stack, execution_arn)
    assert error == "InviteUndeliverable" and "InviteNotFound" in cause


@pytest.mark.needs("domain_error_routing")  # the cause names the ValidationError
def test_a_session_that_cannot_open_tells_both_players_and_fails(duel_stack):
    session_id = str(uuid.uuid4())

    async def scenario():
        alice, bob = await players(duel_stack, "alice", "bob")
        execution_arn = _start_flow_directly(
            duel_stack,
            "duel_session",
            {
                "sessionId": session_id,
                "inviteId": str(uuid.uuid4()),
                "userA": alice.name,
                "userB": bob.name,
                "durationSeconds": "ten",  # OpenSession refuses it
                "leadSeconds": SESSION_LEAD_SECONDS,
            },
        )
        expected = {
            "type": "error",
            "code": "session_failed",
            "message": f"Duel session {session_id} could not run and has ended.",
        }
        assert await alice.frame("error") == expected
        assert await bob.frame("error") == expected
        assert alice.frames("start") == [] and bob.frames("start") == []
        # The session is over: a stop is refused as ended, not as unknown.
        await alice.send(action="stop", sessionId=session_id)
        assert _error(await alice.frame("error", code="session_ended")) == "session_ended"
        await close_all(alice, bob)
        return execution_arn

    execution_arn = asyncio.run(scenario())
    assert _finished(duel_stack, execution_arn)["status"] == "FAILED"
    error, cause = _failure(duel_stack, execution_arn)
    assert error == "SessionFailed" and "ValidationError" in cause
    session = item(duel_stack, "sessions", {"sessionId": session_id})
    assert (session["status"], session["endReason"]) == ("stopped", "failed")
