"""duel_invite's branches, driven without a stack: accepted, rejected, no answer in the window,
an answer racing the window, undeliverable, transient Lambda errors. What the players are told
is read from the push task's inputs in the execution's history."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.functional.branches.conftest import poll

ANSWER_IN_TIME_SECONDS = 20  # the test answers at once; the window only has to outlast that


@pytest.fixture(scope="module")
def invites(bench):
    return bench.table("invites", ("inviteId",))


@pytest.fixture(scope="module")
def session_flow(bench):
    return bench.passing_state_machine("duel-session")


@pytest.fixture(scope="module")
def flow(bench, invites, session_flow):
    return bench.state_machine(
        "duel_invite", invites_table=invites, duel_session_state_machine_arn=session_flow
    )


def _invite(bench, invites, status: str = "pending") -> tuple[str, str]:
    invite_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
    bench.put(invites, {"inviteId": invite_id, "status": status, "sessionId": session_id})
    return invite_id, session_id


def _input(invite_id: str, window_seconds: int) -> dict:
    return {
        "inviteId": invite_id,
        "fromUserId": "alice",
        "toUserId": "bob",
        "answerWindowSeconds": window_seconds,
        "sessionDurationSeconds": 600,
        "sessionLeadSeconds": 2,
    }


def _frames(bench, execution) -> list[tuple[list[str], dict]]:
    pushes = execution.task_inputs(bench.function_arn("duel_push"))
    return [(p["recipients"], p["frame"]) for p in pushes]


def _answer(bench, invites, invite_id: str, status: str) -> None:
    """What respond does: record the answer, then complete the flow's task token."""
    token = bench.wait_for_call(invite_id, "duel_notify_invitee")["taskToken"]
    bench.dynamodb.update_item(
        TableName=invites,
        Key={"inviteId": {"S": invite_id}},
        UpdateExpression="SET #s = :answer",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":answer": {"S": status}},
    )
    bench.sfn.send_task_success(taskToken=token, output=json.dumps({"answer": status}))


def _started_sessions(bench, session_flow: str, session_id: str) -> list[dict]:
    executions = bench.sfn.list_executions(stateMachineArn=session_flow)["executions"]
    return [
        json.loads(bench.sfn.describe_execution(executionArn=e["executionArn"])["input"])
        for e in executions
        if e["name"] == session_id
    ]


def test_an_accepted_invite_starts_its_session_and_succeeds(bench, flow, invites, session_flow):
    invite_id, session_id = _invite(bench, invites)
    execution_arn = flow.start(invite_id, _input(invite_id, ANSWER_IN_TIME_SECONDS))
    _answer(bench, invites, invite_id, "accepted")
    execution = flow.finished(execution_arn)
    assert execution.status == "SUCCEEDED", execution.describe()
    (session_input,) = _started_sessions(bench, session_flow, session_id)
    assert session_input["sessionId"] == session_id and session_input["inviteId"] == invite_id
    assert (session_input["userA"], session_input["userB"], session_input["durationSeconds"]) == (
        "alice",
        "bob",
        600,
    )
    assert _frames(bench, execution) == []  # start is announced by the session, not here


def test_a_rejected_invite_tells_only_the_inviter(bench, flow, invites):
    invite_id, _ = _invite(bench, invites)
    execution_arn = flow.start(invite_id, _input(invite_id, ANSWER_IN_TIME_SECONDS))
    _answer(bench, invites, invite_id, "rejected")
    execution = flow.finished(execution_arn)
    assert execution.status == "SUCCEEDED", execution.describe()
    assert _frames(bench, execution) == [(["alice"], {"type": "rejected", "inviteId": invite_id})]


def test_no_answer_within_the_window_expires_the_invite_and_tells_both(bench, flow, invites):
    invite_id, _ = _invite(bench, invites)
    execution = flow.run(invite_id, _input(invite_id, 1))
    assert execution.status == "SUCCEEDED", execution.describe()
    assert bench.get(invites, inviteId=invite_id)["status"] == "expired"
    assert _frames(bench, execution) == [(["alice", "bob"], {"type": "no_response", "inviteId": invite_id})]


def test_an_answer_recorded_as_the_window_closes_wins_over_the_expiry(bench, flow, invites, session_flow):
    # The answer's conditional write landed, its SendTaskSuccess lost to the timeout.
    invite_id, session_id = _invite(bench, invites, status="accepted")
    execution = flow.run(invite_id, _input(invite_id, 1))
    assert execution.status == "SUCCEEDED", execution.describe()
    assert bench.get(invites, inviteId=invite_id)["status"] == "accepted"
    assert len(_started_sessions(bench, session_flow, session_id)) == 1
    assert _frames(bench, execution) == []


