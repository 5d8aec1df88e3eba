"""A soak of mixed traffic against one `arcadeflow up`: does its memory level off, does latency hold?

    .venv/bin/python benchmarks/soak.py [--minutes 30] [--presence-users 20] [--followers 200]
                                        [--post-every 30] [--duel-pairs 2] [--queue-pairs 1]
                                        [--stream-retention 86400] [--no-persist]

Starts its own stack (fresh state directory, persistence on, as `./dev up` runs) and keeps up,
for `--minutes`, at the same time:
- presence: `--presence-users` users each PUT /presence once a second (the page's refresh);
- posts: one POST /statuses every `--post-every` seconds by an author with `--followers` followers (each one a
  fan-out writing that many feed items);
- duels: `--duel-pairs` pairs over the WebSocket API, one after another: invite, accept, start,
  stop (two executions each);
- queue games: `--queue-pairs` pairs that join the matchmaking queue, play a game to a win over
  the server and requeue.

Each minute it prints the runtime's memory (resident set of the `arcadeflow up` process, and of
its Lambda worker processes together) and the p99 latency of that minute per kind: PUT /presence,
POST /statuses, invite delivery (sent to received by the invitee), queue move (sent to seen by
the opponent). At the end: memory at the start and the end, and whether it levelled off (the
growth over the last third of the run against the first third). What still grows is data: the
feed items the posts write and the executions kept (as AWS keeps them for 90 days).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.fanout import populate  # noqa: E402
from tests.support.stack import RunningStack  # noqa: E402
from tools.duel_client import DuelClient  # noqa: E402

WIN_FOR_X = ((0, "x"), (3, "o"), (1, "x"), (4, "o"), (2, "x"))  # top row


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def rss_mb(pid: int) -> float:
    """Resident set of one process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        # A thread may end between the listing and the read.
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def memory(pid: int) -> tuple[float, float]:
    """(the runtime's own MB, its Lambda workers' MB together)."""
    workers = 0.0
    for child in children(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a worker replaced meanwhile
            workers += rss_mb(child)
    return rss_mb(pid), workers


class Samples:
    """Latencies by (minute, kind), and failures by kind."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.latency: dict[tuple[int, str], list[float]] = defaultdict(list)
        self.failures: dict[str, int] = defaultdict(int)

    def add(self, kind: str, seconds: float) -> None:
        minute = int((time.monotonic() - self.started) // 60)
        self.latency[(minute, kind)].append(seconds * 1000)

    def fail(self, kind: str) -> None:
        self.failures[kind] += 1


KINDS = ("presence", "post", "invite", "move")


class Soak:
    def __init__(self, stack: RunningStack, args: argparse.Namespace) -> None:
        self.stack = stack
        self.args = args
        self.samples = Samples()
        self.deadline = time.monotonic() + args.minutes * 60
        self.http = requests.Session()
        self.tokens: dict[str, str] = {}
        self.ws_url = f"{stack.ws_url}/local"

    def token(self, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user] = self.stack.token(user, user)
        return self.tokens[user]

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    # --- HTTP traffic (threads) ------------------------------------------------------------------

    def timed_http(self, kind: str, method: str, path: str, user: str, body: dict[str, Any]) -> None:
        started = time.perf_counter()
        try:
            answer = self.http.request(
                method,
                f"{self.stack.http_url}{path}",
                json=body,
                headers={"Authorization": f"Bearer {self.token(user)}"},
                timeout=30,
            )
            ok = answer.status_code < 300
        except requests.RequestException:
            ok = False
        if ok:
            self.samples.add(kind, time.perf_counter() - started)
        else:
            self.samples.fail(kind)

    def presence_loop(self, users: list[str]) -> None:
        while self.running():
            tick = time.monotonic()
            for user in users:
                self.timed_http("presence", "PUT", "/presence", user, {"status": "home"})
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))

    def post_loop(self, author: str) -> None:
        count = 0
        while self.running():
            tick = time.monotonic()
            count += 1
            self.timed_http("post", "POST", "/statuses", author, {"post": f"soak post {count}"})
            time.sleep(max(0.0, self.args.post_every - (time.monotonic() - tick)))

    # --- WebSocket traffic (asyncio) -------------------------------------------------------------

    async def connect(self, user: str) -> DuelClient:
        return await DuelClient.connect(self.ws_url, self.token(user), user)

    async def duel_loop(self, pair: int) -> None:
        alice = await self.connect(f"soak-duel-a{pair}")
        bob = await self.connect(f"soak-duel-b{pair}")
        while self.running():
            try:
                sent = await alice.send(action="invite", to=bob.name)
                invitation = await bob.next("invite", timeout=30)
                self.samples.add("invite", invitation.at - sent)
                invite_id = invitation.frame["inviteId"]
                await bob.send(action="respond", inviteId=invite_id, accept=True)
                start = await alice.next("start", inviteId=invite_id, timeout=30)
                await bob.next("start", inviteId=invite_id, timeout=30)
                session_id = start.frame["sessionId"]
                await alice.send(action="stop", sessionId=session_id)
                await alice.next("stop", sessionId=session_id, timeout=30)
                await bob.next("stop", sessionId=session_id, timeout=30)
                alice.received, bob.received = [], []  # the round is over: nothing more is awaited
            except AssertionError:
                self.samples.fail("invite")
                alice, bob = await self._reconnect(alice, bob)
        await alice.close()
        await bob.close()

    async def queue_loop(self, pair: int) -> None:
        x = await self.connect(f"soak-queue-x{pair}")
        o = await self.connect(f"soak-queue-o{pair}")
        action = "joinQueue"
        while self.running():
            try:
                await x.send(action=action)
                await x.next("queued", timeout=30)
                await o.send(action=action)
                told_x = await x.next("paired", timeout=60)
                await o.next("paired", timeout=60)
                game_id = told_x.frame["gameId"]
                # Who waited longer is X: the first to join, here x.
                players = {"x": (x, o), "o": (o, x)}
                for cell, who in WIN_FOR_X:
                    mover, opponent = players[who]
                    sent = await mover.send(action="move", gameId=game_id, cell=cell)
                    seen = await opponent.next("move", gameId=game_id, cell=cell, timeout=30)
                    self.samples.add("move", seen.at - sent)
                await x.next("gameOver", gameId=game_id, timeout=30)
                await o.next("gameOver", gameId=game_id, timeout=30)
                action = "requeue"
                x.received, o.received = [], []  # the game is over: nothing more is awaited
            except AssertionError:
                self.samples.fail("move")
                x, o = await self._reconnect(x, o)
                action = "joinQueue"
        await x.close()
        await o.close()

    async def _reconnect(self, *clients: DuelClient) -> tuple[DuelClient, ...]:
        """After a frame that never came: start the pair afresh (the failure is counted)."""
        for client in clients:
            await client.close()
        await asyncio.sleep(1.0)
        return tuple([await self.connect(c.name) for c in clients])

    # --- the run ---------------------------------------------------------------------------------

    async def memory_loop(self, readings: list[tuple[int, float, float]]) -> None:
        minute = 0
        readings.append((0, *memory(self.stack.proc.pid)))
        while self.running():
            await asyncio.sleep(min(60.0, max(0.0, self.deadline - time.monotonic())))
            minute += 1
            readings.append((minute, *memory(self.stack.proc.pid)))
            self.print_minute(minute - 1, readings[-1])

    def print_minute(self, minute: int, reading: tuple[int, float, float]) -> None:
        cells = []
        for kind in KINDS:
            values = self.samples.latency.get((minute, kind), [])
            cells.append(f"{percentile(values, 0.99):>14.0f}" if values else f"{'-':>14}")
        print(f"{minute + 1:>6}{reading[1]:>11.0f}{reading[2]:>11.0f}{''.join(cells)}", flush=True)

    async def run(self, readings: list[tuple[int, float, float]]) -> None:
        loop = asyncio.get_running_loop()
        users = [f"soak-presence{n}" for n in range(self.args.presence_users)]
        for user in [*users, "soak-author"]:
            self.token(user)
        with ThreadPoolExecutor(max_workers=2) as pool:
            http = [
                loop.run_in_executor(pool, self.presence_loop, users),
                loop.run_in_executor(pool, self.post_loop, "soak-author"),
            ]
            ws = [self.duel_loop(n) for n in range(self.args.duel_pairs)]
            ws += [self.queue_loop(n) for n in range(self.args.queue_pairs)]
            try:
                await asyncio.gather(self.memory_loop(readings), *http, *ws)
            finally:
                self.deadline = time.monotonic()  # one loop failed: the others stop too


def report(soak: Soak, readings: list[tuple[int, float, float]]) -> None:
    (_, start_rss, start_workers), (_, end_rss, end_workers) = readings[0], readings[-1]
    print()
    print(f"runtime memory: {start_rss:.0f} MB at the start, {end_rss:.0f} MB at the end")
    print(f"Lambda workers: {start_workers:.0f} MB at the start, {end_workers:.0f} MB at the end")
    if len(readings) >= 4:
        third = max(1, (len(readings) - 1) // 3)
        early = readings[third][1] - readings[0][1]
        late = readings[-1][1] - readings[-1 - third][1]
        verdict = "levelled off" if late <= max(5.0, 0.2 * early) else "still growing"
        print(
            f"runtime growth: first {third} min +{early:.0f} MB, last {third} min +{late:.0f} MB ({verdict})"
        )
    for kind in KINDS:
        values = [v for (_, k), vs in soak.samples.latency.items() if k == kind for v in vs]
        if values:
            print(
                f"{kind:<9} {len(values):>7} done, p50 {statistics.median(values):.0f} ms, "
                f"p99 {percentile(values, 0.99):.0f} ms, {soak.samples.failures.get(kind, 0)} failed"
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--presence-users", type=int, default=20)
    parser.add_argument("--followers", type=int, default=200)
    parser.add_argument("--post-every", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("--duel-pairs", type=int, default=2)
    parser.add_argument("--queue-pairs", type=int, default=1)
    parser.add_argument("--stream-retention", type=float, default=24 * 60 * 60, metavar="SECONDS")
    parser.add_argument(
        "--no-persist", action="store_true", help="run the stack with --no-persist (nothing kept on disk)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="arcadeflow-soak-") as state:
        stack = RunningStack(
            Path(state),
            ["--stream-retention", str(args.stream_retention), "--feed-write-budget", "1000000"]
            + (["--no-persist"] if args.no_persist else []),
        )
        try:
            populate(stack, args.followers, "soak-author", prefix="soak-follower")
            print(
                f"soak: {args.minutes:g} min, {args.presence_users} presence users/s, "
                f"a post per {args.post_every:g} s to "
                f"{args.followers} followers, {args.duel_pairs} duel pairs, {args.queue_pairs} queue pairs, "
                f"stream retention {args.stream_retention:g} s"
                + (", nothing kept (--no-persist)" if args.no_persist else "")
            )
            header = "".join(f"{k + ' p99 ms':>14}" for k in KINDS)
            print(f"{'minute':>6}{'up MB':>11}{'workers MB':>11}{header}")
            soak = Soak(stack, args)
            readings: list[tuple[int, float, float]] = []
            asyncio.run(soak.run(readings))
            report(soak, readings)
            print(json.dumps({"memory": readings}), file=sys.stderr)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
