"""Canaries of the lambda part's moto patches (the payload quota): each runs moto without its
patch and shows the bug is still there, then with it and shows AWS's behaviour."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.unit.test_moto_patches import (
    ACCOUNT,
    EXECUTING,
    PASS_MACHINE,
    client,
    echo_function,
    finished,
    fixed_upstream,
    front,  # noqa: F401 - the fixture
    state_machine,
    with_patch,
    without,
)

OVER_QUOTA = 262_144 + 1
STATES_ALL = "stepfunctions_data_limit_not_caught_by_states_all"
OVERSIZED = "stepfunctions_oversized_payloads_refused"
TASK_INPUT = "stepfunctions_data_limit_of_task_input"


def _oversized_result_caught_by_states_all() -> dict[str, Any]:
    """A Lambda task whose result is over the quota, under a Catch of States.ALL: how it ends.
    moto without Docker echoes the payload, so the result is the payload built by the task."""
    function = echo_function()
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function, "Payload": {"pad.$": "$.pad"}},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    sfn = client("stepfunctions")
    arn = state_machine(definition)
    # Under the quota as input (so StartExecution's limit is not what this is about), over it as
    # a result: the echo wraps the payload in the invoke's response fields.
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"pad": "x" * (OVER_QUOTA - 30)}))
    return finished(execution["executionArn"])


def test_canary_stepfunctions_data_limit_not_caught_by_states_all() -> None:
    with without(STATES_ALL), mock_aws(config=EXECUTING):
        ended = _oversized_result_caught_by_states_all()
    assert ended["status"] == "SUCCEEDED", fixed_upstream(STATES_ALL)  # the Catch took it


def test_stepfunctions_data_limit_fails_the_execution_past_a_states_all_catch() -> None:
    with with_patch(STATES_ALL), mock_aws(config=EXECUTING):
        ended = _oversized_result_caught_by_states_all()
    assert (ended["status"], ended["error"]) == ("FAILED", "States.DataLimitExceeded")


def _task_with_oversized_parameters() -> tuple[dict[str, Any], list[str]]:
    """A Lambda task whose Parameters double a 150 KB input: how it ends, and its history's types."""
    function = echo_function()
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function, "Payload": {"a.$": "$.pad", "b.$": "$.pad"}},
                "End": True,
            }
        },
    }
    sfn = client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=state_machine(definition), input=json.dumps({"pad": "x" * 150_000})
    )["executionArn"]
    ended = finished(execution)
    return ended, [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]


def test_canary_stepfunctions_data_limit_of_task_input() -> None:
    with without(TASK_INPUT), mock_aws(config=EXECUTING):
        _ended, types = _task_with_oversized_parameters()
    assert "TaskScheduled" in types, fixed_upstream(TASK_INPUT)  # the 300 KB payload was sent


def test_stepfunctions_data_limit_of_task_input_fails_the_task_before_it_is_sent() -> None:
    with with_patch(TASK_INPUT), mock_aws(config=EXECUTING):
        ended, types = _task_with_oversized_parameters()
    assert (ended["status"], ended["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert "TaskScheduled" not in types


def _start_oversized(endpoint: str | None = None) -> dict[str, Any]:
    sfn = client("stepfunctions", endpoint)
    arn = state_machine(PASS_MACHINE, endpoint_url=endpoint)
    try:
        return sfn.start_execution(stateMachineArn=arn, input=json.dumps({"pad": "x" * OVER_QUOTA}))
    except ClientError as exc:
        return {"error": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}


def test_canary_stepfunctions_oversized_payloads_refused() -> None:
    with mock_aws(config=EXECUTING):
        out = _start_oversized()
    assert "executionArn" in out, fixed_upstream(OVERSIZED)


def test_stepfunctions_oversized_payloads_refused_as_aws_refuses_them(front: Callable[..., str]) -> None:  # noqa: F811
    endpoint = front(OVERSIZED)
    out = _start_oversized(endpoint)
    assert out["error"] == "ValidationException"
    assert "Member must have length less than or equal to 262144" in out["message"]
    sfn = client("stepfunctions", endpoint)
    arn = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    assert "executionArn" in sfn.start_execution(stateMachineArn=arn, input=json.dumps({"pad": "x" * 1000}))


@pytest.mark.parametrize("target", ["AWSStepFunctions.SendTaskSuccess"])
def test_stepfunctions_oversized_task_output_is_refused_before_moto_sees_it(target: str) -> None:
    from arcadeflow.aws.moto_patches.stepfunctions_data_limit import refuse_oversized_payloads

    def forward(environ: dict[str, Any], body: bytes) -> Any:
        raise AssertionError("an oversized output must not reach moto")

    intercept = refuse_oversized_payloads(forward)
    body = json.dumps({"taskToken": "t", "output": json.dumps("x" * OVER_QUOTA)}).encode()
    status, _headers, payload = intercept({"HTTP_X_AMZ_TARGET": target}, body) or (0, {}, b"")
    assert (status, json.loads(payload)["__type"]) == (400, "ValidationException")
    assert (
        intercept({"HTTP_X_AMZ_TARGET": target}, json.dumps({"taskToken": "t", "output": "{}"}).encode())
        is None
    )


UNZIPPABLE = "lambda_unzippable_code_refused"


def _create_from_bytes(code: bytes, endpoint: str | None = None) -> dict[str, Any]:
    role = f"arn:aws:iam::{ACCOUNT}:role/canary-zip"
    with contextlib.suppress(ClientError):  # made by the first call
        client("iam", endpoint).create_role(RoleName="canary-zip", AssumeRolePolicyDocument="{}")
    try:
        return client("lambda", endpoint).create_function(
            FunctionName="canary-zip", Runtime="python3.11", Role=role, Handler="a.h", Code={"ZipFile": code}
        )
    except ClientError as exc:
        return {"error": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}


def test_canary_lambda_unzippable_code_refused() -> None:
    with mock_aws():
        out = _create_from_bytes(b"not a zip at all")
    assert "FunctionArn" in out, fixed_upstream(UNZIPPABLE)


def test_lambda_unzippable_code_refused_as_aws_refuses_it(front: Callable[..., str]) -> None:  # noqa: F811
    endpoint = front(UNZIPPABLE)
    out = _create_from_bytes(b"not a zip at all", endpoint)
    assert out == {
        "error": "InvalidParameterValueException",
        "message": "Could not unzip uploaded file. Please check your file, then try to upload again.",
    }
    truncated = _create_from_bytes(b"PK\x03\x04" + b"\x00" * 10, endpoint)
    assert truncated["error"] == "InvalidParameterValueException"
