"""Debugging executions: list them, print a readable trace, redrive or replay a failed one.

They talk to any Step Functions endpoint: the running local stack by default (found through
its state directory), any endpoint URL (LocalStack), or AWS when --endpoint-url is "aws" (with
the user's own credentials, --profile and --region). They call public Step Functions APIs only.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.exceptions import ClientError

from arcadeflow import deployment as deployment_module
from arcadeflow.commands import CommandError, StackNotRunning, running_stack_endpoints, stack_client
from arcadeflow.commands import timeline as timeline_module


def stepfunctions_client(
    state_dir: Path, endpoint_url: str | None, profile: str | None = None, region: str | None = None
) -> Any:
    if endpoint_url == "aws":
        # The user's own credentials chain (environment, profile, SSO...), as the aws CLI reads it.
        return boto3.Session(profile_name=profile, region_name=region).client("stepfunctions")
    if endpoint_url is None:
        try:
            endpoints = running_stack_endpoints(state_dir)
        except StackNotRunning as exc:
            raise StackNotRunning(f"{exc} or pass --endpoint-url") from exc
        return stack_client(endpoints, "stepfunctions")
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint_url,
        region_name=region or "us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _client_of(args: Any) -> Any:
    return stepfunctions_client(
        args.state_dir, args.endpoint_url, getattr(args, "profile", None), getattr(args, "region", None)
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
        # ListExecutions reports redriveCount once an execution has been redriven (AWS, embedded).
        redriven = f"  (redriven {row['redriveCount']}x)" if row.get("redriveCount") else ""
        started = f"{row['startDate']:%Y-%m-%d %H:%M:%S}"
        out.write(f"{started}  {row['status']:<9} {took}  {row['executionArn']}{redriven}\n")
    if not rows:
        out.write("no executions\n")


# --verbose trims each input and output to this many characters: enough to read, and a
# 96 KB page of follower ids does not flood the terminal (--json gives them whole).
VERBOSE_TRIM = 600


def format_trace(history: list[dict[str, Any]], verbose: bool = False) -> list[str]:
    """The history as a timeline: one row per state entered (see arcadeflow.commands.timeline)."""
    timeline = timeline_module.build_timeline(history)
    limit = VERBOSE_TRIM if verbose else 160
    return timeline_module.format_timeline(
        timeline_module.timeline_as_dict(timeline, verbose, limit), verbose
    )


def execution_history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def trace_as_dict(
    sfn: Any, execution_arn: str, verbose: bool = False, as_json: bool = False
) -> dict[str, Any]:
    """What `trace --json` prints: the execution as DescribeExecution tells it, and its timeline."""
    described = sfn.describe_execution(executionArn=execution_arn)
    history = execution_history(sfn, execution_arn)
    timeline = timeline_module.timeline_as_dict(
        timeline_module.build_timeline(history), verbose, None if as_json else VERBOSE_TRIM
    )
    execution = {
        "executionArn": described["executionArn"],
        "name": described.get("name"),
        "stateMachineArn": described.get("stateMachineArn"),
        "status": described["status"],
        "startDate": _iso(described.get("startDate")),
        "stopDate": _iso(described.get("stopDate")),
        # Reported by AWS (and the embedded AWS) since redrive exists; LocalStack may omit them.
        "redriveCount": described.get("redriveCount", timeline["redriveCount"]),
        "redriveDate": _iso(described.get("redriveDate")),
        "redriveStatus": described.get("redriveStatus"),
        "redriveStatusReason": described.get("redriveStatusReason"),
        "error": described.get("error"),
        "cause": described.get("cause"),
        "events": len(history),
    }
    return {"execution": execution, **{k: v for k, v in timeline.items() if k == "timeline"}}


def print_trace(sfn: Any, execution_arn: str, verbose: bool, out: TextIO, as_json: bool = False) -> str:
    data = trace_as_dict(sfn, execution_arn, verbose, as_json)
    execution = data["execution"]
    if as_json:
        out.write(json.dumps(data, indent=2, default=str) + "\n")
        return str(execution["status"])
    took = ""
    if execution["startDate"] and execution["stopDate"]:
        seconds = (
            datetime.datetime.fromisoformat(execution["stopDate"])
            - datetime.datetime.fromisoformat(execution["startDate"])
        ).total_seconds()
        took = f", took {seconds:.3f}s"
    redriven = f", redriven {execution['redriveCount']}x" if execution["redriveCount"] else ""
    machine = (execution["stateMachineArn"] or "").rsplit(":", 1)[-1]
    out.write(
        f"{execution['name']}  {execution['status']}  ({machine}; started {execution['startDate']}{took}"
        f"{redriven}; {execution['events']} events)\n"
    )
    out.write(f"  {'offset':>10}  {'duration':>9}  {'state':<30}  status\n")
    timeline = {"timeline": data["timeline"]}
    for line in timeline_module.format_timeline(timeline, verbose):
        out.write(f"  {line}\n")
    if execution["error"]:
        cause = execution["cause"] if verbose else timeline_module.readable_cause(execution["cause"])
        out.write(f"  {execution['status'].lower()}: {execution['error']}: {cause}\n")
    return str(execution["status"])


def replay(sfn: Any, execution_arn: str, out: TextIO) -> str:
    """Start the execution again, same state machine and input, under a derived name.

    Unlike `redrive` (which resumes the same execution from the states that failed), replay runs
    the whole flow again from its original input. That is safe because every write a flow makes
    is idempotent.
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
    sfn = _client_of(args)
    list_executions(sfn, args.state_machine, args.status, sys.stdout)
    return 0


