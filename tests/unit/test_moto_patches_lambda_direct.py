"""Canary of stepfunctions_lambda_direct: moto's interpreter sends every Lambda task over HTTP to
its own endpoint; with the patch the embedded AWS's runner answers it in-process, and whatever the
patch does not resolve itself still goes over HTTP.

tests/functional/lambda_tasks/test_direct_and_http_alike.py holds the two ways alike, history by
history; here: which way a task takes, counted at the front's Invoke handler and at the runner.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from arcadeflow.aws.embedded import MAX_INVOKE_REQUEST_BYTES, EmbeddedAws
from arcadeflow.aws.lambda_runner import FunctionConfig, FunctionNotFound, InvocationResult
from arcadeflow.aws.moto_patches import stepfunctions_lambda_direct as direct
from tests.unit.test_moto_patches import ACCOUNT, REGION, client, fixed_upstream, with_patch, without

PATCH = "stepfunctions_lambda_direct"
FUNCTION = "direct-echo"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}"


class Counted:
    """The embedded AWS's front in this process, counting the Invoke requests it serves."""

    def __init__(self, aws: EmbeddedAws) -> None:
        self.aws = aws
        self.http_invokes = 0
        serve_invoke = aws._serve_invoke

        def counting(environ: dict[str, Any], body: bytes) -> Any:
            self.http_invokes += 1
            return serve_invoke(environ, body)

        aws._serve_invoke = counting  # type: ignore[method-assign]

    def run_one_task(self, resource: str = FUNCTION_ARN, **fields: Any) -> dict[str, Any]:
        """One execution of a one-task machine; its DescribeExecution once it ended."""
        sfn = client("stepfunctions", self.aws.endpoint_url)
        definition = {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": resource, **fields}}}
        definition["States"]["Call"]["End"] = True
        machine = sfn.create_state_machine(
            name=f"direct-{time.monotonic_ns()}",
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/direct",
            definition=json.dumps(definition),
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"n": 1}))["executionArn"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                return dict(described)
            time.sleep(0.02)
        raise AssertionError(f"{execution} still RUNNING")


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counted]:
    """An embedded AWS front with the echo function, the interpreter's clients pointed at it."""
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config["stepfunctions"], "execute_state_machine", True)
    aws = EmbeddedAws(0, REGION)
    aws.serve()
    monkeypatch.setenv("MOTO_PORT", str(aws.port))
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {'echo': event}\n")
    role = client("iam", aws.endpoint_url).create_role(RoleName="direct", AssumeRolePolicyDocument="{}")
    client("lambda", aws.endpoint_url).create_function(
        FunctionName=FUNCTION,
        Runtime="python3.11",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )
    try:
        yield Counted(aws)
    finally:
        direct.stop_serving(aws.port)
        requests.post(f"{aws.endpoint_url}/moto-api/reset", timeout=10)
        aws.stop()


def test_canary_stepfunctions_lambda_direct(embedded: Counted) -> None:
    """moto's interpreter invokes a Lambda task with an HTTP request to its own endpoint."""
    direct.serve_from(embedded.aws.port, embedded.aws.runner)  # registered, but the patch is off
    with without(PATCH):
        ended = embedded.run_one_task()
    assert ended["status"] == "SUCCEEDED"
    assert (embedded.http_invokes, embedded.aws.runner.invocation_count) == (1, 1), fixed_upstream(PATCH)


def test_stepfunctions_lambda_direct_runs_the_task_on_the_runner_with_no_request(embedded: Counted) -> None:
    with without(PATCH):
        over_http = embedded.run_one_task()
    direct.serve_from(embedded.aws.port, embedded.aws.runner)
    with with_patch(PATCH):
        bare = embedded.run_one_task()
        invoke = embedded.run_one_task(
            "arn:aws:states:::lambda:invoke", Parameters={"FunctionName": FUNCTION, "Payload.$": "$"}
        )
    assert (bare["status"], bare["output"]) == ("SUCCEEDED", over_http["output"])
    assert json.loads(bare["output"]) == {"echo": {"n": 1}}
    assert json.loads(invoke["output"]) == {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "Payload": {"echo": {"n": 1}},
    }
    # One HTTP request (the run without the patch), three invocations in all.
    assert (embedded.http_invokes, embedded.aws.runner.invocation_count) == (1, 3)


