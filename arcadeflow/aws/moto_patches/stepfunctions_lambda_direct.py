"""Lambda tasks of the Step Functions interpreter run on the embedded AWS's Lambda runner
directly, without an HTTP round trip to the endpoint the interpreter lives in.

moto's interpreter invokes a Task's function (a bare function ARN as Resource, or
`arn:aws:states:::lambda:invoke[.waitForTaskToken]`) with a boto3 client pointed at
`localhost:$MOTO_PORT`: the request is serialised, sent over a socket to this same process,
parsed by werkzeug, routed, answered by the front's Invoke handler (embedded.py, which calls
LambdaRunner.invoke) and parsed back by botocore. The runner is in this process already, so
the patch calls it: `lambda_eval_utils._invoke_lambda_function`, which both Task kinds share,
answers what the boto3 call would have answered (Payload, StatusCode, FunctionError,
ExecutedVersion) from LambdaRunner.invoke.

Only what the front's Invoke handler does itself is done here; anything else goes the HTTP way,
as before, so its answer cannot differ:
- a function the runner does not resolve (a missing one: ResourceNotFoundException with
  its request id; a partial ARN moto cannot parse: a 500), resolved before anything is counted
  or run; a request over
  Invoke's 6 MB limit (413), a Qualifier, ClientContext, LogType or InvocationType parameter,
  a FunctionName with characters a URL path would escape;
- an embedded AWS that did not register its runner for the port the interpreter's clients
  call (MOTO_PORT), moto in decorator mode (its clients never leave the process anyway), or
  `ARCADEFLOW_LAMBDA_TASKS_OVER_HTTP=1` in the embedded AWS's environment: the switch only
  benchmarks/execution_steps.py uses, to measure the HTTP way beside this one.

The X-Ray trace header is the one botocore would have sent (its recursion-detection handler);
the fault switch counts an invocation once either way, because both ways end in
LambdaRunner.invoke.

Measured (benchmarks/execution_steps.py, 2026-12-02, loaded 2-core machine): see the README's
table; a Lambda task's LambdaFunctionScheduled -> LambdaFunctionSucceeded dropped from ~2-3x a
direct client Invoke to about one.
"""

from __future__ import annotations

import io
import os
import re
import threading
from typing import TYPE_CHECKING, Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

if TYPE_CHECKING:
    from arcadeflow.aws.lambda_runner import LambdaRunner

_EVAL_UTILS = "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils"
# The benchmark's switch: the embedded AWS then registers no runner, and Tasks go over HTTP.
OVER_HTTP_SWITCH = "ARCADEFLOW_LAMBDA_TASKS_OVER_HTTP"
# Characters of a function name, a partial or full ARN (with a qualifier) that reach the front's
# Invoke handler unchanged through botocore's path quoting and werkzeug's decoding; anything else
# takes the HTTP way, which alone says how that name is read.
_PLAIN_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_.:$-]+")
_DIRECT_PARAMETERS = frozenset({"FunctionName", "Payload"})

# The port each embedded AWS serves -> its runner. The interpreter's clients call MOTO_PORT: the
# runner registered for that port is the one the HTTP request would have reached.
_runners: dict[int, LambdaRunner] = {}
_runners_lock = threading.Lock()


def serve_from(port: int, runner: LambdaRunner) -> None:
    """The embedded AWS on `port` hands its runner to the interpreter (EmbeddedAws.start)."""
    if os.environ.get(OVER_HTTP_SWITCH) == "1":
        return
    with _runners_lock:
        _runners[port] = runner


def stop_serving(port: int) -> None:
    with _runners_lock:
        _runners.pop(port, None)


def _runner_for_interpreter() -> LambdaRunner | None:
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port

    if botocore_stubber.enabled:
        return None
    try:
        port = int(moto_server_port())
    except ValueError:
        return None
    return _runners.get(port)


def _trace_header() -> str:
    """The X-Amzn-Trace-Id botocore's recursion detection would add to the request ("" if none)."""
    from botocore.handlers import add_recursion_detection_header

    request: dict[str, Any] = {"headers": {}}
    add_recursion_detection_header(request)
    return str(request["headers"].get("X-Amzn-Trace-Id", ""))


def invoke_in_process(parameters: dict[str, Any]) -> dict[str, Any] | None:
    """The Invoke answer as the interpreter reads it (Payload parsed), or None: take the HTTP way."""
    from arcadeflow.aws.embedded import MAX_INVOKE_REQUEST_BYTES

    runner = _runner_for_interpreter()
    if runner is None or not set(parameters) <= _DIRECT_PARAMETERS:
        return None
    name = parameters.get("FunctionName")
    payload = parameters.get("Payload", b"")
    if not isinstance(name, str) or not _PLAIN_FUNCTION_NAME.fullmatch(name):
        return None
    if not isinstance(payload, bytes) or len(payload) > MAX_INVOKE_REQUEST_BYTES:
        return None
    try:
        config = runner.resolve(name)
    except Exception:  # noqa: BLE001 - HTTP answers it (404, or a 500 for a name moto cannot parse)
        return None  # nothing ran or was counted yet
    result = runner.invoke(name, payload, trace_id=_trace_header(), config=config)
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    # The keys in the order botocore's parser gives them (status and headers, then the payload
    # member): a lambda:invoke task's output is this dict's JSON text.
    answer: dict[str, Any] = {"StatusCode": 200}
    if result.function_error:
        answer["FunctionError"] = result.function_error
    answer["ExecutedVersion"] = "$LATEST"
    answer["Payload"] = lambda_eval_utils._from_payload(io.BytesIO(result.payload))
    return answer


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    over_http = lambda_eval_utils._invoke_lambda_function

    def _invoke_lambda_function(parameters: dict, region: str, state_credentials: Any) -> Any:
        answer = invoke_in_process(parameters)
        if answer is None:
            return over_http(parameters=parameters, region=region, state_credentials=state_credentials)
        return answer

    patcher.replace(lambda_eval_utils, "_invoke_lambda_function", _invoke_lambda_function)


PATCH = MotoPatch(
    name="stepfunctions_lambda_direct",
    fixes=(
        "the Step Functions interpreter invokes every Lambda task over HTTP to its own endpoint"
        " (serialise, socket, werkzeug, routing, botocore parsing) although the runner is in-process"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_EVAL_UTILS}._invoke_lambda_function",
        f"{_EVAL_UTILS}._from_payload",
        "moto.settings.moto_server_port",
        "moto.core.models.botocore_stubber",
    ),
    kind="speed",
    apply=apply,
    signatures={
        f"{_EVAL_UTILS}._invoke_lambda_function": ("parameters", "region", "state_credentials"),
        f"{_EVAL_UTILS}._from_payload": ("payload_streaming_body",),
    },
)
