"""A Lambda task ends the same whether the interpreter calls the runner in-process (the default,
moto_patches/stepfunctions_lambda_direct.py) or over HTTP to its own endpoint (as moto does; the
embedded AWS started with ARCADEFLOW_LAMBDA_TASKS_OVER_HTTP=1).

Two embedded AWS processes, one per way, get the same functions, machines and executions by the
same names; each execution's whole history (every event's type, id, previous id and details,
outputs as the exact JSON text) must be equal, timestamps aside and with request ids and task
tokens (random on each side) masked. Plus what else a user sees: the output, the fault switch's
invocation count, a handler's calls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from arcadeflow.aws.moto_patches.stepfunctions_lambda_direct import OVER_HTTP_SWITCH
from arcadeflow.faults import clear_faults, list_faults, set_fault
from tests.conformance.harness import HANDLERS, Conformance
from tests.functional.branches.conftest import EmbeddedAwsProcess, poll

ACCOUNT = "123456789012"
FUNCTION = "alike-echo"
SLOW_FUNCTION = "alike-slow"  # a 1 s timeout
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FUNCTION}"
MISSING_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:alike-missing"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Where each process unpacked a function's code (its own directory, its zip's digest): in stack traces.
_CODE_DIR = re.compile(r"/[^\s\"]*/lambda-code/functions/[0-9a-f]+/")


@pytest.fixture(scope="module")
def ways(tmp_path_factory) -> Iterator[dict[str, Conformance]]:
    processes = {
        "direct": EmbeddedAwsProcess(tmp_path_factory.mktemp("direct"), lambda_code=(HANDLERS,)),
        "http": EmbeddedAwsProcess(
            tmp_path_factory.mktemp("http"), lambda_code=(HANDLERS,), env={OVER_HTTP_SWITCH: "1"}
        ),
    }
    try:
        harnesses = {way: Conformance(process) for way, process in processes.items()}
        for harness in harnesses.values():
            harness.function(FUNCTION)
            harness.function(SLOW_FUNCTION, timeout=1)
        yield harnesses
    finally:
        for process in processes.values():
            process.stop()


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return _CODE_DIR.sub("<code>/", _UUID.sub("<uuid>", value))
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items() if k != "timestamp"}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def run_both(
    ways: dict[str, Conformance], name: str, definition: dict[str, Any], execution_input: Any
) -> dict[str, Any]:
    """Runs the machine once on each way (same names); returns each way's (described, history)."""
    ended = {}
    for way, harness in ways.items():
        machine = harness.machine(definition, name=name)
        arn = harness.start(machine, execution_input, name=f"{name}-run")
        ended[way] = harness.finished(arn)
    return ended


def assert_alike(ended: dict[str, Any]) -> list[str]:
    direct, http = ended["direct"], ended["http"]
    assert _masked([direct.status, direct.output, direct.error, direct.cause]) == _masked(
        [http.status, http.output, http.error, http.cause]
    )
    assert _masked(direct.events) == _masked(http.events)
    return [event["type"] for event in direct.events]


def _task(resource: str, **fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "Call",
        "States": {"Call": {"Type": "Task", "Resource": resource, "End": True, **fields}},
    }


@pytest.mark.parametrize(
    ("label", "target"),
    [
        ("name", FUNCTION),
        ("full-arn", FUNCTION_ARN),
        ("partial-arn", f"{ACCOUNT}:function:{FUNCTION}"),
        ("qualified-arn", f"{FUNCTION_ARN}:$LATEST"),
        # Parameters the in-process way leaves to HTTP: the answer must not tell.
        ("qualifier", {"FunctionName": FUNCTION, "Qualifier": "$LATEST"}),
        ("log-type", {"FunctionName": FUNCTION, "LogType": "Tail"}),
    ],
)
def test_a_lambda_invoke_task_answers_alike_for_every_way_of_naming_the_function(ways, label, target) -> None:
    definition = _task(
        "arn:aws:states:::lambda:invoke",
        Parameters={
            **(target if isinstance(target, dict) else {"FunctionName": target}),
            "Payload.$": "$",
        },
    )
    name = f"alike-invoke-{label}"
    ended = run_both(ways, name, definition, {"return": {"score": 7, "name": "ünï"}})
    types = assert_alike(ended)
    if label == "partial-arn":
        # moto's GetFunction cannot read a partial ARN (a 500 either way; AWS accepts one): a gap
        # of the embedded AWS, not of either way, kept alike here.
        assert "TaskFailed" in types
        return
    assert ended["direct"].status == "SUCCEEDED", (ended["direct"].error, ended["direct"].cause)
    assert ended["direct"].output["Payload"] == {"score": 7, "name": "ünï"}
    assert "TaskSucceeded" in types


