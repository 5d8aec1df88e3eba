"""RedriveExecution in the embedded AWS, with AWS's semantics (moto 5.2.5 answers 500).

Two patches:
- `stepfunctions_redrive` (interceptor) serves RedriveExecution: AWS's eligibility and errors
  (redrive_plan.not_redrivable_reason), clientToken idempotency (the last 10 tokens, for 15
  minutes), then the same execution (same ARN, same moto Execution object) runs again on a new
  worker whose history is the recorded one followed by ExecutionRedriven {redriveCount} and what
  the redrive does. It adds redriveCount, redriveDate, redriveStatus and redriveStatusReason to
  DescribeExecution, redriveCount/redriveDate to ListExecutions, and serves its redriveFilter;
  all of them are read from the history (the count of ExecutionRedriven events), nothing else.
- `stepfunctions_redrive_keeps_succeeded_work` (fix): in a redrive, the Map state resumed runs
  only the iterations that did not succeed before (the others answer their recorded output
  and record no event), the Parallel resumed only the branches that did not succeed.

Where it resumes is decided from the definition and the history alone (redrive_plan.py). What a
redrive needs of an execution: moto's Execution in its state machine's `executions`, with its
`state_machine.definition`, `status`, `stop_date`, `input_data`, and its history events, read
from `exec_worker.env.event_manager` or, for an execution restored from disk without a worker,
from its `restored_history` attribute (the events as GetExecutionHistory answers them, same ids).
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from collections import deque
from typing import Any

from arcadeflow.aws import redrive_plan
from arcadeflow.aws.interceptor import Forward, Interceptor, Response, json_error
from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher
from arcadeflow.aws.moto_patches.stepfunctions_context_object import aws_timestamp
from arcadeflow.aws.redrive_plan import ResumePlan

CLIENT_TOKENS_KEPT = 10
CLIENT_TOKEN_SECONDS = 15 * 60
REDRIVE_FILTERS = ("REDRIVEN", "NOT_REDRIVEN")

_WORKER = "moto.stepfunctions.parser.backend.execution_worker.ExecutionWorker"
_ITERATION_WORKER = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker.IterationWorker"
)
_BRANCH_WORKER = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker.BranchWorker"
)

_lock = threading.Lock()
# Execution ARN -> the plan of its redrive now running (consulted by the Map/Parallel fix).
_running_plans: dict[str, _LivePlan] = {}
# Execution ARN -> (clientToken, monotonic time, answer) of its last successful redrives.
_client_tokens: dict[str, deque[tuple[str, float, dict[str, Any]]]] = {}


class _LivePlan:
    def __init__(self, plan: ResumePlan) -> None:
        self.plan = plan
        self.lock = threading.Lock()
        # The job pool of the first evaluation of each resumed Map: a later one (a loop coming
        # back to the Map) runs every iteration again.
        self.map_pools: dict[str, int] = {}

    def kept_iteration(self, map_name: str, pool: Any, index: int) -> tuple[bool, Any]:
        outputs = self.plan.map_outputs.get(map_name)
        if not outputs or index not in outputs:
            return False, None
        with self.lock:
            claimed = self.map_pools.setdefault(map_name, id(pool))
        return (claimed == id(pool)), outputs[index]

    def kept_branch(self, start_at: str) -> tuple[bool, Any]:
        with self.lock:
            if start_at in self.plan.branch_outputs:
                return True, self.plan.branch_outputs.pop(start_at)
        return False, None


class RedriveError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


# --- reading an execution -------------------------------------------------------------------


def recorded_history(execution: Any, *, copy: bool = True) -> list[dict[str, Any]]:
    """The execution's events; copy=False: moto's own event objects, to read and not keep
    (DescribeExecution polled on a 10,000-event fan-out must not deep-copy its history)."""
    worker = getattr(execution, "exec_worker", None)
    env = getattr(worker, "env", None)
    if env is not None:
        if copy:
            return env.event_manager.get_event_history()
        with env.event_manager._mutex:
            return list(env.event_manager._history_event_list)
    return [dict(e) for e in getattr(execution, "restored_history", None) or []]


def _status(execution: Any) -> str:
    status = execution.status
    return getattr(status, "value", status)


def _machine_type(execution: Any) -> str:
    # moto keeps the machine's type in `type`; its `sm_type` is always "STANDARD".
    kind = getattr(execution.state_machine, "type", None) or "STANDARD"
    return getattr(kind, "value", kind)


def _reason(execution: Any, events: list[dict[str, Any]]) -> str | None:
    return redrive_plan.not_redrivable_reason(
        _status(execution),
        _machine_type(execution),
        execution.stop_date,
        len(events),
        datetime.datetime.now(tz=datetime.UTC),
    )


def _backend_for(arn: str) -> Any:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    parts = arn.split(":")
    if len(parts) < 8 or parts[2] != "states" or parts[5] not in ("execution", "express"):
        raise RedriveError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {arn}'")
    return stepfunctions_parser_backends[parts[4]][parts[3]]


def _execution(arn: str) -> Any:
    backend = _backend_for(arn)
    try:
        return backend.describe_execution(arn)
    except Exception as exc:  # moto's JsonRESTError family: error_type and message
        code = getattr(exc, "error_type", None)
        if code is None:
            raise
        if code == "StateMachineDoesNotExist":
            code = "ExecutionDoesNotExist"
        raise RedriveError(code, getattr(exc, "message", str(exc))) from None


def redrive_fields(execution: Any, *, describe: bool) -> dict[str, Any]:
    events = recorded_history(execution, copy=False)
    out: dict[str, Any] = {"redriveCount": redrive_plan.redrive_count(events)}
    date = redrive_plan.last_redrive_date(events)
    if date is not None:
        out["redriveDate"] = date.timestamp()
    if describe:
        reason = _reason(execution, events)
        if reason is None:
            out["redriveStatus"] = "REDRIVABLE"
        else:
            out["redriveStatus"] = "NOT_REDRIVABLE"
            out["redriveStatusReason"] = reason
    return out


# --- RedriveExecution -----------------------------------------------------------------------


def redrive_execution(body: dict[str, Any]) -> dict[str, Any]:
    arn = body.get("executionArn")
    if not isinstance(arn, str) or not arn:
        raise RedriveError(
            "ValidationException",
            "1 validation error detected: Value null at 'executionArn' failed to satisfy constraint: "
            "Member must not be null",
        )
    token = body.get("clientToken")
    if token is not None and (not isinstance(token, str) or not 1 <= len(token) <= 64):
        raise RedriveError(
            "ValidationException",
            "1 validation error detected: Value at 'clientToken' failed to satisfy constraint: "
            "Member must have length less than or equal to 64",
        )
    execution = _execution(arn)
    with _lock:
        if token is not None:
            now = time.monotonic()
            for used, at, answer in _client_tokens.get(arn, ()):
                if used == token and now - at <= CLIENT_TOKEN_SECONDS:
                    return dict(answer)
        events = recorded_history(execution)
        reason = _reason(execution, events)
        if reason is not None:
            raise RedriveError("ExecutionNotRedrivable", f"{reason}: '{arn}'")
        definition = json.loads(execution.state_machine.definition)
        plan = redrive_plan.plan_redrive(definition, events)
        redrive_date = datetime.datetime.now(tz=datetime.UTC)
        _start_redrive(execution, events, plan, redrive_date)
        answer = {"redriveDate": redrive_date.timestamp()}
        if token is not None:
            tokens = _client_tokens.setdefault(arn, deque(maxlen=CLIENT_TOKENS_KEPT))
            tokens.append((token, time.monotonic(), answer))
    return dict(answer)


def _start_redrive(
    execution: Any, events: list[dict[str, Any]], plan: ResumePlan, redrive_date: datetime.datetime
) -> None:
    from moto.stepfunctions.parser.api import ExecutionStatus

    execution.exec_status = ExecutionStatus.RUNNING
    execution.stop_date = None
    execution.output = None
    execution.error = None
    execution.cause = None
    worker = _redrive_worker_class()(
        evaluation_details=_evaluation_details(execution),
        exec_comm=execution._get_start_execution_worker_comm(),
        cloud_watch_logging_session=execution._cloud_watch_logging_session,
        activity_store=execution._activity_store,
    )
    worker.redrive = (events, plan, redrive_date)
    execution.exec_worker = worker
    worker.start()


def _evaluation_details(execution: Any) -> Any:
    from moto.stepfunctions.parser.asl.eval.evaluation_details import EvaluationDetails

    return EvaluationDetails(
        aws_execution_details=execution._get_start_aws_execution_details(),
        execution_details=execution.get_start_execution_details(),
        state_machine_details=execution.get_start_state_machine_details(),
    )


_worker_class: Any = None


def _redrive_worker_class() -> Any:
    """An ExecutionWorker that continues a recorded history from the plan's state."""
    global _worker_class
    if _worker_class is not None:
        return _worker_class
    from moto.stepfunctions.parser.api import ExecutionRedrivenEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.flow.start_at import StartAt
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramRunning
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.utils import TMP_THREADS

    class RedriveWorker(ExecutionWorker):
        redrive: tuple[list[dict[str, Any]], ResumePlan, datetime.datetime]

        def start(self) -> None:
            events, plan, redrive_date = self.redrive
            env: Any = _fresh_environment(self)
            from arcadeflow.aws.moto_patches.stepfunctions_variables import restore_variables

            restore_variables(env, events)  # the variables assigned before the failure hold again
            # The recorded history goes on: same event ids, the new ones after them.
            manager = env.event_manager
            manager._history_event_list.extend(events)
            manager._event_id_gen._next_id = max((e["id"] for e in events), default=0) + 1
            last_id = manager._event_id_gen._next_id - 1
            env.event_history_context.source_event_id = last_id
            env.event_history_context.last_published_event_id = last_id
            env.states.context_object.context_object_data["Execution"]["RedriveCount"] = plan.redrive_count
            env.states.context_object.context_object_data["Execution"]["RedriveTime"] = aws_timestamp(
                redrive_date
            )
            env._program_state = ProgramRunning()  # a StopExecution from now on stops it
            self.env = env
            self._arcadeflow_env = env
            thread = threading.Thread(target=self._execution_logic, daemon=True)
            TMP_THREADS.append(thread)
            thread.start()

        def _execution_logic(self) -> None:
            _events, plan, redrive_date = self.redrive
            env: Any = self.env
            program: Any = self._get_evaluation_entrypoint()
            # EventDetails (moto's TypedDict) does not list executionRedrivenEventDetails.
            details: Any = {
                "executionRedrivenEventDetails": ExecutionRedrivenEventDetails(
                    redriveCount=plan.redrive_count
                )
            }
            env.event_manager.add_event(
                context=env.event_history_context,
                event_type=HistoryEventType.ExecutionRedriven,
                event_details=details,
                timestamp=redrive_date,
            )
            if plan.state is not None:
                program.start_at = StartAt(plan.state)
                env.states.reset(input_value=plan.state_input)
            arn = self._evaluation_details.execution_details.arn
            with _lock:
                _running_plans[arn] = _LivePlan(plan)
            try:
                program.eval(env)
            finally:
                with _lock:
                    _running_plans.pop(arn, None)
            self._execution_communication.terminated()

    def _fresh_environment(worker: Any) -> Any:
        # A new one: stepfunctions_early_stop hands back the one it prebuilt when there is one.
        worker._arcadeflow_env = None
        return ExecutionWorker._get_evaluation_environment(worker)

    _worker_class = RedriveWorker
    return _worker_class


