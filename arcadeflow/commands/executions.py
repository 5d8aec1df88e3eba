"""Debugging executions: list them, print a readable trace, replay a failed one.

They talk to any Step Functions endpoint: the running local stack by default (found through
its state directory), or AWS when --endpoint-url is "aws".
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import boto3

from arcadeflow import deployment as deployment_module
from arcadeflow.commands import CommandError, StackNotRunning, running_stack_endpoints, stack_client


def stepfunctions_client(state_dir: Path, endpoint_url: str | None) -> Any:
    if endpoint_url == "aws":
        return boto3.client("stepfunctions")
    if endpoint_url is None:
        try:
            endpoints = running_stack_endpoints(state_dir)
        except StackNotRunning as exc:
            raise StackNotRunning(f"{exc} or pass --endpoint-url") from exc
        return stack_client(endpoints, "stepfunctions")
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def resolve_state_machine(sfn: Any, name_or_arn: str, description: Path | None = None) -> str:
    """An ARN as given; else the machine named so, or the description's logical name
    (duel_invite -> <name>-duel-invite, as the deployer and Terraform name it)."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    deployment = deployment_module.load(description or deployment_module.DEFAULT_DESCRIPTION)
    machines = sfn.list_state_machines()["stateMachines"]
    for machine in machines:
        if machine["name"] in (name_or_arn, deployment.physical_name(name_or_arn)):
            return machine["stateMachineArn"]
    known = ", ".join(sorted(m["name"] for m in machines)) or "none"
    raise CommandError(f"no state machine named {name_or_arn!r} (known: {known})")


def all_executions(sfn: Any, state_machine_arn: str, status: str | None = None) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"stateMachineArn": state_machine_arn}
    if status:
        kwargs["statusFilter"] = status
    pages = sfn.get_paginator("list_executions").paginate(**kwargs)
    return [row for page in pages for row in page["executions"]]


def list_executions(sfn: Any, state_machine: str, status: str | None, out: TextIO) -> None:
    rows = all_executions(sfn, resolve_state_machine(sfn, state_machine), status)
    for row in rows:
        stopped = row.get("stopDate")
        took = f"{(stopped - row['startDate']).total_seconds():8.2f}s" if stopped else "   running"
        out.write(f"{row['startDate']:%Y-%m-%d %H:%M:%S}  {row['status']:<9} {took}  {row['executionArn']}\n")
    if not rows:
        out.write("no executions\n")


_DETAIL_KEYS = (
    "stateEnteredEventDetails",
    "stateExitedEventDetails",
    "taskScheduledEventDetails",
    "taskSucceededEventDetails",
    "taskFailedEventDetails",
    "taskTimedOutEventDetails",
    "lambdaFunctionScheduledEventDetails",
    "lambdaFunctionSucceededEventDetails",
    "lambdaFunctionFailedEventDetails",
    "executionStartedEventDetails",
    "executionSucceededEventDetails",
    "executionFailedEventDetails",
    "executionAbortedEventDetails",
    "executionTimedOutEventDetails",
    "mapStateStartedEventDetails",
    "mapIterationStartedEventDetails",
    "mapIterationSucceededEventDetails",
    "mapIterationFailedEventDetails",
)


def _short(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_trace(history: list[dict[str, Any]], verbose: bool = False) -> list[str]:
    """One line per event: time since start, event type, state or resource, and what matters."""
    if not history:
        return ["(no events)"]
    start: datetime.datetime = history[0]["timestamp"]
    lines = []
    limit = 10_000 if verbose else 160
    for event in history:
        offset = (event["timestamp"] - start).total_seconds()
        details: dict[str, Any] = {}
        for key in _DETAIL_KEYS:
            if key in event:
                details = event[key]
                break
        subject = details.get("name") or details.get("resource") or ""
        parts = [f"+{offset:8.3f}s", f"{event['type']:<28}", subject]
        if details.get("error"):
            parts.append(f"error={details['error']}")
        if details.get("cause"):
            parts.append(f"cause={_short(details['cause'], limit)}")
        if verbose or event["type"] in ("ExecutionStarted", "ExecutionSucceeded", "TaskSucceeded"):
            for field in ("input", "output"):
                if details.get(field) is not None:
                    parts.append(f"{field}={_short(details[field], limit)}")
        lines.append("  ".join(p for p in parts if p).rstrip())
    return lines


def execution_history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


def print_trace(sfn: Any, execution_arn: str, verbose: bool, out: TextIO) -> str:
    described = sfn.describe_execution(executionArn=execution_arn)
    out.write(
        f"{described['name']}  {described['status']}  ({described['stateMachineArn'].rsplit(':', 1)[-1]})\n"
    )
    for line in format_trace(execution_history(sfn, execution_arn), verbose):
        out.write(f"  {line}\n")
    if described.get("error"):
        out.write(f"  failed: {described['error']}: {described.get('cause', '')}\n")
    return described["status"]


def replay(sfn: Any, execution_arn: str, out: TextIO) -> str:
    """Start the execution again, same state machine and input, under a derived name.

    AWS's RedriveExecution resumes from the failed state; the embedded interpreter lacks it, so
    replay reruns the whole flow. That is safe because every write a flow makes is idempotent.
    """
    described = sfn.describe_execution(executionArn=execution_arn)
    if described["status"] == "RUNNING":
        raise CommandError(f"{described['name']} is still running; only a finished execution can be replayed")
    existing = {e["name"] for e in all_executions(sfn, described["stateMachineArn"])}
    base = described["name"][:70]
    attempt = 1
    while f"{base}-replay-{attempt}" in existing:
        attempt += 1
    started = sfn.start_execution(
        stateMachineArn=described["stateMachineArn"],
        name=f"{base}-replay-{attempt}",
        input=described.get("input") or "{}",
    )
    out.write(f"replaying {described['name']} ({described['status']}) as {started['executionArn']}\n")
    return started["executionArn"]


def main_executions(args: Any) -> int:
    sfn = stepfunctions_client(args.state_dir, args.endpoint_url)
    list_executions(sfn, args.state_machine, args.status, sys.stdout)
    return 0


def main_trace(args: Any) -> int:
    sfn = stepfunctions_client(args.state_dir, args.endpoint_url)
    print_trace(sfn, args.execution_arn, args.verbose, sys.stdout)
    return 0


def main_replay(args: Any) -> int:
    import time

    sfn = stepfunctions_client(args.state_dir, args.endpoint_url)
    new_arn = replay(sfn, args.execution_arn, sys.stdout)
    if args.wait:
        while sfn.describe_execution(executionArn=new_arn)["status"] == "RUNNING":
            time.sleep(0.2)
        status = print_trace(sfn, new_arn, False, sys.stdout)
        return 0 if status == "SUCCEEDED" else 1
    return 0
