"""SendTaskSuccess with an output that is not JSON is refused with InvalidOutput, as on AWS.

AWS answers 400 InvalidOutput ("The provided JSON output data is not valid", API reference,
SendTaskSuccess) and the task keeps waiting for a good answer. moto accepts any text: the
waiting task then fails inside the interpreter parsing it (States.Runtime), and the worker that
sent it was told all was well. Fixed at the wire.
"""

from __future__ import annotations

import json
from typing import Any

from arcadeflow.aws.interceptor import Forward, Interceptor, Response, json_error, json_request
from arcadeflow.aws.moto_patches.registry import MotoPatch

_SEND_TASK_SUCCESS = "AWSStepFunctions.SendTaskSuccess"


def refuse_output_that_is_not_json(forward: Forward) -> Interceptor:
    def intercept(environ: dict[str, Any], body: bytes) -> Response | None:
        request = json_request(environ, body, _SEND_TASK_SUCCESS)
        output = request.get("output") if request is not None else None
        if not isinstance(output, str):
            return None
        try:
            json.loads(output)
        except ValueError as exc:
            return json_error(400, "InvalidOutput", f"Invalid Output: '{exc}'")
        return None

    return intercept


PATCH = MotoPatch(
    name="stepfunctions_task_output_errors",
    fixes=(
        "SendTaskSuccess accepts an output that is not JSON (the task then fails),"
        " where AWS answers InvalidOutput"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=("moto.stepfunctions.parser.models.StepFunctionsParserBackend.send_task_success",),
    kind="interceptor",
    interceptor=refuse_output_that_is_not_json,
)
