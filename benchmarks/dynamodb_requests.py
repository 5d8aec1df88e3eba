"""What one DynamoDB request costs on the embedded AWS, beside MiniStack measured in the same run.

    .venv/bin/python benchmarks/dynamodb_requests.py [--puts 2000] [--gets 2000] [--queries 200]
        [--batch-items 10000] [--engines embedded,ministack] [--empty]

The embedded AWS is the real `arcadeflow up` (tests/support/stack.py): persistence, the
interceptors, the stream pollers and the TTL reaper all run, as a user's do; `--empty` starts it
with `--no-deploy` (no product tables, no pollers). MiniStack is started from its own virtual
environment by tools/ministack.py, bound to 127.0.0.1. Both serve one fresh on-demand table, and
the client is one boto3 client per writer in this process (the same for both engines), so the
difference is the server's.

Figures: sequential PutItem, GetItem and Query (a page of 100 of a partition's 1,000 items) as
per-request p50 / p99 and the run's wall time; BatchWriteItem of `--batch-items` items, 25 a
request, from one writer and from 4 (UnprocessedItems written again). The last column is
embedded / MiniStack: below 1 the embedded AWS is faster.

The embedded server's process id is printed when it is up, for a sampling profiler (py-spy, an
optional tool the reader installs: `py-spy record -p PID -d 10 -f raw -o out.txt`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.stack import RunningStack  # noqa: E402
from tools.ministack import MINISTACK_VERSION, MiniStack  # noqa: E402

QUERY_PARTITION_ITEMS = 1000
QUERY_PAGE = 100
BATCH = 25


def client(endpoint_url: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        # A benchmark measures the server: no retries hiding a slow answer, a pool per writer.
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=8),
    )


@contextmanager
def embedded(empty: bool) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="arcadeflow-dynamodb-bench-") as state:
        stack = RunningStack(Path(state), ["--no-deploy"] if empty else [])
        print(f"embedded AWS: pid {stack.proc.pid} on {stack.aws_url}", file=sys.stderr, flush=True)
        try:
            yield stack.aws_url
        finally:
            stack.stop()


@contextmanager
def ministack() -> Iterator[str]:
    with (
        tempfile.TemporaryDirectory(prefix="arcadeflow-ministack-bench-") as state,
        MiniStack(Path(state) / "ministack.log") as server,
    ):
        yield server.endpoint_url


def make_table(dynamodb: Any) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    return name


def item(pk: str, sk: str) -> dict[str, Any]:
    # A feed entry's size and shape: a few strings and a number.
    return {
        "pk": {"S": pk},
        "sk": {"S": sk},
        "author": {"S": "celebrity"},
        "text": {"S": "x" * 120},
        "postedAt": {"N": "1764633600"},
    }


def timed(calls: int, call: Callable[[int], Any]) -> dict[str, float]:
    latencies = []
    started = time.perf_counter()
    for i in range(calls):
        t0 = time.perf_counter()
        call(i)
        latencies.append(time.perf_counter() - t0)
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "wall_s": wall,
    }


def batch_write(endpoint_url: str, table: str, items: int, writers: int, prefix: str) -> float:
    """Seconds to write `items` items, 25 a request, split over `writers` threads."""
    clients = [client(endpoint_url) for _ in range(writers)]
    errors: list[BaseException] = []

    def write(w: int) -> None:
        dynamodb = clients[w]
        try:
            for start in range(w * BATCH, items, writers * BATCH):
                requests = [
                    {"PutRequest": {"Item": item(f"{prefix}-{n % 400}", f"{n:08d}")}}
                    for n in range(start, min(start + BATCH, items))
                ]
                while requests:
                    answer = dynamodb.batch_write_item(RequestItems={table: requests})
                    requests = answer.get("UnprocessedItems", {}).get(table, [])
        except BaseException as exc:  # reported after the join, not lost in a thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return seconds


def measure(endpoint_url: str, args: argparse.Namespace) -> dict[str, float]:
    dynamodb = client(endpoint_url)
    table = make_table(dynamodb)
    # Warm-up: the first requests pay imports and connection set-up on either engine.
    for i in range(20):
        dynamodb.put_item(TableName=table, Item=item("warm", f"{i}"))
    out: dict[str, float] = {}
    put = timed(args.puts, lambda i: dynamodb.put_item(TableName=table, Item=item("put", f"{i:08d}")))
    out.update({f"PutItem {k}": v for k, v in put.items()})
    get = timed(
        args.gets,
        lambda i: dynamodb.get_item(
            TableName=table, Key={"pk": {"S": "put"}, "sk": {"S": f"{i % args.puts:08d}"}}
        ),
    )
    out.update({f"GetItem {k}": v for k, v in get.items()})
    requests = [{"PutRequest": {"Item": item("query", f"{n:08d}")}} for n in range(QUERY_PARTITION_ITEMS)]
    for start in range(0, len(requests), BATCH):
        dynamodb.batch_write_item(RequestItems={table: requests[start : start + BATCH]})

    def query(i: int) -> None:
        start = f"{(i * 37) % (QUERY_PARTITION_ITEMS - QUERY_PAGE):08d}"
        page = dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk AND sk > :start",
            ExpressionAttributeValues={":pk": {"S": "query"}, ":start": {"S": start}},
            Limit=QUERY_PAGE,
        )
        if len(page["Items"]) != QUERY_PAGE:
            raise RuntimeError(f"a Query page held {len(page['Items'])} items, not {QUERY_PAGE}")

    q = timed(args.queries, query)
    out.update({f"Query page of {QUERY_PAGE} {k}": v for k, v in q.items()})
    for writers in (1, 4):
        table = make_table(dynamodb)
        seconds = batch_write(endpoint_url, table, args.batch_items, writers, f"w{writers}")
        count = dynamodb.scan(TableName=table, Select="COUNT")
        counted = count["Count"]
        while "LastEvaluatedKey" in count:
            count = dynamodb.scan(
                TableName=table, Select="COUNT", ExclusiveStartKey=count["LastEvaluatedKey"]
            )
            counted += count["Count"]
        if counted != args.batch_items:
            raise RuntimeError(f"BatchWriteItem: {counted} items stored, {args.batch_items} written")
        out[f"BatchWriteItem {args.batch_items} items, {writers} writer{'s' if writers > 1 else ''} s"] = (
            seconds
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--puts", type=int, default=2000)
    parser.add_argument("--gets", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch-items", type=int, default=10_000)
    parser.add_argument(
        "--engines", default="embedded,ministack", help="comma-separated: embedded, ministack"
    )
    parser.add_argument("--empty", action="store_true", help="the embedded AWS with --no-deploy")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    results: dict[str, dict[str, float]] = {}
    for engine in engines:
        if engine == "embedded":
            with embedded(args.empty) as url:
                results[engine] = measure(url, args)
        elif engine == "ministack":
            with ministack() as url:
                results[engine] = measure(url, args)
        else:
            parser.error(f"unknown engine {engine!r}")
    load = os.getloadavg()
    print(f"\nDynamoDB per request, {time.strftime('%Y-%m-%d %H:%M')} UTC, load {load[0]:.2f} {load[1]:.2f}")
    names = {"embedded": "embedded AWS", "ministack": f"MiniStack {MINISTACK_VERSION}"}
    header = ["figure", *(names[e] for e in engines)]
    if len(engines) == 2:
        header.append(f"{engines[0]} / {engines[1]}")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for figure in results[engines[0]]:
        values = [results[e][figure] for e in engines]
        unit_free = figure.rsplit(" ", 1)[0]
        unit = figure.rsplit(" ", 1)[1].replace("_", " ")
        row = [f"{unit_free} ({unit})", *(f"{v:.2f}" for v in values)]
        if len(values) == 2:
            row.append(f"{values[0] / values[1]:.2f}x")
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
