"""The Step Functions API answers as AWS documents them where moto's differed: SendTaskFailure's
cause, the output of `states:startExecution.sync`, the context object's `$$.Execution`,
DescribeExecution of an output holding the context object, and an execution stopped without an
error.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.functional.branches.conftest import poll

# AWS's context object writes times as UTC with milliseconds and a Z: 2019-03-26T20:14:13.192Z.
AWS_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def waiting_for_a_token(aws, queue_url: str) -> dict[str, Any]:
    """A Task that hands its token to a queue and waits; its failure is caught into $.error."""
    return {
        "StartAt": "AwaitMove",
        "States": {
            "AwaitMove": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
                "Catch": [
                    {"ErrorEquals": ["Game.Forfeit"], "ResultPath": "$.error", "Next": "Forfeited"},
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Other"},
                ],
                "End": True,
            },
            "Forfeited": {"Type": "Pass", "Result": "Forfeited", "ResultPath": "$.branch", "End": True},
            "Other": {"Type": "Pass", "Result": "Other", "ResultPath": "$.branch", "End": True},
        },
    }


def fail_the_waiting_task(aws, **failure: str) -> Any:
    queue_url = aws.sqs.create_queue(QueueName=aws.unique("tokens"))["QueueUrl"]
    execution = aws.start(aws.machine(waiting_for_a_token(aws, queue_url)))
    messages = poll(
        lambda: aws.sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages"),
        "the task token on the queue",
    )
    aws.sfn.send_task_failure(taskToken=json.loads(messages[0]["Body"])["token"], **failure)
    return aws.finished(execution)


def test_send_task_failure_fails_the_task_with_the_error_and_the_cause(aws):
    """API reference, SendTaskFailure: `error` and `cause` of the failure; developer guide,
    "Wait for a callback with task token": the Task fails with them and its Catch sees both."""
    run = fail_the_waiting_task(aws, error="Game.Forfeit", cause="the player left")
    assert run.output["branch"] == "Forfeited"
    assert run.output["error"] == {"Error": "Game.Forfeit", "Cause": "the player left"}
    failed = [e["taskFailedEventDetails"] for e in run.events if e["type"] == "TaskFailed"]
    assert [(d.get("error"), d.get("cause")) for d in failed] == [("Game.Forfeit", "the player left")]


def test_send_task_failure_without_error_or_cause(aws):
    """API reference, SendTaskFailure: both are optional. AWS's documentation is silent on the
    error a Catch sees then; our choice (moto's): the TaskFailed event carries neither, and only
    States.ALL matches, with `Error` and `Cause` null in the error output."""
    run = fail_the_waiting_task(aws)
    assert run.output["branch"] == "Other"
    assert run.output["error"] == {"Error": None, "Cause": None}
    failed = [e["taskFailedEventDetails"] for e in run.events if e["type"] == "TaskFailed"]
    assert len(failed) == 1 and "error" not in failed[0] and "cause" not in failed[0]


@pytest.mark.parametrize(
    ("pattern", "child_input", "child_output"),
    [
        (".sync", '{"seat":1}', '{"moved":true}'),  # as JSON text
        (".sync:2", {"seat": 1}, {"moved": True}),  # as JSON
    ],
)
def test_start_execution_sync_answers_the_childs_description(aws, pattern, child_input, child_output):
    """Developer guide, "Start a new AWS Step Functions state machine from a running execution":
    the output of `.sync` is the child's DescribeExecution (ExecutionArn, Input, InputDetails,
    Name, Output, OutputDetails, StartDate, StateMachineArn, Status, StopDate) with Input and
    Output as JSON text; `.sync:2` gives Input and Output as JSON."""
    child = aws.machine(
        {"StartAt": "Move", "States": {"Move": {"Type": "Pass", "Result": {"moved": True}, "End": True}}}
    )
    run = aws.run(
        {
            "StartAt": "Child",
            "States": {
                "Child": {
                    "Type": "Task",
                    "Resource": f"arn:aws:states:::states:startExecution{pattern}",
                    "Parameters": {"StateMachineArn": child, "Input": {"seat": 1}},
                    "End": True,
                }
            },
        }
    )
    assert run.status == "SUCCEEDED", run.describe()
    out = run.output
    documented = {
        "ExecutionArn",
        "Input",
        "InputDetails",
        "Name",
        "Output",
        "OutputDetails",
        "StartDate",
        "StateMachineArn",
        "Status",
        "StopDate",
    }
    assert documented <= set(out), sorted(documented - set(out))
    assert (out["StateMachineArn"], out["Status"]) == (child, "SUCCEEDED")
    assert out["InputDetails"] == out["OutputDetails"] == {"Included": True}
    if isinstance(child_input, str):
        assert (json.loads(out["Input"]), json.loads(out["Output"])) == (
            json.loads(child_input),
            json.loads(child_output),
        )
    else:
        assert (out["Input"], out["Output"]) == (child_input, child_output)
    assert isinstance(out["StartDate"], int) and out["StopDate"] >= out["StartDate"]  # epoch millis


CONTEXT = {
    "StartAt": "Look",
    "States": {"Look": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": True}},
}


def test_an_output_holding_the_context_object_is_described(aws):
    """Developer guide, "Accessing execution data from the Context object in Step Functions":
    `$$` is JSON (Execution.StartTime as ISO 8601 text), so an output holding it is an output
    like any other (API reference, DescribeExecution)."""
    run = aws.run(CONTEXT, {"seat": 1})
    assert run.status == "SUCCEEDED"
    execution = run.output["ctx"]["Execution"]
    assert AWS_TIMESTAMP.fullmatch(execution["StartTime"]), execution["StartTime"]
    assert execution["Input"] == {"seat": 1}
    assert run.output["ctx"]["State"]["Name"] == "Look"


def test_the_context_object_has_redrive_count_zero_before_any_redrive(aws):
    """Developer guide, "Accessing execution data from the Context object": `Execution`
    holds RedriveCount, 0 for an execution never redriven (RedriveTime only after one)."""
    execution = aws.run(CONTEXT).output["ctx"]["Execution"]
    assert execution["RedriveCount"] == 0
    assert "RedriveTime" not in execution


def test_the_context_object_counts_redrives(aws):
    """Developer guide, "Redriving executions": a redriven execution's `$$.Execution` has
    RedriveCount (1 after the first redrive) and RedriveTime. The failing state picks what its
    Lambda does by the redrive count: it fails first, succeeds once redriven."""
    definition = {
        "StartAt": "Move",
        "States": {
            "Move": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": aws.handler_arn,
                    "Payload.$": "States.ArrayGetItem($.attempts, $$.Execution.RedriveCount)",
                },
                "ResultSelector": {
                    "count.$": "$$.Execution.RedriveCount",
                    "time.$": "$$.Execution.RedriveTime",
                },
                "End": True,
            }
        },
    }
    attempts = [{"raise": "Game.Crashed"}, {"return": "moved"}]
    execution = aws.start(aws.machine(definition), {"attempts": attempts})
    assert aws.finished(execution).error == "Game.Crashed"
    aws.sfn.redrive_execution(executionArn=execution)
    poll(lambda: aws.sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED", "the redrive")
    out = json.loads(aws.sfn.describe_execution(executionArn=execution)["output"])
    assert out["count"] == 1
    assert AWS_TIMESTAMP.fullmatch(out["time"]), out["time"]


def test_an_execution_stopped_without_an_error_reports_none(aws):
    """API reference, StopExecution (error and cause optional) and DescribeExecution: error and
    cause are absent for an ABORTED execution that was stopped without them; so are they in its
    ExecutionAborted event (API reference, GetExecutionHistory)."""
    execution = aws.start(
        aws.machine({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}})
    )
    aws.sfn.stop_execution(executionArn=execution)
    described = aws.sfn.describe_execution(executionArn=execution)
    assert described["status"] == "ABORTED"
    assert "error" not in described and "cause" not in described
    aborted = [e for e in aws.history(execution) if e["type"] == "ExecutionAborted"]
    assert len(aborted) == 1
    details = aborted[0].get("executionAbortedEventDetails", {})
    assert "error" not in details and "cause" not in details


def test_an_execution_stopped_with_an_error_keeps_it(aws):
    """API reference, StopExecution and DescribeExecution."""
    execution = aws.start(
        aws.machine({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}})
    )
    aws.sfn.stop_execution(executionArn=execution, error="Game.Cancelled", cause="both players left")
    described = aws.sfn.describe_execution(executionArn=execution)
    assert (described["status"], described["error"], described["cause"]) == (
        "ABORTED",
        "Game.Cancelled",
        "both players left",
    )
    aborted = [
        e["executionAbortedEventDetails"] for e in aws.history(execution) if e["type"] == "ExecutionAborted"
    ]
    assert aborted == [{"error": "Game.Cancelled", "cause": "both players left"}]
