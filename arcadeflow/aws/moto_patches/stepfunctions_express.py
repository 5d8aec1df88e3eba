"""Express executions as AWS runs them (developer guide "Choosing workflow type in Step Functions").

moto 5.2.5 stores a state machine's type and then runs an EXPRESS machine's executions exactly as
STANDARD ones: a standard execution ARN, a kept history, DescribeExecution and ListExecutions
answering for them, names deduplicated (exactly-once), no time limit. AWS:

- an Express execution's ARN is `arn:<partition>:states:<region>:<account>:express:<machine>:
  <name>:<uuid>`;
- Step Functions keeps no history of it (its record is the CloudWatch Logs group, if logging is
  on): DescribeExecution, GetExecutionHistory, StopExecution and DescribeStateMachineForExecution
  do not accept its ARN, ListExecutions does not list an EXPRESS machine's executions, and
  RedriveExecution answers ExecutionNotRedrivable (redrive_plan.REASON_EXPRESS);
- it is at-least-once: a name is not deduplicated, every start starts an execution;
- it runs for 5 minutes at most (the machine's own TimeoutSeconds may be shorter): one still
  running then ends TIMED_OUT.

Two records: `stepfunctions_express_executions` (a fix: StartExecution of an EXPRESS machine makes
an execution that no state machine's list keeps, so neither the API, nor persistence, nor the
console see it, as on AWS) and `stepfunctions_express_history_refused` (an interceptor: the
history APIs answer as AWS does for an express ARN or machine). Which error code AWS answers for
an express ARN the API reference does not say; `InvalidArn` is our choice (README: what still
differs). StartSyncExecution is served by arcadeflow/aws/stepfunctions_sync_execution.py with the
same executions.

One exception, as on AWS: a state machine may run an Express child with
`states:startExecution.sync` (or `.sync:2`), and moto's interpreter waits for a child by polling
DescribeExecution. Those polls (signed with the interpreter's own access key, moto's
boto_client_for) are answered from the express executions of the last minute
(RECENT_EXPRESS_SECONDS), which nothing else can read.

ARCADEFLOW_EXPRESS_MAX_SECONDS (an environment variable of the embedded AWS process) lowers the
5-minute limit, for tests only: AWS's limit is not configurable.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from arcadeflow.aws.interceptor import Forward, Interceptor, Response, json_error
from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher
from arcadeflow.aws.redrive_plan import REASON_EXPRESS

EXPRESS_MAX_SECONDS_VARIABLE = "ARCADEFLOW_EXPRESS_MAX_SECONDS"
AWS_EXPRESS_MAX_SECONDS = 300.0
_BACKEND = "moto.stepfunctions.parser.models.StepFunctionsParserBackend"
# The actions that take an execution ARN and that AWS refuses for an express one.
_REFUSED_FOR_EXPRESS_ARNS = (
    "DescribeExecution",
    "GetExecutionHistory",
    "StopExecution",
    "DescribeStateMachineForExecution",
)


# moto's interpreter signs its own calls with this access key (asl/utils/boto_client.py).
INTERPRETER_ACCESS_KEY = "ak"
# How long a finished express execution stays readable by its parent's .sync poll, and how many
# are kept at most (an express execution holds its whole history: ~26 KB for a short one).
RECENT_EXPRESS_SECONDS = 60.0
RECENT_EXPRESS_MAX = 1000
_recent_lock = threading.Lock()
_recent: OrderedDict[str, Any] = OrderedDict()


def _remember(execution: Any) -> None:
    now = datetime.datetime.now(tz=datetime.UTC)
    with _recent_lock:
        _recent[execution.exec_arn] = execution
        # Oldest first: drop the finished ones a parent's poll has had a minute to read.
        while _recent:
            oldest = next(iter(_recent.values()))
            stopped = oldest.stop_date
            if len(_recent) <= RECENT_EXPRESS_MAX and (
                stopped is None or (now - stopped).total_seconds() < RECENT_EXPRESS_SECONDS
            ):
                break
            _recent.popitem(last=False)


def recently_started_count() -> int:
    with _recent_lock:
        return len(_recent)


def _recent_execution(arn: str) -> Any:
    with _recent_lock:
        return _recent.get(arn)


def _signed_by_the_interpreter(environ: dict[str, Any]) -> bool:
    return f"Credential={INTERPRETER_ACCESS_KEY}/" in environ.get("HTTP_AUTHORIZATION", "")


def _described(execution: Any) -> bytes:
    out = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine.arn,
        "name": execution.name,
        "status": execution.exec_status.value if execution.exec_status else "RUNNING",
        "startDate": execution.start_date.timestamp(),
        "input": json.dumps(execution.input_data, separators=(",", ":")),
        "inputDetails": {"included": True},
    }
    if execution.stop_date is not None:
        out["stopDate"] = execution.stop_date.timestamp()
    if out["status"] == "SUCCEEDED":
        out["output"] = json.dumps(execution.output, separators=(",", ":"))
        out["outputDetails"] = {"included": True}
    for field in ("error", "cause"):
        if getattr(execution, field) is not None:
            out[field] = getattr(execution, field)
    return json.dumps(out).encode()


def express_max_seconds() -> float:
    """AWS's 5 minutes, unless a test lowered it through ARCADEFLOW_EXPRESS_MAX_SECONDS."""
    raw = os.environ.get(EXPRESS_MAX_SECONDS_VARIABLE)
    if not raw:
        return AWS_EXPRESS_MAX_SECONDS
    try:
        seconds = float(raw)
    except ValueError as exc:
        raise ValueError(f"{EXPRESS_MAX_SECONDS_VARIABLE}={raw!r} is not a number of seconds") from exc
    if not 0 < seconds <= AWS_EXPRESS_MAX_SECONDS:
        raise ValueError(f"{EXPRESS_MAX_SECONDS_VARIABLE} must be in (0, 300], not {raw!r}")
    return seconds


