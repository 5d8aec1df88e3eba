"""Execution names as AWS treats them: unnamed starts get a UUID, named ones are validated and
started atomically.

moto's executing backend (moto.stepfunctions.parser, 5.2.5) departs from AWS's StartExecution
in four ways, all fixed at the wire (interceptors, not replacements of moto internals):

- an execution started without a name is named "None", so a second unnamed start of the same
  state machine starts nothing (it returns the first, or fails with ExecutionAlreadyExists);
- a name is never validated ("TODO: validate name format" in its start_execution): "a b",
  "a/b" or 81 characters start an execution whose ARN AWS could never form, where AWS answers
  400 InvalidName;
- an input that is not JSON is refused with an empty error code (its InvalidExecutionInput
  loses its name on the wire), where AWS answers 400 InvalidExecutionInput;
- the same-name check and the append of the new execution are not atomic, so two concurrent
  starts of one name can both start an execution. AWS starts one and answers the other with the same
  execution (same input, still running) or ExecutionAlreadyExists. moto's own rule for a
  repeated name (same input while RUNNING: the running execution's ARN and startDate; closed,
  or another input: ExecutionAlreadyExists) matches AWS and is kept.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import Any

from arcadeflow.aws.interceptor import Forward, Interceptor, Response, json_error, json_request
from arcadeflow.aws.moto_patches.registry import MotoPatch

_START_EXECUTION = "AWSStepFunctions.StartExecution"
MAX_NAME_LENGTH = 80
# StartExecution's documented refusals: whitespace, brackets < > { } [ ], wildcards ? *, the
# characters " # % \ ^ | ~ ` $ & , ; : /, control characters (U+0000-001F, U+007F-009F),
# U+FFFE-FFFF and surrogates.
_INVALID_NAME_CHARACTER = re.compile(
    r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f\ufffe\uffff\ud800-\udfff]"
)


def invalid_name_reason(name: str) -> str | None:
    """Why AWS would refuse `name` as an execution name, or None when it is valid."""
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        return f"a name is 1 to {MAX_NAME_LENGTH} characters, this one has {len(name)}"
    bad = _INVALID_NAME_CHARACTER.search(name)
    if bad:
        return f"a name may not contain {bad.group()!r}"
    return None


def refuse_input_that_is_not_json(forward: Forward) -> Interceptor:
    def intercept(environ: dict[str, Any], body: bytes) -> Response | None:
        request = json_request(environ, body, _START_EXECUTION)
        if request is None or not isinstance(request.get("input"), str):
            return None
        try:
            json.loads(request["input"])
        except ValueError as exc:
            return json_error(400, "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{exc}'")
        return None

    return intercept


def name_unnamed_executions(forward: Forward) -> Interceptor:
    def intercept(environ: dict[str, Any], body: bytes) -> Response | None:
        request = json_request(environ, body, _START_EXECUTION)
        if request is None or request.get("name") is not None:
            return None
        return forward(environ, json.dumps({**request, "name": str(uuid.uuid4())}).encode())

    return intercept


def validate_and_serialise_named_starts(forward: Forward) -> Interceptor:
    # One lock for every named start: moto's start_execution returns once the execution's
    # thread is started (well under a millisecond of work), so serialising costs nothing visible.
    lock = threading.Lock()

    def intercept(environ: dict[str, Any], body: bytes) -> Response | None:
        request = json_request(environ, body, _START_EXECUTION)
        if request is None or request.get("name") is None:
            return None
        name = request["name"]
        if not isinstance(name, str) or invalid_name_reason(name):
            return json_error(400, "InvalidName", f"Invalid Name: '{name}'")
        with lock:
            return forward(environ, body)

    return intercept


INPUT_ERRORS = MotoPatch(
    name="stepfunctions_execution_input_errors",
    fixes="StartExecution with an input that is not JSON fails with an empty code, not InvalidExecutionInput",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=("moto.stepfunctions.parser.models.StepFunctionsParserBackend.start_execution",),
    kind="interceptor",
    interceptor=refuse_input_that_is_not_json,
)

PATCH = MotoPatch(
    name="stepfunctions_unnamed_executions",
    fixes='an execution started without a name is named "None": a second unnamed start starts nothing',
    upstream=None,
    moto_versions=("5.2.5",),
    targets=("moto.stepfunctions.parser.models.StepFunctionsParserBackend.start_execution",),
    kind="interceptor",
    interceptor=name_unnamed_executions,
)

NAMED_STARTS = MotoPatch(
    name="stepfunctions_execution_names",
    fixes=(
        "StartExecution accepts any name (whitespace, / : and the like, over 80 characters) where AWS"
        " answers InvalidName, and two concurrent starts of one name can both start an execution"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        "moto.stepfunctions.parser.models.StepFunctionsParserBackend.start_execution",
        "moto.stepfunctions.models.StateMachine._handle_name_input_idempotency",
    ),
    kind="interceptor",
    interceptor=validate_and_serialise_named_starts,
)
