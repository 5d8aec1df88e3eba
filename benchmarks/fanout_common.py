"""What the status fan-out benchmarks share (status_fanout.py, cost_growth.py): followers seeded
straight into the tables, the one-KB post, a fan-out posted and timed to its end, the raw
BatchWriteItem floor written to the same store, every follower's feed item looked up by its key,
and what a fan-out's execution history and the embedded AWS's counters say it cost.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import requests
from botocore.config import Config

from functions.shared.dynamo import to_item
from functions.status.fanout import item_size, listing_item, sort_key
from tests.support.fanout import feed_copies
from tests.support.stack import RunningStack, wait_for
from tools.populate import follow_item, user_item

CELEBRITY = "testUser1"
FANOUT_CONCURRENCY = 5  # FANOUT_CONCURRENCY in infra/deployment.json
SEED_WRITERS = 8
LAMBDA_RESOURCE = "lambda"
# Fields of a history event's details that carry a state's data (input, output, a Task's
# parameters): the payloads Step Functions' 256 KB quota applies to.
PAYLOAD_FIELDS = ("input", "output", "parameters")
# The embedded AWS's test fault switch counts calls to a table once a throttle is set on it
# (arcadeflow/aws/faults.py); one on a call number never reached counts and throttles nothing.
NEVER = 2**62


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def one_kb_post(author: str) -> str:
    """A post whose feed item is just under 1 KB: exactly one WCU per follower."""
    probe = {
        "statusId": uuid.uuid4().hex,
        "postedAt": "2026-01-01T00:00:00.000000Z",
        "author": {"userId": author, "screenName": author},
    }
    probe["timestamp"] = sort_key(probe["postedAt"], probe["statusId"])
    text = ""
    while item_size(listing_item("testUser10000", {**probe, "post": text + "x"})) <= 1000:
        text += "x"
    return text[:500]


def fast_client(stack: RunningStack, service: str, connections: int) -> Any:
    """A client whose pool holds a connection per writer thread (botocore's default is 10)."""
    return boto3.client(
        service,
        endpoint_url=stack.aws_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=connections, retries={"mode": "standard"}),
    )


def batch_write(client: Any, table: str, items: Sequence[dict[str, Any]]) -> None:
    """Up to 25 items in one BatchWriteItem, retrying what comes back unprocessed."""
    pending = [{"PutRequest": {"Item": item}} for item in items]
    while pending:
        out = client.batch_write_item(RequestItems={table: pending})
        pending = out.get("UnprocessedItems", {}).get(table, [])


def write_parallel(
    stack: RunningStack, table: str, items: Sequence[dict[str, Any]], writers: int = SEED_WRITERS
) -> None:
    client = fast_client(stack, "dynamodb", writers)
    batches = [items[i : i + 25] for i in range(0, len(items), 25)]
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(lambda batch: batch_write(client, table, batch), batches))


def seed_followers(
    stack: RunningStack, author: str, followers: Sequence[str], new_users: Sequence[str] = ()
) -> None:
    """`followers` follow `author`: the users of `new_users` (and the author) and the follow edges
    written with BatchWriteItem from several threads, in the shapes `arcadeflow populate` and the
    social API write. Unlike populate it checks nothing first: for fresh tables only."""
    tables = stack.endpoints()["tables"]
    write_parallel(stack, tables["users"], [user_item(u) for u in [author, *new_users]])
    write_parallel(stack, tables["follows"], [follow_item(f, author) for f in followers])


def wait_for_follow_counts(stack: RunningStack, author: str, followers: int, timeout: float = 600) -> None:
    """The follows stream's consumer counts the new follows; let it finish before measuring."""
    ddb = stack.client("dynamodb")
    users = stack.endpoints()["tables"]["users"]

    def settled() -> bool:
        item = ddb.get_item(TableName=users, Key={"userId": {"S": author}}).get("Item") or {}
        return int(item.get("followerCount", {}).get("N", "0")) >= followers

    wait_for(settled, timeout=timeout, interval=0.5, message=f"{author}'s follower count to settle")


