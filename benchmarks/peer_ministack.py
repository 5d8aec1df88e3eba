"""The embedded AWS beside MiniStack, a peer local AWS, on the same calls in one run.

    .venv/bin/python -m benchmarks.peer_ministack [--rounds 3] [--puts 2000] [--batch-items 10000]
                                                 [--invokes 200] [--executions 50] [--quick] [--deployed]

Both engines get the same boto3 calls from this process, answered over HTTP on 127.0.0.1:
- DynamoDB: sequential PutItem, GetItem, UpdateItem with a condition, a Query page of 100 items
  of one partition, and `--batch-items` items by BatchWriteItem (25 a request) from one writer and
  from 4 writers; wall time and per-request p50/p99.
- Lambda: one small Python function whose handler imports only the standard library (MiniStack
  runs a handler with its own interpreter), created on both from the same zip bytes: the first
  invoke after the function is Active (cold), then warm Invoke p50/p99.
- Step Functions: a STANDARD machine of three Pass states and one of a single `lambda:invoke`
  Task. Each execution is timed from StartExecution sent to the first DescribeExecution that
  answers SUCCEEDED, polled every `--poll-ms` (5 ms) on both engines: what a client waiting for
  the result sees, polling cost included on both.

The embedded AWS is started as a user starts it: `arcadeflow up` (tests/support/stack.py
RunningStack) with every moto patch, interceptor, the Lambda runner, persistence to a fresh state
directory, the stream pollers and the TTL reaper. By default with `--no-deploy` (MiniStack holds
nothing of arcadeflow either, so both engines serve only what this benchmark creates);
`--deployed` measures it with arcadeflow's product deployed beside it, as `arcadeflow up` runs for
a developer. MiniStack (tools/ministack.py: pinned, its own virtual environment, bound to
127.0.0.1) keeps nothing on disk (its default, PERSIST_STATE unset).

Each round starts each engine afresh, measures everything, and stops it; the order of the engines
alternates from round to round so neither always runs on a warmer (or busier) machine. The table
gives, per figure, the median and the minimum over rounds of each engine's figure, the ratio of
the medians (MiniStack / embedded: above 1 the embedded AWS is faster) and issue 14's target:
embedded at least as fast as MiniStack on every DynamoDB figure (ratio >= 1), and keeping its lead
on Lambda and Step Functions (ratio > 1).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.stack import RunningStack  # noqa: E402
from tools.ministack import MINISTACK_VERSION, MiniStack  # noqa: E402

EMBEDDED = "embedded"
MINISTACK = "MiniStack"
BATCH_SIZE = 25  # BatchWriteItem's limit per request
PAGE_ITEMS = 100  # the Query page: 100 items of one partition
PUT_PARTITIONS = 20  # sequential puts spread over this many partitions
PAYLOAD = "x" * 100  # every item carries the same 100 bytes besides its key
ROLE_NAME = "peer-bench"
HANDLER_MODULE = "peer_bench_handler"
# Standard library only: MiniStack runs the handler with its own interpreter, and neither engine
# should pay for imports the other does not make.
HANDLER_SOURCE = '''"""Echoes its event: the smallest handler that still reads its input and context."""


def handler(event, context):
    return {"echo": event, "requestId": context.aws_request_id}
'''


# --- sizes and figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    puts: int = 2000
    gets: int = 2000
    updates: int = 2000
    query_pages: int = 200
    batch_items: int = 10_000
    invokes: int = 200
    executions: int = 50
    poll_seconds: float = 0.005
    warmup: int = 10  # calls of each kind made first and not measured (connections, caches)


QUICK = Sizes(
    puts=100, gets=100, updates=100, query_pages=20, batch_items=500, invokes=20, executions=5, warmup=3
)


@dataclass(frozen=True)
class Figure:
    """One measured figure of one engine in one round. Latencies are per call, in ms."""

    group: str  # DynamoDB, Lambda, Step Functions, Engine
    name: str
    calls: int
    wall_s: float
    p50_ms: float
    p99_ms: float


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (as the other benchmarks here compute it)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def figure(group: str, name: str, latencies_s: Sequence[float], wall_s: float) -> Figure:
    return Figure(
        group=group,
        name=name,
        calls=len(latencies_s),
        wall_s=wall_s,
        p50_ms=percentile(latencies_s, 0.50) * 1000,
        p99_ms=percentile(latencies_s, 0.99) * 1000,
    )


def timed(call: Callable[..., Any], arguments: Sequence[tuple[Any, ...]]) -> tuple[list[float], float]:
    """call(*a) for each a, one after another: each call's latency and the wall time of them all."""
    latencies: list[float] = []
    started = time.perf_counter()
    for argument in arguments:
        before = time.perf_counter()
        call(*argument)
        latencies.append(time.perf_counter() - before)
    return latencies, time.perf_counter() - started


