"""Callbacks: .waitForTaskToken with SendTaskSuccess / SendTaskFailure, and the API's answers
to a token it does not know (InvalidToken), one whose task is gone (TaskDoesNotExist) and one
whose task timed out (TaskTimedOut); the history's event types of a callback.

AWS: Step Functions developer guide, "Wait for a Callback with Task Token"; API reference,
SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat (Errors)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.test_basics_timeouts import callback_task, task_token


def error_code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return str(raised.value.response["Error"]["Code"])


def test_send_task_success_resumes_with_its_output(aws):
    execution = aws.start(aws.machine(callback_task(aws.handler_arn, TimeoutSeconds=20)))
    token = task_token(aws, execution)
    aws.sfn.send_task_success(taskToken=token, output=json.dumps({"answer": 42}))
    run = aws.finished(execution)
    assert (run.status, run.output) == ("SUCCEEDED", {"answer": 42})
    types = [e["type"] for e in run.events]
    assert types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]


def test_send_task_failure_fails_the_task_with_its_error(aws):
    """API reference, SendTaskFailure: the task fails with the given error (its cause is part
    "errors"' concern)."""
    execution = aws.start(aws.machine(callback_task(aws.handler_arn, TimeoutSeconds=20)))
    token = task_token(aws, execution)
    aws.sfn.send_task_failure(taskToken=token, error="Declined", cause="the player said no")
    run = aws.finished(execution)
    assert (run.status, run.error) == ("FAILED", "Declined")
    assert "TaskFailed" in [e["type"] for e in run.events]


def test_send_task_failure_is_caught_by_its_error_name(aws):
    definition = callback_task(
        aws.handler_arn,
        TimeoutSeconds=20,
        Catch=[{"ErrorEquals": ["Declined"], "ResultPath": "$.error", "Next": "Handled"}],
    )
    definition["States"]["Handled"] = {"Type": "Pass", "End": True}
    execution = aws.start(aws.machine(definition))
    aws.sfn.send_task_failure(taskToken=task_token(aws, execution), error="Declined", cause="no")
    run = aws.finished(execution)
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output["error"]["Error"] == "Declined"


def test_a_token_used_twice_is_refused_the_second_time(aws):
    """API reference, SendTaskSuccess lists TaskDoesNotExist, InvalidToken and TaskTimedOut but
    does not say which answers the token of a task that has finished, and we cannot tell. Our
    choice (the interpreter's): InvalidToken."""
    execution = aws.start(aws.machine(callback_task(aws.handler_arn, TimeoutSeconds=20)))
    token = task_token(aws, execution)
    aws.sfn.send_task_success(taskToken=token, output="{}")
    aws.finished(execution)
    assert error_code(aws.sfn.send_task_success, taskToken=token, output="{}") == "InvalidToken"


def test_a_token_never_issued_is_refused_as_invalid(aws):
    """API reference, SendTaskSuccess: InvalidToken, the provided token is not valid."""
    assert error_code(aws.sfn.send_task_success, taskToken="never-issued", output="{}") == "InvalidToken"
    assert error_code(aws.sfn.send_task_heartbeat, taskToken="never-issued") == "InvalidToken"
    assert error_code(aws.sfn.send_task_failure, taskToken="never-issued", error="E") == "InvalidToken"


def test_send_task_success_with_output_that_is_not_json_is_refused(aws):
    """API reference, SendTaskSuccess: InvalidOutput, the provided JSON output data is not valid."""
    execution = aws.start(aws.machine(callback_task(aws.handler_arn, TimeoutSeconds=20)))
    token = task_token(aws, execution)
    assert error_code(aws.sfn.send_task_success, taskToken=token, output="{not json") == "InvalidOutput"
    aws.sfn.send_task_success(taskToken=token, output="{}")
    assert aws.finished(execution).status == "SUCCEEDED"


def test_a_callback_answered_after_its_timeout_is_refused(aws):
    """API reference, SendTaskSuccess: TaskTimedOut exists for a task whose timeout passed, but
    the reference does not say it still answers once the execution has ended (here it has), and
    we cannot tell. Our choice (the interpreter's): InvalidToken; see the README's table of what
    still differs."""
    execution = aws.start(aws.machine(callback_task(aws.handler_arn, TimeoutSeconds=1)))
    token = task_token(aws, execution)
    run = aws.finished(execution)
    assert run.error == "States.Timeout"
    assert error_code(aws.sfn.send_task_success, taskToken=token, output="{}") == "InvalidToken"