class FanoutBench:
    """Posts as `author` and measures what follows, against one running stack."""

    def __init__(self, stack: RunningStack, author: str = CELEBRITY, post_text: str | None = None):
        self.stack = stack
        self.author = author
        self.ddb = stack.client("dynamodb")
        self.sfn = stack.client("stepfunctions")
        self.tables = stack.endpoints()["tables"]
        self.token = stack.token(author, author)
        self.post_text = post_text or one_kb_post(author)

    def post(self, text: str | None = None) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        reply = requests.post(
            f"{self.stack.http_url}/statuses",
            json={"post": text or self.post_text},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        elapsed = time.perf_counter() - started
        if reply.status_code != 202:
            raise RuntimeError(f"POST /statuses: {reply.status_code} {reply.text}")
        return elapsed, reply.json()

    def wait_execution(self, arn: str, timeout: float) -> dict[str, Any]:
        def done():
            out = self.sfn.describe_execution(executionArn=arn)
            return out if out["status"] != "RUNNING" else None

        return wait_for(done, timeout=timeout, interval=0.05, message="the fan-out to finish")

    def timed_fanout(self, timeout: float) -> dict[str, Any]:
        """One status posted over HTTP; seconds from the post to its execution's end (the
        execution ends after its last batch is written)."""
        posted_at = time.time()
        _, reply = self.post()
        execution = self.wait_execution(reply["fanoutExecutionArn"], timeout)
        return {
            "seconds": execution["stopDate"].timestamp() - posted_at,
            "status": execution["status"],
            "executionArn": reply["fanoutExecutionArn"],
            "statusId": reply["statusId"],
            "timestamp": reply["timestamp"],
            "output": execution.get("output") or execution.get("cause"),
        }

    def fanout(self, timeout: float) -> dict[str, Any]:
        """timed_fanout, and how many followers' feeds have the status (a scan of the whole feed
        table, which also finds a second copy under another key)."""
        outcome = self.timed_fanout(timeout)
        copies = feed_copies(self.stack, outcome["statusId"])
        outcome["followersWithStatus"] = len(copies)
        outcome["duplicates"] = sum(n - 1 for n in copies.values())
        return outcome

    def follower_ids(self) -> list[str]:
        ids: list[str] = []
        request: dict[str, Any] = {
            "TableName": self.tables["follows"],
            "IndexName": "FollowedBy",
            "KeyConditionExpression": "targetUserId = :a",
            "ExpressionAttributeValues": {":a": {"S": self.author}},
            "ProjectionExpression": "userId",
        }
        while True:
            page = self.ddb.query(**request)
            ids += [i["userId"]["S"] for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return ids
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def status(self) -> dict[str, Any]:
        status_id = uuid.uuid4().hex
        posted_at = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        return {
            "statusId": status_id,
            "post": self.post_text,
            "postedAt": posted_at,
            "timestamp": sort_key(posted_at, status_id),
            "author": {"userId": self.author, "screenName": self.author},
        }

    def write_feed(self, followers: list[str], status: dict[str, Any], writers: int) -> float:
        """The raw floor: the feed items of `status` written straight to the feed table, 25 a
        BatchWriteItem, by `writers` threads; seconds."""
        batches = [followers[i : i + 25] for i in range(0, len(followers), 25)]
        client = fast_client(self.stack, "dynamodb", writers)

        def write(batch: list[str]) -> None:
            batch_write(client, self.tables["feed"], [to_item(listing_item(f, status)) for f in batch])

        started = time.perf_counter()
        if writers == 1:
            for batch in batches:
                write(batch)
        else:
            with ThreadPoolExecutor(writers) as pool:
                list(pool.map(write, batches))
        return time.perf_counter() - started

    def synchronous_post(self) -> float:
        """Every follower's feed written inside the request: what the 202 design avoids."""
        started = time.perf_counter()
        status = self.status()
        self.ddb.put_item(TableName=self.tables["story"], Item=to_item(listing_item(self.author, status)))
        self.write_feed(self.follower_ids(), status, writers=1)
        return time.perf_counter() - started

    def post_latencies(self, count: int) -> list[float]:
        latencies = []
        for n in range(count):
            elapsed, reply = self.post(f"latency probe {n}")
            latencies.append(elapsed)
            # Keep later posts from being measured under earlier fan-outs' load.
            self.sfn.stop_execution(executionArn=reply["fanoutExecutionArn"])
            time.sleep(0.2)
        return latencies

    def post_latencies_during_fanout(self, timeout: float) -> dict[str, Any]:
        """POST /statuses by another author (no followers), one after another, for as long as a
        fan-out of this author's status runs: what a player waits while a celebrity posts."""
        token = self.stack.token("probe-author", "probe-author")
        _, reply = self.post()
        arn = reply["fanoutExecutionArn"]
        latencies: list[float] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = time.perf_counter()
            answer = requests.post(
                f"{self.stack.http_url}/statuses",
                json={"post": f"while a fan-out runs {len(latencies)}"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            latencies.append(time.perf_counter() - started)
            if answer.status_code != 202:
                raise RuntimeError(f"POST /statuses: {answer.status_code} {answer.text}")
            if self.sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
                break
        execution = self.wait_execution(arn, timeout)
        return {"latencies": latencies, "status": execution["status"]}


def feeds_holding(stack: RunningStack, followers: Sequence[str], timestamp: str) -> int:
    """How many of `followers` have the feed item of the status with this sort key, looked up by
    key (BatchGetItem, 100 keys a request): what a follower's GET /feed would show."""
    client = fast_client(stack, "dynamodb", SEED_WRITERS)
    table = stack.endpoints()["tables"]["feed"]
    chunks = [followers[i : i + 100] for i in range(0, len(followers), 100)]

    def found(chunk: Sequence[str]) -> int:
        request: dict[str, Any] = {
            table: {
                "Keys": [{"userAlias": {"S": f}, "timestamp": {"S": timestamp}} for f in chunk],
                "ProjectionExpression": "userAlias",
            }
        }
        present = 0
        while request:
            out = client.batch_get_item(RequestItems=request)
            present += len(out.get("Responses", {}).get(table, []))
            request = out.get("UnprocessedKeys") or {}
        return present

    with ThreadPoolExecutor(SEED_WRITERS) as pool:
        return sum(pool.map(found, chunks))


def execution_history(stack: RunningStack, arn: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    events: list[dict[str, Any]] = []
    request: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**request)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        request["nextToken"] = page["nextToken"]


def history_cost(events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What one execution's history says it cost: its events (an inline Map's iterations and a
    Parallel's branches are events of the same history), the Lambda invocations it scheduled
    (retries included), and its largest state payload (the longest input, output or Task
    parameters of any event, in bytes of UTF-8 JSON) with the event and state that carried it."""
    largest, carrier = 0, ""
    entered: dict[int, str] = {}
    lambda_invocations = 0
    for event in events:
        for key, details in event.items():
            if not key.endswith("EventDetails") or not isinstance(details, dict):
                continue
            if key == "stateEnteredEventDetails":
                entered[event["id"]] = details.get("name", "")
            if key == "taskScheduledEventDetails" and details.get("resourceType") == LAMBDA_RESOURCE:
                lambda_invocations += 1
            if key == "lambdaFunctionScheduledEventDetails":
                lambda_invocations += 1
            for name in PAYLOAD_FIELDS:
                value = details.get(name)
                if isinstance(value, str) and len(value.encode()) > largest:
                    largest = len(value.encode())
                    state = details.get("name") or entered.get(event.get("previousEventId", -1), "")
                    carrier = f"{event['type']} {state}".strip()
    return {
        "events": len(events),
        "lambdaInvocations": lambda_invocations,
        "largestPayloadBytes": largest,
        "largestPayloadAt": carrier,
    }


class TableCallCounter:
    """Counts calls to tables through the embedded AWS's fault switch (a throttle on a call number
    never reached). While it counts, the switch reads every DynamoDB request's body: a small
    cost, so a figure measured with counting on says so."""

    def __init__(self, stack: RunningStack, operations: dict[str, list[str]]):
        self.url = f"{stack.aws_url}/arcadeflow/faults/dynamodb"
        self.operations = operations  # logical table -> operations counted

    def start(self) -> None:
        for table, operations in self.operations.items():
            body = {"table": table, "throttleOn": [NEVER], "operations": operations}
            requests.post(self.url, data=json.dumps(body), timeout=10).raise_for_status()

    def read(self) -> dict[str, int]:
        listed = requests.get(self.url, timeout=10).json()["dynamodb"]
        return {t["table"]: t["calls"] for t in listed if t["table"] in self.operations}

    def stop(self) -> dict[str, int]:
        counts = self.read()
        requests.delete(self.url, timeout=10).raise_for_status()
        return counts
