"""DescribeExecution answers a string output as JSON text (`"yes"`), as AWS does.

An execution's output is JSON text on AWS (API reference, DescribeExecution: `output`, "the
JSON output data of the execution"). moto's interpreter keeps the output as a Python value and
its DescribeExecution passes a `str` through untouched, taking it for JSON text already, so an
execution ending in a string (a Pass with `"Result": "yes"`) answers `yes`, which no client can
parse. Values of other types moto encodes itself.
"""

from __future__ import annotations

import json
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_RESPONSE = "moto.stepfunctions.responses.StepFunctionResponse"


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.backend.execution import Execution as InterpretedExecution
    from moto.stepfunctions.responses import StepFunctionResponse

    original = StepFunctionResponse.describe_execution

    def describe_execution(self: Any) -> Any:
        answer = original(self)
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        # Only the interpreter's executions hold Python values; moto's own keep JSON text.
        if isinstance(execution, InterpretedExecution) and isinstance(execution.output, str):
            answer.result["output"] = json.dumps(execution.output)
        return answer

    patcher.replace(StepFunctionResponse, "describe_execution", describe_execution)


PATCH = MotoPatch(
    name="stepfunctions_string_output",
    fixes='DescribeExecution answers an execution\'s string output as bare text (yes), not JSON ("yes")',
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_RESPONSE}.describe_execution",
        "moto.stepfunctions.parser.backend.execution.Execution",
        "moto.core.responses.ActionResult.result",
    ),
    kind="fix",
    apply=apply,
    signatures={f"{_RESPONSE}.describe_execution": ("self",)},
)
