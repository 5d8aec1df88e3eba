"""Finished executions' threads are let go, so a runtime that ran many executions stays small.

moto appends every thread its Step Functions interpreter starts (one per execution, one per
Task state's attempt, per Map iteration, per Parallel branch) to a module-level list,
`TMP_THREADS`, and never removes one: each finished execution keeps ~26 KB of dead thread
objects for as long as the runtime runs (measured: 59 KB per finished five-iteration Map
execution without this patch, 33 KB with it). Nothing in moto reads the list at run time (its
own tests join it). Each StartExecution drops the threads that have ended from it first.
"""

from __future__ import annotations

from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_EXECUTION = "moto.stepfunctions.parser.backend.execution.Execution"


def release_finished_threads() -> int:
    """Drops the threads that have ended from moto's list; returns how many are left."""
    from moto.stepfunctions.parser.utils import TMP_THREADS

    # One slice assignment: a thread appended by another thread meanwhile may be dropped from
    # the list too, which is harmless (the list only keeps references, nobody waits on it).
    TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]
    return len(TMP_THREADS)


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.backend.execution import Execution

    original_start = Execution.start

    def start(self: Any) -> None:
        release_finished_threads()
        original_start(self)

    patcher.replace(Execution, "start", start)


PATCH = MotoPatch(
    name="stepfunctions_thread_list",
    fixes="every thread an execution started is kept for ever in moto's TMP_THREADS (~26 KB per execution)",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_EXECUTION}.start", "moto.stepfunctions.parser.utils.TMP_THREADS"),
    kind="fix",
    apply=apply,
    signatures={f"{_EXECUTION}.start": ("self",)},
)
