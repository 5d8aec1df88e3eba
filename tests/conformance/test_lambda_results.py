"""What a Python handler's return value becomes, and the payload limits on the way.

AWS: Lambda developer guide, "Define Lambda function handler in Python" (the result must be
JSON serializable) and "Lambda quotas" (6 MB synchronous request and response); Step Functions
developer guide, "Step Functions service quotas" (256 KiB of input or output per state and per
execution) and "Handling errors in Step Functions workflows" (States.DataLimitExceeded, which
States.ALL does not catch)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.functional.branches.conftest import ROLE_ARN

HANDLER_FILES = ("tests/conformance/handlers_lambda.py",)
RESULT = "tests.conformance.handlers_lambda.result"
QUOTA_BYTES = 256 * 1024


@pytest.fixture(scope="module")
def result_arn(aws) -> str:
    return aws.function(handler=RESULT, files=HANDLER_FILES)


def invoke(aws, arn: str, event: dict) -> tuple[str | None, bytes]:
    answer = aws.lambda_.invoke(FunctionName=arn, Payload=json.dumps(event).encode())
    return answer.get("FunctionError"), answer["Payload"].read()


@pytest.mark.parametrize(
    ("kind", "type_name"), [("bytes", "bytes"), ("set", "set"), ("datetime", "datetime")]
)
def test_a_value_json_cannot_hold_fails_with_runtime_marshal_error(aws, result_arn, kind, type_name):
    error, payload = invoke(aws, result_arn, {"kind": kind})
    assert error == "Unhandled"
    body = json.loads(payload)
    assert body["errorType"] == "Runtime.MarshalError"
    assert (
        body["errorMessage"]
        == f"Unable to marshal response: Object of type {type_name} is not JSON serializable"
    )


def test_a_marshal_error_is_the_tasks_error_in_a_state_machine(aws, result_arn):
    run = aws.run(
        {
            "StartAt": "Call",
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": result_arn, "Payload": {"kind": "bytes"}},
                    "End": True,
                }
            },
        }
    )
    assert (run.status, run.error) == ("FAILED", "Runtime.MarshalError")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("none", b"null"), ("str", b'"plain text"'), ("decimal", b'{"whole": 3, "part": 0.5}')],
)
def test_none_is_null_a_str_is_a_json_string_a_decimal_a_number(aws, result_arn, kind, expected):
    assert invoke(aws, result_arn, {"kind": kind}) == (None, expected)


def test_a_response_over_6_mb_fails_with_function_response_size_too_large(aws, result_arn):
    error, payload = invoke(aws, result_arn, {"kind": "big", "size": 6_291_556})
    assert error == "Unhandled"
    assert json.loads(payload) == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
    }


def test_a_request_over_6_mb_is_refused_with_request_entity_too_large(aws, result_arn):
    with pytest.raises(ClientError) as refused:
        aws.lambda_.invoke(FunctionName=result_arn, Payload=json.dumps({"pad": "x" * 6_300_000}).encode())
    assert refused.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def big_result_task(arn: str, size: int, **extra: object) -> dict[str, object]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": arn, "Payload": {"kind": "big", "size": size}},
        **extra,
    }


def test_a_lambda_result_over_256_kib_fails_the_execution_with_data_limit_exceeded(aws, result_arn):
    """States.ALL does not catch States.DataLimitExceeded: the Catch below is not taken."""
    run = aws.run(
        {
            "StartAt": "Call",
            "States": {
                "Call": big_result_task(
                    result_arn,
                    QUOTA_BYTES,
                    Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                    End=True,
                ),
                "Caught": {"Type": "Pass", "End": True},
            },
        }
    )
    assert (run.status, run.error) == ("FAILED", "States.DataLimitExceeded"), run.describe()
    assert "Caught" not in run.states_entered()


def test_a_result_just_under_the_quota_passes(aws, result_arn):
    run = aws.run(
        {
            "StartAt": "Call",
            "States": {
                "Call": big_result_task(result_arn, QUOTA_BYTES - 1024, OutputPath="$.Payload", End=True)
            },
        }
    )
    assert run.status == "SUCCEEDED", run.describe()
    assert len(run.output["text"]) == QUOTA_BYTES - 1024


def test_a_state_output_over_256_kib_fails_with_data_limit_exceeded(aws, result_arn):
    """Each result fits; the Pass state that puts two of them together does not."""
    half = QUOTA_BYTES // 2 + 1024
    run = aws.run(
        {
            "StartAt": "Call",
            "States": {
                "Call": big_result_task(
                    result_arn, half, ResultSelector={"text.$": "$.Payload.text"}, Next="Double"
                ),
                "Double": {"Type": "Pass", "Parameters": {"a.$": "$.text", "b.$": "$.text"}, "End": True},
            },
        }
    )
    assert (run.status, run.error) == ("FAILED", "States.DataLimitExceeded"), run.describe()


def test_start_execution_refuses_an_input_over_256_kib(aws):
    """API reference, StartExecution: input has a maximum length of 262144 (UTF-8 bytes)."""
    machine = aws.machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    with pytest.raises(ClientError) as refused:
        aws.sfn.start_execution(stateMachineArn=machine, input=json.dumps({"pad": "x" * QUOTA_BYTES}))
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "262144" in refused.value.response["Error"]["Message"]


@pytest.mark.parametrize("api", ["start_sync_execution", "test_state"])
def test_the_sync_and_test_apis_refuse_an_input_over_256_kib_too(aws, api):
    """API reference, StartSyncExecution and TestState: input has a maximum length of 262144."""
    from tests.conformance.test_express_executions import sync_client

    big = json.dumps({"pad": "x" * QUOTA_BYTES})
    client = sync_client(aws.aws.url)
    with pytest.raises(ClientError) as refused:
        if api == "test_state":
            client.test_state(
                definition=json.dumps({"Type": "Pass", "End": True}), roleArn=ROLE_ARN, input=big
            )
        else:
            machine = aws.machine(
                {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, type="EXPRESS"
            )
            client.start_sync_execution(stateMachineArn=machine, input=big)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "262144" in refused.value.response["Error"]["Message"]


def test_a_catch_naming_data_limit_exceeded_itself_takes_it_our_choice(aws, result_arn):
    """The guide says States.ALL does not catch States.DataLimitExceeded and calls it terminal,
    but is silent on a Catch that names it. Our choice (moto's grammar accepts the name): an
    explicit States.DataLimitExceeded matches."""
    run = aws.run(
        {
            "StartAt": "Call",
            "States": {
                "Call": big_result_task(
                    result_arn,
                    QUOTA_BYTES,
                    Catch=[{"ErrorEquals": ["States.DataLimitExceeded"], "Next": "Caught"}],
                    End=True,
                ),
                "Caught": {"Type": "Pass", "End": True},
            },
        }
    )
    assert run.status == "SUCCEEDED", run.describe()
    assert "Caught" in run.states_entered()


def test_a_task_input_over_256_kib_after_parameters_fails_with_data_limit_exceeded(aws, result_arn):
    """The guide: States.DataLimitExceeded also when, after Parameters, a state's input is over
    the quota. Each half fits; the Payload that Parameters builds from two of them does not."""
    half = QUOTA_BYTES // 2 + 1024
    run = aws.run(
        {
            "StartAt": "Call",
            "States": {
                "Call": big_result_task(
                    result_arn, half, ResultSelector={"text.$": "$.Payload.text"}, Next="Send"
                ),
                "Send": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {
                        "FunctionName": result_arn,
                        "Payload": {"kind": "none", "a.$": "$.text", "b.$": "$.text"},
                    },
                    "End": True,
                },
            },
        }
    )
    assert (run.status, run.error) == ("FAILED", "States.DataLimitExceeded"), run.describe()
    assert len(run.task_inputs(result_arn)) == 1  # the oversized task was never sent
