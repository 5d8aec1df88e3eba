"""Status fan-out figures, each beside its reference, measured in one run.

    .venv/bin/python benchmarks/status_fanout.py [--followers 10000] [--posts 30] [--sync-posts 5]

Starts its own `arcadeflow up` twice (nothing else should be running on the machine):

1. Unthrottled stack (feed write budget effectively unlimited, no emulated capacity):
   - raw floor: the same feed items written straight to the same store with BatchWriteItem,
     25 a request, one writer and then as many writers as the fan-out uses;
   - fan-out completion for one status of an author with `--followers` followers;
   - post latency: POST /statuses over HTTP, p50/p99 (each post's fan-out is stopped right after
     the post returns, so later posts are not measured under earlier fan-outs' load);
   - synchronous baseline: the same post with every follower's feed written inside the request
     (story write, follower pages, BatchWriteItem of every feed item, from this process against
     the same embedded AWS; the function runner adds only IPC on top of that);
   - post latency while a fan-out runs: POST /statuses by another author, one after another, for
     as long as a `--followers` fan-out is running.
2. Stack with the feed table at 100 emulated WCU, no burst (`--table-wcu feed=100
   --capacity-burst-seconds 0`), default budget of 100 WCU: fan-out completion of one-KB items
   against the physical limit (followers / 100 seconds), and nothing lost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from functions.shared.dynamo import to_item  # noqa: E402
from functions.status.fanout import item_size, listing_item, sort_key  # noqa: E402
from tests.support.fanout import feed_copies, populate  # noqa: E402
from tests.support.stack import RunningStack, wait_for  # noqa: E402

CELEBRITY = "testUser1"
PHYSICAL_WCU = 100


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


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def wait_for_follow_counts(stack: RunningStack, followers: int) -> None:
    """The follows stream's consumer counts the new follows; let it finish before measuring."""
    ddb = stack.client("dynamodb")
    users = stack.endpoints()["tables"]["users"]

    def settled() -> bool:
        item = ddb.get_item(TableName=users, Key={"userId": {"S": CELEBRITY}}).get("Item") or {}
        return int(item.get("followerCount", {}).get("N", "0")) >= followers

    wait_for(settled, timeout=300, interval=1, message="follower counts to settle")


class Bench:
    def __init__(self, stack: RunningStack, followers: int):
        self.stack = stack
        self.followers = followers
        self.ddb = stack.client("dynamodb")
        self.sfn = stack.client("stepfunctions")
        self.tables = stack.endpoints()["tables"]
        self.token = stack.token(CELEBRITY, CELEBRITY)
        self.post_text = one_kb_post(CELEBRITY)

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

    def fanout(self, timeout: float) -> dict[str, Any]:
        posted_at = time.time()
        _, reply = self.post()
        execution = self.wait_execution(reply["fanoutExecutionArn"], timeout)
        completion = execution["stopDate"].timestamp() - posted_at
        copies = feed_copies(self.stack, reply["statusId"])
        return {
            "seconds": completion,
            "status": execution["status"],
            "followersWithStatus": len(copies),
            "duplicates": sum(n - 1 for n in copies.values()),
            "output": execution.get("output") or execution.get("cause"),
        }

    def follower_ids(self) -> list[str]:
        ids: list[str] = []
        request: dict[str, Any] = {
            "TableName": self.tables["follows"],
            "IndexName": "FollowedBy",
            "KeyConditionExpression": "targetUserId = :a",
            "ExpressionAttributeValues": {":a": {"S": CELEBRITY}},
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
            "author": {"userId": CELEBRITY, "screenName": CELEBRITY},
        }

    def write_feed(self, followers: list[str], status: dict[str, Any], writers: int) -> float:
        batches = [followers[i : i + 25] for i in range(0, len(followers), 25)]

        def write(batch: list[str]) -> None:
            pending = [{"PutRequest": {"Item": to_item(listing_item(f, status))}} for f in batch]
            while pending:
                out = self.ddb.batch_write_item(RequestItems={self.tables["feed"]: pending})
                pending = out.get("UnprocessedItems", {}).get(self.tables["feed"], [])

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
        self.ddb.put_item(TableName=self.tables["story"], Item=to_item(listing_item(CELEBRITY, status)))
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