class Clients:
    """boto3 clients of one engine. No client retries: a throttle or an error is the engine's
    answer and must show, not be hidden behind a retry's extra round trip."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self.dynamodb = self.client("dynamodb")
        self.lambda_ = self.client("lambda")
        self.stepfunctions = self.client("stepfunctions")
        self.iam = self.client("iam")

    def client(self, service: str) -> Any:
        # A session per client: clients made from one session concurrently are not thread-safe.
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120),
        )


# --- DynamoDB ------------------------------------------------------------------------------------


def item(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, "payload": {"S": PAYLOAD}, "n": {"N": "0"}}


def create_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    deadline = time.monotonic() + 60
    while dynamodb.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise RuntimeError(f"table {name} not ACTIVE after 60 s")
        time.sleep(0.05)  # nothing to wait on but the table's status


def write_batches(dynamodb: Any, table: str, items: Sequence[dict[str, Any]]) -> list[float]:
    """BatchWriteItem, 25 a request, resending what comes back unprocessed: each request's latency."""
    latencies: list[float] = []
    for start in range(0, len(items), BATCH_SIZE):
        requests = [{"PutRequest": {"Item": i}} for i in items[start : start + BATCH_SIZE]]
        while requests:
            before = time.perf_counter()
            answer = dynamodb.batch_write_item(RequestItems={table: requests})
            latencies.append(time.perf_counter() - before)
            requests = answer.get("UnprocessedItems", {}).get(table, [])
    return latencies


