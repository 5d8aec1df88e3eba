"""Helpers of the fault matrices (tests/flows/test_faults_*.py): each flow under each fault the
embedded runtime's test switch offers (arcadeflow/aws/faults.py).

The kinds, as the issue-12 interface fixes them on the embedded AWS's endpoint:
- a named function fails (`error`: an error no Retry covers, so the flow's Catch decides), times
  out (`timeout`: Sandbox.Timedout, its worker replaced) or crashes its worker (`crash`: SIGKILL,
  Runtime.ExitError) on its Nth invocation from now: POST /arcadeflow/faults;
- a table's Nth write calls answer as a throttled table does: POST /arcadeflow/faults/dynamodb;
- a WebSocket connection is dropped abruptly, at once or on its Nth push:
  POST /arcadeflow/faults/websocket.

The wire is called directly, so a matrix runs against whatever runtime it is given; a runtime
that does not know a kind yet answers something that is refused here with a message saying so,
never a fault silently taken for another (an old switch would read a `crash` as an `error`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections import Counter
from typing import Any

import pytest

from arcadeflow import deployment
from arcadeflow.aws.faults import FAULTS_PATH
from tests.support.stack import REPO_ROOT, RunningStack, wait_for
from tests.support.targets import TARGET, missing_reason

INJECTED = "Arcadeflow.InjectedFault"  # matched by no Retry of the product's ASL
LAMBDA_MODES = ("error", "timeout", "crash")
# What each Lambda fault looks like to the flow (the errorType its Task state sees).
ERROR_TYPE = {"error": INJECTED, "timeout": "Sandbox.Timedout", "crash": "Runtime.ExitError"}


class FaultKindUnavailable(AssertionError):
    """The runtime's fault switch does not offer this kind of fault (yet)."""


