"""`arcadeflow redrive`'s selection, report and progress, over an in-memory Step Functions that
answers as AWS does for what the command calls (pagination, RedriveExecution's refusals)."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from botocore.exceptions import ClientError

from arcadeflow.cli import build_parser, main
from arcadeflow.commands.executions import (
    ProgressBar,
    failed_executions,
    parse_since,
    parse_statuses,
    redrive_all,
)

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


class InMemoryStepFunctions:
    """Executions by machine; list calls answer in pages of two, as a small maxResults would."""

    def __init__(self) -> None:
        self.machines: dict[str, list[dict[str, Any]]] = {}
        self.redriven: list[str] = []

    def add(self, machine: str, name: str, status: str, ended_minutes_ago: float) -> str:
        machine_arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{machine}"
        arn = f"arn:aws:states:us-east-1:123456789012:execution:{machine}:{name}"
        stop = NOW - datetime.timedelta(minutes=ended_minutes_ago)
        self.machines.setdefault(machine_arn, []).append(
            {
                "executionArn": arn,
                "status": status,
                "startDate": stop - datetime.timedelta(seconds=5),
                "stopDate": stop,
            }
        )
        return arn

    def list_state_machines(self) -> dict[str, Any]:
        return {"stateMachines": [{"stateMachineArn": a, "name": a.rsplit(":", 1)[1]} for a in self.machines]}

    def get_paginator(self, operation: str) -> Any:
        sfn = self

        class Paginator:
            def paginate(self, **kwargs: Any):
                if operation == "list_state_machines":
                    rows = sfn.list_state_machines()["stateMachines"]
                    key = "stateMachines"
                else:
                    rows = [
                        e
                        for e in sfn.machines[kwargs["stateMachineArn"]]
                        if e["status"] == kwargs.get("statusFilter", e["status"])
                    ]
                    key = "executions"
                return [{key: rows[i : i + 2]} for i in range(0, max(len(rows), 1), 2)]

        return Paginator()

    def redrive_execution(self, executionArn: str, clientToken: str) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        assert clientToken
        for rows in self.machines.values():
            for row in rows:
                if row["executionArn"] == executionArn:
                    if row["status"] in ("SUCCEEDED", "RUNNING"):
                        raise ClientError(
                            {
                                "Error": {
                                    "Code": "ExecutionNotRedrivable",
                                    "Message": f"Execution is {row['status']} and cannot be redriven",
                                }
                            },
                            "RedriveExecution",
                        )
                    self.redriven.append(executionArn)
                    row["status"] = "RUNNING"
                    return {"redriveDate": NOW}
        raise ClientError(
            {
                "Error": {
                    "Code": "ExecutionDoesNotExist",
                    "Message": f"Execution Does Not Exist: '{executionArn}'",
                }
            },
            "RedriveExecution",
        )


@pytest.fixture
def sfn() -> InMemoryStepFunctions:
    fake = InMemoryStepFunctions()
    fake.add("duel-invite", "old-failure", "FAILED", ended_minutes_ago=300)
    fake.add("duel-invite", "recent-failure", "FAILED", ended_minutes_ago=10)
    fake.add("duel-invite", "fine", "SUCCEEDED", ended_minutes_ago=5)
    fake.add("duel-invite", "stopped", "ABORTED", ended_minutes_ago=20)
    fake.add("status-fanout", "timed-out", "TIMED_OUT", ended_minutes_ago=1)
    fake.add("status-fanout", "another-failure", "FAILED", ended_minutes_ago=30)
    fake.add("status-fanout", "third-failure", "FAILED", ended_minutes_ago=40)
    return fake


def _names(arns: list[str]) -> list[str]:
    return [arn.rsplit(":", 1)[1] for arn in arns]


def test_failed_executions_are_every_unsuccessful_one_of_every_machine_newest_first(sfn):
    found = failed_executions(sfn, None, now=NOW)
    assert _names(found) == [
        "timed-out",
        "recent-failure",
        "stopped",
        "another-failure",
        "third-failure",  # the second page of status-fanout's FAILED executions
        "old-failure",
    ]


def test_since_status_and_machine_narrow_the_selection(sfn):
    assert _names(failed_executions(sfn, None, since=parse_since("1h"), now=NOW)) == [
        "timed-out",
        "recent-failure",
        "stopped",
        "another-failure",
        "third-failure",
    ]
    assert _names(failed_executions(sfn, None, statuses=("ABORTED", "TIMED_OUT"), now=NOW)) == [
        "timed-out",
        "stopped",
    ]
    duel = "arn:aws:states:us-east-1:123456789012:stateMachine:duel-invite"
    assert _names(failed_executions(sfn, [duel], since=parse_since("15m"), now=NOW)) == ["recent-failure"]


def test_one_refusal_does_not_stop_the_rest_and_each_says_why(sfn):
    fine = "arn:aws:states:us-east-1:123456789012:execution:duel-invite:fine"
    gone = "arn:aws:states:us-east-1:123456789012:execution:duel-invite:never-was"
    failed = "arn:aws:states:us-east-1:123456789012:execution:duel-invite:recent-failure"

    report = redrive_all(sfn, [fine, gone, failed], progress=io.StringIO())

    assert [arn for arn, _ in report.redriven] == [failed] == sfn.redriven
    assert report.refused == [
        (fine, "ExecutionNotRedrivable", "Execution is SUCCEEDED and cannot be redriven"),
        (gone, "ExecutionDoesNotExist", f"Execution Does Not Exist: '{gone}'"),
    ]
    assert report.as_dict()["notRedriven"][0]["error"] == "ExecutionNotRedrivable"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_draws_on_a_terminal_and_is_silent_otherwise(sfn):
    terminal, pipe = _Terminal(), io.StringIO()
    arns = failed_executions(sfn, None, now=NOW)[:2]
    redrive_all(sfn, arns, progress=terminal)
    redrive_all(sfn, arns, progress=pipe)
    drawn = terminal.getvalue()
    assert drawn.endswith(f"\r[{'#' * ProgressBar.WIDTH}] 2/2 redriving\n")
    assert f"\r[{'#' * (ProgressBar.WIDTH // 2)}{'-' * (ProgressBar.WIDTH // 2)}] 1/2 redriving" in drawn
    assert pipe.getvalue() == ""


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h", 3600), ("2d", 172800), ("1.5h", 5400)]
)
def test_since_reads_durations(text, seconds):
    assert parse_since(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["1w", "h", "-1h", "", "soon"])
def test_since_refuses_what_is_not_a_duration(text):
    with pytest.raises(ValueError, match="expected a duration"):
        parse_since(text)


def test_statuses_are_a_subset_of_the_redrivable_ones():
    assert parse_statuses("failed, TIMED_OUT") == ("FAILED", "TIMED_OUT")
    with pytest.raises(ValueError, match="subset of FAILED,TIMED_OUT,ABORTED"):
        parse_statuses("SUCCEEDED")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["redrive"], "give execution ARNs, or --failed"),
        (["redrive", "arn:x", "--failed"], "give execution ARNs, or --failed"),
        (
            ["redrive", "arn:x", "--since", "1h"],
            "--machine, --since and --status select executions for --failed",
        ),
    ],
)
def test_redrive_needs_arns_or_failed_not_both(argv, message, capsys, tmp_path):
    assert main([*argv, "--state-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_redrive_flags_are_parsed_into_what_the_command_uses():
    args = build_parser().parse_args(
        ["redrive", "--failed", "--machine", "duel_invite", "--machine", "status_fanout", "--since", "2h"]
        + ["--status", "FAILED", "--endpoint-url", "aws", "--profile", "prod", "--region", "eu-west-1"]
    )
    assert (args.machine, args.since.total_seconds(), args.status) == (
        ["duel_invite", "status_fanout"],
        7200,
        ("FAILED",),
    )
    assert (args.endpoint_url, args.profile, args.region) == ("aws", "prod", "eu-west-1")
