"""Step Functions' 256 KiB payload quota as AWS enforces it.

moto's interpreter (5.2.5) already fails a state whose result or output exceeds the quota with
States.DataLimitExceeded, but two things differ from AWS (Step Functions developer guide,
"Handling errors in Step Functions workflows" and "Step Functions service quotas"):

- States.ALL catches (and retries) it. AWS: States.DataLimitExceeded is a terminal error that
  States.ALL does not catch (nor States.Runtime: the same patch withdraws that match too), so
  a Catch written for AWS takes another branch locally, and a
  `"Retry": [{"ErrorEquals": ["States.ALL"]}]` retries a result that can never fit.
- A Task whose input, after Parameters, is over the quota is sent anyway (the guide lists this as a
  cause of States.DataLimitExceeded); locally the Lambda gets a payload AWS would never send.
- StartExecution (and StartSyncExecution) accept an input over 262144 bytes, and SendTaskSuccess
  an output over it; AWS refuses both (the API reference's length constraint on `input` and
  `output`, "expressed as bytes in UTF-8 encoding"), so the oversized execution never starts.

The first is a replacement of ErrorEqualsDecl's evaluation (it wraps moto's own, then withdraws
a States.ALL match of this one error); the second wraps StateTask's evaluation of Parameters and
fails the task before anything is sent; the third is an interceptor at the wire.
"""

from __future__ import annotations

import json
from typing import Any

from arcadeflow.aws.interceptor import Forward, Interceptor, Response, json_error
from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

MAX_PAYLOAD_BYTES = 262_144
_ERROR_EQUALS = "moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl.ErrorEqualsDecl"
_STATE_TASK = "moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task.StateTask"
# The request field each API limits (API reference: StartExecution, StartSyncExecution, SendTaskSuccess,
# TestState).
_LIMITED_FIELDS = {
    "AWSStepFunctions.StartExecution": "input",
    "AWSStepFunctions.StartSyncExecution": "input",
    "AWSStepFunctions.SendTaskSuccess": "output",
    "AWSStepFunctions.TestState": "input",
}
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
# Developer guide, "Handling errors": States.ALL "can't catch the States.DataLimitExceeded terminal
# error or Runtime error types".
NOT_CAUGHT_BY_STATES_ALL = frozenset({DATA_LIMIT_EXCEEDED, "States.Runtime"})


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )

    original = ErrorEqualsDecl._eval_body

    def _eval_body(self: Any, env: Any) -> None:
        error_name = env.stack[-1] if env.stack else None
        original(self, env)
        name = getattr(error_name, "error_name", None)
        if name not in NOT_CAUGHT_BY_STATES_ALL or not env.stack[-1]:
            return
        # Matched: by its own name (kept; the guide is silent on naming it) or by States.ALL (not on AWS).
        named = any(getattr(n, "error_name", None) == name for n in self.error_names)
        env.stack[-1] = named

    patcher.replace(ErrorEqualsDecl, "_eval_body", _eval_body)


def apply_task_input_limit(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
    from moto.stepfunctions.parser.quotas import is_within_size_quota

    original = StateTask._eval_parameters

    def _eval_parameters(self: Any, env: Any) -> dict[str, Any]:
        parameters: dict[str, Any] = original(self, env)
        if is_within_size_quota(parameters):
            return parameters
        details: dict[str, Any] = {
            "error": DATA_LIMIT_EXCEEDED,
            # Our wording: the guide names the condition, not the cause text AWS records.
            "cause": f"The state/task '{self.name}' has an input, after Parameters, with a size "
            "exceeding the maximum number of bytes service limit.",
        }
        if hasattr(self, "_get_sfn_resource"):  # service tasks name their resource
            details.update(resourceType=self._get_sfn_resource_type(), resource=self._get_sfn_resource())
        # moto's EventDetails is a total TypedDict; moto itself builds it with the one key.
        event_details: Any = {"taskFailedEventDetails": details}
        raise FailureEventException(
            failure_event=FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=StatesErrorNameType.StatesStatesDataLimitExceeded),
                event_type=HistoryEventType.TaskFailed,
                event_details=event_details,
            )
        )

    patcher.replace(StateTask, "_eval_parameters", _eval_parameters)


def refuse_oversized_payloads(forward: Forward) -> Interceptor:
    def intercept(environ: dict[str, Any], body: bytes) -> Response | None:
        field = _LIMITED_FIELDS.get(environ.get("HTTP_X_AMZ_TARGET", ""))
        if field is None or len(body) <= MAX_PAYLOAD_BYTES:
            return None  # the whole request fits: so does the field
        try:
            value = json.loads(body).get(field)
        except (ValueError, AttributeError):
            return None  # moto answers a malformed request itself
        if isinstance(value, str) and len(value.encode("utf-8")) > MAX_PAYLOAD_BYTES:
            return json_error(
                400,
                "ValidationException",
                f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_PAYLOAD_BYTES}",
            )
        return None

    return intercept


STATES_ALL_SPARES_DATA_LIMIT = MotoPatch(
    name="stepfunctions_data_limit_not_caught_by_states_all",
    fixes=(
        "States.ALL catches and retries States.DataLimitExceeded and States.Runtime, which AWS makes terminal"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_ERROR_EQUALS}._eval_body",),
    kind="fix",
    apply=apply,
    signatures={f"{_ERROR_EQUALS}._eval_body": ("self", "env")},
)

TASK_INPUT_LIMIT = MotoPatch(
    name="stepfunctions_data_limit_of_task_input",
    fixes=(
        "a Task whose input after Parameters is over 256 KiB is sent, where AWS fails it with"
        " States.DataLimitExceeded"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_STATE_TASK}._eval_parameters", "moto.stepfunctions.parser.quotas.is_within_size_quota"),
    kind="fix",
    apply=apply_task_input_limit,
    signatures={f"{_STATE_TASK}._eval_parameters": ("self", "env")},
)

OVERSIZED_PAYLOADS = MotoPatch(
    name="stepfunctions_oversized_payloads_refused",
    fixes="StartExecution accepts an input over 256 KiB (SendTaskSuccess an output) where AWS refuses it",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=("moto.stepfunctions.parser.models.StepFunctionsParserBackend.start_execution",),
    kind="interceptor",
    interceptor=refuse_oversized_payloads,
)
