"""StopExecution is synchronous and always ends ABORTED, as on AWS.

moto stops an execution by flagging its program stopped and lets the execution's own thread
record the outcome when it next looks. Two things follow, both seen in the suite:
- StopExecution answers with no stopDate while DescribeExecution still says RUNNING; the
  console and the tests polled until ABORTED appeared.
- A stop landing while a Lambda task is being set up ends FAILED, not ABORTED: the stopped
  frame skips evaluating the task's resource, the task then pops the wrong value off its stack
  (`'dict' object has no attribute 'region'`), and the program's error overwrites the stop.

Here StopExecution records it all before it answers: ABORTED, the stopDate, and
ExecutionAborted as the last event of the history (ExecutionStarted first, when the stop beat
the execution's thread to it). Whatever the thread still does afterwards is dropped from the
history, as on AWS where nothing follows ExecutionAborted; a failure it raises because it was
stopped neither retries nor overwrites ABORTED. A redrive gets a new history (a new event
manager), so it records again. The stop's error and cause are kept, as AWS keeps them (moto
drops them), and a stop that gave none reports none (moto reports "" for both).
"""

from __future__ import annotations

import threading
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_EXECUTION = "moto.stepfunctions.parser.backend.execution.Execution"
_COMMUNICATION = "moto.stepfunctions.parser.backend.execution.BaseExecutionWorkerCommunication"
_ENVIRONMENT = "moto.stepfunctions.parser.asl.eval.environment.Environment"
_EVENTS = "moto.stepfunctions.parser.asl.eval.event.event_manager.EventManager"
_EXECUTE_STATE = "moto.stepfunctions.parser.asl.component.state.exec.execute_state.ExecutionState"

# Guards only the lazy creation of each history's own lock (the lock that serialises a stop
# with that history's appends), so executions never wait for each other.
_locks_made = threading.Lock()


def _history_lock(manager: Any) -> Any:
    lock = getattr(manager, "_arcadeflow_lock", None)
    if lock is None:
        with _locks_made:
            lock = getattr(manager, "_arcadeflow_lock", None)
            if lock is None:
                lock = manager._arcadeflow_lock = threading.RLock()
    return lock


