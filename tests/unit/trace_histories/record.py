"""Records the execution histories tests/unit/test_trace.py reads, from a real `arcadeflow up`.

    .venv/bin/python -m tests.unit.trace_histories.record

Each history is kept as GetExecutionHistory answered it (timestamps as ISO strings), so the
unit tests read what the embedded AWS really emits, interleaving of the Map included.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

from arcadeflow.faults import clear_faults, set_fault
from tests.support.stack import RunningStack, wait_for

HERE = Path(__file__).parent
ROLE = "arn:aws:iam::123456789012:role/arcadeflow-local"
LAMBDA = "arn:aws:states:::lambda:invoke"


def _task(function: str, next_state: str | None, **extra: Any) -> dict[str, Any]:
    state = {"Type": "Task", "Resource": LAMBDA, "Parameters": {"FunctionName": function, "Payload.$": "$"}}
    state.update({"Next": next_state} if next_state else {"End": True})
    state.update(extra)
    return state


def _machines(glitch: str, sleeper: str, refuser: str) -> dict[str, dict[str, Any]]:
    # Two retries of ChargeWallet, a Map of three sleeps (the second the slowest), a Parallel
    # of two branches, then an uncaught domain error: the execution FAILS in SettleInvite.
    failed_after_retries_and_map = {
        "StartAt": "ChargeWallet",
        "States": {
            "ChargeWallet": _task(
                glitch,
                "PrepareSleeps",
                ResultPath=None,
                Retry=[
                    {
                        "ErrorEquals": ["TransientGlitch"],
                        "IntervalSeconds": 1,
                        "BackoffRate": 1,
                        "MaxAttempts": 3,
                    }
                ],
            ),
            "PrepareSleeps": {
                "Type": "Pass",
                "Result": [{"seconds": 0}, {"seconds": 0.4}, {"seconds": 0}],
                "ResultPath": "$.sleeps",
                "Next": "SleepEach",
            },
            "SleepEach": {
                "Type": "Map",
                "ItemsPath": "$.sleeps",
                "MaxConcurrency": 3,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Sleep",
                    "States": {"Sleep": _task(sleeper, None, OutputPath="$.Payload")},
                },
                "ResultPath": "$.slept",
                "Next": "CheckBoth",
            },
            "CheckBoth": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "CheckLeft", "States": {"CheckLeft": {"Type": "Pass", "End": True}}},
                    {"StartAt": "CheckRight", "States": {"CheckRight": {"Type": "Pass", "End": True}}},
                ],
                "ResultPath": None,
                "Next": "SettleInvite",
            },
            "SettleInvite": _task(refuser, None),
        },
    }
    # A Map whose second iteration fails and is caught inside the iteration: the execution
    # SUCCEEDS, the Map reports one caught failure.
    map_with_a_caught_failure = {
        "StartAt": "CheckInvites",
        "States": {
            "CheckInvites": {
                "Type": "Map",
                "ItemsPath": "$.invites",
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "IsRefused",
                    "States": {
                        "IsRefused": {
                            "Type": "Choice",
                            "Choices": [
                                {"Variable": "$.refuse", "BooleanEquals": True, "Next": "RefuseInvite"}
                            ],
                            "Default": "Accepted",
                        },
                        "RefuseInvite": _task(
                            refuser, None, Catch=[{"ErrorEquals": ["InviteExpired"], "Next": "Refused"}]
                        ),
                        "Refused": {"Type": "Pass", "End": True},
                        "Accepted": {"Type": "Pass", "End": True},
                    },
                },
                "End": True,
            }
        },
    }
    # A Map of four sleeps whose second call fails (the fault switch) and fails the execution;
    # redriven, the Map runs again only the iterations that had not succeeded.
    redriven_map = {
        "StartAt": "PrepareSleeps",
        "States": {
            "PrepareSleeps": {
                "Type": "Pass",
                "Result": [{"seconds": 0}, {"seconds": 0}, {"seconds": 0}, {"seconds": 0}],
                "ResultPath": "$.sleeps",
                "Next": "SleepEach",
            },
            "SleepEach": {
                "Type": "Map",
                "ItemsPath": "$.sleeps",
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Sleep",
                    "States": {"Sleep": _task(sleeper, None, OutputPath="$.Payload")},
                },
                "ResultPath": "$.slept",
                "End": True,
            },
        },
    }
    return {
        "failed_after_retries_and_map": failed_after_retries_and_map,
        "map_with_a_caught_failure": map_with_a_caught_failure,
        "redriven_map": redriven_map,
    }


def _function(stack: RunningStack, handler: str, env: dict[str, str]) -> str:
    name = f"{handler.rsplit('.', 1)[1].replace('_', '-')}-{uuid.uuid4().hex[:6]}"
    stack.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Timeout=10,
        Environment={"Variables": env},
    )
    return name


def _finish(sfn: Any, execution: str, name: str, redriven: bool = False) -> None:
    def ended() -> bool:
        described = sfn.describe_execution(executionArn=execution)
        return described["status"] != "RUNNING" and (not redriven or described.get("redriveCount", 0) >= 1)

    wait_for(ended, timeout=30, message=f"{name} to finish")


def main() -> None:
    inputs = {
        "failed_after_retries_and_map": {"key": "k1", "succeedOn": 3, "inviteId": "i-7"},
        "map_with_a_caught_failure": {
            "invites": [{"inviteId": "i-1"}, {"inviteId": "i-2", "refuse": True}, {"inviteId": "i-3"}],
        },
        "redriven_map": {},
    }
    with tempfile.TemporaryDirectory() as state_dir:
        stack = RunningStack(Path(state_dir), ["--lambda-code", "tests/support/sample_handlers.py"])
        try:
            table = f"trace-records-{uuid.uuid4().hex[:6]}"
            stack.client("dynamodb").create_table(
                TableName=table,
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            env = {"RECORD_TABLE": table}
            glitch = _function(stack, "tests.support.sample_handlers.fail_until_attempt", env)
            sleeper = _function(stack, "tests.support.sample_handlers.sleep_seconds", env)
            refuser = _function(stack, "tests.support.sample_handlers.raise_domain_error", env)
            sfn = stack.client("stepfunctions")
            for name, definition in _machines(glitch, sleeper, refuser).items():
                arn = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
                    "stateMachineArn"
                ]
                if name == "redriven_map":
                    set_fault(stack.aws_url, sleeper, [2], "Arcadeflow.InjectedFault", "the sleeper is gone")
                execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(inputs[name]))
                _finish(sfn, execution["executionArn"], name)
                if name == "redriven_map":
                    clear_faults(stack.aws_url)
                    sfn.redrive_execution(
                        executionArn=execution["executionArn"], clientToken=uuid.uuid4().hex
                    )
                    _finish(sfn, execution["executionArn"], name, redriven=True)
                execution = execution["executionArn"]
                pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution)
                events = [event for page in pages for event in page["events"]]
                (HERE / f"{name}.json").write_text(json.dumps(events, indent=1, default=str) + "\n")
                print(f"{name}: {len(events)} events")
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
