"""Canaries of the testapi part's moto patches (express executions), beside the registry's own
tests in test_moto_patches.py (whose helpers these use). Each canary runs moto without its patch
and reproduces the departure from AWS; the test beside it shows AWS's behaviour with the patch."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from arcadeflow.aws.moto_patches import stepfunctions_express
from tests.unit.test_moto_patches import (
    ACCOUNT,
    EXECUTING,
    PASS_MACHINE,
    client,
    fixed_upstream,
    front,  # noqa: F401 - a fixture
    with_patch,
)

EXPRESS_PATCH = "stepfunctions_express_executions"
HISTORY_PATCH = "stepfunctions_express_history_refused"
STALL_MACHINE = {"StartAt": "Stall", "States": {"Stall": {"Type": "Wait", "Seconds": 60, "End": True}}}


def express_machine(definition: dict[str, Any], endpoint_url: str | None = None) -> str:
    return client("stepfunctions", endpoint_url).create_state_machine(
        name="express-canary",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/canary",
        definition=json.dumps(definition),
        type="EXPRESS",
    )["stateMachineArn"]


def _start_twice(endpoint_url: str | None = None) -> list[str]:
    sfn = client("stepfunctions", endpoint_url)
    arn = express_machine(PASS_MACHINE, endpoint_url)
    started = []
    for _ in range(2):
        try:
            started.append(sfn.start_execution(stateMachineArn=arn, name="same")["executionArn"])
        except ClientError as exc:
            started.append(exc.response["Error"]["Code"])
    return started


# --- stepfunctions_express_executions -------------------------------------------------------------


def test_canary_stepfunctions_express_executions() -> None:
    """moto runs an EXPRESS machine's executions as STANDARD ones: a standard ARN, and a name
    deduplicated (the second start starts nothing)."""
    with mock_aws(config=EXECUTING):
        first, second = _start_twice()
    assert ":execution:" in first, fixed_upstream(EXPRESS_PATCH)
    assert second in (first, "ExecutionAlreadyExists")


def test_stepfunctions_express_executions_have_the_express_arn_and_every_start_starts() -> None:
    with with_patch(EXPRESS_PATCH), mock_aws(config=EXECUTING):
        first, second = _start_twice()
    assert first != second
    for arn in (first, second):
        assert arn.startswith(f"arn:aws:states:us-east-1:{ACCOUNT}:express:express-canary:same:")


def test_an_express_execution_running_at_the_express_limit_ends_timed_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(stepfunctions_express.EXPRESS_MAX_SECONDS_VARIABLE, "0.5")
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    with mock_aws(config=EXECUTING):
        arn = express_machine(STALL_MACHINE)
        machine = stepfunctions_parser_backends[ACCOUNT]["us-east-1"].describe_state_machine(arn)
        execution = stepfunctions_express.new_express_execution(machine, "stalls", "{}", synchronous=True)
        started = time.monotonic()
        execution.start()  # synchronous: returns when the program ends
    assert execution.sync_execution_status.value == "TIMED_OUT"
    assert time.monotonic() - started < 30, "the express limit ended it, not the 60 s Wait"


def test_an_asynchronous_express_execution_ends_timed_out_at_the_limit_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(stepfunctions_express.EXPRESS_MAX_SECONDS_VARIABLE, "0.5")
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    with with_patch(EXPRESS_PATCH), mock_aws(config=EXECUTING):
        arn = express_machine(STALL_MACHINE)
        execution_arn = client("stepfunctions").start_execution(stateMachineArn=arn)["executionArn"]
        execution = stepfunctions_express._recent_execution(execution_arn)
        assert execution is not None
        deadline = time.monotonic() + 30  # well below the 60 s Wait
        while execution.exec_status.value == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (
            stepfunctions_parser_backends[ACCOUNT]["us-east-1"].describe_state_machine(arn).executions == []
        )
    assert execution.exec_status.value == "TIMED_OUT"


@pytest.mark.parametrize("value", ["soon", "0", "301"])
def test_the_express_limit_variable_is_refused_outside_awss_range(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(stepfunctions_express.EXPRESS_MAX_SECONDS_VARIABLE, value)
    with pytest.raises(ValueError, match=stepfunctions_express.EXPRESS_MAX_SECONDS_VARIABLE):
        stepfunctions_express.express_max_seconds()


def test_without_the_variable_the_express_limit_is_awss_five_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(stepfunctions_express.EXPRESS_MAX_SECONDS_VARIABLE, raising=False)
    assert stepfunctions_express.express_max_seconds() == 300


# --- stepfunctions_express_history_refused (an interceptor) ---------------------------------------


def test_canary_stepfunctions_express_history_refused() -> None:
    """moto describes and lists an express execution, where AWS keeps no history of it."""
    with mock_aws(config=EXECUTING):
        sfn = client("stepfunctions")
        machine = express_machine(PASS_MACHINE)
        arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        described = sfn.describe_execution(executionArn=arn)
        listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert described["executionArn"] == arn, fixed_upstream(HISTORY_PATCH)
    assert [e["executionArn"] for e in listed] == [arn]


def test_stepfunctions_express_history_is_refused_as_aws_refuses_it(front: Callable[..., str]) -> None:  # noqa: F811
    with with_patch(EXPRESS_PATCH):
        url = front(HISTORY_PATCH)
        sfn = client("stepfunctions", url)
        machine = express_machine(PASS_MACHINE, url)
        arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        codes = []
        for call in (
            lambda: sfn.describe_execution(executionArn=arn),
            lambda: sfn.get_execution_history(executionArn=arn),
            lambda: sfn.list_executions(stateMachineArn=machine),
            lambda: sfn.redrive_execution(executionArn=arn),
        ):
            with pytest.raises(ClientError) as refused:
                call()
            codes.append(refused.value.response["Error"]["Code"])
    assert codes == ["InvalidArn", "InvalidArn", "StateMachineTypeNotSupported", "ExecutionNotRedrivable"]


def test_the_express_executions_kept_for_parents_polls_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    monkeypatch.setattr(stepfunctions_express, "RECENT_EXPRESS_MAX", 3)
    monkeypatch.setattr(stepfunctions_express, "_recent", type(stepfunctions_express._recent)())
    for n in range(5):  # still running (no stopDate): only the bound drops them
        stepfunctions_express._remember(SimpleNamespace(exec_arn=f"arn:{n}", stop_date=None))
    assert stepfunctions_express.recently_started_count() == 3
    assert stepfunctions_express._recent_execution("arn:0") is None
    assert stepfunctions_express._recent_execution("arn:4") is not None
