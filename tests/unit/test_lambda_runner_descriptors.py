"""The Lambda runner starts workers in a process holding thousands of descriptors (a stack with a
thousand open WebSocket connections): waiting on a worker's pipe must not care how high its
descriptor number is (select() refuses anything above 1023)."""

from __future__ import annotations

import json
import os
import resource
from pathlib import Path

from arcadeflow.aws.lambda_runner import FunctionConfig, LambdaRunner, stage_task_root

HIGH_DESCRIPTORS = 1100


def test_a_worker_started_after_a_thousand_open_descriptors_answers(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < HIGH_DESCRIPTORS + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    config = FunctionConfig(
        name="show-environment",
        arn="arn:aws:lambda:us-east-1:123456789012:function:show-environment",
        handler="tests.support.sample_handlers.show_environment",
        timeout_seconds=30,
        memory_mb=128,
        environment=(),
    )
    task_root = stage_task_root(tmp_path / "task", [Path("tests/support/sample_handlers.py")])
    runner = LambdaRunner(lambda _name: config, {}, task_root=task_root)
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(HIGH_DESCRIPTORS)]
    try:
        result = runner.invoke("show-environment", json.dumps({}).encode())
    finally:
        for descriptor in held:
            os.close(descriptor)
        runner.shutdown()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert result.ok, result.payload[:500]
    assert result.json()["function"] == "show-environment"
