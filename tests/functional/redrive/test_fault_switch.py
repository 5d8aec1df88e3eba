"""The test fault switch: chosen invocations of a function fail as an unhandled handler
exception would, as a timed-out or a crashed sandbox would, seen by a direct Invoke and by a
state machine's Retry/Catch."""

from __future__ import annotations

import json
import os
import re
import signal
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from arcadeflow.faults import FaultSwitchUnavailable, clear_faults, list_faults, set_fault
from tests.functional.branches.conftest import ROLE_ARN, Flow, poll


@pytest.fixture(autouse=True)
def no_faults_left(bench):
    yield
    clear_faults(bench.aws.url)


def _invoke(bench, function_arn: str, case: str) -> dict:
    answer = bench.aws.client("lambda").invoke(
        FunctionName=function_arn, Payload=json.dumps({"userId": case})
    )
    return {"error": answer.get("FunctionError"), "payload": json.loads(answer["Payload"].read())}


def test_the_chosen_invocations_fail_with_the_error_and_the_others_run_the_handler(bench) -> None:
    function_arn = bench.function_arn("fault_target")
    case = str(uuid.uuid4())
    bench.script(case, "fault_target", {"return": {"ran": True}})
    set_fault(
        bench.aws.url, "branches-fault-target", fail_on=[2, 3], error="Game.Broken", message="on purpose"
    )

    outcomes = [_invoke(bench, function_arn, case) for _ in range(4)]

    assert outcomes[0] == {"error": None, "payload": {"ran": True}}
    for failed in outcomes[1:3]:
        assert failed["error"] == "Unhandled"
        assert failed["payload"]["errorType"] == "Game.Broken"
        assert failed["payload"]["errorMessage"] == "on purpose"
    assert outcomes[3] == {"error": None, "payload": {"ran": True}}
    # The failed invocations never reached the handler: it recorded two calls, not four.
    assert len(bench.calls(case, "fault_target")) == 2
    [fault] = list_faults(bench.aws.url)
    assert fault["invocations"] == 4 and fault["failed"] == [2, 3]


def test_a_fault_names_a_function_by_its_logical_name_too_and_delete_clears_it(bench) -> None:
    function_arn = bench.function_arn("fault_logical")  # physical name branches-fault-logical
    case = str(uuid.uuid4())
    set_fault(bench.aws.url, "fault_logical", fail_on=[1])  # as the description names it
    assert _invoke(bench, function_arn, case)["payload"]["errorType"] == "Arcadeflow.InjectedFault"
    clear_faults(bench.aws.url)
    assert list_faults(bench.aws.url) == []
    assert _invoke(bench, function_arn, case)["error"] is None


