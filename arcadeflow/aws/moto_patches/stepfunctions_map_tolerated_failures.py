"""A Distributed Map fails past its tolerated failure threshold, as on AWS.

AWS (developer guide, "Setting failure thresholds for Distributed Map states in Step
Functions"; API reference, DescribeMapRun: "the maximum number of failed child workflow
executions before the Map Run fails"): a Distributed Map's Map Run fails with
`States.ExceedToleratedFailureThreshold` once its failed items exceed `ToleratedFailureCount` or
their share exceeds `ToleratedFailurePercentage`; with neither set, the first failed item fails
it. moto's distributed workers swallow a failed item instead (its result is null) and the Map
state SUCCEEDS, and the thresholds are parsed and ignored.

Here a failed item is counted and its error output (`{"Error", "Cause"}`) takes its place in
the Map's result; the run fails with States.ExceedToleratedFailureThreshold as soon as a
threshold is exceeded (the remaining items are not started). AWS's documentation does not say
what a tolerated failed item contributes to the output without a ResultWriter, nor the failure's
cause: both are our choice (the item's error output; a cause naming the counts). A threshold
set to 0 is taken as not set (moto's default for both is 0).
"""

from __future__ import annotations

from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_ITERATION = "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration"
_DISTRIBUTED = f"{_ITERATION}.distributed_iteration_component.DistributedIterationComponent"
_ITEM_WORKER = f"{_ITERATION}.itemprocessor.distributed_item_processor_worker.DistributedItemProcessorWorker"
_ITERATOR_WORKER = f"{_ITERATION}.iterator.distributed_iterator_worker.DistributedIteratorWorker"
_POOL = f"{_ITERATION}.job.JobPool"


class ToleratedFailure:
    """A failed iteration's place in a tolerant run: its error output (not an Exception, so the
    iteration's worker goes on to the next item)."""

    def __init__(self, error_output: dict[str, Any]) -> None:
        self.error_output = error_output


def exceeded(failed: int, total: int, tolerated_count: int, tolerated_percentage: float) -> bool:
    """Whether `failed` of `total` items exceed the thresholds set (0: not set; none: no failure)."""
    if tolerated_count <= 0 and tolerated_percentage <= 0:
        return failed > 0
    over_count = tolerated_count > 0 and failed > tolerated_count
    over_percentage = tolerated_percentage > 0 and total > 0 and failed * 100.0 / total > tolerated_percentage
    return over_count or over_percentage


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import job as job_module
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
        distributed_item_processor_worker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iterator import (
        distributed_iterator_worker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.max_concurrency import (
        DEFAULT_MAX_CONCURRENCY_VALUE,
    )
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError

    class TolerantJobPool(job_module.JobPool):
        def __init__(self, env: Any, job_program: Any, job_inputs: list[Any], count: int, percentage: float):
            super().__init__(job_program=job_program, job_inputs=job_inputs)
            self._env, self._count, self._percentage = env, count, percentage
            self._total, self._failed = len(job_inputs), 0

        def close_job(self, job: Any) -> None:
            if not isinstance(job.job_output, ToleratedFailure):
                super().close_job(job)
                return
            with self._mutex:
                if self._is_terminated():
                    return
                self._failed += 1
                self._closed_jobs.add(job_module.JobClosed(job.job_index, job.job_output.error_output))
                if exceeded(self._failed, self._total, self._count, self._percentage):
                    self._worker_exception = self._threshold_exceeded()
                self._notify_on_termination()

        def _threshold_exceeded(self) -> Any:
            name = StatesErrorNameType.StatesExceedToleratedFailureThreshold.to_name()
            cause = (
                f"{self._failed} of {self._total} items failed, more than the tolerated"
                f" (ToleratedFailureCount {self._count}, ToleratedFailurePercentage {self._percentage:g})"
            )
            details: Any = {"executionFailedEventDetails": {"error": name, "cause": cause}}
            return FailureEventException(
                FailureEvent(
                    env=self._env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                    event_type=HistoryEventType.ExecutionFailed,
                    event_details=details,
                )
            )

    def tolerant_eval_job(original: Any) -> Any:
        def eval_job(self: Any, env: Any, job: Any) -> None:
            original(self, env, job)
            ended = env.program_state()
            if isinstance(self._job_pool, TolerantJobPool) and isinstance(ended, ProgramError):
                error = ended.error or {}
                job.job_output = ToleratedFailure({"Error": error.get("error"), "Cause": error.get("cause")})

        return eval_job

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        record = eval_input.map_run_record
        count = int(record.tolerated_failure_count or 0)
        percentage = float(record.tolerated_failure_percentage or 0)
        # moto's _map_run, with a pool that counts failures against the thresholds.
        items: list[Any] = env.stack.pop()
        pool = TolerantJobPool(env, self._get_iteration_program(), items, count, percentage)
        concurrency = record.max_concurrency
        workers = len(items) if concurrency == DEFAULT_MAX_CONCURRENCY_VALUE else concurrency
        for _ in range(workers):
            self._launch_worker(env=env, eval_input=eval_input, job_pool=pool)
        pool.await_jobs()
        worker_exception = pool.get_worker_exception()
        if worker_exception is not None:
            raise worker_exception
        env.stack.append([closed.job_output for closed in pool.get_closed_jobs()])

    for worker in (
        distributed_item_processor_worker.DistributedItemProcessorWorker,
        distributed_iterator_worker.DistributedIteratorWorker,
    ):
        patcher.replace(worker, "_eval_job", tolerant_eval_job(worker._eval_job))
    patcher.replace(distributed_iteration_component.DistributedIterationComponent, "_map_run", map_run)


PATCH = MotoPatch(
    name="stepfunctions_map_tolerated_failures",
    fixes=(
        "a Distributed Map whose items fail SUCCEEDS (failed results are null); its tolerated failure"
        " thresholds are ignored, never States.ExceedToleratedFailureThreshold"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_DISTRIBUTED}._map_run",
        f"{_DISTRIBUTED}._launch_worker",
        f"{_DISTRIBUTED}._get_iteration_program",
        f"{_ITEM_WORKER}._eval_job",
        f"{_ITERATOR_WORKER}._eval_job",
        f"{_POOL}.close_job",
        f"{_POOL}._is_terminated",
        f"{_POOL}._notify_on_termination",
        f"{_ITERATION}.job.JobClosed",
    ),
    kind="fix",
    apply=apply,
    signatures={
        f"{_DISTRIBUTED}._map_run": ("self", "env", "eval_input"),
        f"{_ITEM_WORKER}._eval_job": ("self", "env", "job"),
        f"{_ITERATOR_WORKER}._eval_job": ("self", "env", "job"),
        f"{_POOL}.close_job": ("self", "job"),
        f"{_ITERATION}.job.JobClosed": ("job_index", "job_output"),
    },
)
