"""The duel flows (duel_invite, duel_session) under each fault, on the real `arcadeflow up`.

Whatever fails, each player gets exactly one closing frame (the README's "Duels" table and
"Failures end in a Fail, after the players are told"), and what is left undone sits in a
redrivable failed execution:
- a Lambda task fails with an error no Retry covers: its Catch decides (the closing push has
  none: the execution FAILS with nobody told, and a redrive tells each player once);
- a Lambda task times out or its worker crashes: transient, retried; the duel ends as without it;
- the sessions table throttles the flow's own writes: retried; the duel ends as without it;
- a player's connection drops mid-duel: the duel goes on, the one who stayed is told once and
  the dropped player's connection is forgotten (the $disconnect route, or the push's 410).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.flows.conftest import SESSION_DURATION_SECONDS
from tests.flows.duel_support import close_all, invited, item, players, settled, started
from tests.support import faults
from tests.support.faults import ERROR_TYPE, INJECTED, LAMBDA_MODES, settle

pytestmark = pytest.mark.e2e

ENDS = ("stop", "timeout", "error", "rejected", "no_response")


@pytest.fixture(autouse=True)
def no_faults_left(request):
    # On the stack the test runs on: the invite cases run on the default one (invite_stack).
    stack = request.getfixturevalue("stack" if "invite_stack" in request.fixturenames else "duel_stack")
    faults.clear(stack)
    yield
    faults.clear(stack)


def _ends(client) -> list[dict]:
    return [f for f in client.frames() if f["type"] in ENDS]


@pytest.mark.parametrize("mode", LAMBDA_MODES)
def test_a_stopped_duel_whose_closing_push_fails_tells_each_player_once(duel_stack, mode):
    stack = duel_stack

    async def scenario():
        alice, bob = await players(stack, "alice", "bob")
        try:
            start, _ = await started(alice, bob)
            session_id = start["sessionId"]
            assert await settled(stack, "duel_invite", start["inviteId"]) == "SUCCEEDED"
            faults.fail_function(stack, "duel_push", [1], mode)
            await alice.send(action="stop", sessionId=session_id)
            status = await settled(stack, "duel_session", session_id)
            arn = faults.execution_arn(stack, "duel_session", session_id)
            if mode == "error":
                assert status == "FAILED"  # no Retry, no Catch on the push: nobody was told
                await settle(alice, bob)
                assert _ends(alice) == _ends(bob) == []
                redriven = await asyncio.to_thread(faults.redrive_and_finish, stack, arn)
                assert redriven["status"] == "SUCCEEDED", redriven.get("cause")
            else:
                assert status == "SUCCEEDED"  # transient: retried
            await settle(alice, bob)
            expected = {"type": "stop", "sessionId": session_id, "by": alice.name}
            assert _ends(alice) == _ends(bob) == [expected]
            return arn
        finally:
            await close_all(alice, bob)

    arn = asyncio.run(scenario())
    assert faults.lambda_fault(stack, "duel_push")["failed"] == [1]
    assert ERROR_TYPE[mode] in faults.task_errors(stack, arn)


@pytest.mark.parametrize("mode", LAMBDA_MODES)
def test_a_duel_whose_session_fails_to_open_ends_once_for_both(duel_stack, mode):
    stack = duel_stack

    async def scenario():
        alice, bob = await players(stack, "alice", "bob")
        try:
            _, invitation = await invited(alice, bob)
            invite_id = invitation["inviteId"]
            faults.fail_function(stack, "duel_open_session", [1], mode)
            await bob.send(action="respond", inviteId=invite_id, accept=True)
            assert await settled(stack, "duel_invite", invite_id) == "SUCCEEDED"
            session_id = item(stack, "invites", {"inviteId": invite_id})["sessionId"]
            if mode == "error":
                # The README: recorded as ended (`failed`), both told `session_failed`, then a Fail.
                assert await settled(stack, "duel_session", session_id) == "FAILED"
                await settle(alice, bob)
                for p in (alice, bob):
                    (end,) = _ends(p)
                    assert (end["type"], end["code"]) == ("error", "session_failed"), p.name
                    assert session_id in end["message"]
                    assert p.frames("start") == []
            else:
                # Retried: the session opens late and runs as usual; stopped, it ends once.
                await alice.frame("start", sessionId=session_id)
                await bob.frame("start", sessionId=session_id)
                await alice.send(action="stop", sessionId=session_id)
                assert await settled(stack, "duel_session", session_id) == "SUCCEEDED"
                await settle(alice, bob)
                expected = {"type": "stop", "sessionId": session_id, "by": alice.name}
                assert _ends(alice) == _ends(bob) == [expected]
            return session_id
        finally:
            await close_all(alice, bob)

    session_id = asyncio.run(scenario())
    assert faults.lambda_fault(stack, "duel_open_session")["failed"] == [1]
    session = item(stack, "sessions", {"sessionId": session_id})
    if mode == "error":
        execution = stack.client("stepfunctions").describe_execution(
            executionArn=faults.execution_arn(stack, "duel_session", session_id)
        )
        assert execution["error"] == "SessionFailed"
        assert session["endReason"] == "failed"
    else:
        assert (session["status"], session["endReason"]) == ("stopped", "stop")


@pytest.fixture
def invite_stack(stack):
    """The default 60 s answer window: a retried delivery (a new worker after a crash, on a busy
    machine) can take longer than the duel stack's 3 s window, which would end the invite as
    `no_response` before the invitee could answer, as it would on AWS with a short window."""
    return stack


@pytest.mark.parametrize("mode", ["error", "crash"])
def test_an_invite_whose_delivery_fails_ends_once_for_both(invite_stack, mode):
    """NotifyInvitee both records the task token and pushes the invite: a crash is retried (the
    push is not sent twice, it is retried only when it did not run), an error is caught and
    announced as on a timeout (`no_response` to both), and the execution fails."""
    stack = invite_stack

    async def scenario():
        alice, bob = await players(stack, "alice", "bob")
        try:
            faults.fail_function(stack, "duel_notify_invitee", [1], mode)
            await alice.send(action="invite", to=bob.name)
            sent = await alice.frame("invite_sent")
            invite_id = sent["inviteId"]
            if mode == "error":
                assert await settled(stack, "duel_invite", invite_id) == "FAILED"
                await settle(alice, bob)
                assert _ends(alice) == [{"type": "no_response", "inviteId": invite_id}]
                assert _ends(bob) == [{"type": "no_response", "inviteId": invite_id}]
                assert bob.frames("invite") == []
            else:
                await bob.frame("invite", inviteId=invite_id)
                await bob.send(action="respond", inviteId=invite_id, accept=False)
                assert await settled(stack, "duel_invite", invite_id) == "SUCCEEDED"
                await settle(alice, bob)
                assert len(bob.frames("invite", inviteId=invite_id)) == 1
                assert _ends(alice) == [{"type": "rejected", "inviteId": invite_id}]
                assert _ends(bob) == []
            return invite_id
        finally:
            await close_all(alice, bob)

    invite_id = asyncio.run(scenario())
    assert faults.lambda_fault(stack, "duel_notify_invitee")["failed"] == [1]
    execution = stack.client("stepfunctions").describe_execution(
        executionArn=faults.execution_arn(stack, "duel_invite", invite_id)
    )
    if mode == "error":
        assert (execution["error"], INJECTED in execution["cause"]) == ("InviteUndeliverable", True)
        assert item(stack, "invites", {"inviteId": invite_id})["status"] == "expired"
    else:
        assert item(stack, "invites", {"inviteId": invite_id})["status"] == "rejected"


def test_a_duel_ending_on_time_while_the_sessions_table_throttles_ends_once(duel_stack):
    stack = duel_stack

    async def scenario():
        alice, bob = await players(stack, "alice", "bob")
        try:
            start, _ = await started(alice, bob)
            session_id = start["sessionId"]
            # The next writes to sessions are the flow's own: the end on time, recorded by a
            # conditional update the ASL retries on ProvisionedThroughputExceeded.
            faults.throttle_table(stack, "sessions", [1, 2, 3])
            timeout = SESSION_DURATION_SECONDS + 30
            status = await settled(stack, "duel_session", session_id, timeout=timeout)
            arn = faults.execution_arn(stack, "duel_session", session_id)
            assert status == "SUCCEEDED", faults.failure_events(stack, arn)
            await settle(alice, bob)
            expected = {"type": "timeout", "sessionId": session_id}
            assert _ends(alice) == _ends(bob) == [expected]
            return session_id
        finally:
            await close_all(alice, bob)

    session_id = asyncio.run(scenario())
    session = item(stack, "sessions", {"sessionId": session_id})
    assert session["endReason"] == "timeout"
    arn = faults.execution_arn(stack, "duel_session", session_id)
    assert any("ProvisionedThroughputExceeded" in e for e in faults.task_errors(stack, arn))


@pytest.mark.parametrize("when", ["before-the-end", "on-the-end-push"])
def test_a_player_dropped_mid_duel_leaves_the_other_told_once(duel_stack, when):
    """Not defined before issue 12, now in the README: a duel does not end because a player's
    network did; it ends on stop or on time, the one who stayed is told once, the dropped
    connection is forgotten (its record deleted) and nothing is pushed to it again."""
    stack = duel_stack

    async def scenario():
        alice, bob = await players(stack, "alice", "bob")
        try:
            start, _ = await started(alice, bob)
            session_id = start["sessionId"]
            assert await settled(stack, "duel_invite", start["inviteId"]) == "SUCCEEDED"
            if when == "before-the-end":
                faults.drop_connection(stack, user_id=bob.name)
                # API Gateway runs $disconnect for a lost connection too.
                await asyncio.to_thread(faults.wait_for_no_connections, stack, bob.name)
            else:
                faults.drop_connection(stack, user_id=bob.name, on_push=1)
            await alice.send(action="stop", sessionId=session_id)
            assert await settled(stack, "duel_session", session_id) == "SUCCEEDED"
            await settle(alice)
            assert _ends(alice) == [{"type": "stop", "sessionId": session_id, "by": alice.name}]
            assert _ends(bob) == []  # the stop was never delivered to the dropped connection
            await asyncio.to_thread(faults.wait_for_no_connections, stack, bob.name)
            return session_id
        finally:
            await close_all(alice, bob)

    session_id = asyncio.run(scenario())
    session = item(stack, "sessions", {"sessionId": session_id})
    assert (session["status"], session["endReason"]) == ("stopped", "stop")
