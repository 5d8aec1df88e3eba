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
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.fanout_common import (  # noqa: E402
    CELEBRITY,
    FANOUT_CONCURRENCY,
    FanoutBench,
    percentile,
    wait_for_follow_counts,
)
from tests.support.fanout import populate  # noqa: E402
from tests.support.stack import RunningStack  # noqa: E402

PHYSICAL_WCU = 100


def line(label: str, value: str, reference: str, ratio: str, target: str) -> None:
    print(f"{label:<44} {value:>12}   {reference:<40} {ratio:>10}   {target}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"followers": args.followers}
    concurrency = FANOUT_CONCURRENCY

    with tempfile.TemporaryDirectory(prefix="arcadeflow-bench-") as state:
        stack = RunningStack(Path(state), ["--feed-write-budget", "1000000"])
        try:
            populate(stack, args.followers, CELEBRITY, "testUser")
            wait_for_follow_counts(stack, CELEBRITY, args.followers)
            bench = FanoutBench(stack, CELEBRITY)
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
            wait_for_follow_counts(stack, CELEBRITY, args.followers)
            bench = FanoutBench(stack, CELEBRITY)
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