def test_stepfunctions_lambda_direct_goes_over_http_for_an_endpoint_that_gave_no_runner(
    embedded: Counted,
) -> None:
    with with_patch(PATCH):
        ended = embedded.run_one_task()
    assert ended["status"] == "SUCCEEDED"
    assert embedded.http_invokes == 1


def test_stepfunctions_lambda_direct_leaves_a_missing_function_to_http(embedded: Counted) -> None:
    direct.serve_from(embedded.aws.port, embedded.aws.runner)
    missing = FUNCTION_ARN.replace(FUNCTION, "absent")
    with with_patch(PATCH), with_patch("stepfunctions_lambda_error_names"):
        ended = embedded.run_one_task(missing)
    assert (ended["status"], ended["error"]) == ("FAILED", "Lambda.ResourceNotFoundException")
    assert f"Function not found: {missing}" in ended["cause"]
    assert (embedded.http_invokes, embedded.aws.runner.invocation_count) == (1, 0)


# --- what the patch does not resolve itself: a runner that records what reaches it ---------------


class RecordingRunner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, str]] = []

    def resolve(self, name: str) -> FunctionConfig:
        if "absent" in name:
            raise FunctionNotFound(name)
        return FunctionConfig(
            name=name, arn=name, handler="app.handler", timeout_seconds=3, memory_mb=128, environment=()
        )

    def invoke(self, name: str, payload: bytes, trace_id: str = "", config: Any = None) -> InvocationResult:
        self.calls.append((name, payload, trace_id))
        return InvocationResult(payload=b'{"errorType": "Game.Broken"}', function_error="Unhandled")


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, Any]], Any]]:
    runner = RecordingRunner()
    monkeypatch.setenv("MOTO_PORT", "47001")
    direct.serve_from(47001, runner)  # type: ignore[arg-type]
    try:
        yield lambda parameters: (direct.invoke_in_process(parameters), runner.calls)
    finally:
        direct.stop_serving(47001)


@pytest.mark.parametrize(
    "parameters",
    [
        {"FunctionName": "f", "Payload": b"{}", "Qualifier": "live"},
        {"FunctionName": "f", "Payload": b"{}", "ClientContext": "e30="},
        {"FunctionName": "f", "Payload": b"{}", "LogType": "Tail"},
        {"FunctionName": "f", "Payload": b"{}", "InvocationType": "Event"},
        {"FunctionName": "f%41", "Payload": b"{}"},  # the front unquotes a path twice
        {"FunctionName": "f/g", "Payload": b"{}"},
        {"FunctionName": "", "Payload": b"{}"},
        {"FunctionName": "absent", "Payload": b"{}"},
        {"FunctionName": "f", "Payload": b"x" * (MAX_INVOKE_REQUEST_BYTES + 1)},  # the front's 413
        {"FunctionName": "f", "Payload": "{}"},  # not what the interpreter sends
    ],
    ids=[
        "qualifier",
        "client-context",
        "log-type",
        "invocation-type",
        "escaped",
        "slash",
        "empty",
        "missing",
        "oversized",
        "text-payload",
    ],
)
def test_what_the_patch_does_not_resolve_goes_over_http_untouched(recording, parameters) -> None:
    answer, calls = recording(parameters)
    assert answer is None and calls == []


def test_a_function_error_answers_as_botocore_parses_it_with_the_trace_header_botocore_sends(
    recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "caller")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1 x")
    answer, calls = recording({"FunctionName": f"{FUNCTION_ARN}:$LATEST", "Payload": b'{"a": 1}'})
    assert list(answer.items()) == [
        ("StatusCode", 200),
        ("FunctionError", "Unhandled"),
        ("ExecutedVersion", "$LATEST"),
        ("Payload", {"errorType": "Game.Broken"}),
    ]
    assert calls == [
        (f"{FUNCTION_ARN}:$LATEST", b'{"a": 1}', "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1%20x")
    ]


def test_the_benchmarks_switch_keeps_every_task_on_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(direct.OVER_HTTP_SWITCH, "1")
    monkeypatch.setenv("MOTO_PORT", "47002")
    direct.serve_from(47002, RecordingRunner())  # type: ignore[arg-type]
    try:
        assert direct.invoke_in_process({"FunctionName": "f", "Payload": b"{}"}) is None
    finally:
        direct.stop_serving(47002)
