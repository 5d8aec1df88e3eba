"""duel_session's branches, driven without a stack: a stop, the end on time, a stop racing the
end, and failures to open or announce the session, after which both players still hear how it
ended and the execution fails. What the players are told is read from the push task's inputs."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.functional.branches.conftest import poll

LONG_SESSION_SECONDS = 30  # the test stops it long before
# OpenSession's answer: the flow waits waitSeconds, from the session's duration in the input.
OPENED = {
    "return": {"startAt": "2026-12-01T12:00:02Z", "endsAt": "later", "waitSeconds": "$.durationSeconds"}
}


@pytest.fixture(scope="module")
def sessions(bench):
    return bench.table("sessions", ("sessionId",))


@pytest.fixture(scope="module")
def flow(bench, sessions):
    return bench.state_machine("duel_session", sessions_table=sessions)


def _session(bench, sessions, **recorded: str) -> str:
    """A session as OpenSession records it (or, with no fields, one it never recorded)."""
    session_id = str(uuid.uuid4())
    bench.script(session_id, "duel_open_session", OPENED)
    if recorded:
        bench.put(sessions, {"sessionId": session_id, "userA": "alice", "userB": "bob", **recorded})
    return session_id


def _input(session_id: str, duration_seconds: int) -> dict:
    return {
        "sessionId": session_id,
        "inviteId": str(uuid.uuid4()),
        "userA": "alice",
        "userB": "bob",
        "durationSeconds": duration_seconds,
        "leadSeconds": 2,
    }


def _frames(bench, execution) -> list[tuple[list[str], dict]]:
    return [(p["recipients"], p["frame"]) for p in execution.task_inputs(bench.function_arn("duel_push"))]


def _record_stop(bench, sessions, session_id: str, by: str) -> None:
    bench.dynamodb.update_item(
        TableName=sessions,
        Key={"sessionId": {"S": session_id}},
        UpdateExpression="SET #s = :stopped, endReason = :stop, stoppedBy = :by",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":stopped": {"S": "stopped"}, ":stop": {"S": "stop"}, ":by": {"S": by}},
    )


def test_a_stop_ends_the_session_and_both_hear_who_stopped_it(bench, flow, sessions):
    session_id = _session(bench, sessions, status="pending")
    execution_arn = flow.start(session_id, _input(session_id, LONG_SESSION_SECONDS))
    token = bench.wait_for_call(session_id, "duel_announce_start")["taskToken"]
    _record_stop(bench, sessions, session_id, "bob")  # what stop does, then it completes the token
    bench.sfn.send_task_success(taskToken=token, output=json.dumps({"endReason": "stop"}))
    execution = flow.finished(execution_arn)
    assert execution.status == "SUCCEEDED", execution.describe()
    stop = {"type": "stop", "sessionId": session_id, "by": "bob"}
    assert _frames(bench, execution) == [(["alice", "bob"], stop)]


def test_the_session_ends_on_time_with_timeout_for_both(bench, flow, sessions):
    session_id = _session(bench, sessions, status="active")
    execution = flow.run(session_id, _input(session_id, 1))
    assert execution.status == "SUCCEEDED", execution.describe()
    recorded = bench.get(sessions, sessionId=session_id)
    assert (recorded["status"], recorded["endReason"]) == ("stopped", "timeout")
    assert _frames(bench, execution) == [(["alice", "bob"], {"type": "timeout", "sessionId": session_id})]


def test_a_stop_recorded_as_the_session_ends_wins_over_the_timeout(bench, flow, sessions):
    # The stop's conditional write landed; its SendTaskSuccess lost to the end of the wait.
    session_id = _session(bench, sessions, status="stopped", endReason="stop", stoppedBy="alice")
    execution = flow.run(session_id, _input(session_id, 1))
    assert execution.status == "SUCCEEDED", execution.describe()
    assert bench.get(sessions, sessionId=session_id)["endReason"] == "stop"
    stop = {"type": "stop", "sessionId": session_id, "by": "alice"}
    assert _frames(bench, execution) == [(["alice", "bob"], stop)]


def _session_failed(session_id: str) -> dict:
    return {
        "type": "error",
        "code": "session_failed",
        "message": f"Duel session {session_id} could not run and has ended.",
    }


def test_a_session_that_cannot_be_opened_is_recorded_failed_both_are_told_and_the_execution_fails(
    bench, flow, sessions
):
    session_id = _session(bench, sessions)  # OpenSession never recorded it
    bench.script(
        session_id, "duel_open_session", {"raise": "AccessDeniedException", "message": "no sessions"}
    )
    execution = flow.run(session_id, _input(session_id, LONG_SESSION_SECONDS))
    assert (execution.status, execution.error) == ("FAILED", "SessionFailed"), execution.describe()
    assert execution.cause.startswith("Opening or announcing the session failed with AccessDeniedException: ")
    assert bench.calls(session_id, "duel_announce_start") == []
    recorded = bench.get(sessions, sessionId=session_id)
    assert (recorded["status"], recorded["endReason"], recorded["userA"]) == ("stopped", "failed", "alice")
    assert _frames(bench, execution) == [(["alice", "bob"], _session_failed(session_id))]


def test_a_session_whose_start_cannot_be_announced_is_ended_for_both_and_the_execution_fails(
    bench, flow, sessions
):
    session_id = _session(bench, sessions, status="pending")
    bench.script(session_id, "duel_announce_start", {"raise": "SessionNotFound"})
    execution = flow.run(session_id, _input(session_id, LONG_SESSION_SECONDS))
    assert (execution.status, execution.error) == ("FAILED", "SessionFailed"), execution.describe()
    assert "SessionNotFound" in execution.cause
    assert bench.get(sessions, sessionId=session_id)["endReason"] == "failed"
    assert _frames(bench, execution) == [(["alice", "bob"], _session_failed(session_id))]


def test_a_stop_recorded_before_the_announcement_failed_is_what_both_hear(bench, flow, sessions):
    session_id = _session(bench, sessions, status="stopped", endReason="stop", stoppedBy="bob")
    bench.script(session_id, "duel_announce_start", {"raise": "Sandbox.Timedout"})
    execution = flow.run(session_id, _input(session_id, LONG_SESSION_SECONDS))
    assert (execution.status, execution.error) == ("FAILED", "SessionFailed"), execution.describe()
    assert bench.get(sessions, sessionId=session_id)["endReason"] == "stop"
    stop = {"type": "stop", "sessionId": session_id, "by": "bob"}
    assert _frames(bench, execution) == [(["alice", "bob"], stop)]


def test_transient_lambda_errors_are_retried_not_caught(bench, flow, sessions):
    session_id = _session(bench, sessions, status="pending")
    bench.script(session_id, "duel_open_session", {"raise": "Lambda.SdkClientException"}, OPENED)
    bench.script(session_id, "duel_announce_start", {"raise": "Lambda.AWSLambdaException"}, {"return": {}})
    execution_arn = flow.start(session_id, _input(session_id, LONG_SESSION_SECONDS))
    poll(lambda: len(bench.calls(session_id, "duel_announce_start")) == 2, "AnnounceStart to be retried")
    token = bench.wait_for_call(session_id, "duel_announce_start")["taskToken"]
    _record_stop(bench, sessions, session_id, "alice")
    bench.sfn.send_task_success(taskToken=token, output=json.dumps({"endReason": "stop"}))
    execution = flow.finished(execution_arn)
    assert execution.status == "SUCCEEDED", execution.describe()
    assert len(bench.calls(session_id, "duel_open_session")) == 2
    assert [frame["type"] for _, frame in _frames(bench, execution)] == ["stop"]
    assert "failure" not in execution.output
