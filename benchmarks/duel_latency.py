"""Duel latency against a real `arcadeflow up` this script starts itself.

For each duel: alice invites bob, bob accepts, both get start, alice stops. Measured per duel:
- invite delivery: from alice sending {action: invite} to bob receiving {type: invite}
  (API Gateway -> ws_actions -> StartExecution -> NotifyInvitee -> @connections);
- accept to start: from bob sending {action: respond} to the later of the two start frames
  (respond -> SendTaskSuccess -> ReadDecision -> StartSession -> OpenSession -> AnnounceStart);
- and, side by side in the same run, a plain WebSocket round trip through the same emulator:
  {action: ping} -> ws_actions -> @connections -> {type: pong}.

    python -m benchmarks.duel_latency [--duels 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from arcadeflow.auth import LocalIssuer
from tests.support.stack import RunningStack
from tools.duel_client import DuelClient


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[rank]


SAMPLE_NAMES = ("ping round trip", "invite delivery", "accept to start")


def empty_samples() -> dict[str, list[float]]:
    return {name: [] for name in SAMPLE_NAMES}


async def play_duels(
    alice: DuelClient,
    bob: DuelClient,
    duels: int,
    warmup: int,
    samples: dict[str, list[float]],
    frame_timeout: float = 15.0,
) -> None:
    """`warmup + duels` duels of one pair, one after another; the last `duels` go into samples (ms).
    A frame not seen within `frame_timeout` seconds stops the run (FrameTimeout)."""
    for index in range(warmup + duels):
        ping_sent = await alice.send(action="ping", id=str(index))
        pong = await alice.next("pong", frame_timeout, id=str(index))

        invite_sent = await alice.send(action="invite", to=bob.name)
        invitation = await bob.next("invite", frame_timeout)
        await alice.next("invite_sent", frame_timeout)

        respond_sent = await bob.send(action="respond", inviteId=invitation.frame["inviteId"], accept=True)
        start_a = await alice.next("start", frame_timeout, inviteId=invitation.frame["inviteId"])
        start_b = await bob.next("start", frame_timeout, inviteId=invitation.frame["inviteId"])

        await alice.send(action="stop", sessionId=start_a.frame["sessionId"])
        await alice.next("stop", frame_timeout, sessionId=start_a.frame["sessionId"])
        await bob.next("stop", frame_timeout, sessionId=start_a.frame["sessionId"])
        if index < warmup:
            continue
        samples["ping round trip"].append((pong.at - ping_sent) * 1000)
        samples["invite delivery"].append((invitation.at - invite_sent) * 1000)
        samples["accept to start"].append((max(start_a.at, start_b.at) - respond_sent) * 1000)
        if (index - warmup + 1) % 50 == 0:
            print(f"  {index - warmup + 1} duels", file=sys.stderr, flush=True)


async def run(ws_url: str, issuer: LocalIssuer, duels: int, warmup: int) -> dict[str, list[float]]:
    alice = await DuelClient.connect(ws_url, issuer.mint("bench-alice", "Alice"), "bench-alice")
    bob = await DuelClient.connect(ws_url, issuer.mint("bench-bob", "Bob"), "bench-bob")
    samples = empty_samples()
    await play_duels(alice, bob, duels, warmup, samples)
    await alice.close()
    await bob.close()
    return samples


def report(samples: dict[str, list[float]], duels: int) -> str:
    ping = samples["ping round trip"]
    lines = [
        f"{duels} duels, sequential, one `arcadeflow up` (embedded AWS, local Lambda runner, no Docker)",
        "",
        f"{'':<18}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'x ping p50':>12}{'x ping p99':>12}",
    ]
    for name, values in samples.items():
        lines.append(
            f"{name:<18}{percentile(values, 50):>9.1f}{percentile(values, 99):>9.1f}"
            f"{statistics.fmean(values):>9.1f}"
            f"{percentile(values, 50) / percentile(ping, 50):>12.2f}"
            f"{percentile(values, 99) / percentile(ping, 99):>12.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duels", type=int, default=200, help="measured duels (default 200)")
    parser.add_argument(
        "--warmup", type=int, default=5, help="duels played first and not measured (default 5)"
    )
    args = parser.parse_args(argv)
    state_dir = Path(tempfile.mkdtemp(prefix="arcadeflow-bench-"))
    print(f"starting arcadeflow up in {state_dir} ...", file=sys.stderr, flush=True)
    stack = RunningStack(state_dir)
    try:
        started = time.monotonic()
        samples = asyncio.run(
            run(f"ws://127.0.0.1:{stack.ws_port}/local", LocalIssuer(state_dir), args.duels, args.warmup)
        )
        print(report(samples, args.duels))
        print(f"\n(run took {time.monotonic() - started:.0f} s)")
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
