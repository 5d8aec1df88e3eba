"""Matchmaking figures, each beside its reference, measured in one run.

    .venv/bin/python benchmarks/matchmaking.py [--players 1000] [--connect-concurrency 16]

Starts its own `arcadeflow up` (loopback only, nothing else should be running on the machine):

1. Connects `--players` simulated players over real WebSocket connections (each through the
   $connect authorizer and route, `--connect-concurrency` handshakes at a time), plus a few
   warm-up players who join and are paired first (not measured), so every function has a warm
   worker before the clock starts.
2. The floor, on the same embedded store: a raw pairing loop in this process (boto3 against the
   stack's AWS endpoint) that writes `--players` tickets with the same conditional put as
   joinQueue, then pairs the two longest-waiting with the same read of the WaitingByJoin index
   and the same conditional TransactWriteItems as the queue_pairing flow, until fewer than two
   wait. It works on tables cloned from the deployed queue_tickets and games (same keys, index
   and stream, but no consumers), so it neither wakes the stream handlers nor leaves anything in
   the players' queue.
3. Every player sends {action: joinQueue} at once. Measured until everyone is paired (bounded by
   `--timeout`), then until no queue_pairing execution is running (so a late second pairing
   would still be seen): every player paired exactly once, each game with two players who name
   each other with X and O, none in two games (the games table), none lost, none left waiting
   (the WaitingByJoin index), join-to-paired p50/p99, pairs per second, the wall time from the
   first join sent to the last paired received, and how many queueUpdate frames the queue's
   stream sent (coalescing: 1,000 joins must not become a million frames).

The target (issue 9): all players paired within 5x the floor's time, printed met or not met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from arcadeflow.auth import LocalIssuer  # noqa: E402
from functions.matchmaking import rules  # noqa: E402
from functions.matchmaking.repositories import WAITING_BY_JOIN, TicketsRepository  # noqa: E402
from functions.matchmaking.wiring import DEFAULT_GAME_TTL_SECONDS, DEFAULT_TICKET_TTL_SECONDS  # noqa: E402
from tests.support.stack import RunningStack, wait_for  # noqa: E402

TARGET_RATIO = 5.0
CONNECT_ATTEMPTS = 3


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


# --- the simulated players -------------------------------------------------------------------


@dataclass
class Player:
    """One player on one WebSocket connection: keeps what the benchmark checks, not every frame."""

    user_id: str
    websocket: ClientConnection
    joined_at: float = 0.0  # time.monotonic() just before the joinQueue frame left
    queued: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    paired: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    queue_updates: int = 0
    others: Counter[str] = field(default_factory=Counter)
    reader: asyncio.Task[None] | None = None


class Room:
    """All players, and an event set when every one of them has been paired at least once."""

    def __init__(self) -> None:
        self.players: list[Player] = []
        self.paired_players = 0
        self.expected = 0
        self.everyone_paired = asyncio.Event()
        self.last_frame_at = time.monotonic()

    async def read(self, player: Player) -> None:
        try:
            async for message in player.websocket:
                arrived = time.monotonic()
                self.last_frame_at = arrived
                frame = json.loads(message)
                kind = frame.get("type")
                if kind == "paired":
                    player.paired.append((arrived, frame))
                    if len(player.paired) == 1:
                        self.paired_players += 1
                        if self.expected and self.paired_players >= self.expected:
                            self.everyone_paired.set()
                elif kind == "queueUpdate":
                    player.queue_updates += 1
                elif kind == "queued":
                    player.queued.append((arrived, frame))
                elif kind == "error":
                    player.errors.append(frame)
                else:
                    player.others[str(kind)] += 1
        except Exception:  # the stack stopped or the connection broke: the checks will say
            pass


async def connect_players(
    room: Room, ws_url: str, issuer: LocalIssuer, user_ids: list[str], concurrency: int
) -> list[Player]:
    """Opens one connection per player, at most `concurrency` handshakes at a time (each runs the
    $connect authorizer and route through the Lambda runner)."""
    gate = asyncio.Semaphore(concurrency)

    async def open_one(user_id: str) -> Player:
        token = issuer.mint(user_id, user_id)
        async with gate:
            for attempt in range(CONNECT_ATTEMPTS):
                try:
                    websocket = await connect(
                        f"{ws_url}?token={token}", open_timeout=60, max_size=2**20, compression=None
                    )
                    break
                except Exception:
                    if attempt == CONNECT_ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(1.0 + attempt)
        player = Player(user_id, websocket)
        player.reader = asyncio.create_task(room.read(player))
        return player

    players = await asyncio.gather(*(open_one(u) for u in user_ids))
    room.players.extend(players)
    return list(players)


async def join_all(players: list[Player]) -> float:
    """Sends every player's joinQueue at once; returns the time the first one left."""

    async def join(player: Player) -> None:
        player.joined_at = time.monotonic()
        await player.websocket.send(json.dumps({"action": "joinQueue"}))

    first = time.monotonic()
    await asyncio.gather(*(join(p) for p in players))
    return first


