"""What a Lambda task costs inside an execution, beside the same warm function invoked directly.

Each way starts an embedded AWS process of its own (the conformance suite's harness: moto's
interpreter with every arcadeflow patch, the Lambda runner, one echo function) and measures,
in the same run:
- a direct client Invoke of the warm function (boto3 -> the front -> the runner): the floor;
- the same function as a Task inside an execution, LambdaFunctionScheduled ->
  LambdaFunctionSucceeded from the execution's history (a bare function ARN as Resource);
- start -> ExecutionSucceeded (the history's timestamps) of a 1-task and a 5-task machine.

Ways: "direct" (the default: the interpreter's Lambda tasks call the runner in-process,
moto_patches/stepfunctions_lambda_direct.py) and "http" (the embedded AWS started with
ARCADEFLOW_LAMBDA_TASKS_OVER_HTTP=1: every Lambda task goes over HTTP to the same endpoint, as
moto does without the patch). The switch exists for this benchmark only.

    python -m benchmarks.execution_steps [--invokes 200] [--executions 100] [--ways direct,http]

Executions run one after another (a latency figure, not a throughput one). Every figure is in
ms; "x invoke" is the figure over the direct client Invoke p50 of the same way and run.
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

from arcadeflow.aws.moto_patches.stepfunctions_lambda_direct import OVER_HTTP_SWITCH
from tests.conformance.harness import HANDLERS, Conformance
from tests.functional.branches.conftest import EmbeddedAwsProcess


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[rank]


def chain(function_arn: str, tasks: int) -> dict[str, Any]:
    """A machine of `tasks` Lambda tasks in a row, each passing its result on."""
    names = [f"Step{i + 1}" for i in range(tasks)]
    states: dict[str, Any] = {}
    for index, name in enumerate(names):
        state: dict[str, Any] = {"Type": "Task", "Resource": function_arn}
        if index + 1 < tasks:
            state["Next"] = names[index + 1]
        else:
            state["End"] = True
        states[name] = state
    return {"StartAt": names[0], "States": states}


def _ms(later: Any, earlier: Any) -> float:
    return float((later - earlier).total_seconds() * 1000)


def measure(way: str, invokes: int, executions: int, warmup: int) -> dict[str, list[float]]:
    env = {OVER_HTTP_SWITCH: "1"} if way == "http" else {}
    process = EmbeddedAwsProcess(Path(tempfile.mkdtemp(prefix=f"execution-steps-{way}-")), (HANDLERS,), env)
    try:
        harness = Conformance(process)
        function = harness.function("bench-echo")
        payload = json.dumps({"return": {"ok": True}}).encode()
        samples: dict[str, list[float]] = {"direct Invoke": []}
        for index in range(warmup + invokes):
            started = time.perf_counter()
            harness.lambda_.invoke(FunctionName=function, Payload=payload)
            if index >= warmup:
                samples["direct Invoke"].append((time.perf_counter() - started) * 1000)
        for tasks in (1, 5):
            machine = harness.machine(chain(function, tasks))
            task_key, run_key = f"{tasks}-task: task scheduled -> succeeded", f"{tasks}-task: start -> end"
            samples[task_key], samples[run_key] = [], []
            for index in range(warmup + executions):
                ended = harness.finished(harness.start(machine, {"return": {"ok": True}}))
                assert ended.status == "SUCCEEDED", (ended.error, ended.cause)
                if index < warmup:
                    continue
                scheduled: dict[int, Any] = {}
                for event in ended.events:
                    if event["type"] == "LambdaFunctionScheduled":
                        scheduled[event["id"]] = event["timestamp"]
                    elif event["type"] == "LambdaFunctionSucceeded":
                        # Scheduled, Started, Succeeded: the task's Scheduled is the latest one.
                        samples[task_key].append(_ms(event["timestamp"], scheduled[max(scheduled)]))
                first, last = ended.events[0]["timestamp"], ended.events[-1]["timestamp"]
                samples[run_key].append(_ms(last, first))
        return samples
    finally:
        process.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--invokes", type=int, default=200, help="direct client Invokes per way")
    parser.add_argument("--executions", type=int, default=100, help="executions per machine and way")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--ways", default="http,direct", help="comma-separated: direct, http")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, list[float]]] = {}
    for way in args.ways.split(","):
        print(f"measuring {way} ...", file=sys.stderr, flush=True)
        results[way] = measure(way, args.invokes, args.executions, args.warmup)

    print(f"\n{'way':<7} {'what':<36} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'x invoke':>9}")
    for way, samples in results.items():
        floor = percentile(samples["direct Invoke"], 50)
        for what, values in samples.items():
            p50 = percentile(values, 50)
            print(
                f"{way:<7} {what:<36} {len(values):>5} {p50:>8.2f} {percentile(values, 99):>8.2f} "
                f"{statistics.fmean(values):>8.2f} {p50 / floor:>8.1f}x"
            )
    if {"direct", "http"} <= results.keys():
        print("\nhttp p50 / direct p50, same run:")
        for what in results["direct"]:
            ratio = percentile(results["http"][what], 50) / percentile(results["direct"][what], 50)
            print(f"  {what:<36} {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