def count_partition(dynamodb: Any, table: str, pk: str) -> int:
    count, kwargs = 0, dict[str, Any]()
    while True:
        page = dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            Select="COUNT",
            ConsistentRead=True,
            **kwargs,
        )
        count += page["Count"]
        if "LastEvaluatedKey" not in page:
            return count
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def measure_dynamodb(clients: Clients, sizes: Sizes) -> list[Figure]:
    """Every DynamoDB figure, on a table of its own. Each answer is checked, so an engine that
    answered wrongly fails here instead of looking fast."""
    ddb = clients.dynamodb
    table = f"peer-bench-{uuid.uuid4().hex[:8]}"
    create_table(ddb, table)
    keys = [(f"user#{i % PUT_PARTITIONS}", f"item#{i:06d}") for i in range(max(sizes.puts, 1))]
    figures: list[Figure] = []

    for index in range(sizes.warmup):
        ddb.put_item(TableName=table, Item=item("warmup", f"{index:06d}"))

    def put(pk: str, sk: str) -> None:
        ddb.put_item(TableName=table, Item=item(pk, sk))

    latencies, wall = timed(put, keys)
    figures.append(figure("DynamoDB", f"PutItem x{sizes.puts}, sequential", latencies, wall))

    def get(pk: str, sk: str) -> None:
        found = ddb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")
        if found is None or found["payload"]["S"] != PAYLOAD:
            raise AssertionError(f"GetItem of {pk}/{sk} answered {found!r}")

    for index in range(sizes.warmup):
        get(*keys[index % len(keys)])
    latencies, wall = timed(get, [keys[i % len(keys)] for i in range(sizes.gets)])
    figures.append(figure("DynamoDB", f"GetItem x{sizes.gets}, sequential", latencies, wall))

    def update(pk: str, sk: str) -> None:
        ddb.update_item(
            TableName=table,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression="SET #n = #n + :one",
            ConditionExpression="attribute_exists(pk) AND #n < :limit",
            ExpressionAttributeNames={"#n": "n"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": "1000000"}},
        )

    for index in range(sizes.warmup):
        update("warmup", f"{index:06d}")
    latencies, wall = timed(update, [keys[i % len(keys)] for i in range(sizes.updates)])
    figures.append(figure("DynamoDB", f"UpdateItem x{sizes.updates} with a condition", latencies, wall))
    updated = ddb.get_item(TableName=table, Key={"pk": {"S": keys[0][0]}, "sk": {"S": keys[0][1]}})["Item"]
    expected_n = len(range(0, sizes.updates, len(keys)))
    if int(updated["n"]["N"]) != expected_n:
        raise AssertionError(f"UpdateItem: n is {updated['n']['N']}, expected {expected_n}")

    # The page's partition, written untimed: 100 items, among the puts' partitions.
    write_batches(ddb, table, [item("page", f"item#{i:06d}") for i in range(PAGE_ITEMS)])

    def query_page() -> None:
        page = ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "page"}},
            Limit=PAGE_ITEMS,
        )
        if page["Count"] != PAGE_ITEMS:
            raise AssertionError(f"Query page answered {page['Count']} items, expected {PAGE_ITEMS}")

    for _ in range(sizes.warmup):
        query_page()
    latencies, wall = timed(query_page, [()] * sizes.query_pages)
    figures.append(
        figure("DynamoDB", f"Query page of {PAGE_ITEMS} items x{sizes.query_pages}", latencies, wall)
    )

    for writers in (1, 4):
        pk = f"batch-{writers}"
        items = [item(f"{pk}#{i % writers}", f"item#{i:06d}") for i in range(sizes.batch_items)]
        shares = [(clients.client("dynamodb"), items[w::writers]) for w in range(writers)]
        with ThreadPoolExecutor(max_workers=writers) as pool:
            started = time.perf_counter()
            per_writer = list(pool.map(lambda share: write_batches(share[0], table, share[1]), shares))
        wall = time.perf_counter() - started
        written = sum(count_partition(ddb, table, f"{pk}#{w}") for w in range(writers))
        if written != sizes.batch_items:
            raise AssertionError(f"BatchWriteItem x{writers} writers: {written} of {sizes.batch_items} items")
        latencies = [latency for share in per_writer for latency in share]
        name = f"BatchWriteItem {sizes.batch_items} items, {writers} writer{'s' if writers > 1 else ''}"
        figures.append(figure("DynamoDB", name, latencies, wall))
    return figures


# --- Lambda --------------------------------------------------------------------------------------


