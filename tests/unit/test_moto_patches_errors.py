"""Canaries of the moto patches of AWS's error names and API answers (issue 13, part "errors").

As in test_moto_patches.py: each canary runs moto WITHOUT its patch and reproduces the bug (it
fails, saying the patch can go, once moto fixes it); beside it the same scenario WITH the patch
shows AWS's behaviour. The conformance suite (tests/conformance/test_errors_*.py) holds the
same behaviours on the whole embedded AWS.
"""

from __future__ import annotations

import json
import types
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.unit.test_moto_patches import (
    ACCOUNT,
    EXECUTING,
    REGION,
    client,
    finished,
    fixed_upstream,
    state_machine,
    with_patch,
    without,
)


def caught(task: dict[str, Any]) -> dict[str, Any]:
    """`task` with every error caught into the output."""
    task = dict(task, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], End=True)
    return {"StartAt": "Call", "States": {"Call": task, "Caught": {"Type": "Pass", "End": True}}}


def run(definition: dict[str, Any], execution_input: Any = None) -> dict[str, Any]:
    # Named: moto names an unnamed execution None, so a second one would not start.
    arn = state_machine(definition, name=f"canary-{uuid.uuid4().hex[:8]}")
    started = client("stepfunctions").start_execution(
        stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(execution_input or {})
    )
    return finished(started["executionArn"])


# --- stepfunctions_sqs_error_names ----------------------------------------------------------------


def _send_to_a_missing_queue() -> dict[str, Any]:
    url = client("sqs").create_queue(QueueName="present")["QueueUrl"]
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": url.replace("present", "deleted"), "MessageBody": "m"},
    }
    return json.loads(run(caught(task))["output"])


def test_canary_stepfunctions_sqs_error_names() -> None:
    with without("stepfunctions_sqs_error_names"), mock_aws(config=EXECUTING):
        error = _send_to_a_missing_queue()
    assert error["Error"] == "SQS.SdkClientException", fixed_upstream("stepfunctions_sqs_error_names")
    assert error["Cause"] == "The specified queue does not exist."


def test_stepfunctions_sqs_error_names_name_a_missing_queue_as_aws_does() -> None:
    with with_patch("stepfunctions_sqs_error_names"), mock_aws(config=EXECUTING):
        error = _send_to_a_missing_queue()
    assert error["Error"] == "SQS.QueueDoesNotExistException"
    assert error["Cause"].startswith(
        "The specified queue does not exist. (Service: AmazonSQS; Status Code: 400;"
    )
    assert error["Cause"].endswith("; Proxy: null)")


def test_an_sqs_error_sqs_does_not_model_is_amazon_sqs_exception() -> None:
    from arcadeflow.aws.moto_patches.stepfunctions_service_errors import exception_class

    assert exception_class("sqs", "AWS.SimpleQueueService.NonExistentQueue", "AmazonSQSException") == (
        "QueueDoesNotExistException"
    )
    assert exception_class("sqs", "com.amazonaws.sqs#QueueDoesNotExist", "AmazonSQSException") == (
        "QueueDoesNotExistException"
    )
    assert exception_class("sqs", "SomethingNew", "AmazonSQSException") == "AmazonSQSException"


# --- stepfunctions_lambda_error_names -------------------------------------------------------------

# What the embedded AWS's Lambda front answered for a missing function: no request id.
_MISSING_FUNCTION = ClientError(
    {
        "Error": {"Code": "ResourceNotFoundException", "Message": "Function not found: arn:aws:lambda:x"},
        "ResponseMetadata": {"HTTPStatusCode": 404},
    },
    "Invoke",
)