def main_trace(args: Any) -> int:
    sfn = _client_of(args)
    print_trace(sfn, args.execution_arn, args.verbose, sys.stdout, as_json=args.json)
    return 0


def main_replay(args: Any) -> int:
    sfn = _client_of(args)
    new_arn = replay(sfn, args.execution_arn, sys.stdout)
    if args.wait:
        while sfn.describe_execution(executionArn=new_arn)["status"] == "RUNNING":
            time.sleep(0.2)
        status = print_trace(sfn, new_arn, False, sys.stdout)
        return 0 if status == "SUCCEEDED" else 1
    return 0


# --- redrive -----------------------------------------------------------------------------------

REDRIVABLE_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str) -> datetime.timedelta:
    """`--since 90s|30m|1h|2d`: how far back a stopped execution may have ended."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"expected a duration such as 90s, 30m, 1h or 2d, got {text!r}")
    return datetime.timedelta(seconds=float(match.group(1)) * _DURATION_SECONDS[match.group(2)])


def parse_statuses(text: str) -> tuple[str, ...]:
    statuses = tuple(s.strip().upper() for s in text.split(",") if s.strip())
    unknown = [s for s in statuses if s not in REDRIVABLE_STATUSES]
    if unknown or not statuses:
        raise ValueError(
            f"statuses are a comma-separated subset of {','.join(REDRIVABLE_STATUSES)}, got {text!r}"
        )
    return statuses


@dataclass
class RedriveReport:
    redriven: list[tuple[str, Any]] = field(default_factory=list)  # (executionArn, redriveDate)
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # (executionArn, code, message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "redriven": [{"executionArn": arn, "redriveDate": _iso(when)} for arn, when in self.redriven],
            "notRedriven": [
                {"executionArn": arn, "error": code, "message": message}
                for arn, code, message in self.refused
            ],
        }


def failed_executions(
    sfn: Any,
    machines: Iterable[str] | None,
    statuses: Iterable[str] = REDRIVABLE_STATUSES,
    since: datetime.timedelta | None = None,
    now: datetime.datetime | None = None,
) -> list[str]:
    """Executions that did not succeed, newest end first, of the named machines (default: all),
    that ended within `since`. Whether AWS lets each be redriven is RedriveExecution's to say."""
    if machines:
        machine_arns = [resolve_state_machine(sfn, name) for name in machines]
    else:
        pages = sfn.get_paginator("list_state_machines").paginate()
        machine_arns = [m["stateMachineArn"] for page in pages for m in page["stateMachines"]]
    cutoff = (now or datetime.datetime.now(datetime.UTC)) - since if since else None
    found: list[tuple[datetime.datetime, str]] = []
    for machine_arn in machine_arns:
        for status in statuses:
            for row in all_executions(sfn, machine_arn, status):
                ended = row.get("stopDate") or row["startDate"]
                if cutoff is None or ended >= cutoff:
                    found.append((ended, row["executionArn"]))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [arn for _, arn in found]


