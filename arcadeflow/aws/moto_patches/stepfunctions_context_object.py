"""The context object's `$$.Execution` as AWS fills it.

AWS's context object (developer guide, "Accessing execution data from the Context object in Step
Functions") has `Execution.StartTime` as an ISO 8601 text with milliseconds and a `Z`
("2019-03-26T20:14:13.192Z") and `Execution.RedriveCount` (0 until a redrive). moto put the
execution's start as a Python datetime there and no RedriveCount: a state reading `$$` or
`$$.Execution.StartTime` into its output made an execution whose DescribeExecution answered 500
(the datetime cannot be serialised) and a Choice on `$$.Execution.RedriveCount` failed with
States.Runtime. stepfunctions_redrive sets the count (and RedriveTime) of a redriven execution
after this default.
"""

from __future__ import annotations

import datetime
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_WORKER = "moto.stepfunctions.parser.backend.execution_worker.ExecutionWorker"


def aws_timestamp(value: datetime.datetime) -> str:
    """A time as the context object writes it: UTC, milliseconds, `Z`."""
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original_environment = ExecutionWorker._get_evaluation_environment

    def environment(self: Any) -> Any:
        env = original_environment(self)
        # moto's TypedDict says text and knows no RedriveCount: what it holds is what counts.
        execution: Any = env.states.context_object.context_object_data["Execution"]
        start = execution.get("StartTime")
        if isinstance(start, datetime.datetime):
            execution["StartTime"] = aws_timestamp(start)
        execution.setdefault("RedriveCount", 0)
        return env

    patcher.replace(ExecutionWorker, "_get_evaluation_environment", environment)


PATCH = MotoPatch(
    name="stepfunctions_context_execution",
    fixes=(
        "$$.Execution.StartTime is a datetime (an output holding it makes DescribeExecution answer 500)"
        " and $$.Execution.RedriveCount is missing"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_WORKER}._get_evaluation_environment",),
    kind="fix",
    apply=apply,
    signatures={f"{_WORKER}._get_evaluation_environment": ("self",)},
)