# --- the stack's store -------------------------------------------------------------------------


def pairing_executions(stack: RunningStack, status: str | None = None) -> Counter[str]:
    """queue_pairing's executions by status. moto invalidates a ListExecutions page token when
    an execution starts or ends between pages: the listing then starts again."""
    sfn = stack.client("stepfunctions")
    request: dict[str, Any] = {"stateMachineArn": stack.endpoints()["stateMachines"]["queue_pairing"]}
    if status is not None:
        request["statusFilter"] = status
    for _ in range(10):
        statuses: Counter[str] = Counter()
        try:
            for page in sfn.get_paginator("list_executions").paginate(**request):
                statuses.update(e["status"] for e in page["executions"])
        except sfn.exceptions.InvalidToken:
            time.sleep(0.5)
            continue
        return statuses
    raise RuntimeError("ListExecutions kept invalidating its page token")


def running_pairings(stack: RunningStack) -> int:
    return pairing_executions(stack, "RUNNING")["RUNNING"]


def scan(ddb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items += page["Items"]
    return items


def waiting_count(ddb: Any, table: str) -> int:
    count = 0
    paginator = ddb.get_paginator("query")
    for page in paginator.paginate(
        TableName=table,
        IndexName=WAITING_BY_JOIN,
        KeyConditionExpression="waitingShard = :shard",
        ExpressionAttributeValues={":shard": {"S": rules.WAITING_SHARD}},
        Select="COUNT",
    ):
        count += page["Count"]
    return count


def clone_table(ddb: Any, source: str, name: str) -> None:
    """A table with the source's keys, indexes and stream, on demand (no capacity metering)."""
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
    stream = table.get("StreamSpecification")
    if stream and stream.get("StreamEnabled"):
        request["StreamSpecification"] = stream
    ddb.create_table(**request)


def floor(stack: RunningStack, players: int) -> dict[str, Any]:
    """The raw pairing loop: the same ticket puts and pairing transactions, with nothing else
    (no Lambda, no Step Functions, no WebSocket), serially from one client."""
    ddb = stack.client("dynamodb")
    tables = stack.endpoints()["tables"]
    suffix = uuid.uuid4().hex[:8]
    tickets_table, games_table = f"floor-tickets-{suffix}", f"floor-games-{suffix}"
    clone_table(ddb, tables["queue_tickets"], tickets_table)
    clone_table(ddb, tables["games"], games_table)
    tickets = TicketsRepository(ddb, tickets_table)
    try:
        started = time.perf_counter()
        for n in range(players):
            now_ms = int(time.time() * 1000)
            user_id = f"floor-{n:05d}"
            tickets.join(
                {  # what functions/matchmaking/actions.py join() writes
                    "userId": user_id,
                    "status": rules.WAITING,
                    "waitingShard": rules.WAITING_SHARD,
                    "joinKey": rules.join_key(now_ms, uuid.uuid4().hex),
                    "joinedAtMs": now_ms,
                    "screenName": user_id,
                    "expireAt": now_ms // 1000 + DEFAULT_TICKET_TTL_SECONDS,
                },
                now_ms,
            )
        written = time.perf_counter()
        pairs = lost = 0
        while True:
            now_ms = int(time.time() * 1000)
            oldest = tickets.waiting(now_ms, limit=2)
            if len(oldest) < 2:
                break
            x, o = rules.markers(oldest[0], oldest[1])
            game = rules.new_game(str(uuid.uuid4()), x, o, now_ms, DEFAULT_GAME_TTL_SECONDS)
            if tickets.pair(dict(x), dict(o), game, games_table, now_ms):
                pairs += 1
            else:
                lost += 1
        finished = time.perf_counter()
        games = len(scan(ddb, games_table))
        left = waiting_count(ddb, tickets_table)
    finally:
        ddb.delete_table(TableName=tickets_table)
        ddb.delete_table(TableName=games_table)
    return {
        "writeSeconds": written - started,
        "pairSeconds": finished - written,
        "seconds": finished - started,
        "pairs": pairs,
        "lostRaces": lost,
        "games": games,
        "leftWaiting": left,
    }


# --- the run ---------------------------------------------------------------------------------


async def matchmaking(stack: RunningStack, args: argparse.Namespace) -> dict[str, Any]:
    issuer = LocalIssuer(stack.state_dir)
    ws_url = f"{stack.ws_url}/local"
    room = Room()
    results: dict[str, Any] = {"players": args.players}

    started = time.monotonic()
    warm = await connect_players(
        room, ws_url, issuer, [f"warm-{n:03d}" for n in range(args.warmup)], args.connect_concurrency
    )
    players = await connect_players(
        room,
        ws_url,
        issuer,
        [f"player-{n:05d}" for n in range(args.players)],
        args.connect_concurrency,
    )
    results["connectSeconds"] = time.monotonic() - started
    print(
        f"  {len(players)} players connected in {results['connectSeconds']:.1f} s",
        file=sys.stderr,
        flush=True,
    )

    # Warm-up: a few pairings through the whole path, so no worker starts cold during the run.
    room.expected = len(warm)
    await join_all(warm)
    try:
        await asyncio.wait_for(room.everyone_paired.wait(), 120)
    except TimeoutError:
        told = {p.user_id: (len(p.queued), len(p.paired), p.errors) for p in warm}
        raise RuntimeError(f"warm-up players not paired in 120 s (queued, paired, errors): {told}") from None
    await asyncio.to_thread(wait_for, lambda: running_pairings(stack) == 0, 120, 0.2, "warm-up pairings")

    results["floor"] = await asyncio.to_thread(floor, stack, args.players)
    print(f"  floor: {results['floor']['seconds']:.2f} s", file=sys.stderr, flush=True)

    room.everyone_paired = asyncio.Event()
    room.paired_players = 0
    room.expected = len(players)
    first_join = await join_all(players)
    results["timedOut"] = True
    deadline = first_join + args.timeout
    while time.monotonic() < deadline:
        try:
            await asyncio.wait_for(room.everyone_paired.wait(), min(30.0, deadline - time.monotonic()))
            results["timedOut"] = False
            break
        except TimeoutError:
            print(
                f"  {time.monotonic() - first_join:.0f} s: {room.paired_players} of {len(players)} paired",
                file=sys.stderr,
                flush=True,
            )
    paired_times = [p.paired[0][0] for p in players if p.paired]
    results["wallSeconds"] = (max(paired_times) - first_join) if paired_times else None
    results["sendSeconds"] = max(p.joined_at for p in players) - first_join
    print("  waiting for the pairings to finish", file=sys.stderr, flush=True)

    # A double pairing would show up late: wait until no pairing runs and frames have stopped.
    def settled() -> bool:
        return running_pairings(stack) == 0 and time.monotonic() - room.last_frame_at > args.settle

    try:
        await asyncio.to_thread(wait_for, settled, 120, 0.5, "the pairings and queue updates to finish")
        results["settled"] = True
    except AssertionError:  # still running: report what there is, and say so
        results["settled"] = False

    results["latencies"] = [p.paired[0][0] - p.joined_at for p in players if p.paired]
    queued_times = [p.queued[0][0] for p in players if p.queued]
    results["allQueuedSeconds"] = (max(queued_times) - first_join) if queued_times else None
    results["checks"] = check(stack, players)
    results["executions"] = dict(pairing_executions(stack))
    return results


def check(stack: RunningStack, players: list[Player]) -> dict[str, Any]:
    """What the players were told, and what the store holds, for every measured player."""
    ids = {p.user_id for p in players}
    by_game: dict[str, list[tuple[Player, dict[str, Any]]]] = defaultdict(list)
    for player in players:
        for _, frame in player.paired:
            by_game[frame["gameId"]].append((player, frame))
    bad_games = 0
    for seats in by_game.values():
        if len(seats) != 2:
            bad_games += 1
            continue
        (a, fa), (b, fb) = seats
        if (
            fa["opponent"] != b.user_id
            or fb["opponent"] != a.user_id
            or {fa["marker"], fb["marker"]} != {"X", "O"}
        ):
            bad_games += 1

    ddb = stack.client("dynamodb")
    tables = stack.endpoints()["tables"]
    games = [g for g in scan(ddb, tables["games"]) if g["playerX"]["S"] in ids or g["playerO"]["S"] in ids]
    games_of: Counter[str] = Counter()
    for game in games:
        games_of.update([game["playerX"]["S"], game["playerO"]["S"]])
    tickets = {t["userId"]["S"]: t for t in scan(ddb, tables["queue_tickets"]) if t["userId"]["S"] in ids}
    # X waited longer: the ticket's joinKey (kept when it is paired) orders the two.
    x_waited_longer = 0
    for game in games:
        x, o = tickets.get(game["playerX"]["S"]), tickets.get(game["playerO"]["S"])
        if x and o and x["joinKey"]["S"] < o["joinKey"]["S"]:
            x_waited_longer += 1
    # FIFO across the queue: with strict oldest-two pairing, pair k holds joiners 2k-1 and 2k.
    join_order = sorted((t["joinKey"]["S"], u) for u, t in tickets.items() if "joinKey" in t)
    rank = {u: n for n, (_, u) in enumerate(join_order)}
    adjacent = 0
    for game in games:
        seats = sorted(rank.get(game[k]["S"], -1) for k in ("playerX", "playerO"))
        adjacent += seats[0] >= 0 and seats[0] % 2 == 0 and seats[1] == seats[0] + 1
    return {
        "pairedOnce": sum(1 for p in players if len(p.paired) == 1),
        "pairedTwiceOrMore": sum(1 for p in players if len(p.paired) > 1),
        "neverPaired": sum(1 for p in players if not p.paired),
        "queuedAnswers": sum(1 for p in players if p.queued),
        "errorFrames": sum(len(p.errors) for p in players),
        "errorCodes": dict(Counter(e.get("code") for p in players for e in p.errors)),
        "gamesAnnounced": len(by_game),
        "gamesInconsistent": bad_games,
        "gamesStored": len(games),
        "playersInTwoGames": sum(1 for n in games_of.values() if n > 1),
        "playersInNoStoredGame": len(ids - set(games_of)),
        "leftWaiting": waiting_count(ddb, tables["queue_tickets"]),
        "xWaitedLonger": x_waited_longer,
        "pairsOfAdjacentJoiners": adjacent,
        "queueUpdates": sum(p.queue_updates for p in players),
        "queueUpdatesMaxPerPlayer": max((p.queue_updates for p in players), default=0),
        "otherFrames": dict(sum((p.others for p in players), Counter())),
    }


# --- the report --------------------------------------------------------------------------------


def line(label: str, value: str, reference: str, ratio: str, target: str) -> None:
    print(f"{label:<40} {value:>12}   {reference:<44} {ratio:>8}   {target}")


def report(results: dict[str, Any]) -> bool:
    """Prints the figures; True when every correctness check and the target hold."""
    n = results["players"]
    c, fl = results["checks"], results["floor"]
    lat = results["latencies"]
    wall = results["wallSeconds"]
    pairs = c["gamesAnnounced"]
    correct = (
        not results["timedOut"]
        and n % 2 == 0
        and c["pairedOnce"] == n
        and c["pairedTwiceOrMore"] == 0
        and c["neverPaired"] == 0
        and c["gamesInconsistent"] == 0
        and c["gamesStored"] == n // 2
        and c["playersInTwoGames"] == 0
        and c["playersInNoStoredGame"] == 0
        and c["leftWaiting"] == 0
        and c["errorFrames"] == 0
        and results["settled"]
    )
    ratio = wall / fl["seconds"] if wall else float("inf")
    met = correct and ratio <= TARGET_RATIO
    print()
    print(f"matchmaking, {n} players joining at once over WebSocket, one `arcadeflow up`, one run")
    print("-" * 130)
    line("figure", "measured", "reference (same run)", "ratio", "target")
    line(
        f"all {n} paired (first join -> last paired)",
        f"{wall:.2f} s" if wall else "never",
        f"raw pairing floor {fl['seconds']:.2f} s",
        f"{ratio:.2f}x",
        f"<= {TARGET_RATIO:.0f}x floor ({'met' if met else 'not met'})",
    )
    print(
        f"{'':40} {'':12}   (floor: {n} ticket puts {fl['writeSeconds']:.2f} s + {fl['pairs']} pairing "
        f"transactions {fl['pairSeconds']:.2f} s, {fl['lostRaces']} lost races, {fl['games']} games, "
        f"{fl['leftWaiting']} left waiting)"
    )
    if lat:
        line("join -> paired p50", f"{percentile(lat, 0.5) * 1000:.0f} ms", "", "", "")
        line(
            "join -> paired p99",
            f"{percentile(lat, 0.99) * 1000:.0f} ms",
            f"max {max(lat) * 1000:.0f} ms",
            "",
            "",
        )
    if wall:
        line(
            "pairs per second",
            f"{pairs / wall:.1f}",
            f"floor {fl['pairs'] / fl['seconds']:.1f} (pairing alone {fl['pairs'] / fl['pairSeconds']:.1f})",
            f"{(fl['pairs'] / fl['seconds']) / (pairs / wall):.2f}x",
            "",
        )
    print()
    print(
        f"correctness: {'all checks hold' if correct else 'FAILED'}"
        f"{' (timed out waiting for pairings)' if results['timedOut'] else ''}"
        f"{' (pairings still running when checked)' if not results['settled'] else ''}"
    )
    print(
        f"  paired exactly once      {c['pairedOnce']} of {n} (even count: {'yes' if n % 2 == 0 else 'no'})"
    )
    print(f"  paired twice or more     {c['pairedTwiceOrMore']}")
    print(f"  never paired (lost)      {c['neverPaired']}; left waiting in the queue: {c['leftWaiting']}")
    print(
        f"  games                    {c['gamesAnnounced']} announced, {c['gamesStored']} stored, "
        f"{c['gamesInconsistent']} inconsistent announcements"
    )
    print(
        f"  players in two games     {c['playersInTwoGames']}; "
        f"in no stored game: {c['playersInNoStoredGame']}"
    )
    print(
        f"  queued answers           {c['queuedAnswers']} of {n}; "
        f"error frames {c['errorFrames']} {c['errorCodes'] or ''}"
    )
    print(f"  X waited longer          {c['xWaitedLonger']} of {c['gamesStored']} games")
    print(
        f"  FIFO across the queue    {c['pairsOfAdjacentJoiners']} of {c['gamesStored']} games pair "
        "two joiners adjacent in join order"
    )
    print(
        f"  queueUpdate frames       {c['queueUpdates']} in all ({c['queueUpdates'] / n:.1f} per player, "
        f"at most {c['queueUpdatesMaxPerPlayer']} to one; uncoalesced would be ~{n * n // 2:,})"
    )
    if c["otherFrames"]:
        print(f"  other frames             {c['otherFrames']}")
    print(
        f"  pairing executions       {results['executions']}; connections opened in "
        f"{results['connectSeconds']:.1f} s, joins sent in {results['sendSeconds'] * 1000:.0f} ms, "
        f"the last queued answer {results['allQueuedSeconds'] or float('nan'):.1f} s after the first join"
    )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--players", type=int, default=1000, help="measured players (even)")
    parser.add_argument("--warmup", type=int, default=8, help="players paired first, not measured")
    parser.add_argument("--connect-concurrency", type=int, default=16, help="WebSocket handshakes at a time")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds to wait for every player to be paired"
    )
    parser.add_argument("--settle", type=float, default=3, help="seconds without frames before checking")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    if args.players % 2 or args.warmup % 2:
        parser.error("--players and --warmup must be even: an odd player out waits, by design")

    state = Path(tempfile.mkdtemp(prefix="arcadeflow-bench-"))
    print(f"starting arcadeflow up in {state} ...", file=sys.stderr, flush=True)
    stack = RunningStack(state)
    try:
        print(f"  up (pid {stack.proc.pid})", file=sys.stderr, flush=True)
        results = asyncio.run(matchmaking(stack, args))
    except BaseException:
        # Kept for the post-mortem: up.log and logs/<function>.log say what the stack did.
        print(f"failed; the stack's state and logs are kept in {state}", file=sys.stderr)
        raise
    finally:
        stack.stop()
    shutil.rmtree(state, ignore_errors=True)
    met = report(results)
    if args.json:
        results["targetMet"] = met
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