def test_a_state_machine_retries_and_catches_an_injected_error_by_its_name(bench) -> None:
    function_arn = bench.function_arn("fault_in_flow")
    definition = {
        "StartAt": "CallIt",
        "States": {
            "CallIt": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                "Retry": [{"ErrorEquals": ["Game.Transient"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["Game.Broken"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Fail", "Error": "Caught", "Cause": "the injected error was caught"},
        },
    }
    machine = bench.sfn.create_state_machine(
        name=f"faults-{uuid.uuid4().hex[:6]}", definition=json.dumps(definition), roleArn=ROLE_ARN
    )["stateMachineArn"]
    flow = Flow(bench, machine)

    set_fault(bench.aws.url, function_arn, fail_on=[1], error="Game.Transient")
    retried = flow.run("retried", {"userId": str(uuid.uuid4())})
    assert retried.status == "SUCCEEDED", retried.describe()

    set_fault(bench.aws.url, function_arn, fail_on=[1], error="Game.Broken")
    caught = flow.run("caught", {"userId": str(uuid.uuid4())})
    assert caught.error == "Caught", caught.describe()


def test_a_bad_fault_is_refused_with_what_is_wrong(bench) -> None:
    with pytest.raises(FaultSwitchUnavailable, match="failOn"):
        set_fault(bench.aws.url, "anything", fail_on=[0])
    request = urllib.request.Request(f"{bench.aws.url}/arcadeflow/faults", data=b"[1]", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    assert list_faults(bench.aws.url) == []


# --- the timeout and crash modes ----------------------------------------------------------------


def test_a_timeout_fails_as_lambda_reports_one_without_running_or_waiting_for_the_handler(bench) -> None:
    function_arn = bench.function_arn("fault_timeout")  # Timeout=10 (the bench's functions)
    case = str(uuid.uuid4())
    bench.script(case, "fault_timeout", {"return": {"ran": True}})
    set_fault(bench.aws.url, function_arn, fail_on=[1], mode="timeout")

    started = time.monotonic()
    timed_out = _invoke(bench, function_arn, case)
    elapsed = time.monotonic() - started

    assert timed_out["error"] == "Unhandled"
    assert timed_out["payload"]["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(
        r"RequestId: [0-9a-f-]{36} Error: Task timed out after 10\.00 seconds",
        timed_out["payload"]["errorMessage"],
    )
    # A fault that waited out the function's 10 s timeout would be useless to a test suite.
    assert elapsed < 5, f"the injected timeout took {elapsed:.1f} s"
    assert bench.calls(case, "fault_timeout") == []
    # The next invocation gets a fresh worker and runs the handler.
    assert _invoke(bench, function_arn, case) == {"error": None, "payload": {"ran": True}}
    [fault] = list_faults(bench.aws.url)
    assert (fault["mode"], fault["error"], fault["failed"]) == ("timeout", "Sandbox.Timedout", [1])


def test_a_crash_kills_the_worker_and_answers_what_lambda_answers_for_a_crashed_sandbox(bench) -> None:
    function_arn = bench.function_arn("fault_crash")
    case = str(uuid.uuid4())
    bench.script(case, "fault_crash", {"return": {"ran": True}})
    assert _invoke(bench, function_arn, case)["error"] is None  # a warm worker to kill
    set_fault(bench.aws.url, "fault_crash", fail_on=[1, 3], mode="crash")

    outcomes = [_invoke(bench, function_arn, case) for _ in range(3)]

    for crashed in (outcomes[0], outcomes[2]):
        assert crashed["error"] == "Unhandled"
        assert crashed["payload"]["errorType"] == "Runtime.ExitError"
        # "signal: killed" is read from the worker's exit status: a real SIGKILL of the process.
        assert re.fullmatch(
            r"RequestId: [0-9a-f-]{36} Error: Runtime exited with error: signal: killed",
            crashed["payload"]["errorMessage"],
        ), crashed
    assert outcomes[1] == {"error": None, "payload": {"ran": True}}
    # The crash comes before the handler: it ran for the warm-up and the one good call only.
    assert len(bench.calls(case, "fault_crash")) == 2


def test_a_state_machine_retries_a_crashed_sandbox_by_its_error_name(bench) -> None:
    function_arn = bench.function_arn("fault_crash_in_flow")
    definition = {
        "StartAt": "CallIt",
        "States": {
            "CallIt": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                "Retry": [{"ErrorEquals": ["Runtime.ExitError"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                "End": True,
            },
        },
    }
    machine = bench.sfn.create_state_machine(
        name=f"faults-{uuid.uuid4().hex[:6]}", definition=json.dumps(definition), roleArn=ROLE_ARN
    )["stateMachineArn"]
    set_fault(bench.aws.url, function_arn, fail_on=[1, 2], mode="crash")

    execution = Flow(bench, machine).run("crashed-twice", {"userId": str(uuid.uuid4())})

    assert execution.status == "SUCCEEDED", execution.describe()
    failures = [e["taskFailedEventDetails"]["error"] for e in execution.events if e["type"] == "TaskFailed"]
    assert failures == ["Runtime.ExitError", "Runtime.ExitError"]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"mode": "explode"}, "'mode' must be one of error, timeout, crash"),
        ({"mode": "crash", "error": "Game.Broken"}, "mode 'crash' fails with Runtime.ExitError"),
        ({"mode": "timeout", "message": "slow"}, "mode 'timeout' fails with Sandbox.Timedout"),
    ],
)
def test_a_mode_is_refused_when_unknown_or_given_an_error_aws_would_not_give(bench, body, complaint) -> None:
    request = urllib.request.Request(
        f"{bench.aws.url}/arcadeflow/faults",
        data=json.dumps({"function": "anything", "failOn": [1], **body}).encode(),
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    assert complaint in refused.value.read().decode()
    assert list_faults(bench.aws.url) == []


def _workers_of(parent_pid: int, function_name: str) -> list[int]:
    """The worker processes (children of the embedded AWS) running that function, from /proc."""
    # Each thread's children are listed under its own task: workers start on request threads.
    children = []
    for task in Path(f"/proc/{parent_pid}/task").iterdir():
        try:
            children += (task / "children").read_text().split()
        except OSError:  # the thread ended meanwhile
            continue
    found = []
    for child in children:
        try:
            environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        except OSError:  # exited meanwhile
            continue
        if f"AWS_LAMBDA_FUNCTION_NAME={function_name}".encode() in environ:
            found.append(int(child))
    return found


def test_a_worker_killed_while_idle_is_replaced_without_failing_the_next_invocation(bench) -> None:
    function_arn = bench.function_arn("killed_idle")
    case = str(uuid.uuid4())
    bench.script(case, "killed_idle", {"return": {"ran": True}})
    assert _invoke(bench, function_arn, case)["error"] is None
    [worker] = _workers_of(bench.aws.proc.pid, "branches-killed-idle")
    os.kill(worker, signal.SIGKILL)  # as a crashed sandbox between invocations
    poll(lambda: not _workers_of(bench.aws.proc.pid, "branches-killed-idle"), "the killed worker to exit")

    assert _invoke(bench, function_arn, case) == {"error": None, "payload": {"ran": True}}
    assert len(bench.calls(case, "killed_idle")) == 2


def test_a_sandbox_that_exits_while_starting_fails_the_invocation_as_runtime_exit_error(bench) -> None:
    # An environment Python refuses at startup: the worker exits (status 1) before it is ready,
    # as a sandbox killed during its init does; Lambda reports both as Runtime.ExitError.
    function_arn = bench.aws.client("lambda").create_function(
        FunctionName=f"branches-exits-at-start-{uuid.uuid4().hex[:6]}",
        Runtime="python3.11",
        Role=ROLE_ARN,
        Handler="tests.functional.branches.scripted_handlers.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Timeout=10,
        Environment={"Variables": {"PYTHONHASHSEED": "not-a-number"}},
    )["FunctionArn"]

    failed = _invoke(bench, function_arn, str(uuid.uuid4()))

    assert failed["error"] == "Unhandled"
    assert failed["payload"]["errorType"] == "Runtime.ExitError"
    assert re.fullmatch(
        r"RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 1",
        failed["payload"]["errorMessage"],
    ), failed
