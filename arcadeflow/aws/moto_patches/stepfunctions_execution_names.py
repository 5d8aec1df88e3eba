"""StartExecution without a name gets a UUID, as on AWS.

moto's interpreter backend names an execution started without a name "None", so a second
unnamed start of the same state machine starts nothing: it returns the first execution (same
input, still running) or fails with ExecutionAlreadyExists. An interceptor, not a
replacement of moto internals: the request gets the name AWS would have given it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from arcadeflow.aws.interceptor import Forward, Interceptor, Response
from arcadeflow.aws.moto_patches.registry import MotoPatch

_START_EXECUTION = "AWSStepFunctions.StartExecution"


def name_unnamed_executions(forward: Forward) -> Interceptor:
    def intercept(environ: dict[str, Any], body: bytes) -> Response | None:
        if environ.get("HTTP_X_AMZ_TARGET") != _START_EXECUTION:
            return None
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return None  # moto answers a malformed request itself
        if not isinstance(request, dict) or request.get("name"):
            return None
        return forward(environ, json.dumps({**request, "name": str(uuid.uuid4())}).encode())

    return intercept


PATCH = MotoPatch(
    name="stepfunctions_unnamed_executions",
    fixes='an execution started without a name is named "None": a second unnamed start starts nothing',
    upstream=None,
    moto_versions=("5.2.5",),
    targets=("moto.stepfunctions.parser.models.StepFunctionsParserBackend.start_execution",),
    kind="interceptor",
    interceptor=name_unnamed_executions,
)