# --- the wire -------------------------------------------------------------------------------


def _answer(body: dict[str, Any]) -> Response:
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(body).encode()


def interceptor(forward: Forward) -> Interceptor:
    def serve(environ: dict[str, Any], body: bytes) -> Response | None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target == "AWSStepFunctions.RedriveExecution":
            try:
                return _answer(redrive_execution(json.loads(body or b"{}")))
            except RedriveError as exc:
                return json_error(400, exc.code, exc.message)
        if target == "AWSStepFunctions.DescribeExecution":
            return _describe(environ, body, forward)
        if target == "AWSStepFunctions.ListExecutions":
            return _list(environ, body, forward)
        return None

    return serve


def _describe(environ: dict[str, Any], body: bytes, forward: Forward) -> Response:
    status, headers, payload = forward(environ, body)
    if status != 200:
        return status, headers, payload
    described = json.loads(payload)
    try:
        execution = _execution(described["executionArn"])
    except RedriveError:
        return status, headers, payload
    described.update(redrive_fields(execution, describe=True))
    return status, headers, json.dumps(described).encode()


def _list(environ: dict[str, Any], body: bytes, forward: Forward) -> Response:
    request = json.loads(body or b"{}")
    wanted = request.pop("redriveFilter", None)
    if wanted is not None and wanted not in REDRIVE_FILTERS:
        return json_error(
            400,
            "ValidationException",
            f"1 validation error detected: Value '{wanted}' at 'redriveFilter' failed to satisfy "
            "constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]",
        )
    if wanted is None:
        status, headers, payload = forward(environ, body)
        if status != 200:
            return status, headers, payload
        listed = json.loads(payload)
        listed["executions"] = [_with_redrive_fields(item) for item in listed.get("executions", [])]
        return status, headers, json.dumps(listed).encode()
    # Filtered: every page of moto's list, filtered, then paged here (the token is an offset).
    limit = request.pop("maxResults", 0) or 100
    token = request.pop("nextToken", None)
    items: list[dict[str, Any]] = []
    inner = dict(request, maxResults=1000)
    while True:
        status, headers, payload = forward(environ, json.dumps(inner).encode())
        if status != 200:
            return status, headers, payload
        page = json.loads(payload)
        items += [_with_redrive_fields(item) for item in page.get("executions", [])]
        if not page.get("nextToken"):
            break
        inner["nextToken"] = page["nextToken"]
    redriven = wanted == "REDRIVEN"
    items = [i for i in items if (i.get("redriveCount", 0) > 0) == redriven]
    start = int(token) if isinstance(token, str) and token.isdigit() else 0
    out: dict[str, Any] = {"executions": items[start : start + limit]}
    if start + limit < len(items):
        out["nextToken"] = str(start + limit)
    return status, headers, json.dumps(out).encode()


