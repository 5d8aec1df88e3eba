"""Timeouts and heartbeats: TimeoutSeconds / TimeoutSecondsPath -> States.Timeout,
HeartbeatSeconds -> States.HeartbeatTimeout, SendTaskHeartbeat keeping a callback alive.

AWS: Step Functions developer guide, "Task workflow state" (Task state fields: TimeoutSeconds,
TimeoutSecondsPath, HeartbeatSeconds) and "Handling errors in Step Functions workflows"; API
reference, SendTaskHeartbeat."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.functional.branches.conftest import poll


def sleeping_task(handler_arn: str, seconds: float, **fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": handler_arn, "Payload": {"sleep": seconds, "return": "late"}},
                "End": True,
                **fields,
            }
        },
    }


def callback_task(handler_arn: str, **fields: Any) -> dict[str, Any]:
    """A task that hands its token to the function (which returns at once) and waits for it."""
    return {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": handler_arn, "Payload": {"token.$": "$$.Task.Token"}},
                "End": True,
                **fields,
            }
        },
    }


def task_token(aws: Any, execution_arn: str) -> str:
    """The token the callback task handed its function, from the history."""

    def scheduled() -> str | None:
        for event in aws.history(execution_arn):
            if event["type"] == "TaskScheduled":
                return str(json.loads(event["taskScheduledEventDetails"]["parameters"])["Payload"]["token"])
        return None

    return str(poll(scheduled, "the callback task to be scheduled"))


def test_task_timeout_seconds_fails_with_states_timeout(aws):
    run = aws.run(sleeping_task(aws.handler_arn, 3, TimeoutSeconds=1))
    assert (run.status, run.error) == ("FAILED", "States.Timeout")
    assert "TaskTimedOut" in [e["type"] for e in run.events]


def test_task_timeout_seconds_path_reads_the_timeout_from_the_input(aws):
    run = aws.run(sleeping_task(aws.handler_arn, 3, TimeoutSecondsPath="$.timeout"), {"timeout": 1})
    assert (run.status, run.error) == ("FAILED", "States.Timeout")


def test_a_task_within_its_timeout_succeeds(aws):
    run = aws.run(sleeping_task(aws.handler_arn, 0.1, TimeoutSeconds=5))
    assert (run.status, run.output["Payload"]) == ("SUCCEEDED", "late")


def test_states_timeout_is_caught_by_its_name_not_by_task_failed(aws):
    """Developer guide, "Handling errors": States.TaskFailed matches every Task error except
    States.Timeout."""
    definition = sleeping_task(
        aws.handler_arn,
        3,
        TimeoutSeconds=1,
        Catch=[
            {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "ByTaskFailed"},
            {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "ByTimeout"},
        ],
    )
    definition["States"]["ByTaskFailed"] = {"Type": "Fail", "Error": "WrongCatcher"}
    definition["States"]["ByTimeout"] = {"Type": "Pass", "End": True}
    run = aws.run(definition)
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output["error"]["Error"] == "States.Timeout"


def test_a_callback_without_heartbeats_fails_with_heartbeat_timeout(aws):
    run = aws.run(callback_task(aws.handler_arn, HeartbeatSeconds=1, TimeoutSeconds=10))
    assert (run.status, run.error) == ("FAILED", "States.HeartbeatTimeout")


def test_heartbeats_keep_a_callback_alive_past_its_heartbeat_seconds(aws):
    """API reference, SendTaskHeartbeat: each heartbeat resets the HeartbeatSeconds clock."""
    execution = aws.start(aws.machine(callback_task(aws.handler_arn, HeartbeatSeconds=1, TimeoutSeconds=20)))
    token = task_token(aws, execution)
    alive_until = time.monotonic() + 2.5  # over twice HeartbeatSeconds
    while time.monotonic() < alive_until:
        aws.sfn.send_task_heartbeat(taskToken=token)
        time.sleep(0.3)  # the heartbeat cadence itself, not a wait for an event
    aws.sfn.send_task_success(taskToken=token, output=json.dumps({"done": True}))
    run = aws.finished(execution)
    assert (run.status, run.output) == ("SUCCEEDED", {"done": True}), run.describe()


def test_a_callback_past_its_timeout_seconds_fails_with_states_timeout(aws):
    run = aws.run(callback_task(aws.handler_arn, TimeoutSeconds=1))
    assert (run.status, run.error) == ("FAILED", "States.Timeout")


def test_a_state_machine_past_its_timeout_seconds_times_out(aws):
    """Developer guide, "State machine structure": TimeoutSeconds of the state machine; past
    it the execution ends TIMED_OUT with an ExecutionTimedOut event."""
    definition = {
        "StartAt": "W",
        "TimeoutSeconds": 1,
        "States": {"W": {"Type": "Wait", "Seconds": 5, "End": True}},
    }
    run = aws.run(definition)
    assert run.status == "TIMED_OUT"
    assert run.events[-1]["type"] == "ExecutionTimedOut"
    ended = run.events[-1]["timestamp"] - run.events[0]["timestamp"]
    assert ended.total_seconds() < 3
