"""Two Step Functions API answers moto's wire layer gets wrong.

- SendTaskFailure (API reference, SendTaskFailure): moto's response layer reads `error` and
  drops `cause`, so the waiting Task fails with the error and no cause, and a Catch's
  `ResultPath` sees `"Cause": null` where AWS hands the worker's explanation on.
- DescribeExecution (API reference, DescribeExecution): AWS answers `inputDetails`
  (`{"included": true}`) beside `input`; moto leaves it out, and so the output of a
  `states:startExecution.sync` Task, built from DescribeExecution, lacked the `InputDetails`
  AWS's nested-workflow output has (developer guide, "Start a new AWS Step Functions state
  machine from a running execution").
"""

from __future__ import annotations

from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_RESPONSE = "moto.stepfunctions.responses.StepFunctionResponse"


def apply_send_task_failure(patcher: Patcher) -> None:
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self: Any) -> Any:
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
        )
        return EmptyResult()

    patcher.replace(StepFunctionResponse, "send_task_failure", send_task_failure)


def apply_input_details(patcher: Patcher) -> None:
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    original_describe = StepFunctionResponse.describe_execution

    def describe_execution(self: Any) -> Any:
        answer = original_describe(self)
        described = answer.result if isinstance(answer, ActionResult) else None
        if isinstance(described, dict) and "input" in described:
            # moto keeps no truncation: the whole input is always included.
            described.setdefault("inputDetails", {"included": True})
        return answer

    patcher.replace(StepFunctionResponse, "describe_execution", describe_execution)


SEND_TASK_FAILURE_CAUSE = MotoPatch(
    name="stepfunctions_send_task_failure_cause",
    fixes="SendTaskFailure drops the cause: the waiting Task fails with the error only",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_RESPONSE}.send_task_failure",
        "moto.stepfunctions.parser.models.StepFunctionsParserBackend.send_task_failure",
    ),
    kind="fix",
    apply=apply_send_task_failure,
    signatures={
        f"{_RESPONSE}.send_task_failure": ("self",),
        "moto.stepfunctions.parser.models.StepFunctionsParserBackend.send_task_failure": (
            "self",
            "task_token",
            "error",
            "cause",
        ),
    },
)

DESCRIBE_INPUT_DETAILS = MotoPatch(
    name="stepfunctions_describe_execution_input_details",
    fixes="DescribeExecution (and so startExecution.sync output) lacks inputDetails",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_RESPONSE}.describe_execution",),
    kind="fix",
    apply=apply_input_details,
    signatures={f"{_RESPONSE}.describe_execution": ("self",)},
)