def handler_zip() -> bytes:
    """The same bytes for both engines."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"{HANDLER_MODULE}.py", date_time=(2026, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, HANDLER_SOURCE)
    return buffer.getvalue()


def role_arn(clients: Clients) -> str:
    try:
        return str(clients.iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"])
    except clients.iam.exceptions.NoSuchEntityException:
        return str(
            clients.iam.create_role(
                RoleName=ROLE_NAME,
                AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
            )["Role"]["Arn"]
        )


def create_function(clients: Clients) -> str:
    """The function's ARN, once it is Active (AWS refuses to invoke a Pending one; MiniStack answers
    Pending at first too)."""
    name = f"peer-bench-{uuid.uuid4().hex[:8]}"
    arn = str(
        clients.lambda_.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role_arn(clients),
            Handler=f"{HANDLER_MODULE}.handler",
            Code={"ZipFile": handler_zip()},
            Timeout=30,
            MemorySize=128,
        )["FunctionArn"]
    )
    deadline = time.monotonic() + 60
    while clients.lambda_.get_function(FunctionName=name)["Configuration"].get("State", "Active") != "Active":
        if time.monotonic() > deadline:
            raise RuntimeError(f"function {name} not Active after 60 s")
        time.sleep(0.05)  # the engine flips the state on its own; nothing to wait on
    return arn


def invoke(lambda_: Any, function: str, event: dict[str, Any]) -> dict[str, Any]:
    answer = lambda_.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    payload = json.loads(answer["Payload"].read())
    if answer.get("FunctionError") or payload.get("echo") != event:
        raise AssertionError(f"Invoke of {function} answered {answer.get('FunctionError')}: {payload!r}")
    return dict(payload)


def measure_lambda(clients: Clients, sizes: Sizes, function_arn: str) -> list[Figure]:
    """function_arn: a function that has never been invoked (its first invoke is the cold one)."""
    latencies, wall = timed(invoke, [(clients.lambda_, function_arn, {"call": "cold"})])
    figures = [figure("Lambda", "Invoke, cold (first after CreateFunction)", latencies, wall)]
    for index in range(sizes.warmup):
        invoke(clients.lambda_, function_arn, {"call": f"warmup-{index}"})
    latencies, wall = timed(
        invoke, [(clients.lambda_, function_arn, {"call": i}) for i in range(sizes.invokes)]
    )
    figures.append(figure("Lambda", f"Invoke x{sizes.invokes}, warm", latencies, wall))
    return figures


# --- Step Functions ------------------------------------------------------------------------------

THREE_PASSES = {
    "Comment": "Three Pass states: the interpreter's own cost per execution.",
    "StartAt": "First",
    "States": {
        "First": {"Type": "Pass", "Result": 1, "ResultPath": "$.first", "Next": "Second"},
        "Second": {"Type": "Pass", "Result": 2, "ResultPath": "$.second", "Next": "Third"},
        "Third": {"Type": "Pass", "Result": 3, "ResultPath": "$.third", "End": True},
    },
}


def one_lambda_task(function_arn: str) -> dict[str, Any]:
    return {
        "Comment": "One Lambda Task: an execution's cost of calling a function.",
        "StartAt": "InvokeEcho",
        "States": {
            "InvokeEcho": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }


def run_execution(
    sfn: Any, machine: str, execution_input: dict[str, Any], poll_seconds: float
) -> dict[str, Any]:
    """Starts an execution and polls DescribeExecution until it is no longer RUNNING: its output."""
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input))["executionArn"]
    deadline = time.monotonic() + 60
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            raise AssertionError(f"execution {arn} still RUNNING after 60 s")
        time.sleep(poll_seconds)  # the measuring method itself: the same interval on both engines
    if described["status"] != "SUCCEEDED":
        raise AssertionError(f"execution {arn} ended {described['status']}: {described.get('cause')}")
    return dict(json.loads(described["output"]))


def measure_stepfunctions(clients: Clients, sizes: Sizes, function_arn: str) -> list[Figure]:
    sfn = clients.stepfunctions
    suffix = uuid.uuid4().hex[:8]
    figures: list[Figure] = []
    cases = [
        (
            "three Pass states",
            THREE_PASSES,
            lambda i, out: out == {"i": i, "first": 1, "second": 2, "third": 3},
        ),
        ("one Lambda Task", one_lambda_task(function_arn), lambda i, out: out.get("echo") == {"i": i}),
    ]
    for label, definition, is_expected in cases:
        machine = sfn.create_state_machine(
            name=f"peer-bench-{label.replace(' ', '-').lower()}-{suffix}",
            definition=json.dumps(definition),
            roleArn=role_arn(clients),
            type="STANDARD",
        )["stateMachineArn"]

        def execute(i: int, machine: str = machine, is_expected: Callable[..., bool] = is_expected) -> None:
            output = run_execution(sfn, machine, {"i": i}, sizes.poll_seconds)
            if not is_expected(i, output):
                raise AssertionError(f"execution {i} of {machine} answered {output!r}")

        for index in range(min(sizes.warmup, 3)):
            execute(-1 - index)
        latencies, wall = timed(execute, [(i,) for i in range(sizes.executions)])
        name = f"STANDARD execution x{sizes.executions}, {label}, start to SUCCEEDED"
        figures.append(figure("Step Functions", name, latencies, wall))
    return figures


def measure_engine(endpoint_url: str, sizes: Sizes) -> list[Figure]:
    """Every figure of one engine, on resources of its own (names unique to this call)."""
    clients = Clients(endpoint_url)
    figures = measure_dynamodb(clients, sizes)
    function_arn = create_function(clients)
    figures += measure_lambda(clients, sizes, function_arn)
    figures += measure_stepfunctions(clients, sizes, function_arn)
    return figures


# --- engines and rounds --------------------------------------------------------------------------

EngineStarter = Callable[[Path], AbstractContextManager[str]]


def embedded_engine(deployed: bool) -> EngineStarter:
    @contextmanager
    def start(work_dir: Path) -> Iterator[str]:
        stack = RunningStack(work_dir / "embedded", [] if deployed else ["--no-deploy"])
        try:
            yield stack.aws_url
        finally:
            stack.stop()

    return start


@contextmanager
def ministack_engine(work_dir: Path) -> Iterator[str]:
    with MiniStack(work_dir / "ministack" / "ministack.log") as server:
        yield server.endpoint_url


@dataclass
class RoundResult:
    round: int
    engine: str
    order: int  # 0: measured first in its round
    start_s: float
    figures: list[Figure]


def run_rounds(
    engines: dict[str, EngineStarter], sizes: Sizes, rounds: int, work_dir: Path, log: Callable[[str], None]
) -> list[RoundResult]:
    """Each round starts each engine afresh, measures it and stops it; the order alternates."""
    results: list[RoundResult] = []
    names = list(engines)
    for round_index in range(rounds):
        order = names if round_index % 2 == 0 else names[::-1]
        for position, name in enumerate(order):
            log(f"round {round_index + 1}/{rounds}: starting {name}")
            started = time.perf_counter()
            with engines[name](work_dir / f"round-{round_index + 1}") as endpoint_url:
                start_s = time.perf_counter() - started
                log(f"round {round_index + 1}/{rounds}: measuring {name} on {endpoint_url}")
                figures = measure_engine(endpoint_url, sizes)
            results.append(RoundResult(round_index + 1, name, position, start_s, figures))
    return results


# --- the table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    group: str
    figure: str
    unit: str
    embedded: list[float]  # one value per round
    peer: list[float]
    target: str  # "", ">= 1" (at least as fast) or "> 1" (keeps its lead)

    @property
    def ratio(self) -> float:
        """MiniStack's median / the embedded AWS's median: above 1, the embedded AWS is faster."""
        embedded = statistics.median(self.embedded)
        return statistics.median(self.peer) / embedded if embedded > 0 else float("inf")

    @property
    def holds(self) -> bool | None:
        if self.target == ">= 1":
            return self.ratio >= 1.0
        if self.target == "> 1":
            return self.ratio > 1.0
        return None


TARGETS = {"DynamoDB": ">= 1", "Lambda": "> 1", "Step Functions": "> 1", "Engine": ""}


def rows(results: Sequence[RoundResult], embedded: str = EMBEDDED, peer: str = MINISTACK) -> list[Row]:
    """Per figure and statistic, each engine's values over the rounds, in the order measured."""
    by_engine: dict[str, list[RoundResult]] = {embedded: [], peer: []}
    for result in results:
        by_engine[result.engine].append(result)
    if not by_engine[embedded] or len(by_engine[embedded]) != len(by_engine[peer]):
        raise ValueError("every round must have measured both engines")
    table = [
        Row(
            "Engine",
            "start until it answers",
            "s",
            [r.start_s for r in by_engine[embedded]],
            [r.start_s for r in by_engine[peer]],
            TARGETS["Engine"],
        )
    ]
    first = by_engine[embedded][0].figures
    for index, fig in enumerate(first):
        stats: list[tuple[str, str, Callable[[Figure], float]]] = [
            ("wall", "s", lambda f: f.wall_s),
            ("p50", "ms", lambda f: f.p50_ms),
            ("p99", "ms", lambda f: f.p99_ms),
        ]
        if fig.calls == 1:  # one call: its wall time is the figure
            stats = [("", "ms", lambda f: f.wall_s * 1000)]
        for label, unit, value in stats:
            values: dict[str, list[float]] = {}
            for engine in (embedded, peer):
                figures = [r.figures[index] for r in by_engine[engine]]
                if any(f.name != fig.name for f in figures):
                    raise ValueError(f"rounds disagree on figure {index}: {[f.name for f in figures]}")
                values[engine] = [value(f) for f in figures]
            name = f"{fig.name}, {label}" if label else fig.name
            table.append(Row(fig.group, name, unit, values[embedded], values[peer], TARGETS[fig.group]))
    return table


