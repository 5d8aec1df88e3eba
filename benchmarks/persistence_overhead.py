"""What keeping executions and items across restarts costs: the same work with and without it.

    .venv/bin/python benchmarks/persistence_overhead.py [--followers 3000] [--burst 100] [--rounds 2]

Starts its own `arcadeflow up` stacks, alternately with persistence (the default) and with
`--no-persist`, `--rounds` times each, on fresh state directories:

1. a fan-out to `--followers` followers (made with `arcadeflow populate`, not timed), measured
   from StartExecution to SUCCEEDED (DescribeExecution polled every 50 ms);
2. a burst of `--burst` fan-outs of an author without followers started at once from 8 threads,
   measured from the first start to the last SUCCEEDED.

Each persistent run also reports what its runtime says at stop (`state kept: ...` in its log):
checkpoints, executions and events written, and the seconds spent in them and in table snapshots.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.fanout import populate, start_fanout, status_for  # noqa: E402
from tests.support.stack import RunningStack, wait_for  # noqa: E402

KEPT = re.compile(r"state kept: .*")


def _finished(stack: RunningStack, arns: list[str], timeout: float) -> None:
    sfn = stack.client("stepfunctions")
    pending = set(arns)

    def done() -> bool:
        for arn in list(pending):
            status = sfn.describe_execution(executionArn=arn)["status"]
            if status != "RUNNING":
                if status != "SUCCEEDED":
                    raise RuntimeError(f"{arn} ended {status}")
                pending.discard(arn)
        return not pending

    wait_for(done, timeout=timeout, interval=0.05, message="the executions to finish")


def one_run(persist: bool, followers: int, burst: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="arcadeflow-persist-bench-") as state:
        extra = ["--feed-write-budget", "1000000"] + ([] if persist else ["--no-persist"])
        stack = RunningStack(Path(state), extra)
        try:
            celebrity = f"celeb{uuid.uuid4().hex[:6]}"
            populate(stack, followers, celebrity, prefix=f"{celebrity}-f")
            # Warm-up: one small fan-out, so every function of the flow has a warm worker.
            _finished(stack, [start_fanout(stack, status_for(f"nobody{uuid.uuid4().hex[:6]}"))], 60)

            started = time.perf_counter()
            _finished(stack, [start_fanout(stack, status_for(celebrity))], 300)
            fanout = time.perf_counter() - started

            statuses = [status_for(f"loner{uuid.uuid4().hex[:6]}") for _ in range(burst)]
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=8) as pool:
                arns = list(pool.map(lambda s: start_fanout(stack, s), statuses))
            _finished(stack, arns, 600)
            burst_seconds = time.perf_counter() - started
        finally:
            stack.stop()
        kept = KEPT.search(stack.log_path.read_text())
        return {"fanout": fanout, "burst": burst_seconds, "kept": kept.group() if kept else None}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--followers", type=int, default=3000)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    runs: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for round_number in range(args.rounds):
        for persist in (True, False):
            result = one_run(persist, args.followers, args.burst)
            runs[persist].append(result)
            label = "persist" if persist else "no-persist"
            kept = f"; {result['kept']}" if result["kept"] else ""
            print(
                f"round {round_number + 1} {label:>10}: fan-out of {args.followers} "
                f"{result['fanout']:.2f} s, burst of {args.burst} {result['burst']:.2f} s{kept}",
                flush=True,
            )
    for figure in ("fanout", "burst"):
        on = statistics.median(r[figure] for r in runs[True])
        off = statistics.median(r[figure] for r in runs[False])
        print(f"{figure:>7}: median {on:.2f} s kept, {off:.2f} s not kept: {on / off:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