def is_express_execution_arn(arn: Any) -> bool:
    return isinstance(arn, str) and arn.split(":")[5:6] == ["express"]


def express_execution_arn(machine: Any, name: str) -> str:
    _, partition, _, region, account = machine.arn.split(":")[:5]
    return f"arn:{partition}:states:{region}:{account}:express:{machine.name}:{name}:{uuid.uuid4()}"


@dataclass(frozen=True)
class _TimeoutSeconds:
    """Stands in for the program's TimeoutSeconds: moto's Program.eval reads only this field."""

    timeout_seconds: float


def _capped_to_express_limit(program: Any) -> Any:
    own = program.timeout_seconds.timeout_seconds if program.timeout_seconds else None
    limit = express_max_seconds()
    if own is None or own > limit:
        program.timeout_seconds = _TimeoutSeconds(limit)
    return program


def new_express_execution(machine: Any, name: str, execution_input: str, synchronous: bool) -> Any:
    """An execution of an EXPRESS machine, not started and kept in no list (no history, no name
    deduplication); its program ends TIMED_OUT at the express limit."""
    from moto.stepfunctions.parser.api import StateMachineType
    from moto.stepfunctions.parser.backend.execution import Execution, SyncExecution

    region, account = machine.arn.split(":")[3:5]
    # A snapshot of the machine, as moto's own start_execution takes (getmoto/moto#10077: without
    # its executions, sharing its backend).
    snapshot = copy.deepcopy(machine, {id(machine.executions): [], id(machine.backend): machine.backend})
    execution_class = SyncExecution if synchronous else Execution
    execution = execution_class(
        name=name,
        sm_type=StateMachineType.EXPRESS,  # moto keeps the type in .type; .sm_type always says STANDARD
        role_arn=machine.roleArn,
        exec_arn=express_execution_arn(machine, name),
        account_id=account,
        region_name=region,
        state_machine=snapshot,
        start_date=datetime.datetime.now(tz=datetime.UTC),
        cloud_watch_logging_session=None,
        input_data=execution_input,
        trace_header=None,
        activity_store={},
    )
    make_worker = execution._get_start_execution_worker

    def capped_worker() -> Any:
        worker = make_worker()
        parse = worker._get_evaluation_entrypoint
        worker._get_evaluation_entrypoint = lambda: _capped_to_express_limit(parse())  # type: ignore[method-assign]
        return worker

    # On this one execution only: its worker's program is capped, nothing else changes.
    execution._get_start_execution_worker = capped_worker  # type: ignore[method-assign]
    return execution