def render(table: Sequence[Row], peer: str = MINISTACK) -> str:
    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):,.2f} ({min(values):,.2f})"

    lines = [
        f"| group | figure | unit | embedded, median (min) | {peer}, median (min) "
        f"| {peer} / embedded | target | holds |",
        "|---|---|---|---:|---:|---:|---|---|",
    ]
    for row in table:
        holds = {True: "yes", False: "**no**", None: ""}[row.holds]
        target = {">= 1": "embedded at least as fast", "> 1": "embedded keeps its lead", "": ""}[row.target]
        lines.append(
            f"| {row.group} | {row.figure} | {row.unit} | {cell(row.embedded)} | {cell(row.peer)} "
            f"| {row.ratio:.2f}x | {target} | {holds} |"
        )
    return "\n".join(lines)


def summary(table: Sequence[Row]) -> str:
    judged = [row for row in table if row.holds is not None]
    missed = [f"{row.group}: {row.figure}" for row in judged if not row.holds]
    text = f"targets held: {len(judged) - len(missed)} of {len(judged)}"
    return text + ("; missed: " + "; ".join(missed) if missed else "")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    defaults = Sizes()
    parser.add_argument(
        "--rounds", type=int, help="rounds, each engine started afresh in each (default 3; --quick: 1)"
    )
    parser.add_argument(
        "--puts", type=int, help=f"sequential PutItem (default {defaults.puts}; GetItem, UpdateItem alike)"
    )
    parser.add_argument("--gets", type=int, help="sequential GetItem (default: --puts)")
    parser.add_argument("--updates", type=int, help="sequential conditional UpdateItem (default: --puts)")
    parser.add_argument(
        "--query-pages", type=int, help=f"Query pages of 100 items (default {defaults.query_pages})"
    )
    parser.add_argument(
        "--batch-items", type=int, help=f"items by BatchWriteItem (default {defaults.batch_items})"
    )
    parser.add_argument("--invokes", type=int, help=f"warm Invoke calls (default {defaults.invokes})")
    parser.add_argument(
        "--executions", type=int, help=f"executions of each machine (default {defaults.executions})"
    )
    parser.add_argument("--poll-ms", type=float, help="DescribeExecution polling interval, ms (default 5)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and one round: a smoke test")
    parser.add_argument(
        "--deployed", action="store_true", help="the embedded AWS with arcadeflow's product deployed"
    )
    parser.add_argument("--json", type=Path, help="also write every round's raw figures to this file")
    args = parser.parse_args(argv)

    sizes = QUICK if args.quick else defaults
    rounds = args.rounds or (1 if args.quick else 3)
    puts = args.puts or sizes.puts
    sizes = replace(
        sizes,
        puts=puts,
        gets=args.gets or puts,
        updates=args.updates or puts,
        query_pages=args.query_pages or sizes.query_pages,
        batch_items=args.batch_items or sizes.batch_items,
        invokes=args.invokes or sizes.invokes,
        executions=args.executions or sizes.executions,
        poll_seconds=(args.poll_ms / 1000) if args.poll_ms else sizes.poll_seconds,
    )
    work_dir = Path(tempfile.mkdtemp(prefix="arcadeflow-peer-"))
    load_before = load()

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    engines: dict[str, EngineStarter] = {
        EMBEDDED: embedded_engine(args.deployed),
        MINISTACK: ministack_engine,
    }
    results = run_rounds(engines, sizes, rounds, work_dir, log)
    table = rows(results)
    print(
        f"# The embedded AWS and MiniStack {MINISTACK_VERSION} side by side "
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n"
        f"moto {metadata.version('moto')}, boto3 {metadata.version('boto3')}, {os.cpu_count()} cores; "
        f"load average (1, 5, 15 min) {load_before} before, {load()} after; {rounds} round(s), engine order "
        f"alternating; embedded: `arcadeflow up{'' if args.deployed else ' --no-deploy'}` with persistence.\n"
        f"Sizes: {json.dumps(asdict(sizes))}\n"
    )
    print(render(table))
    print(f"\n{summary(table)}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
        print(f"raw figures: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