def test_an_undeliverable_invite_is_expired_both_are_told_and_the_execution_fails(bench, flow, invites):
    invite_id, _ = _invite(bench, invites)
    bench.script(invite_id, "duel_notify_invitee", {"raise": "InviteNotFound", "message": "no such invite"})
    execution = flow.run(invite_id, _input(invite_id, ANSWER_IN_TIME_SECONDS))
    assert execution.status == "FAILED", execution.describe()
    assert execution.error == "InviteUndeliverable"
    assert execution.cause.startswith("NotifyInvitee failed with InviteNotFound: ")
    assert "no such invite" in execution.cause
    assert bench.get(invites, inviteId=invite_id)["status"] == "expired"
    assert _frames(bench, execution) == [(["alice", "bob"], {"type": "no_response", "inviteId": invite_id})]


def test_an_invite_the_flow_cannot_find_still_tells_both_and_fails(bench, flow, invites):
    # The invite handler wrote to another table than the flow reads: a wiring bug.
    invite_id = str(uuid.uuid4())
    bench.script(invite_id, "duel_notify_invitee", {"raise": "InviteNotFound"})
    execution = flow.run(invite_id, _input(invite_id, ANSWER_IN_TIME_SECONDS))
    assert (execution.status, execution.error) == ("FAILED", "InviteUndeliverable"), execution.describe()
    assert bench.get(invites, inviteId=invite_id)["status"] == "expired"
    assert _frames(bench, execution) == [(["alice", "bob"], {"type": "no_response", "inviteId": invite_id})]


def test_an_invite_answered_before_its_delivery_failed_still_starts_the_session_then_fails(
    bench, flow, invites, session_flow
):
    # e.g. NotifyInvitee timed out after the invitee had the invite and accepted it.
    invite_id, session_id = _invite(bench, invites, status="accepted")
    bench.script(invite_id, "duel_notify_invitee", {"raise": "Sandbox.Timedout"})
    execution = flow.run(invite_id, _input(invite_id, ANSWER_IN_TIME_SECONDS))
    assert (execution.status, execution.error) == ("FAILED", "InviteUndeliverable"), execution.describe()
    assert len(_started_sessions(bench, session_flow, session_id)) == 1
    assert _frames(bench, execution) == []


def test_an_accepted_invite_whose_session_cannot_start_tells_both_and_fails(bench, invites):
    # The session flow's ARN is wrong: StartExecution fails however often it is tried.
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:branches-no-such-session-flow"
    flow = bench.state_machine("duel_invite", invites_table=invites, duel_session_state_machine_arn=missing)
    invite_id, session_id = _invite(bench, invites)
    execution_arn = flow.start(invite_id, _input(invite_id, ANSWER_IN_TIME_SECONDS))
    _answer(bench, invites, invite_id, "accepted")
    execution = flow.finished(execution_arn)
    assert (execution.status, execution.error) == ("FAILED", "SessionNotStarted"), execution.describe()
    assert execution.cause.startswith("StartSession failed with ")
    failed = {
        "type": "error",
        "code": "session_failed",
        "message": f"Duel session {session_id} could not run and has ended.",
    }
    assert _frames(bench, execution) == [(["alice", "bob"], failed)]


def test_transient_lambda_errors_are_retried_not_caught(bench, flow, invites):
    invite_id, _ = _invite(bench, invites)
    bench.script(
        invite_id, "duel_notify_invitee", {"raise": "Lambda.ServiceException"}, {"return": {"delivered": 1}}
    )
    bench.script(
        invite_id, "duel_push", {"raise": "Lambda.TooManyRequestsException"}, {"return": {"delivered": 1}}
    )
    execution_arn = flow.start(invite_id, _input(invite_id, ANSWER_IN_TIME_SECONDS))
    # The retried attempt's task token is the one the flow waits on.
    poll(lambda: len(bench.calls(invite_id, "duel_notify_invitee")) == 2, "NotifyInvitee to be retried")
    _answer(bench, invites, invite_id, "rejected")
    execution = flow.finished(execution_arn)
    assert execution.status == "SUCCEEDED", execution.describe()
    frame = (["alice"], {"type": "rejected", "inviteId": invite_id})
    assert _frames(bench, execution) == [frame, frame]  # one retry of the same push
    assert "deliveryFailed" not in execution.output
