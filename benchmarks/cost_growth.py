"""How cost grows: a status fan-out at 1,000, 10,000 and 100,000 followers, and duels at 1, 10
and 50 at once, each figure printed beside its reference measured in the same run.

    python -m benchmarks.cost_growth [--followers 1000,10000,100000] [--duels 1,10,50]
                                     [--rounds 10] [--no-request-counts] [--quick] [--json PATH]

Starts its own `arcadeflow up` for each table (nothing else should run on the machine):

1. Fan-out, one stack with an unlimited feed write budget (as status_fanout.py's unthrottled
   run). Authors `growthAuthor<n>` have the first n of `growthFan1..` as followers, seeded
   straight into the users and follows tables with BatchWriteItem from several threads (its
   time printed apart, with the time the follows stream's consumer took to count them). One
   fan-out at the smallest size warms every function first. Then per size, smallest first:
   - the raw floor: the same one-KB feed items written straight to the same feed table, 25 a
     BatchWriteItem, by as many writers as the fan-out runs (5);
   - the fan-out: POST /statuses to the end of its execution (which ends after its last batch
     is written), as status_fanout.py measures it;
   - its cost: the events of its one execution history (the Map's iterations and the Parallel's
     branches are events of that history: status_fanout starts no child execution), the Lambda
     invocations it scheduled, its largest state payload (longest input, output or Task
     parameters of any event, bytes), and the DynamoDB requests to the feed and follows tables
     (counted by the embedded AWS's fault switch, which then parses every DynamoDB request's
     body; `--no-request-counts` measures without it);
   - nothing lost: every follower's feed item looked up by its key.
2. Duels, one stack: for each concurrency c, c pairs of WebSocket clients each play `--rounds`
   duels one after another, all pairs at once (benchmarks/duel_latency.py's duel): p50/p99 of
   invite delivery and accept to start, beside the plain WebSocket ping round trip measured by
   the same pairs at the same concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arcadeflow.auth import LocalIssuer
from benchmarks.duel_latency import empty_samples, play_duels
from benchmarks.duel_latency import percentile as percentile_of
from benchmarks.fanout_common import (
    FANOUT_CONCURRENCY,
    FanoutBench,
    TableCallCounter,
    execution_history,
    feeds_holding,
    history_cost,
    seed_followers,
    wait_for_follow_counts,
)
from tests.support.stack import RunningStack
from tools.duel_client import DuelClient

UNLIMITED_BUDGET = ["--feed-write-budget", "1000000"]
COUNTED_CALLS = {
    "feed": ["BatchWriteItem", "PutItem"],
    "follows": ["Query"],
}


def sizes(text: str) -> list[int]:
    values = sorted({int(v) for v in text.split(",") if v.strip()})
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive numbers")
    return values


# --- fan-out ------------------------------------------------------------------------------------


def measure_fanout_growth(
    stack: RunningStack,
    followers: Sequence[int],
    prefix: str = "growth",
    count_requests: bool = True,
    timeout: float = 900,
    post_text: str | None = None,
) -> dict[str, Any]:
    """Seeds `prefix`Author<n> with n followers for each n, then measures one fan-out per size
    (smallest first) beside its raw floor. Ids are made from `prefix`, so a shared stack can be
    used when the prefix is new to it."""
    followers = sorted(followers)
    fans = [f"{prefix}Fan{i}" for i in range(1, followers[-1] + 1)]
    authors = {n: f"{prefix}Author{n}" for n in followers}

    started = time.perf_counter()
    for index, (n, author) in enumerate(authors.items()):
        seed_followers(stack, author, fans[:n], new_users=fans if index == 0 else ())
    seeded = time.perf_counter()
    for n, author in authors.items():
        wait_for_follow_counts(stack, author, n, timeout=timeout)
    counted = time.perf_counter()
    result: dict[str, Any] = {
        "seeding": {
            "users": len(fans) + len(authors),
            "follows": sum(followers),
            "writeSeconds": seeded - started,
            "followCountsSeconds": counted - seeded,
        },
        "countedRequests": count_requests,
        "rows": [],
    }

    benches = {n: FanoutBench(stack, author, post_text) for n, author in authors.items()}
    benches[followers[0]].timed_fanout(timeout)  # warms every function and code path once

    for n in followers:
        bench = benches[n]
        floor = bench.write_feed(fans[:n], bench.status(), writers=FANOUT_CONCURRENCY)
        counter = TableCallCounter(stack, COUNTED_CALLS)
        if count_requests:
            counter.start()
        try:
            outcome = bench.timed_fanout(timeout)
        finally:
            calls = counter.stop() if count_requests else {}
        cost = history_cost(execution_history(stack, outcome["executionArn"]))
        result["rows"].append(
            {
                "followers": n,
                "seconds": outcome["seconds"],
                "floorSeconds": floor,
                "status": outcome["status"],
                "feedsWithStatus": feeds_holding(stack, fans[:n], outcome["timestamp"]),
                **cost,
                "feedWrites": calls.get("feed"),
                "followerQueries": calls.get("follows"),
            }
        )
        print(f"  fan-out to {n} followers: {outcome['seconds']:.2f} s", file=sys.stderr, flush=True)
    return result


def fanout_table(result: dict[str, Any]) -> str:
    seeding = result["seeding"]
    rows = result["rows"]
    smallest = rows[0]
    lines = [
        "status fan-out, unthrottled feed (one-KB items), one stack, smallest size first",
        f"seeding: {seeding['users']:,} users and {seeding['follows']:,} follows written in "
        f"{seeding['writeSeconds']:.1f} s (BatchWriteItem, 8 threads); follow counts settled "
        f"{seeding['followCountsSeconds']:.1f} s later",
        "",
        "| followers | fan-out s | raw floor s (5 writers) | x floor | s per 1,000 | history events "
        "| events per follower | Lambda invocations | largest state payload, bytes (where) "
        "| feed BatchWriteItem | follows Query | feeds with the status |",
        "|" + "---:|" * 11 + "---|",
    ]
    for row in rows:
        requests_known = row["feedWrites"] is not None
        lines.append(
            f"| {row['followers']:,} | {row['seconds']:.2f} | {row['floorSeconds']:.2f} "
            f"| {row['seconds'] / row['floorSeconds']:.2f} | {row['seconds'] / row['followers'] * 1000:.2f} "
            f"| {row['events']:,} | {row['events'] / row['followers']:.3f} | {row['lambdaInvocations']:,} "
            f"| {row['largestPayloadBytes']:,} ({row['largestPayloadAt']}) "
            f"| {row['feedWrites'] if requests_known else '-'} "
            f"| {row['followerQueries'] if requests_known else '-'} "
            f"| {row['feedsWithStatus']:,} of {row['followers']:,} ({row['status']}) |"
        )
    if len(rows) > 1:
        largest = rows[-1]
        growth = largest["followers"] / smallest["followers"]
        lines.append("")
        lines.append(
            f"{growth:.0f}x the followers: fan-out {largest['seconds'] / smallest['seconds']:.1f}x the time "
            f"(floor {largest['floorSeconds'] / smallest['floorSeconds']:.1f}x), "
            f"{largest['events'] / smallest['events']:.1f}x the events, "
            f"{largest['largestPayloadBytes'] / smallest['largestPayloadBytes']:.2f}x the largest payload"
        )
    if result["countedRequests"]:
        lines.append(
            "(DynamoDB requests counted by the fault switch, which parses every request body meanwhile)"
        )
    return "\n".join(lines)


# --- duels --------------------------------------------------------------------------------------


GROWTH_FRAME_TIMEOUT_SECONDS = 120.0


async def _duels_at(
    ws_url: str, issuer: LocalIssuer, concurrency: int, rounds: int, warmup: int, prefix: str
) -> dict[str, list[float]]:
    pairs = []
    for n in range(concurrency):
        alice_id, bob_id = f"{prefix}-a{n}", f"{prefix}-b{n}"
        alice = await DuelClient.connect(ws_url, issuer.mint(alice_id, alice_id), alice_id)
        bob = await DuelClient.connect(ws_url, issuer.mint(bob_id, bob_id), bob_id)
        pairs.append((alice, bob))
    samples = empty_samples()
    try:
        # A measurement, not a check: at 50 pairs a frame can queue for more than the client's
        # default 15 s behind the one server process, and the slow frames are the figure.
        await asyncio.gather(
            *(play_duels(a, b, rounds, warmup, samples, GROWTH_FRAME_TIMEOUT_SECONDS) for a, b in pairs)
        )
    finally:
        for alice, bob in pairs:
            await alice.close()
            await bob.close()
    return samples


def measure_duel_growth(
    stack: RunningStack,
    concurrencies: Sequence[int],
    rounds: int,
    warmup: int = 1,
    prefix: str = "growth-duel",
) -> list[dict[str, Any]]:
    """For each concurrency c: c pairs play `rounds` duels each, all pairs at once; the samples
    (ms) of every pair together. Player ids are made from `prefix` and c."""
    issuer = LocalIssuer(stack.state_dir)
    ws_url = f"ws://127.0.0.1:{stack.ws_port}/local"
    rows = []
    for concurrency in concurrencies:
        samples = asyncio.run(
            _duels_at(ws_url, issuer, concurrency, rounds, warmup, f"{prefix}-{concurrency}")
        )
        rows.append({"concurrency": concurrency, "rounds": rounds, "samples": samples})
        print(f"  {concurrency} concurrent duels done", file=sys.stderr, flush=True)
    return rows


def duel_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "duels, c pairs at once, each pair playing its duels one after another; one stack",
        "",
        "| concurrent duels | duels measured | ping p50 ms | ping p99 ms | invite p50 ms | x ping p50 "
        "| invite p99 ms | x ping p99 | accept-to-start p50 ms | x ping p50 | accept-to-start p99 ms "
        "| x ping p99 |",
        "|" + "---:|" * 12,
    ]
    for row in rows:
        s = row["samples"]
        ping50, ping99 = percentile_of(s["ping round trip"], 50), percentile_of(s["ping round trip"], 99)
        inv50, inv99 = percentile_of(s["invite delivery"], 50), percentile_of(s["invite delivery"], 99)
        acc50, acc99 = percentile_of(s["accept to start"], 50), percentile_of(s["accept to start"], 99)
        lines.append(
            f"| {row['concurrency']} | {len(s['invite delivery'])} | {ping50:.1f} | {ping99:.1f} "
            f"| {inv50:.1f} | {inv50 / ping50:.1f} | {inv99:.1f} | {inv99 / ping99:.1f} "
            f"| {acc50:.1f} | {acc50 / ping50:.1f} | {acc99:.1f} | {acc99 / ping99:.1f} |"
        )
    return "\n".join(lines)


# --- command line -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--followers", type=sizes, default=[1_000, 10_000, 100_000])
    parser.add_argument("--duels", type=sizes, default=[1, 10, 50], help="concurrent duels")
    parser.add_argument("--rounds", type=int, default=10, help="duels each pair plays (default 10)")
    parser.add_argument("--no-request-counts", action="store_true", help="do not count DynamoDB requests")
    parser.add_argument("--skip-fanout", action="store_true")
    parser.add_argument("--skip-duels", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 100 and 1,000 followers; 1 and 5 duels, 3 rounds"
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.followers, args.duels, args.rounds = [100, 1_000], [1, 5], 3

    results: dict[str, Any] = {}
    began = time.monotonic()
    if not args.skip_fanout:
        with tempfile.TemporaryDirectory(prefix="arcadeflow-bench-") as state:
            stack = RunningStack(Path(state), UNLIMITED_BUDGET)
            try:
                results["fanout"] = measure_fanout_growth(
                    stack, args.followers, count_requests=not args.no_request_counts
                )
            finally:
                stack.stop()
        print()
        print(fanout_table(results["fanout"]))
    if not args.skip_duels:
        with tempfile.TemporaryDirectory(prefix="arcadeflow-bench-") as state:
            stack = RunningStack(Path(state))
            try:
                results["duels"] = measure_duel_growth(stack, args.duels, args.rounds)
            finally:
                stack.stop()
        print()
        print(duel_table(results["duels"]))
    print(f"\n(run took {time.monotonic() - began:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