def _lambda_errors() -> tuple[Any, Any]:
    """(lambda:invoke's error and cause, a bare function ARN Task's failure event)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_lambda,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )

    try:
        invoke: Any = state_task_service_lambda.StateTaskServiceLambda._error_cause_from_client_error(
            _MISSING_FUNCTION
        )
    except KeyError as exc:
        invoke = exc
    # What FailureEvent reads of the environment.
    env = types.SimpleNamespace(
        next_state_name="Call", event_history_context=types.SimpleNamespace(source_event_id=1)
    )
    bare = StateTaskLambda._from_error(object.__new__(StateTaskLambda), env, _MISSING_FUNCTION)
    return invoke, bare


def test_canary_stepfunctions_lambda_error_names() -> None:
    with without("stepfunctions_lambda_error_names"):
        invoke, bare = _lambda_errors()
    assert isinstance(invoke, KeyError), fixed_upstream("stepfunctions_lambda_error_names")
    assert bare.error_name.error_name == "Exception"


def test_stepfunctions_lambda_error_names_name_lambda_errors_as_aws_does() -> None:
    with with_patch("stepfunctions_lambda_error_names"):
        invoke, bare = _lambda_errors()
    error, cause = invoke
    assert error == bare.error_name.error_name == "Lambda.ResourceNotFoundException"
    assert cause == (
        "Function not found: arn:aws:lambda:x (Service: AWSLambda; Status Code: 404; "
        "Error Code: ResourceNotFoundException; Request ID: null; Proxy: null)"
    )
    assert bare.event_details["lambdaFunctionFailedEventDetails"]["cause"] == cause


# --- stepfunctions_send_task_failure_cause --------------------------------------------------------


def _fail_a_waiting_task() -> dict[str, Any]:
    sqs, sfn = client("sqs"), client("stepfunctions")
    url = sqs.create_queue(QueueName="tokens")["QueueUrl"]
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": url, "MessageBody": {"token.$": "$$.Task.Token"}},
    }
    execution = sfn.start_execution(stateMachineArn=state_machine(caught(task)))["executionArn"]
    messages: list[Any] = []
    while not messages:  # the token arrives once the Task started
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    token = json.loads(messages[0]["Body"])["token"]
    sfn.send_task_failure(taskToken=token, error="Game.Forfeit", cause="the player left")
    return json.loads(finished(execution)["output"])


def test_canary_stepfunctions_send_task_failure_cause() -> None:
    with without("stepfunctions_send_task_failure_cause"), mock_aws(config=EXECUTING):
        error = _fail_a_waiting_task()
    assert error["Error"] == "Game.Forfeit"
    assert error["Cause"] is None, fixed_upstream("stepfunctions_send_task_failure_cause")


def test_stepfunctions_send_task_failure_cause_reaches_the_catch() -> None:
    with with_patch("stepfunctions_send_task_failure_cause"), mock_aws(config=EXECUTING):
        error = _fail_a_waiting_task()
    assert error == {"Error": "Game.Forfeit", "Cause": "the player left"}


# --- stepfunctions_describe_execution_input_details -----------------------------------------------


def test_canary_stepfunctions_describe_execution_input_details() -> None:
    with without("stepfunctions_describe_execution_input_details"), mock_aws(config=EXECUTING):
        described = run({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert "inputDetails" not in described, fixed_upstream("stepfunctions_describe_execution_input_details")


def test_stepfunctions_describe_execution_input_details_says_the_input_is_included() -> None:
    with with_patch("stepfunctions_describe_execution_input_details"), mock_aws(config=EXECUTING):
        described = run({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert described["inputDetails"] == {"included": True}
    assert described["outputDetails"] == {"included": True}


# --- stepfunctions_context_execution --------------------------------------------------------------

_CONTEXT = {
    "StartAt": "Look",
    "States": {"Look": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": True}},
}
_REDRIVE_COUNT = {
    "StartAt": "Look",
    "States": {"Look": {"Type": "Pass", "Parameters": {"n.$": "$$.Execution.RedriveCount"}, "End": True}},
}


def test_canary_stepfunctions_context_execution() -> None:
    with without("stepfunctions_context_execution"), mock_aws(config=EXECUTING):
        with pytest.raises(Exception) as described:  # moto fails serialising the output
            run(_CONTEXT)
        counted = run(_REDRIVE_COUNT)
    assert "datetime is not JSON serializable" in str(described.value), fixed_upstream(
        "stepfunctions_context_execution"
    )
    assert (counted["status"], counted["error"]) == ("FAILED", "States.Runtime")


def test_stepfunctions_context_execution_is_json_with_a_redrive_count() -> None:
    with with_patch("stepfunctions_context_execution"), mock_aws(config=EXECUTING):
        execution = json.loads(run(_CONTEXT)["output"])["ctx"]["Execution"]
        counted = json.loads(run(_REDRIVE_COUNT)["output"])
    assert execution["RedriveCount"] == 0 and counted == {"n": 0}
    assert execution["StartTime"].endswith("Z") and len(execution["StartTime"]) == len(
        "2019-03-26T20:14:13.192Z"
    )
    assert execution["Id"].startswith(f"arn:aws:states:{REGION}:{ACCOUNT}:execution:")


# --- stepfunctions_branch_states_errors -----------------------------------------------------------


def _a_timeout_in_a_branch(container: str) -> dict[str, Any]:
    url = client("sqs").create_queue(QueueName="never-answered")["QueueUrl"]
    branch = {
        "StartAt": "Await",
        "States": {
            "Await": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": url, "MessageBody": {"token.$": "$$.Task.Token"}},
                "TimeoutSeconds": 1,
                "End": True,
            }
        },
    }
    state: dict[str, Any] = (
        {"Type": "Parallel", "Branches": [branch]}
        if container == "parallel"
        else {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": branch}
    )
    described = run(caught(state), {"items": [1]})
    return json.loads(described["output"]) if described["status"] == "SUCCEEDED" else described


def test_canary_stepfunctions_branch_states_errors() -> None:
    with without("stepfunctions_branch_states_errors"), mock_aws(config=EXECUTING):
        parallel, in_map = _a_timeout_in_a_branch("parallel"), _a_timeout_in_a_branch("map")
    assert parallel["status"] == "FAILED", fixed_upstream("stepfunctions_branch_states_errors")
    assert parallel["error"] == "States.Runtime"  # past the Parallel's Catch
    assert in_map["Error"] == "States.Runtime"
    assert "MUST NOT begin with the prefix 'States.'" in in_map["Cause"]


def test_stepfunctions_branch_states_errors_keep_the_branch_error() -> None:
    with with_patch("stepfunctions_branch_states_errors"), mock_aws(config=EXECUTING):
        parallel, in_map = _a_timeout_in_a_branch("parallel"), _a_timeout_in_a_branch("map")
    assert parallel["Error"] == in_map["Error"] == "States.Timeout"


# --- stepfunctions_synchronous_stop: a stop without an error ----------------------------------------


def test_a_stop_without_error_or_cause_reports_neither() -> None:
    with (
        with_patch("stepfunctions_early_stop"),
        with_patch("stepfunctions_synchronous_stop"),
        mock_aws(config=EXECUTING),
    ):
        sfn = client("stepfunctions")
        arn = state_machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}})
        execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
        sfn.stop_execution(executionArn=execution)
        described = sfn.describe_execution(executionArn=execution)
        events = sfn.get_execution_history(executionArn=execution)["events"]
    assert described["status"] == "ABORTED"
    assert "error" not in described and "cause" not in described
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1].get("executionAbortedEventDetails", {}) == {}


# --- stepfunctions_map_tolerated_failures ---------------------------------------------------------


def _distributed_map(items: list[str], **tolerance: Any) -> dict[str, Any]:
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "IsBad",
        "States": {
            "IsBad": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "StringEquals": "bad", "Next": "Lose"}],
                "Default": "Play",
            },
            "Lose": {"Type": "Fail", "Error": "Game.Lost", "Cause": "a bad move"},
            "Play": {"Type": "Pass", "End": True},
        },
    }
    state = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "End": True, **tolerance}
    return run({"StartAt": "Fan", "States": {"Fan": state}}, {"items": items})


def test_canary_stepfunctions_map_tolerated_failures() -> None:
    with without("stepfunctions_map_tolerated_failures"), mock_aws(config=EXECUTING):
        described = _distributed_map(["ok", "bad", "bad"], ToleratedFailureCount=1)
    assert described["status"] == "SUCCEEDED", fixed_upstream("stepfunctions_map_tolerated_failures")
    assert json.loads(described["output"]) == ["ok", None, None]  # the failures swallowed


def test_stepfunctions_map_tolerated_failures_fail_past_the_threshold() -> None:
    with with_patch("stepfunctions_map_tolerated_failures"), mock_aws(config=EXECUTING):
        within = _distributed_map(["ok", "bad"], ToleratedFailureCount=1)
        past = _distributed_map(["ok", "bad", "bad"], ToleratedFailureCount=1)
        untolerated = _distributed_map(["ok", "bad"])
    assert within["status"] == "SUCCEEDED"
    assert json.loads(within["output"]) == ["ok", {"Error": "Game.Lost", "Cause": "a bad move"}]
    assert (past["status"], past["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert (untolerated["status"], untolerated["error"]) == (
        "FAILED",
        "States.ExceedToleratedFailureThreshold",
    )


@pytest.mark.parametrize(
    ("failed", "total", "count", "percentage", "fails"),
    [
        (0, 4, 0, 0.0, False),
        (1, 4, 0, 0.0, True),  # no threshold: the first failure
        (1, 4, 1, 0.0, False),
        (2, 4, 1, 0.0, True),
        (1, 4, 0, 25.0, False),  # 25 % is not over 25 %
        (2, 4, 0, 25.0, True),
        (2, 4, 5, 25.0, True),  # either threshold
    ],
)
def test_the_tolerated_failure_thresholds(
    failed: int, total: int, count: int, percentage: float, fails: bool
) -> None:
    from arcadeflow.aws.moto_patches.stepfunctions_map_tolerated_failures import exceeded

    assert exceeded(failed, total, count, percentage) is fails


_FAIL_WITH_A_STATES_ERROR = {
    "StartAt": "Rethrow",
    "States": {"Rethrow": {"Type": "Fail", "Error": "States.Timeout", "Cause": "raised again"}},
}


def test_canary_stepfunctions_branch_states_errors_of_a_fail_state() -> None:
    with without("stepfunctions_branch_states_errors"), mock_aws(config=EXECUTING):
        described = run(_FAIL_WITH_A_STATES_ERROR)
    assert described["error"] == "States.Runtime", fixed_upstream("stepfunctions_branch_states_errors")


def test_stepfunctions_branch_states_errors_let_a_fail_state_raise_a_states_error() -> None:
    with with_patch("stepfunctions_branch_states_errors"), mock_aws(config=EXECUTING):
        described = run(_FAIL_WITH_A_STATES_ERROR)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "States.Timeout",
        "raised again",
    )


# --- stepfunctions_sdk_error_names ----------------------------------------------------------------


def _sdk_send_to_a_missing_queue() -> dict[str, Any]:
    url = client("sqs").create_queue(QueueName="present")["QueueUrl"]
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:sqs:sendMessage",
        "Parameters": {"QueueUrl": url.replace("present", "deleted"), "MessageBody": "m"},
    }
    return json.loads(run(caught(task))["output"])


def test_canary_stepfunctions_sdk_error_names() -> None:
    with without("stepfunctions_sdk_error_names"), mock_aws(config=EXECUTING):
        error = _sdk_send_to_a_missing_queue()
    assert error["Error"] == "sqs.QueueDoesNotExistException", fixed_upstream("stepfunctions_sdk_error_names")


def test_stepfunctions_sdk_error_names_use_the_sdk_service_name() -> None:
    with with_patch("stepfunctions_sdk_error_names"), mock_aws(config=EXECUTING):
        error = _sdk_send_to_a_missing_queue()
    assert error["Error"] == "Sqs.QueueDoesNotExistException"
    assert error["Cause"].startswith("The specified queue does not exist. (Service: Sqs, Status Code: 400")


@pytest.mark.parametrize(
    ("service", "name"),
    [
        ("sqs", "Sqs"),
        ("dynamodb", "DynamoDb"),
        ("s3", "S3"),
        ("events", "EventBridge"),
        ("logs", "CloudWatchLogs"),
    ],
)
def test_the_sdk_service_names(service: str, name: str) -> None:
    from arcadeflow.aws.moto_patches.stepfunctions_service_errors import sdk_v2_service_name

    assert sdk_v2_service_name(service) == name