def _call(stack: RunningStack, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    reason = missing_reason("fault_switch")
    if reason:  # another engine has no fault switch: the test is skipped there with the reason
        pytest.skip(f"{TARGET}: {reason}")
    request = urllib.request.Request(
        stack.aws_url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise FaultKindUnavailable(
            f"{method} {path} {json.dumps(body)}: {exc.code} {exc.read().decode(errors='replace')}"
        ) from None


def clear(stack: RunningStack) -> None:
    """Every kind of fault cleared (DELETE /arcadeflow/faults)."""
    _call(stack, "DELETE", FAULTS_PATH)


def fail_function(stack: RunningStack, function: str, on: list[int], mode: str) -> dict[str, Any]:
    """Invocations `on` (1-based, from now) of the logical `function` fail as `mode` says."""
    body: dict[str, Any] = {"function": deployment.load().physical_name(function), "failOn": on, "mode": mode}
    if mode == "error":  # timeout and crash fail with AWS's own error and message
        body["error"] = INJECTED
        body["message"] = f"{function} failed on purpose (a fault matrix)"
    fault = _call(stack, "POST", FAULTS_PATH, body)
    if fault.get("mode", "error") != mode:
        raise FaultKindUnavailable(f"the fault switch recorded {fault} for mode {mode!r}")
    return fault


def lambda_fault(stack: RunningStack, function: str) -> dict[str, Any]:
    """The recorded Lambda fault on `function`, with `invocations` and `failed` (which)."""
    physical = deployment.load().physical_name(function)
    answer = _call(stack, "GET", FAULTS_PATH)
    (fault,) = [f for f in answer["faults"] if f.get("function") == physical]
    return fault


def throttle_table(
    stack: RunningStack, table: str, on: list[int], operations: list[str] | None = None
) -> dict[str, Any]:
    """Write calls `on` (1-based, from now) to the logical `table` answer as a throttled table."""
    body: dict[str, Any] = {"table": stack.endpoints()["tables"][table], "throttleOn": on}
    if operations is not None:
        body["operations"] = operations
    return _call(stack, "POST", FAULTS_PATH + "/dynamodb", body)


def throttled_calls(stack: RunningStack, table: str) -> int:
    """How many write calls to the logical `table` the switch has throttled."""
    physical = stack.endpoints()["tables"][table]
    answer = _call(stack, "GET", FAULTS_PATH)
    recorded = [
        fault
        for kind in answer.values()
        if isinstance(kind, list)
        for fault in kind
        if isinstance(fault, dict) and fault.get("table") == physical
    ]
    if len(recorded) != 1:
        raise FaultKindUnavailable(f"no throttle of {physical} among the faults listed: {answer}")
    return len(recorded[0]["throttled"])


def drop_connection(
    stack: RunningStack,
    *,
    user_id: str | None = None,
    connection_id: str | None = None,
    on_push: int | None = None,
) -> dict[str, Any]:
    """Drops a WebSocket connection as a lost network does (no close frame): now, or on its
    `on_push`th @connections push from now instead of delivering it."""
    body: dict[str, Any] = {}
    if user_id is not None:
        body["userId"] = user_id
    if connection_id is not None:
        body["connectionId"] = connection_id
    if on_push is not None:
        body["onPush"] = on_push
    return _call(stack, "POST", FAULTS_PATH + "/websocket", body)


def connections_of(stack: RunningStack, user_id: str) -> list[str]:
    """The connection ids the product has on record for a user (the connections table)."""
    ddb = stack.client("dynamodb")
    name = stack.endpoints()["tables"]["connections"]
    pages = ddb.get_paginator("scan").paginate(
        TableName=name,
        ConsistentRead=True,
        FilterExpression="userId = :u",
        ExpressionAttributeValues={":u": {"S": user_id}},
    )
    return [i["connectionId"]["S"] for page in pages for i in page["Items"]]


def wait_for_no_connections(stack: RunningStack, user_id: str, timeout: float = 20) -> None:
    wait_for(
        lambda: not connections_of(stack, user_id), timeout=timeout, message=f"{user_id}'s connections gone"
    )


# --- executions ------------------------------------------------------------------------------------


def execution_arn(stack: RunningStack, machine: str, name: str) -> str:
    return stack.endpoints()["stateMachines"][machine].replace(":stateMachine:", ":execution:") + f":{name}"


def history(stack: RunningStack, arn: str) -> list[dict[str, Any]]:
    pages = stack.client("stepfunctions").get_paginator("get_execution_history").paginate(executionArn=arn)
    return [e for page in pages for e in page["events"]]


def task_errors(stack: RunningStack, arn: str) -> list[str]:
    """The error of every failed Task attempt of the execution, in order (retried or not)."""
    return [
        e["taskFailedEventDetails"].get("error", "")
        for e in history(stack, arn)
        if e["type"] == "TaskFailed" and "taskFailedEventDetails" in e
    ]


def failure_events(stack: RunningStack, arn: str) -> list[dict[str, Any]]:
    """The history's failure events with their details: what an assertion message should show."""
    return [
        {"type": e["type"], **next((v for k, v in e.items() if k.endswith("EventDetails")), {})}
        for e in history(stack, arn)
        if "Failed" in e["type"] or "TimedOut" in e["type"]
    ]


def redrive_and_finish(stack: RunningStack, arn: str, timeout: float = 120) -> dict[str, Any]:
    """RedriveExecution as boto3 calls it on AWS; the execution once it has ended again."""
    sfn = stack.client("stepfunctions")
    sfn.redrive_execution(executionArn=arn, clientToken=uuid.uuid4().hex)

    def ended_again():
        described = sfn.describe_execution(executionArn=arn)
        return (
            described if described.get("redriveCount", 0) >= 1 and described["status"] != "RUNNING" else None
        )

    return wait_for(ended_again, timeout=timeout, interval=0.2, message=f"{arn} redriven to its end")


# --- WebSocket players -------------------------------------------------------------------------------


async def settle(*clients) -> None:
    """A ping round trip each: every frame pushed to them before it has been read by then."""
    for client in clients:
        token = uuid.uuid4().hex
        await client.send(action="ping", id=token)
        await client.frame("pong", id=token)


def kinds(client, *types: str) -> list[str]:
    return [f["type"] for f in client.frames() if f["type"] in types]


# --- the fan-out's dead letters -----------------------------------------------------------------------

DEAD_LETTER_QUEUE = "arcadeflow-fanout-dead-letters"


def dead_letters(stack: RunningStack) -> int:
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def redrive_fanout(stack: RunningStack) -> dict[str, int]:
    """`arcadeflow redrive-fanout` as an operator runs it; its JSON report."""
    done = subprocess.run(
        [sys.executable, "-m", "arcadeflow.cli", "redrive-fanout", "--state-dir", str(stack.state_dir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def once_each(copies: Counter, expected: list[str]) -> None:
    """Every expected key exactly once, nothing else."""
    assert set(copies) == set(expected), (len(copies), len(expected))
    assert set(copies.values()) == {1}, Counter(copies.values())
