"""The commands a person runs on a failed execution, against the embedded AWS through its public
API only (`--endpoint-url`, as against LocalStack): trace it, redrive it in bulk, trace it again."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from arcadeflow.cli import main
from arcadeflow.faults import clear_faults, set_fault
from tests.functional.branches.conftest import ROLE_ARN, Flow

FAULT = "Arcadeflow.InjectedFault"


@pytest.fixture(autouse=True)
def no_faults_left(bench):
    yield
    clear_faults(bench.aws.url)


def _task(function_arn: str, nxt: str | None = None, **extra: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
        "OutputPath": "$.Payload",
        **extra,
    }
    state.update({"Next": nxt} if nxt else {"End": True})
    return state


def _cli(bench, capsys, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--endpoint-url", bench.aws.url])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def machine(bench) -> tuple[str, Flow, str]:
    check, item = bench.function_arn("trace_check"), bench.function_arn("trace_item")
    name = f"trace-{uuid.uuid4().hex[:8]}"
    definition = {
        "StartAt": "CheckPlayer",
        "States": {
            "CheckPlayer": _task(
                check,
                "WriteItems",
                ResultPath=None,
                OutputPath="$",
                Retry=[{"ErrorEquals": ["Game.Transient"], "IntervalSeconds": 1, "MaxAttempts": 2}],
            ),
            "WriteItems": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"userId.$": "$.userId", "item.$": "$$.Map.Item.Value"},
                "ItemProcessor": {"StartAt": "WriteItem", "States": {"WriteItem": _task(item)}},
                "End": True,
            },
        },
    }
    arn = bench.sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE_ARN)[
        "stateMachineArn"
    ]
    return name, Flow(bench, arn), item


def test_trace_then_bulk_redrive_then_trace_again(bench, machine, capsys):
    name, flow, item = machine
    check = bench.function_arn("trace_check")
    case = str(uuid.uuid4())
    bench.script(case, "trace_check", {"return": {"ok": True}})
    bench.script(case, "trace_item", {"return": {"written": "$.item"}})
    set_fault(bench.aws.url, check, fail_on=[1], error="Game.Transient", message="try again")
    set_fault(bench.aws.url, item, fail_on=[2, 5], error=FAULT, message="the feed table is gone")
    failed = flow.run("first", {"userId": case, "items": list(range(6))})
    assert failed.status == "FAILED", failed.describe()
    execution_arn = flow.arn.replace(":stateMachine:", ":execution:") + ":first"

    code, out, _ = _cli(bench, capsys, "trace", execution_arn, "--json")
    assert code == 0
    traced = json.loads(out)
    assert traced["execution"]["status"] == "FAILED" and traced["execution"]["redriveCount"] == 0
    check_row, map_row = traced["timeline"]
    assert (check_row["name"], check_row["status"], check_row["attempts"]) == ("CheckPlayer", "succeeded", 2)
    assert (map_row["name"], map_row["status"]) == ("WriteItems", "failed")
    summary = map_row["iterations"]
    # The first iteration to fail fails the Map; those still running then count for nothing.
    assert summary["count"] == 6 and summary["failed"] >= 1
    assert summary["succeeded"] + summary["failed"] + summary["aborted"] == 6
    assert summary["firstError"]["error"] == FAULT
    not_succeeded = 6 - summary["succeeded"]

    code, out, _ = _cli(bench, capsys, "trace", execution_arn)
    assert code == 0
    assert "FAILED" in out.splitlines()[0]
    assert "2 attempts (1 retries)" in out
    assert re.search(r"WriteItems +failed +map: 6 iterations, \d+ succeeded, [1-6] failed", out), out
    assert "the feed table is gone" in out

    # The cause is mended before the redrive, as an operator would: the Map may have failed before
    # the fifth invocation ever ran, and the redrive's iterations must not meet it.
    clear_faults(bench.aws.url)
    code, out, err = _cli(bench, capsys, "redrive", "--failed", "--machine", name, "--since", "1h", "--wait")
    assert code == 0, out + err
    assert "redriven: 1" in out and execution_arn in out and "SUCCEEDED" in out
    assert err == ""  # no progress bar when stderr is not a terminal

    code, out, _ = _cli(bench, capsys, "trace", execution_arn, "--json")
    traced = json.loads(out)
    assert traced["execution"]["status"] == "SUCCEEDED" and traced["execution"]["redriveCount"] == 1
    kinds = [(row["kind"], row.get("name"), row.get("status")) for row in traced["timeline"]]
    assert ("redrive", None, None) in kinds
    after = kinds[kinds.index(("redrive", None, None)) + 1 :]
    assert after and all(name == "WriteItems" for _, name, _ in after), kinds  # CheckPlayer not rerun
    rerun = [row for row in traced["timeline"] if row.get("name") == "WriteItems"][-1]
    assert rerun["status"] == "succeeded"
    # Only iterations that had not succeeded run again, and all of them succeed now.
    again = rerun["iterations"]
    assert again["failed"] == 0 and again["succeeded"] == again["count"] == not_succeeded

    code, out, _ = _cli(bench, capsys, "trace", execution_arn)
    assert "── redriven (redrive 1) ──" in out

    code, out, _ = _cli(bench, capsys, "executions", name)
    (listed,) = [line for line in out.splitlines() if line.endswith(f"{execution_arn}  (redriven 1x)")]
    assert "SUCCEEDED" in listed


def test_redrive_reports_what_was_not_eligible_and_why_and_fails(bench, machine, capsys):
    _, flow, _ = machine
    case = str(uuid.uuid4())
    bench.script(case, "trace_check", {"return": {"ok": True}})
    bench.script(case, "trace_item", {"return": {"written": "$.item"}})
    succeeded = flow.run("fine", {"userId": case, "items": [1]})
    assert succeeded.status == "SUCCEEDED", succeeded.describe()
    arn = flow.arn.replace(":stateMachine:", ":execution:") + ":fine"
    missing = flow.arn.replace(":stateMachine:", ":execution:") + ":never-ran"

    code, out, _ = _cli(bench, capsys, "redrive", arn, missing, "--json")

    assert code == 1
    report = json.loads(out)
    assert report["redriven"] == []
    refused = {row["executionArn"]: row for row in report["notRedriven"]}
    assert refused[arn]["error"] == "ExecutionNotRedrivable"
    assert "SUCCEEDED" in refused[arn]["message"]
    assert refused[missing]["error"] == "ExecutionDoesNotExist"


def test_redrive_with_nothing_failed_in_the_window_redrives_nothing(bench, machine, capsys):
    name, _, _ = machine
    code, out, _ = _cli(bench, capsys, "redrive", "--failed", "--machine", name, "--since", "1s")
    # Executions of this module ended more than a second ago, or succeeded.
    assert (code, out.strip()) == (0, "nothing to redrive: no execution matches")