def _with_redrive_fields(item: dict[str, Any]) -> dict[str, Any]:
    try:
        execution = _execution(item["executionArn"])
    except RedriveError:
        return item
    return {**item, **redrive_fields(execution, describe=False)}


# --- the Map and Parallel fix ---------------------------------------------------------------


def _plan_of(env: Any) -> _LivePlan | None:
    arn = env.states.context_object.context_object_data["Execution"]["Id"]
    return _running_plans.get(arn)


def apply_keeps_succeeded_work(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker import (
        IterationWorker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker import (
        BranchWorker,
    )

    original_eval_job = IterationWorker._eval_job
    original_branch = BranchWorker._thread_routine

    def eval_job(self: Any, env: Any, job: Any) -> None:
        live = _plan_of(env)
        if live is not None:
            kept, output = live.kept_iteration(self._work_name, self._job_pool, job.job_index)
            if kept:
                job.job_output = output  # succeeded before: its result, no events, no work
                return
        original_eval_job(self, env, job)

    def branch_routine(self: Any) -> None:
        live = _plan_of(self.env)
        if live is not None:
            kept, output = live.kept_branch(self._program.start_at.start_at_name)
            if kept:
                self.env.states.reset(input_value=output)
                self._branch_worker_comm.on_terminated(env=self.env)
                return
        original_branch(self)

    patcher.replace(IterationWorker, "_eval_job", eval_job)
    patcher.replace(BranchWorker, "_thread_routine", branch_routine)


PATCH = MotoPatch(
    name="stepfunctions_redrive",
    fixes="RedriveExecution answers 500; DescribeExecution/ListExecutions know no redrive",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        "moto.stepfunctions.parser.models.stepfunctions_parser_backends",
        "moto.stepfunctions.parser.backend.execution.Execution._get_start_execution_worker_comm",
        "moto.stepfunctions.parser.backend.execution.Execution._get_start_aws_execution_details",
        "moto.stepfunctions.parser.backend.execution.Execution.get_start_execution_details",
        "moto.stepfunctions.parser.backend.execution.Execution.get_start_state_machine_details",
        f"{_WORKER}._get_evaluation_environment",
        f"{_WORKER}._get_evaluation_entrypoint",
        "moto.stepfunctions.parser.asl.eval.event.event_manager.EventManager.get_event_history",
        "moto.stepfunctions.parser.asl.eval.event.event_manager.EventManager.add_event",
        "moto.stepfunctions.parser.asl.component.common.flow.start_at.StartAt",
        "moto.stepfunctions.parser.api.ExecutionRedrivenEventDetails",
    ),
    kind="interceptor",
    interceptor=interceptor,
    signatures={
        f"{_WORKER}.__init__": (
            "self",
            "evaluation_details",
            "exec_comm",
            "cloud_watch_logging_session",
            "activity_store",
            "mock_test_case",
        ),
    },
)

KEEPS_SUCCEEDED_WORK = MotoPatch(
    name="stepfunctions_redrive_keeps_succeeded_work",
    fixes="a redriven Map or Parallel would run its succeeded iterations and branches again",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_ITERATION_WORKER}._eval_job", f"{_BRANCH_WORKER}._thread_routine"),
    kind="fix",
    apply=apply_keeps_succeeded_work,
    signatures={
        f"{_ITERATION_WORKER}._eval_job": ("self", "env", "job"),
        f"{_BRANCH_WORKER}._thread_routine": ("self",),
    },
)
