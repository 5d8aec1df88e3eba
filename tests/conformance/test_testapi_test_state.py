"""TestState: one state run in isolation, as AWS answers it.

AWS: API reference, "TestState" (and its types InspectionData, InspectionErrorDetails,
TestStateConfiguration, MockInput); Step Functions developer guide, "Using TestState API to test a
state in Step Functions"."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.functional.branches.conftest import ROLE_ARN

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


@pytest.fixture(scope="module")
def sfn(aws):
    # boto3 sends TestState to the host "sync-<endpoint host>" (the service model's hostPrefix),
    # which does not resolve for 127.0.0.1: a local client turns the prefix off.
    return boto3.client(
        "stepfunctions",
        endpoint_url=aws.aws.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, inject_host_prefix=False),
    )


def run_state(sfn, state: dict[str, Any], state_input: Any = None, **kwargs: Any) -> dict[str, Any]:
    return sfn.test_state(
        definition=json.dumps(state),
        roleArn=ROLE_ARN,
        input=json.dumps({} if state_input is None else state_input),
        **kwargs,
    )


def failing_task(**extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": LAMBDA_INVOKE,
        "Parameters": {"FunctionName": "not-called", "Payload.$": "$"},
        "End": True,
        **extra,
    }


BOOM = {"errorOutput": {"error": "Game.Boom", "cause": "the dice fell off the table"}}
RETRY = [
    {"ErrorEquals": ["Other"]},
    {"ErrorEquals": ["Game.Boom"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 2},
]
CATCH = [
    {"ErrorEquals": ["Other"], "Next": "Never"},
    {"ErrorEquals": ["States.ALL"], "Next": "Recover", "ResultPath": "$.failure"},
]


def test_pass_at_debug_reports_each_step_of_the_data_flow_and_the_next_state(sfn):
    answer = run_state(
        sfn,
        {
            "Type": "Pass",
            "InputPath": "$.game",
            "Parameters": {"score.$": "$.points"},
            "ResultPath": "$.saved",
            "Next": "Announce",
        },
        {"game": {"points": 7}},
        inspectionLevel="DEBUG",
    )
    assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "Announce")
    # ResultPath places the result into the state's input, not into what InputPath selected.
    assert json.loads(answer["output"]) == {"game": {"points": 7}, "saved": {"score": 7}}
    data = {key: json.loads(value) for key, value in answer["inspectionData"].items()}
    assert data["input"] == {"game": {"points": 7}}
    assert data["afterInputPath"] == {"points": 7}
    assert data["afterParameters"] == {"score": 7}
    assert data["afterResultPath"] == {"game": {"points": 7}, "saved": {"score": 7}}


def test_info_level_answers_no_inspection_data(sfn):
    answer = run_state(sfn, {"Type": "Pass", "End": True}, {"a": 1})
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"a": 1}
    assert "inspectionData" not in answer and "nextState" not in answer


def test_choice_answers_the_chosen_next_state_and_its_input_unchanged(sfn):
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.score", "NumericGreaterThan": 10, "Next": "Winner"}],
        "Default": "TryAgain",
    }
    assert run_state(sfn, choice, {"score": 11})["nextState"] == "Winner"
    answer = run_state(sfn, choice, {"score": 3})
    assert (answer["status"], answer["nextState"], json.loads(answer["output"])) == (
        "SUCCEEDED",
        "TryAgain",
        {"score": 3},
    )


def test_a_lambda_task_calls_the_function(sfn, aws):
    answer = run_state(
        sfn,
        {
            "Type": "Task",
            "Resource": LAMBDA_INVOKE,
            "Parameters": {"FunctionName": aws.handler_arn, "Payload": {"return": {"rolled": 6}}},
            "OutputPath": "$.Payload",
            "End": True,
        },
    )
    assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", {"rolled": 6})


def test_a_mocked_result_answers_for_the_service_which_is_not_called(sfn):
    # "not-called" exists nowhere: a call would fail with Lambda.ResourceNotFoundException.
    answer = run_state(
        sfn,
        failing_task(OutputPath="$.Payload"),
        mock={"result": json.dumps({"Payload": {"mocked": True}, "StatusCode": 200})},
    )
    assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", {"mocked": True})


def test_an_uncaught_error_fails_with_its_error_and_cause(sfn):
    answer = run_state(sfn, failing_task(), mock=BOOM)
    assert (answer["status"], answer["error"], answer["cause"]) == (
        "FAILED",
        "Game.Boom",
        "the dice fell off the table",
    )
    assert "nextState" not in answer


def test_a_matching_retrier_answers_retriable_with_its_index_and_backoff_and_waits_for_nothing(sfn):
    started = time.monotonic()
    first = run_state(sfn, failing_task(Retry=RETRY, Catch=CATCH), mock=BOOM, inspectionLevel="DEBUG")
    assert (first["status"], first["error"]) == ("RETRIABLE", "Game.Boom")
    assert first["inspectionData"]["errorDetails"] == {"retryIndex": 1, "retryBackoffIntervalSeconds": 2}
    # The second attempt's backoff: IntervalSeconds x BackoffRate^1.
    second = run_state(
        sfn,
        failing_task(Retry=RETRY, Catch=CATCH),
        mock=BOOM,
        inspectionLevel="DEBUG",
        stateConfiguration={"retrierRetryCount": 1},
    )
    assert second["inspectionData"]["errorDetails"] == {"retryIndex": 1, "retryBackoffIntervalSeconds": 6}
    assert time.monotonic() - started < 2, "TestState evaluates a retry once; it does not wait its backoff"


def test_retries_used_up_fall_to_the_catcher_caught_error_with_its_next_state_and_output(sfn):
    answer = run_state(
        sfn,
        failing_task(Retry=RETRY, Catch=CATCH),
        {"round": 3},
        mock=BOOM,
        inspectionLevel="DEBUG",
        stateConfiguration={"retrierRetryCount": 2},
    )
    assert (answer["status"], answer["nextState"], answer["error"]) == (
        "CAUGHT_ERROR",
        "Recover",
        "Game.Boom",
    )
    assert json.loads(answer["output"]) == {
        "round": 3,
        "failure": {"Error": "Game.Boom", "Cause": "the dice fell off the table"},
    }
    assert answer["inspectionData"]["errorDetails"] == {"catchIndex": 1}


def test_state_name_tests_one_state_of_a_whole_state_machine(sfn):
    machine = {
        "StartAt": "Roll",
        "States": {
            "Roll": {"Type": "Pass", "Result": 4, "ResultPath": "$.die", "Next": "Score"},
            "Score": {"Type": "Pass", "Parameters": {"total.$": "$.die"}, "End": True},
        },
    }
    answer = run_state(sfn, machine, {"die": 5}, stateName="Score")
    assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", {"total": 5})


def test_variables_given_to_the_test_are_reported_at_debug(sfn):
    answer = run_state(
        sfn, {"Type": "Pass", "End": True}, variables=json.dumps({"level": 3}), inspectionLevel="DEBUG"
    )
    assert json.loads(answer["inspectionData"]["variables"]) == {"level": 3}


def test_a_definition_that_is_not_a_state_is_refused_as_invalid_definition(sfn):
    with pytest.raises(ClientError) as refused:
        sfn.test_state(definition=json.dumps({"Type": "Teleport"}), roleArn=ROLE_ARN)
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"


def test_a_whole_machine_without_state_name_is_refused(sfn):
    # AWS's documentation does not word this refusal; the code is our choice.
    machine = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    with pytest.raises(ClientError) as refused:
        sfn.test_state(definition=json.dumps(machine), roleArn=ROLE_ARN)
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"


START_CHILD = {
    "Type": "Task",
    "Resource": "arn:aws:states:::aws-sdk:sfn:startExecution",
    "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child"},
    "End": True,
}


def _mock_refusal(sfn, state: dict[str, Any], result: Any, mode: str | None) -> str | None:
    mock: dict[str, Any] = {"result": json.dumps(result)}
    if mode is not None:
        mock["fieldValidationMode"] = mode
    try:
        run_state(sfn, state, mock=mock)
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None


def test_a_mocked_result_is_validated_against_the_apis_answer_strictly_by_default(sfn):
    # MockInput: STRICT (the default): required fields present, present fields as the API types them.
    # The refusal's code AWS's documentation does not name: ValidationException is our choice.
    assert _mock_refusal(sfn, START_CHILD, {"ExecutionArn": "arn:x"}, None) == "ValidationException"
    assert _mock_refusal(sfn, START_CHILD, {"ExecutionArn": "arn:x", "StartDate": 1}, None) is None


def test_present_validates_only_the_fields_given_and_none_validates_nothing(sfn):
    assert _mock_refusal(sfn, START_CHILD, {"ExecutionArn": "arn:x"}, "PRESENT") is None
    assert _mock_refusal(sfn, START_CHILD, {"ExecutionArn": 7}, "PRESENT") == "ValidationException"
    assert _mock_refusal(sfn, START_CHILD, {"ExecutionArn": 7}, "NONE") is None


def test_a_mocked_lambda_result_with_a_wrongly_typed_field_is_refused(sfn):
    assert _mock_refusal(sfn, failing_task(), {"StatusCode": "two hundred"}, None) == "ValidationException"


def test_variables_a_state_assigns_are_reported_beside_the_tests_own(sfn):
    answer = run_state(
        sfn,
        {"Type": "Pass", "Assign": {"round.$": "$.round", "bonus": 10}, "End": True},
        {"round": 2},
        variables=json.dumps({"level": 3}),
        inspectionLevel="DEBUG",
    )
    assert json.loads(answer["inspectionData"]["variables"]) == {"level": 3, "round": 2, "bonus": 10}


ROUNDS_MAP = {
    "Type": "Map",
    "ItemsPath": "$.rounds",
    "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "Play",
        "States": {"Play": {"Type": "Pass", "End": True}},
    },
    "ResultPath": "$.scores",
    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
    "Next": "Total",
}


def test_a_map_state_runs_with_a_mock_which_is_its_result(sfn):
    answer = run_state(sfn, ROUNDS_MAP, {"rounds": [1, 2]}, mock={"result": json.dumps([10, 20])})
    assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "Total")
    assert json.loads(answer["output"]) == {"rounds": [1, 2], "scores": [10, 20]}


def test_a_mocked_states_error_of_a_map_is_caught_as_in_an_execution(sfn):
    mock = {
        "errorOutput": {"error": "States.ExceedToleratedFailureThreshold", "cause": "too many lost rounds"}
    }
    answer = run_state(sfn, ROUNDS_MAP, {"rounds": [1]}, mock=mock)
    assert (answer["status"], answer["nextState"], answer["error"]) == (
        "CAUGHT_ERROR",
        "Recover",
        "States.ExceedToleratedFailureThreshold",
    )


@pytest.mark.parametrize(
    "state",
    [
        ROUNDS_MAP,
        {
            "Type": "Parallel",
            "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}],
            "End": True,
        },
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody.$": "$$.Task.Token"},
            "End": True,
        },
    ],
    ids=["map", "parallel", "waitForTaskToken"],
)
def test_what_aws_tests_only_with_a_mock_is_refused_without_one(sfn, state):
    # API reference, TestState: Map, Parallel, .sync, .waitForTaskToken and Activity tasks are
    # supported "when a mock is specified". The refusal's code is not documented: our choice.
    with pytest.raises(ClientError) as refused:
        run_state(sfn, state, {"rounds": []})
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_a_mocked_callback_task_answers_the_mock_without_waiting_for_a_token(sfn):
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody.$": "$$.Task.Token"},
        "End": True,
    }
    answer = run_state(
        sfn, state, mock={"result": json.dumps({"accepted": True}), "fieldValidationMode": "NONE"}
    )
    assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", {"accepted": True})


def test_context_given_to_the_test_is_the_states_context_object(sfn):
    answer = run_state(
        sfn,
        {
            "Type": "Pass",
            "Parameters": {"token.$": "$$.Task.Token", "execution.$": "$$.Execution.Name"},
            "End": True,
        },
        context=json.dumps({"Task": {"Token": "token-1"}, "Execution": {"Name": "duel-7"}}),
    )
    assert json.loads(answer["output"]) == {"token": "token-1", "execution": "duel-7"}
