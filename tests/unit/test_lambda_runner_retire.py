"""LambdaRunner.retire: a function's workers stop when it is deleted or changed, the idle ones
at once and a busy one as soon as its invocation ends (before, a worker busy during an update was
handed back to a pool nothing used any more, and lived on with its descriptors)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from arcadeflow.aws.lambda_runner import FunctionConfig, LambdaRunner, stage_task_root
from tests.functional.branches.conftest import poll
from tests.functional.lambda_workers.test_worker_reaping import worker_processes


def _runner(tmp_path: Path, handler: str) -> LambdaRunner:
    config = FunctionConfig(
        name="retired",
        arn="arn:aws:lambda:us-east-1:123456789012:function:retired",
        handler=handler,
        timeout_seconds=30,
        memory_mb=128,
        environment=(),
    )
    task_root = stage_task_root(tmp_path / "task", [Path("tests/support/sample_handlers.py")])
    return LambdaRunner(lambda _name: config, {}, task_root=task_root)


def test_retiring_stops_idle_workers_at_once(tmp_path):
    runner = _runner(tmp_path, "tests.support.sample_handlers.show_environment")
    try:
        assert runner.invoke("retired", b"{}").ok
        assert runner.live_workers() == 1
        runner.retire("arn:aws:lambda:us-east-1:123456789012:function:retired")
        assert runner.live_workers() == 0
        assert worker_processes(os.getpid()) == []
    finally:
        runner.shutdown()


def test_a_worker_busy_while_its_function_retires_stops_when_its_invocation_ends(tmp_path):
    runner = _runner(tmp_path, "tests.support.sample_handlers.sleep_seconds")
    results = []
    invocation = threading.Thread(
        target=lambda: results.append(runner.invoke("retired", json.dumps({"seconds": 1}).encode()))
    )
    try:
        invocation.start()
        poll(lambda: worker_processes(os.getpid()), "the invocation's worker to start")
        runner.retire("retired")
        invocation.join(timeout=30)
        assert results and results[0].ok, results  # the invocation itself still completes
        assert runner.live_workers() == 0
        assert worker_processes(os.getpid()) == []
    finally:
        runner.shutdown()
