"""The end of a VR session with 10,000 interaction events, beside its floor, measured in one run.

    .venv/bin/python benchmarks/vr_session_end.py [--events 10000] [--objectives 12]

Starts its own `arcadeflow up` (loopback only, nothing else should be running on the machine):

1. Warm-up (not measured): one small session started, sent a batch and ended through the same
   routes, so every function of the flow has a warm worker before the clock starts.
2. The player connects over a real WebSocket connection (through the $connect authorizer), starts
   a session and sends `--events` events over HTTP in batches of 100 (`--objectives` of them
   `objective_completed`, spread through the session; not timed, only printed).
3. The end: POST /vr/sessions/{id}/end (API Gateway's StepFunctions-StartExecution integration,
   no Lambda in between). Measured from the moment the request leaves to the `vrSessionEnded`
   frame on the player's connection (the flow pushes it after every reward is granted and the
   session recorded ended: the player's view of "rewards granted"), and to the execution's
   SUCCEEDED as DescribeExecution reports it (polled every 50 ms; its own startDate -> stopDate is
   printed too). Then the execution's history: its size in events, and the largest state input
   or output (and Task parameters/result) in bytes, with the state that carried it.
4. The floor, on the same embedded store: the same work done directly from this process with
   boto3, nothing else (no Step Functions, no Lambda, no WebSocket): read the session's events
   in pages (Query, `--floor-page-size` a page, the flow's own 1,000 by default), rewrite each
   page's ttl with BatchWriteItem (25 a request, UnprocessedItems retried), the conditional
   reward puts (attribute_not_exists) and the session's closing update. It works on tables
   cloned from the deployed interaction_events, player_rewards and player_sessions (same keys
   and indexes, on demand), filled with a copy of the measured session's items beforehand (not
   timed), so it touches nothing of the player's.

Checks printed with the figures: every event accepted and counted, every stored event's ttl moved
to the session's end + retention, the rewards the status route reports equal to the frames and the
reward table, each reward once.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from arcadeflow.auth import LocalIssuer  # noqa: E402
from functions.shared.dynamo import from_item  # noqa: E402
from functions.vr.wiring import DEFAULT_EVENTS_PAGE_SIZE  # noqa: E402
from tests.support.stack import RunningStack, wait_for  # noqa: E402
from tools.duel_client import DuelClient  # noqa: E402

BATCH = 100  # the events route's limit
BATCH_WRITE = 25  # DynamoDB's BatchWriteItem limit
# DescribeExecution/GetExecutionHistory fields that carry a state's or a task's payload.
PAYLOAD_FIELDS = ("input", "output", "parameters")


class Player:
    def __init__(self, stack: RunningStack, user_id: str):
        self.stack = stack
        self.user_id = user_id
        self.token = LocalIssuer(stack.state_dir).mint(user_id, user_id)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def post(self, path: str, body: Any = None) -> requests.Response:
        return self.session.post(f"{self.stack.http_url}{path}", json=body, timeout=120)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(f"{self.stack.http_url}{path}", params=params, timeout=120)

    def start(self) -> str:
        reply = self.post("/vr/sessions", {})
        if reply.status_code != 201:
            raise RuntimeError(f"POST /vr/sessions: {reply.status_code} {reply.text}")
        return reply.json()["sessionId"]

    def send_all(self, session_id: str, events: list[dict[str, Any]]) -> int:
        accepted = 0
        for start in range(0, len(events), BATCH):
            reply = self.post(f"/vr/sessions/{session_id}/events", {"events": events[start : start + BATCH]})
            if reply.status_code != 200:
                raise RuntimeError(f"events batch at {start}: {reply.status_code} {reply.text}")
            accepted += reply.json()["accepted"]
        return accepted

    def end(self, session_id: str) -> dict[str, Any]:
        reply = self.post(f"/vr/sessions/{session_id}/end")
        if reply.status_code != 200:
            raise RuntimeError(f"end: {reply.status_code} {reply.text}")
        return reply.json()


def session_events(count: int, objectives: int) -> list[dict[str, Any]]:
    """`count` events a millisecond apart, `objectives` of them objective_completed, spread evenly."""
    start = datetime.datetime.now(datetime.UTC)
    every = max(1, count // max(1, objectives))
    events = []
    for n in range(count):
        objective = objectives and n % every == every - 1 and n // every < objectives
        events.append(
            {
                "eventType": "objective_completed" if objective else "gaze",
                "timestamp": (start + datetime.timedelta(milliseconds=n)).isoformat(),
                "data": {"n": n, "target": f"panel-{n % 17}", "hand": "left" if n % 2 else "right"},
            }
        )
    return events


# --- the stack's store -------------------------------------------------------------------------


def query_all(ddb: Any, table: str, key: str, value: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in ddb.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="#k = :v",
        ExpressionAttributeNames={"#k": key},
        ExpressionAttributeValues={":v": {"S": value}},
        ConsistentRead=True,
    ):
        items += page["Items"]
    return items


def clone_table(ddb: Any, source: str, name: str) -> None:
    """A table with the source's keys and indexes, on demand (no capacity metering, no stream)."""
    table = ddb.describe_table(TableName=source)["Table"]
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": table["KeySchema"],
        "AttributeDefinitions": table["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    indexes = [
        {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
        for i in table.get("GlobalSecondaryIndexes", [])
    ]
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    ddb.create_table(**request)


def batch_put(ddb: Any, table: str, items: list[dict[str, Any]]) -> int:
    """BatchWriteItem 25 at a time, UnprocessedItems retried; returns how many requests it made."""
    requests_made = 0
    for start in range(0, len(items), BATCH_WRITE):
        pending: dict[str, Any] = {
            table: [{"PutRequest": {"Item": i}} for i in items[start : start + BATCH_WRITE]]
        }
        delay = 0.01
        while pending:
            requests_made += 1
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if pending:
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
    return requests_made


def floor(
    stack: RunningStack, player_id: str, session_id: str, rewards: list[str], page_size: int
) -> dict[str, Any]:
    """The end's storage work, directly: pages of events read and their ttl rewritten, the
    conditional reward puts, the session's closing update."""
    ddb = stack.client("dynamodb")
    tables = stack.endpoints()["tables"]
    suffix = uuid.uuid4().hex[:8]
    clones = {
        logical: f"floor-{logical}-{suffix}"
        for logical in ("interaction_events", "player_rewards", "player_sessions")
    }
    for logical, name in clones.items():
        clone_table(ddb, tables[logical], name)
    try:
        stored = query_all(ddb, tables["interaction_events"], "sessionId", session_id)
        batch_put(ddb, clones["interaction_events"], stored)
        session_item = query_all(ddb, tables["player_sessions"], "playerId", player_id)
        batch_put(
            ddb, clones["player_sessions"], [s for s in session_item if s["sessionId"]["S"] == session_id]
        )
        new_ttl = str(int(time.time()) + 259200)

        started = time.perf_counter()
        pages = writes = read = 0
        request: dict[str, Any] = {
            "TableName": clones["interaction_events"],
            "KeyConditionExpression": "sessionId = :s",
            "ExpressionAttributeValues": {":s": {"S": session_id}},
            "Limit": page_size,
            "ConsistentRead": True,
        }
        while True:
            page = ddb.query(**request)
            pages += 1
            read += len(page["Items"])
            writes += batch_put(
                ddb, clones["interaction_events"], [{**i, "ttl": {"N": new_ttl}} for i in page["Items"]]
            )
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        read_and_rewritten = time.perf_counter()
        granted = 0
        now = datetime.datetime.now(datetime.UTC).isoformat()
        for reward_id in rewards:
            try:
                ddb.put_item(
                    TableName=clones["player_rewards"],
                    Item={
                        "playerId": {"S": player_id},
                        "rewardId": {"S": reward_id},
                        "granted": {"BOOL": True},
                        "grantedAt": {"S": now},
                        "sessionId": {"S": session_id},
                    },
                    ConditionExpression="attribute_not_exists(rewardId)",
                )
                granted += 1
            except ddb.exceptions.ConditionalCheckFailedException:
                pass
        ddb.update_item(
            TableName=clones["player_sessions"],
            Key={"playerId": {"S": player_id}, "sessionId": {"S": session_id}},
            UpdateExpression="SET #status = :ended, rewards = :rewards, #ttl = :ttl",
            ExpressionAttributeNames={"#status": "status", "#ttl": "ttl"},
            ExpressionAttributeValues={
                ":ended": {"S": "ended"},
                ":rewards": {"L": [{"S": r} for r in rewards]},
                ":ttl": {"N": new_ttl},
            },
        )
        finished = time.perf_counter()
        rewritten = sum(
            1
            for i in query_all(ddb, clones["interaction_events"], "sessionId", session_id)
            if i["ttl"]["N"] == new_ttl
        )
    finally:
        for name in clones.values():
            ddb.delete_table(TableName=name)
    return {
        "seconds": finished - started,
        "pageSeconds": read_and_rewritten - started,
        "rewardSeconds": finished - read_and_rewritten,
        "pages": pages,
        "read": read,
        "batchWrites": writes,
        "rewritten": rewritten,
        "granted": granted,
    }


def execution_history(stack: RunningStack, execution_arn: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution_arn, PaginationConfig={"PageSize": 1000}
    ):
        events += page["events"]
    return events


def largest_payload(events: list[dict[str, Any]]) -> tuple[int, str]:
    """The largest input/output/parameters any history event carries, in UTF-8 bytes, and where."""
    largest, where = 0, ""
    state = ""
    for event in events:
        for name, details in event.items():
            if not name.endswith("EventDetails") or not isinstance(details, dict):
                continue
            state = details.get("name", state)
            for field in PAYLOAD_FIELDS:
                value = details.get(field)
                if isinstance(value, str) and len(value.encode()) > largest:
                    largest, where = len(value.encode()), f"{event['type']} {field} ({state or 'execution'})"
    return largest, where


# --- the run ---------------------------------------------------------------------------------


async def end_of_session(stack: RunningStack, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"events": args.events, "objectives": args.objectives}
    sfn = stack.client("stepfunctions")

    warm = Player(stack, "vr-warmup")
    warm_session = warm.start()
    warm.send_all(warm_session, session_events(BATCH, 2))
    warm_arn = warm.end(warm_session)["executionArn"]
    await asyncio.to_thread(
        wait_for,
        lambda: sfn.describe_execution(executionArn=warm_arn)["status"] != "RUNNING",
        120,
        0.2,
        "the warm-up end",
    )

    player = Player(stack, f"vr-bench-{uuid.uuid4().hex[:6]}")
    headset = await DuelClient.connect(stack.endpoints()["websocket"], player.token, player.user_id)
    try:
        session_id = player.start()
        events = session_events(args.events, args.objectives)
        sent = time.monotonic()
        results["accepted"] = await asyncio.to_thread(player.send_all, session_id, events)
        results["sendSeconds"] = time.monotonic() - sent
        print(
            f"  {results['accepted']} events sent in {results['sendSeconds']:.1f} s "
            f"({args.events // BATCH} batches of {BATCH})",
            file=sys.stderr,
            flush=True,
        )

        requested = time.monotonic()
        answer = await asyncio.to_thread(player.end, session_id)
        results["endAnswerMs"] = (time.monotonic() - requested) * 1000
        execution_arn = answer["executionArn"]

        def finished() -> tuple[dict[str, Any], float] | None:
            described = sfn.describe_execution(executionArn=execution_arn)
            return None if described["status"] == "RUNNING" else (described, time.monotonic())

        polling = asyncio.create_task(asyncio.to_thread(wait_for, finished, args.timeout, 0.05, "the end"))
        closing = await headset.next("vrSessionEnded", timeout=args.timeout, sessionId=session_id)
        results["toFrameSeconds"] = closing.at - requested
        described, seen_at = await polling
        results["toSucceededSeconds"] = seen_at - requested  # to within one 50 ms poll
        results["status"] = described["status"]
        results["executionSeconds"] = (described["stopDate"] - described["startDate"]).total_seconds()
        results["frameRewards"] = sorted(closing.frame["rewards"])
        results["rewardFrames"] = sorted(
            f["rewardId"] for f in headset.frames("rewardGranted") if f.get("sessionId") == session_id
        )
    finally:
        await headset.close()

    history = execution_history(stack, execution_arn)
    results["historyEvents"] = len(history)
    results["historyTypes"] = dict(Counter(e["type"] for e in history).most_common(4))
    results["largestPayloadBytes"], results["largestPayloadAt"] = largest_payload(history)
    results["outputBytes"] = len((described.get("output") or "").encode())

    status = player.get(f"/vr/sessions/{session_id}/end").json()
    session = player.get(f"/vr/sessions/{session_id}").json()
    ddb = stack.client("dynamodb")
    tables = stack.endpoints()["tables"]
    stored_session = next(
        from_item(s) or {}
        for s in query_all(ddb, tables["player_sessions"], "playerId", player.user_id)
        if s["sessionId"]["S"] == session_id
    )
    stored_events = query_all(ddb, tables["interaction_events"], "sessionId", session_id)
    stored_rewards = [
        (from_item(r) or {})["rewardId"]
        for r in query_all(ddb, tables["player_rewards"], "playerId", player.user_id)
    ]
    results["checks"] = {
        "statusRewards": sorted(status.get("rewards") or []),
        "sessionStatus": session.get("status"),
        "eventCount": session.get("eventCount"),
        "storedEvents": len(stored_events),
        "eventsWithTheSessionsTtl": sum(
            1 for e in stored_events if e["ttl"]["N"] == str(stored_session.get("ttl"))
        ),
        "storedRewards": sorted(stored_rewards),
        "rewardsTwice": sum(1 for n in Counter(stored_rewards).values() if n > 1),
    }

    print("  floor ...", file=sys.stderr, flush=True)
    results["floor"] = await asyncio.to_thread(
        floor, stack, player.user_id, session_id, results["frameRewards"], args.floor_page_size
    )
    return results


# --- the report --------------------------------------------------------------------------------


def line(label: str, value: str, reference: str, ratio: str) -> None:
    print(f"{label:<46} {value:>12}   {reference:<52} {ratio:>8}")


def report(results: dict[str, Any]) -> bool:
    """Prints the figures; True when every check holds."""
    n = results["events"]
    c, fl = results["checks"], results["floor"]
    correct = (
        results["status"] == "SUCCEEDED"
        and results["accepted"] == n
        and c["eventCount"] == n
        and c["storedEvents"] == n
        and c["eventsWithTheSessionsTtl"] == n
        and c["sessionStatus"] == "ended"
        and c["statusRewards"] == results["frameRewards"] == results["rewardFrames"] == c["storedRewards"]
        and c["rewardsTwice"] == 0
        and fl["read"] == n
        and fl["rewritten"] == n
    )
    print()
    print(f"vr_session_end, one session of {n} events ({results['objectives']} objectives), one run")
    print("-" * 124)
    line("figure", "measured", "reference (same run)", "ratio")
    line(
        "end request -> vrSessionEnded frame",
        f"{results['toFrameSeconds']:.2f} s",
        f"floor {fl['seconds']:.2f} s (same storage work, boto3 direct)",
        f"{results['toFrameSeconds'] / fl['seconds']:.1f}x",
    )
    line(
        "end request -> SUCCEEDED (DescribeExecution)",
        f"{results['toSucceededSeconds']:.2f} s",
        f"execution startDate -> stopDate {results['executionSeconds']:.2f} s",
        f"{results['toSucceededSeconds'] / fl['seconds']:.1f}x",
    )
    print(
        f"{'':46} {'':12}   (floor: {fl['pages']} page(s) of {fl['read'] // max(1, fl['pages'])} events read "
        f"and rewritten {fl['pageSeconds']:.2f} s in {fl['batchWrites']} BatchWriteItems, "
        f"{fl['granted']} reward puts + the session update {fl['rewardSeconds'] * 1000:.0f} ms)"
    )
    line("end route answer (StartExecution)", f"{results['endAnswerMs']:.0f} ms", "", "")
    line("execution history", f"{results['historyEvents']} events", str(results["historyTypes"]), "")
    line(
        "largest state payload",
        f"{results['largestPayloadBytes']:,} B",
        f"{results['largestPayloadAt']}; limit 262,144 B",
        f"{results['largestPayloadBytes'] / 262144:.1%}",
    )
    line("execution output", f"{results['outputBytes']:,} B", "", "")
    print()
    print(f"correctness: {'all checks hold' if correct else 'FAILED'}")
    print(
        f"  events accepted / counted / stored   {results['accepted']} / {c['eventCount']} / "
        f"{c['storedEvents']} of {n}"
    )
    print(f"  events with the session's ttl        {c['eventsWithTheSessionsTtl']} of {n}")
    print(f"  session                              {c['sessionStatus']}")
    print(f"  rewards (frames)                     {results['rewardFrames']}")
    print(f"  rewards (vrSessionEnded / status)    {results['frameRewards']} / {c['statusRewards']}")
    print(f"  rewards stored                       {c['storedRewards']} ({c['rewardsTwice']} twice)")
    print(f"  floor read / rewritten               {fl['read']} / {fl['rewritten']}")
    print(f"  events sent in                       {results['sendSeconds']:.1f} s (not timed)")
    return correct


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000, help="events in the measured session")
    parser.add_argument("--objectives", type=int, default=12, help="objective_completed events among them")
    parser.add_argument(
        "--floor-page-size",
        type=int,
        default=DEFAULT_EVENTS_PAGE_SIZE,
        help="events a Query page in the floor (default: the flow's own page size)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the end")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="arcadeflow-bench-"))
    print(f"starting arcadeflow up in {state} ...", file=sys.stderr, flush=True)
    stack = RunningStack(state)
    try:
        print(f"  up (pid {stack.proc.pid})", file=sys.stderr, flush=True)
        results = asyncio.run(end_of_session(stack, args))
    except BaseException:
        # Kept for the post-mortem: up.log and logs/<function>.log say what the stack did.
        print(f"failed; the stack's state and logs are kept in {state}", file=sys.stderr)
        raise
    finally:
        stack.stop()
    shutil.rmtree(state, ignore_errors=True)
    correct = report(results)
    if args.json:
        results["correct"] = correct
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