def _apply_express_executions(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.api import InvalidExecutionInput
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution

    def start_execution(
        self: Any,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: str | None = None,
        trace_header: str | None = None,
    ) -> Any:
        machine = self.describe_state_machine(state_machine_arn)
        if machine.type != "EXPRESS":
            return original(self, state_machine_arn, name, execution_input, trace_header)  # type: ignore[arg-type]
        execution_input = "{}" if execution_input is None else execution_input
        try:
            json.loads(execution_input)
        except ValueError as exc:
            raise InvalidExecutionInput(str(exc)) from exc
        execution = new_express_execution(machine, name or str(uuid.uuid4()), execution_input, False)
        _remember(execution)
        execution.start()
        return execution

    patcher.replace(StepFunctionsParserBackend, "start_execution", start_execution)


def _target_and_request(environ: dict[str, Any], body: bytes) -> tuple[str, dict[str, Any]] | None:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if not target.startswith("AWSStepFunctions."):
        return None
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return None
    return (target.split(".", 1)[1], request) if isinstance(request, dict) else None


def refuse_history_of_express_executions(forward: Forward) -> Interceptor:
    def intercept(environ: dict[str, Any], body: bytes) -> Response | None:
        found = _target_and_request(environ, body)
        if found is None:
            return None
        action, request = found
        if action == "RedriveExecution" and is_express_execution_arn(request.get("executionArn")):
            return json_error(400, "ExecutionNotRedrivable", REASON_EXPRESS)
        if action in _REFUSED_FOR_EXPRESS_ARNS and is_express_execution_arn(request.get("executionArn")):
            arn = request["executionArn"]
            if action == "DescribeExecution" and _signed_by_the_interpreter(environ):
                child = _recent_execution(arn)
                if child is not None:  # a parent's .sync poll of its express child
                    return 200, {"Content-Type": "application/x-amz-json-1.0"}, _described(child)
            # AWS names the ARN's resource type (as for a state machine ARN given as an execution's).
            return json_error(
                400, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: express'"
            )
        if action == "ListExecutions" and _is_express_machine(request.get("stateMachineArn")):
            return json_error(
                400,
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine",
            )
        return None

    return intercept


def _is_express_machine(arn: Any) -> bool:
    from arcadeflow.aws.stepfunctions_extra_apis import _backend

    if not isinstance(arn, str) or arn.count(":") < 6:
        return False
    region, account = arn.split(":")[3:5]
    try:
        machine = _backend(account, region).describe_state_machine(arn)
    except Exception:  # not found, or not an ARN: moto answers that itself
        return False
    return machine.type == "EXPRESS"


PATCH = MotoPatch(
    name="stepfunctions_express_executions",
    fixes=(
        "an EXPRESS machine's executions run as STANDARD ones: standard ARN, kept history, names"
        " deduplicated, no 5-minute limit"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_BACKEND}.start_execution",
        "moto.stepfunctions.parser.backend.execution.Execution._get_start_execution_worker",
        "moto.stepfunctions.parser.backend.execution.SyncExecution",
        "moto.stepfunctions.parser.asl.component.program.program.Program.eval",
    ),
    kind="fix",
    apply=_apply_express_executions,
    signatures={
        f"{_BACKEND}.start_execution": (
            "self",
            "state_machine_arn",
            "name",
            "execution_input",
            "trace_header",
        ),
    },
)

HISTORY_REFUSED = MotoPatch(
    name="stepfunctions_express_history_refused",
    fixes=(
        "DescribeExecution, GetExecutionHistory, StopExecution and ListExecutions answer for express"
        " executions as for standard ones, where AWS keeps no history of them"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        "moto.stepfunctions.parser.asl.utils.boto_client.boto_client_for",
        "moto.stepfunctions.responses.StepFunctionResponse.describe_execution",
        "moto.stepfunctions.responses.StepFunctionResponse.list_executions",
    ),
    kind="interceptor",
    interceptor=refuse_history_of_express_executions,
)
