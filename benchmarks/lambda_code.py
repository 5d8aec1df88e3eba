"""What running the deployed zip costs, against the old fast path (functions/ of the checkout).

Two ways to give arcadeflow's own functions their code:
- deployed: `arcadeflow up` uploads the package infra/package_functions.py builds and the runner
  unpacks it once per code version (arcadeflow/aws/lambda_code.py): what runs is what ships;
- checkout: the old way, a placeholder zip uploaded and every worker importing a symlink to the
  checkout's functions/ (no build, no upload, no unpack).

Measured each way, in a fresh process per round (moto's patches are process-wide), rounds
alternating so load on the machine falls on both alike:
- stack start: EmbeddedStack.start() of the real description until ready, deploy and one
  prewarmed worker per function included;
- cold start: a new worker of one real handler, from spawn to handler imported (retire, prewarm);
- and, for the deployed way, its parts: building the zip, unpacking it.

    python -m benchmarks.lambda_code [--rounds 3] [--cold-starts 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROUND = "--one-round"


def one_round(way: str, cold_starts: int) -> dict[str, Any]:
    from arcadeflow import deployer, lambda_package
    from arcadeflow.aws.lambda_code import DeployedCode
    from arcadeflow.aws.lambda_runner import stage_task_root
    from arcadeflow.stack import EmbeddedStack, StackOptions
    from tests.support.stack import free_port

    figures: dict[str, Any] = {}
    started = time.perf_counter()
    package = lambda_package.function_package()
    figures["build_ms"] = (time.perf_counter() - started) * 1000
    figures["package_bytes"] = len(package)
    with tempfile.TemporaryDirectory() as scratch:
        store = DeployedCode(Path(scratch), lambda _name: package, lambda _arn: b"")
        started = time.perf_counter()
        store.for_function("f", "sha", ())
        figures["unpack_ms"] = (time.perf_counter() - started) * 1000

    with tempfile.TemporaryDirectory() as state_dir:
        options = StackOptions(
            http_port=free_port(),
            ws_port=free_port(),
            aws_port=free_port(),
            state_dir=Path(state_dir),
            persist=False,
        )
        if way == "checkout":
            # The old fast path: nothing built or unpacked, workers import the checkout.
            placeholder = lambda_package.zip_bytes([])
            deployer.function_package = lambda: placeholder  # type: ignore[assignment]
        started = time.perf_counter()
        stack = EmbeddedStack(options)
        if way == "checkout":
            stack.aws.runner.code = None
            stack.aws.runner.task_root = stage_task_root(Path(state_dir) / "checkout-task")
        stack.start()
        figures["stack_start_s"] = time.perf_counter() - started
        try:
            name = stack.deployment.physical_name(next(iter(stack.deployment.functions)))
            samples = []
            for _ in range(cold_starts):
                stack.aws.runner.retire(name)
                started = time.perf_counter()
                stack.aws.runner.prewarm(name)
                samples.append((time.perf_counter() - started) * 1000)
            figures["cold_start_ms"] = samples
            figures["function"] = name
        finally:
            stack.stop()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold-starts", type=int, default=10)
    parser.add_argument(ROUND, choices=("deployed", "checkout"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_round:
        sys.stdout.write(json.dumps(one_round(args.one_round, args.cold_starts)) + "\n")
        return 0
    results: dict[str, list[dict[str, Any]]] = {"deployed": [], "checkout": []}
    for _ in range(args.rounds):
        for way in results:
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.lambda_code",
                    ROUND,
                    way,
                    "--cold-starts",
                    str(args.cold_starts),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            results[way].append(json.loads(out.stdout.strip().splitlines()[-1]))
    deployed = results["deployed"]
    sys.stdout.write(
        f"package: {deployed[0]['package_bytes']:,} bytes; built in "
        f"{statistics.median(r['build_ms'] for r in deployed):.0f} ms, unpacked in "
        f"{statistics.median(r['unpack_ms'] for r in deployed):.0f} ms (medians of {args.rounds})\n"
    )
    sys.stdout.write(f"cold start of {deployed[0]['function']}: {args.cold_starts} per round\n")
    sys.stdout.write(
        f"{'way':<10} {'stack start s (median, min-max)':<34} {'cold start ms (median, p90)':<28}\n"
    )
    for way, rounds in results.items():
        starts = [r["stack_start_s"] for r in rounds]
        colds = sorted(s for r in rounds for s in r["cold_start_ms"])
        p90 = colds[min(len(colds) - 1, round(0.9 * (len(colds) - 1)))]
        start_text = f"{statistics.median(starts):.2f} ({min(starts):.2f}-{max(starts):.2f})"
        sys.stdout.write(f"{way:<10} {start_text:<34} {statistics.median(colds):.0f}, {p90:.0f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