def line(label: str, value: str, reference: str, ratio: str, target: str) -> None:
    print(f"{label:<44} {value:>12}   {reference:<40} {ratio:>10}   {target}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"followers": args.followers}
    concurrency = 5  # FANOUT_CONCURRENCY in infra/deployment.json

    with tempfile.TemporaryDirectory(prefix="arcadeflow-bench-") as state:
        stack = RunningStack(Path(state), ["--feed-write-budget", "1000000"])
        try:
            populate(stack, args.followers, CELEBRITY, "testUser")
            wait_for_follow_counts(stack, args.followers)
            bench = Bench(stack, args.followers)
            followers = bench.follower_ids()
            assert len(followers) == args.followers
            bench.fanout(timeout=300)  # warm every function and code path once
            floor_serial = bench.write_feed(followers, bench.status(), writers=1)
            floor_parallel = bench.write_feed(followers, bench.status(), writers=concurrency)
            results["floorSerialSeconds"] = floor_serial
            results["floorParallelSeconds"] = floor_parallel
            results["fanout"] = bench.fanout(timeout=300)
            results["postLatencies"] = bench.post_latencies(args.posts)
            results["syncLatencies"] = [bench.synchronous_post() for _ in range(args.sync_posts)]
            results["duringFanout"] = bench.post_latencies_during_fanout(timeout=300)
        finally:
            stack.stop()

    with tempfile.TemporaryDirectory(prefix="arcadeflow-bench-") as state:
        stack = RunningStack(
            Path(state), ["--table-wcu", f"feed={PHYSICAL_WCU}", "--capacity-burst-seconds", "0"]
        )
        try:
            populate(stack, args.followers, CELEBRITY, "testUser")
            wait_for_follow_counts(stack, args.followers)
            bench = Bench(stack, args.followers)
            # Start from a full one-second bucket, as a table that has been idle would.
            time.sleep(1.5)
            results["throttledFanout"] = bench.fanout(timeout=600)
            dlq = stack.client("sqs").get_queue_url(QueueName="arcadeflow-fanout-dead-letters")["QueueUrl"]
            results["deadLetters"] = int(
                stack.client("sqs").get_queue_attributes(
                    QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]["ApproximateNumberOfMessages"]
            )
        finally:
            stack.stop()
    return results


def report(results: dict[str, Any]) -> None:
    n = results["followers"]
    post, sync = results["postLatencies"], results["syncLatencies"]
    p50, p99 = percentile(post, 0.50), percentile(post, 0.99)
    sync_p50 = statistics.median(sync)
    floor = min(results["floorSerialSeconds"], results["floorParallelSeconds"])
    fan, slow = results["fanout"], results["throttledFanout"]
    physical = n / PHYSICAL_WCU
    print()
    print(f"status fan-out, {n} followers (one-KB feed items), one run")
    print("-" * 140)
    line("figure", "measured", "reference (same run)", "ratio", "target")
    line(
        f"post latency p50 ({len(post)} posts)",
        f"{p50 * 1000:.0f} ms",
        f"sync baseline p50 {sync_p50 * 1000:.0f} ms ({len(sync)} posts)",
        f"{sync_p50 / p50:.0f}x",
        "",
    )
    line(
        "post latency p99",
        f"{p99 * 1000:.0f} ms",
        f"sync baseline p50 {sync_p50 * 1000:.0f} ms",
        f"{sync_p50 / p99:.0f}x",
        ">= 100x faster",
    )
    during = results["duringFanout"]["latencies"]
    line(
        f"post latency p99 during a fan-out ({len(during)} posts)",
        f"{percentile(during, 0.99) * 1000:.0f} ms",
        f"p50 {percentile(during, 0.50) * 1000:.0f} ms; idle p99 {p99 * 1000:.0f} ms",
        f"{percentile(during, 0.99) / p99:.2f}x",
        "p99 < 100 ms",
    )
    line(
        "fan-out completion, unthrottled",
        f"{fan['seconds']:.2f} s",
        f"raw BatchWriteItem floor {floor:.2f} s",
        f"{fan['seconds'] / floor:.2f}x",
        "<= 1.5x floor",
    )
    print(
        f"{'':44} {'':12}   (floor: 1 writer {results['floorSerialSeconds']:.2f} s, "
        f"5 writers {results['floorParallelSeconds']:.2f} s; fan-out {fan['status']}, "
        f"{fan['followersWithStatus']} feeds, {fan['duplicates']} duplicates)"
    )
    line(
        "fan-out completion, feed at 100 WCU",
        f"{slow['seconds']:.1f} s",
        f"physical limit {physical:.0f} s ({n} x 1 WCU / 100)",
        f"{slow['seconds'] / physical:.2f}x",
        "<= 110 s, nothing lost",
    )
    print(
        f"{'':44} {'':12}   ({slow['status']}, {slow['followersWithStatus']} of {n} feeds, "
        f"{slow['duplicates']} duplicates, {results['deadLetters']} dead-lettered batches)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=200, help="POST /statuses samples")
    parser.add_argument("--sync-posts", type=int, default=5, help="synchronous baseline samples")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    results = run(args)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