class ProgressBar:
    """`[#####-----] 3/10 redriving` on a terminal's stderr; silent when stderr is not a TTY,
    so logs and pipes get only the report."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO, label: str):
        self.total, self.stream, self.label, self.done = total, stream, label, 0
        self.enabled = total > 0 and stream.isatty()
        self._draw()

    def advance(self) -> None:
        self.done += 1
        self._draw()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        if not self.enabled:
            return
        filled = self.WIDTH * self.done // self.total
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {self.label}")
        self.stream.flush()


def redrive_all(sfn: Any, execution_arns: list[str], progress: TextIO | None = None) -> RedriveReport:
    """RedriveExecution on each; AWS's refusal (its error code and message) is kept per execution,
    so one ineligible execution never stops the rest."""
    report = RedriveReport()
    bar = ProgressBar(len(execution_arns), progress or sys.stderr, "redriving")
    for arn in execution_arns:
        try:
            answer = sfn.redrive_execution(executionArn=arn, clientToken=uuid.uuid4().hex)
            report.redriven.append((arn, answer.get("redriveDate")))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            report.refused.append((arn, str(error.get("Code") or "Error"), str(error.get("Message") or exc)))
        bar.advance()
    bar.close()
    return report


def print_redrive_report(report: RedriveReport, out: TextIO) -> None:
    out.write(f"redriven: {len(report.redriven)}\n")
    for arn, when in report.redriven:
        out.write(f"  {arn}  at {_iso(when)}\n")
    if report.refused:
        out.write(f"not redriven: {len(report.refused)}\n")
        for arn, code, message in report.refused:
            out.write(f"  {arn}  {code}: {message}\n")


def wait_until_finished(sfn: Any, execution_arns: list[str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    statuses: dict[str, str] = {}
    pending = list(execution_arns)
    while pending:
        for arn in list(pending):
            status = sfn.describe_execution(executionArn=arn)["status"]
            if status != "RUNNING":
                statuses[arn] = status
                pending.remove(arn)
        if pending and time.monotonic() > deadline:
            statuses.update({arn: "RUNNING" for arn in pending})
            break
        if pending:
            time.sleep(0.2)
    return statuses


def main_redrive(args: Any) -> int:
    if bool(args.execution_arns) == bool(args.failed):
        raise CommandError(
            "give execution ARNs, or --failed (with --machine, --since, --status) to find them"
        )
    if not args.failed and (args.machine or args.since or args.status):
        raise CommandError("--machine, --since and --status select executions for --failed")
    sfn = _client_of(args)
    if args.failed:
        arns = failed_executions(sfn, args.machine, args.status or REDRIVABLE_STATUSES, args.since)
        if not arns:
            print("nothing to redrive: no execution matches")
            return 0
    else:
        arns = list(args.execution_arns)
    report = redrive_all(sfn, arns)
    finished: dict[str, str] = {}
    if args.wait and report.redriven:
        finished = wait_until_finished(sfn, [arn for arn, _ in report.redriven], args.wait_timeout)
    if args.json:
        data = report.as_dict()
        for row in data["redriven"]:
            if row["executionArn"] in finished:
                row["status"] = finished[row["executionArn"]]
        print(json.dumps(data, indent=2))
    else:
        print_redrive_report(report, sys.stdout)
        if finished:
            print("after the redrive:")
            for arn, status in finished.items():
                print(f"  {arn}  {status}")
    not_succeeded = [arn for arn, status in finished.items() if status != "SUCCEEDED"]
    return 1 if report.refused or not_succeeded else 0