def test_a_bare_function_arn_task_answers_alike_with_a_string_result(ways) -> None:
    ended = run_both(ways, "alike-bare", _task(FUNCTION_ARN), {"return": "just text"})
    types = assert_alike(ended)
    assert ended["direct"].output == "just text"
    assert types[2:5] == ["LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded"]


def test_a_domain_error_is_retried_then_caught_by_its_name_alike(ways) -> None:
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": FUNCTION_ARN,
                "Retry": [{"ErrorEquals": ["Game.Broken"], "MaxAttempts": 1, "IntervalSeconds": 1}],
                "Catch": [{"ErrorEquals": ["Game.Broken"], "Next": "Caught", "ResultPath": "$.error"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    ended = run_both(ways, "alike-caught", definition, {"raise": "Game.Broken", "message": "on purpose"})
    types = assert_alike(ended)
    assert types.count("LambdaFunctionFailed") == 2
    assert ended["direct"].output["error"]["Error"] == "Game.Broken"


def test_a_missing_function_fails_alike_with_lambdas_error(ways) -> None:
    for resource, name in (
        (MISSING_ARN, "alike-missing-bare"),
        ("arn:aws:states:::lambda:invoke", "alike-missing"),
    ):
        fields = (
            {"Parameters": {"FunctionName": MISSING_ARN, "Payload": {}}} if resource != MISSING_ARN else {}
        )
        ended = run_both(ways, name, _task(resource, **fields), {})
        assert_alike(ended)
        assert (ended["direct"].status, ended["direct"].error) == (
            "FAILED",
            "Lambda.ResourceNotFoundException",
        )


def test_a_handler_that_overruns_its_timeout_fails_alike(ways) -> None:
    slow = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{SLOW_FUNCTION}"
    ended = run_both(ways, "alike-timeout", _task(slow), {"sleep": 3, "return": 1})
    assert_alike(ended)
    assert ended["direct"].error == "Sandbox.Timedout"


def test_an_injected_fault_counts_one_invocation_per_task_attempt_alike(ways) -> None:
    definition = _task(
        FUNCTION_ARN, Retry=[{"ErrorEquals": ["Game.Injected"], "MaxAttempts": 2, "IntervalSeconds": 1}]
    )
    faults = {}
    try:
        for harness in ways.values():
            set_fault(harness.aws.url, FUNCTION, fail_on=[1, 2], error="Game.Injected", message="injected")
        ended = run_both(ways, "alike-fault", definition, {"return": "third time"})
        for way, harness in ways.items():
            [faults[way]] = list_faults(harness.aws.url)
    finally:
        for harness in ways.values():
            clear_faults(harness.aws.url)
    assert_alike(ended)
    assert ended["direct"].output == "third time"
    assert faults["direct"]["invocations"] == faults["http"]["invocations"] == 3
    assert faults["direct"]["failed"] == faults["http"]["failed"] == [1, 2]


def test_a_wait_for_task_token_invoke_resumes_alike(ways) -> None:
    definition = _task(
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        Parameters={"FunctionName": FUNCTION, "Payload": {"return": "sent", "token.$": "$$.Task.Token"}},
        TimeoutSeconds=30,
    )
    ended = {}
    for way, harness in ways.items():
        arn = harness.start(harness.machine(definition, name="alike-token"), {}, name="alike-token-run")

        def scheduled_token(harness: Conformance = harness, arn: str = arn) -> str | None:
            history = harness.history(arn)
            if not any(event["type"] == "TaskSubmitted" for event in history):
                return None
            [scheduled] = [event for event in history if event["type"] == "TaskScheduled"]
            return str(json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["Payload"]["token"])

        token = poll(scheduled_token, f"{way}: the task to be submitted")
        harness.sfn.send_task_success(taskToken=token, output=json.dumps({"answer": "yes"}))
        ended[way] = harness.finished(arn)
    types = assert_alike(ended)
    assert ended["direct"].output == {"answer": "yes"}
    assert "TaskSubmitted" in types
