"""Retries, Catch and redrive as the console shows them: Lambda tasks of scripted functions made
to fail through the embedded AWS's fault switch, the execution redriven through the console API."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from arcadeflow.faults import clear_faults, set_fault
from tests.functional.console.conftest import ROLE_ARN, Console

RETRIED = "Game.Transient"
BROKEN = "Game.Broken"


@pytest.fixture(autouse=True)
def no_faults_left(aws) -> Iterator[None]:
    yield
    clear_faults(aws.url)


def _task(function_arn: str, nxt: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
        "ResultPath": None,
        "Next": nxt,
        **extra,
    }


def test_retries_a_catch_and_a_redrive_read_as_the_step_functions_console_shows_them(
    aws, bench, console: Console
):
    record, announce, settle = (bench.function_arn(f"console_{n}") for n in ("record", "announce", "settle"))
    definition = {
        "StartAt": "RecordScore",
        "States": {
            "RecordScore": _task(
                record,
                "AnnounceScore",
                Retry=[{"ErrorEquals": [RETRIED], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}],
            ),
            "AnnounceScore": _task(
                announce,
                "SettleScore",
                Catch=[{"ErrorEquals": [BROKEN], "ResultPath": "$.announceFailed", "Next": "SettleScore"}],
            ),
            "SettleScore": _task(settle, "Settled"),
            "Settled": {"Type": "Succeed"},
        },
    }
    machine = console.sfn.create_state_machine(
        name=f"console-redrive-{uuid.uuid4().hex[:6]}", definition=json.dumps(definition), roleArn=ROLE_ARN
    )["stateMachineArn"]
    set_fault(aws.url, record, fail_on=[1], error=RETRIED, message="once, then fine")
    set_fault(aws.url, announce, fail_on=[1], error=BROKEN, message="the announcer is down")
    set_fault(aws.url, settle, fail_on=[1], error=BROKEN, message="settling failed")
    arn = console.start(machine, {"userId": uuid.uuid4().hex})
    assert console.finished(arn)["status"] == "FAILED"

    states = console.get("execution", arn=arn)[1]["states"]
    assert {n: s["status"] for n, s in states.items()} == {
        "RecordScore": "succeeded",
        "AnnounceScore": "caught",
        "SettleScore": "failed",
        "Settled": "not_reached",
    }
    assert (states["RecordScore"]["attempts"], states["RecordScore"]["retries"]) == (2, 1)
    assert states["RecordScore"]["error"] == RETRIED, "the retried error stays visible"
    assert (states["AnnounceScore"]["attempts"], states["AnnounceScore"]["retries"]) == (1, 0)
    assert states["AnnounceScore"]["error"] == BROKEN
    assert "the announcer is down" in states["AnnounceScore"]["cause"]
    assert states["SettleScore"]["error"] == BROKEN and "settling failed" in states["SettleScore"]["cause"]

    clear_faults(aws.url)
    status, answer = console.post("redrive", {"executionArns": [arn]})
    assert status == 200 and answer["results"][0]["redriven"] is True, answer
    assert answer["results"][0]["redriveDate"]
    assert console.finished(arn)["status"] == "SUCCEEDED"

    after = console.get("execution", arn=arn)[1]
    assert after["execution"]["redriveCount"] == 1
    assert any(e["type"] == "ExecutionRedriven" for e in after["events"])
    states = after["states"]
    assert {n: s["status"] for n, s in states.items()} == {
        "RecordScore": "succeeded",
        "AnnounceScore": "caught",
        "SettleScore": "succeeded",
        "Settled": "succeeded",
    }
    # SettleScore ran twice: the failed run before the redrive stays in its count.
    assert (states["SettleScore"]["entries"], states["SettleScore"]["retiredByRedrive"]) == (2, 1)
    assert (
        console.get("executions", machine=machine, redriven="true")[1]["executions"][0]["executionArn"] == arn
    )
    assert console.get("executions", machine=machine, redriven="false")[1]["executions"] == []
