"""Helpers for status fan-out tests: followers made with `arcadeflow populate`, executions
started as POST /statuses starts them, and what landed in the feed table."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections import Counter
from typing import Any

from tests.support.stack import REPO_ROOT, RunningStack, wait_for


def populate(stack: RunningStack, followers: int, celebrity: str, prefix: str) -> list[str]:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "arcadeflow.cli",
            "populate",
            "--users",
            str(followers),
            "--celebrity",
            celebrity,
            "--prefix",
            prefix,
            "--quiet",
            "--state-dir",
            str(stack.state_dir),
        ],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    return [f"{prefix}{n}" for n in range(1, followers + 1)]


def status_for(author: str, post: str = "hello, followers") -> dict[str, Any]:
    status_id = uuid.uuid4().hex
    posted_at = "2026-01-01T00:00:00.000000Z"
    return {
        "statusId": status_id,
        "post": post,
        "postedAt": posted_at,
        "timestamp": f"{posted_at}#{status_id}",
        "author": {"userId": author, "screenName": author.capitalize()},
    }


def start_fanout(stack: RunningStack, status: dict[str, Any], name: str | None = None) -> str:
    sfn = stack.client("stepfunctions")
    return sfn.start_execution(
        stateMachineArn=stack.endpoints()["stateMachines"]["status_fanout"],
        name=name or f"status-{status['statusId']}",
        input=json.dumps({"status": status}),
    )["executionArn"]


def finished(stack: RunningStack, execution_arn: str, timeout: float = 120) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")

    def done():
        out = sfn.describe_execution(executionArn=execution_arn)
        return out if out["status"] != "RUNNING" else None

    return wait_for(done, timeout=timeout, interval=0.25, message=f"{execution_arn} to finish")


def feed_copies(stack: RunningStack, status_id: str) -> Counter:
    """How many feed items each user has for this status."""
    ddb = stack.client("dynamodb")
    table = stack.endpoints()["tables"]["feed"]
    copies: Counter = Counter()
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "statusId = :s",
        "ExpressionAttributeValues": {":s": {"S": status_id}},
    }
    while True:
        page = ddb.scan(**request)
        copies.update(item["userAlias"]["S"] for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return copies
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def history(stack: RunningStack, execution_arn: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    events, token = [], None
    while True:
        kwargs = {"executionArn": execution_arn, "maxResults": 1000}
        if token:
            kwargs["nextToken"] = token
        page = sfn.get_execution_history(**kwargs)
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events