# The error and cause of the StopExecution being served on this thread: moto's backend drops
# them (it stops with "" and ""), AWS records them in ExecutionAborted and DescribeExecution.
_stop_request = threading.local()


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.api import (
        ExecutionAbortedEventDetails,
        ExecutionStartedEventDetails,
        ExecutionStatus,
        HistoryEventExecutionDataDetails,
        HistoryEventType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramRunning, ProgramStopped
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
    from moto.stepfunctions.parser.backend.execution import (
        BaseExecutionWorkerCommunication,
        Execution,
    )
    from moto.stepfunctions.responses import StepFunctionResponse

    original_add_event = EventManager.add_event

    def add_event(self: Any, context: Any, event_type: Any, *args: Any, **kwargs: Any) -> int:
        with _history_lock(self):
            if getattr(self, "_arcadeflow_closed", False):
                return int(context.last_published_event_id or 0)  # after ExecutionAborted: dropped
            return int(original_add_event(self, context, event_type, *args, **kwargs))

    def record_started(worker: Any, env: Any) -> None:
        # As ExecutionWorker._execution_logic records it.
        details = worker._evaluation_details
        # EventDetails is a TypedDict of every kind of details; an event carries one of them.
        started: Any = {
            "executionStartedEventDetails": ExecutionStartedEventDetails(
                input=to_json_str(details.execution_details.inpt),
                inputDetails=HistoryEventExecutionDataDetails(truncated=False),
                roleArn=details.aws_execution_details.role_arn,
            )
        }
        original_add_event(
            env.event_manager,
            context=env.event_history_context,
            event_type=HistoryEventType.ExecutionStarted,
            event_details=started,
            update_source_event_id=False,
        )

    original_respond = StepFunctionResponse.stop_execution

    def respond_stop_execution(self: Any) -> Any:
        _stop_request.reason = (self._get_param("error"), self._get_param("cause"))
        try:
            return original_respond(self)
        finally:
            _stop_request.reason = None

    original_stop = Execution.stop

    def stop(self: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
        requested = getattr(_stop_request, "reason", None)
        if requested is not None:
            # What the caller gave; moto's backend passes "" for both, and AWS reports no error
            # and no cause for a stop that gave none (DescribeExecution, ExecutionAborted).
            error, cause = requested
        worker = self.exec_worker
        env = getattr(worker, "env", None) if worker is not None else None
        if env is None:  # no environment yet (stepfunctions_early_stop not installed): moto's way
            original_stop(self, stop_date=stop_date, error=error, cause=cause)
            return
        with _history_lock(env.event_manager):
            if not isinstance(env.program_state(), ProgramRunning):
                return  # it ended before the stop: its outcome stands, as on AWS
            original_stop(self, stop_date=stop_date, error=error, cause=cause)
            if not isinstance(env.program_state(), ProgramStopped):
                return
            manager = env.event_manager
            if not manager._history_event_list:
                record_started(worker, env)
            env.event_history_context.source_event_id = 0  # as moto's Program records it
            aborted: Any = {
                "executionAbortedEventDetails": ExecutionAbortedEventDetails(error=error, cause=cause)
            }
            original_add_event(
                manager,
                context=env.event_history_context,
                event_type=HistoryEventType.ExecutionAborted,
                event_details=aborted,
                timestamp=stop_date,
            )
            manager._arcadeflow_closed = True
            self.exec_status = ExecutionStatus.ABORTED
            self.stop_date = stop_date
            self.error, self.cause = error, cause
            self._arcadeflow_stop_date = stop_date

    original_reflect = BaseExecutionWorkerCommunication._reflect_execution_status

    def reflect_execution_status(self: Any) -> None:
        # The thread ending after a stop: the status is ABORTED already, keep the stop's date.
        stopped_at = getattr(self.execution, "_arcadeflow_stop_date", None)
        original_reflect(self)
        if stopped_at is not None and self.execution.exec_status == ExecutionStatus.ABORTED:
            self.execution.stop_date = stopped_at

    original_set_error = Environment.set_error

    def set_error(self: Any, error: Any) -> None:
        if isinstance(self.program_state(), ProgramStopped):
            return  # a failure caused by the stop does not overwrite it
        original_set_error(self, error)

    original_evaluate = ExecutionState._evaluate_with_timeout

    def evaluate_with_timeout(self: Any, env: Any) -> None:
        try:
            original_evaluate(self, env)
        except Exception:
            if isinstance(env.program_state(), ProgramStopped):
                return  # stopped mid-task: no retry, no catch; the state ends with the stop
            raise

    patcher.replace(EventManager, "add_event", add_event)
    patcher.replace(StepFunctionResponse, "stop_execution", respond_stop_execution)
    patcher.replace(Execution, "stop", stop)
    patcher.replace(BaseExecutionWorkerCommunication, "_reflect_execution_status", reflect_execution_status)
    patcher.replace(Environment, "set_error", set_error)
    patcher.replace(ExecutionState, "_evaluate_with_timeout", evaluate_with_timeout)


PATCH = MotoPatch(
    name="stepfunctions_synchronous_stop",
    fixes=(
        "StopExecution answers before ABORTED is recorded, and a stop during a Lambda task can end"
        " FAILED ('dict' object has no attribute 'region')"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_EXECUTION}.stop",
        f"{_COMMUNICATION}._reflect_execution_status",
        f"{_ENVIRONMENT}.set_error",
        f"{_ENVIRONMENT}.program_state",
        f"{_EVENTS}.add_event",
        "moto.stepfunctions.responses.StepFunctionResponse.stop_execution",
        f"{_EXECUTE_STATE}._evaluate_with_timeout",
        "moto.stepfunctions.parser.backend.execution_worker.ExecutionWorker._execution_logic",
    ),
    kind="fix",
    apply=apply,
    signatures={
        f"{_EXECUTION}.stop": ("self", "stop_date", "error", "cause"),
        f"{_COMMUNICATION}._reflect_execution_status": ("self",),
        f"{_ENVIRONMENT}.set_error": ("self", "error"),
        f"{_EVENTS}.add_event": (
            "self",
            "context",
            "event_type",
            "event_details",
            "timestamp",
            "update_source_event_id",
        ),
        f"{_EXECUTE_STATE}._evaluate_with_timeout": ("self", "env"),
    },
)
