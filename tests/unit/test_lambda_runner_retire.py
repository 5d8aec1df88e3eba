"""LambdaRunner.retire: a function's workers stop when it is deleted or changed, the idle ones
at once and a busy one as soon as its invocation ends (before, a worker busy during an update was
handed back to a pool nothing used any more, and lived on with its descriptors)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from arcadeflow.aws.lambda_runner import FunctionConfig, LambdaRunner, stage_task_root
from tests.functional.branches.conftest import poll


def workers_running_from(task_root: Path) -> list[int]:
    """Live worker processes started on this task root (their command line names it): other
    children of the test process (other tests' embedded AWS processes) are not counted."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, NotADirectoryError, PermissionError, IndexError):
            continue
        if str(task_root).encode() in command and state != "Z":
            found.append(int(entry.name))
    return found


def _runner(tmp_path: Path, handler: str) -> LambdaRunner:
    """A runner whose workers run from tmp_path/task (see workers_running_from)."""
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
        assert workers_running_from(tmp_path / "task") == []
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
        poll(lambda: workers_running_from(tmp_path / "task"), "the invocation's worker to start")
        runner.retire("retired")
        invocation.join(timeout=30)
        assert results and results[0].ok, results  # the invocation itself still completes
        assert runner.live_workers() == 0
        assert workers_running_from(tmp_path / "task") == []
    finally:
        runner.shutdown()
