"""One warm Lambda execution environment: a child process that runs one function's handler.

The runner starts it with exactly that function's environment (as Lambda does), sends one
invocation per line on stdin and reads one result per line from the private result pipe.
The handler's own stdout goes to the log stream (stderr), as print() does on Lambda.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from decimal import Decimal
from typing import Any


class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    def __init__(self, request_id: str, deadline_ms: int):
        self.aws_request_id = request_id
        self._deadline_ms = deadline_ms
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.invoked_function_arn = os.environ["ARCADEFLOW_FUNCTION_ARN"]
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"local/{os.getpid()}"
        self.identity = None
        self.client_context = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _load_handler(spec: str):
    module_name, _, attr = spec.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def _marshal_default(value: Any) -> Any:
    # The AWS Python runtime serialises Decimal (what boto3 reads from DynamoDB) as a number.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _error_payload(exc: BaseException) -> dict[str, Any]:
    # On AWS the errorType is the exception's class name: ASL Retry/Catch match on it.
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc)[1:],
    }


def main() -> None:
    results = os.fdopen(os.dup(1), "w", buffering=1)
    # Anything the handler prints becomes a log line, never a corrupt result.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    handler_spec = os.environ["_HANDLER"]
    init_error: dict[str, Any] | None = None
    try:
        handler = _load_handler(handler_spec)
    except Exception as exc:  # an import error fails every invocation, as on Lambda
        handler = None
        init_error = _error_payload(exc)
        init_error["errorType"] = f"Runtime.ImportModuleError.{init_error['errorType']}"
    results.write(json.dumps({"ready": True}) + "\n")

    for line in sys.stdin:
        request = json.loads(line)
        if init_error is not None:
            results.write(json.dumps({"ok": False, "error": init_error}) + "\n")
            continue
        context = LambdaContext(request["requestId"], request["deadlineMs"])
        os.environ["_X_AMZN_TRACE_ID"] = request.get("traceId", "")
        try:
            event = json.loads(request["payload"]) if request["payload"] else {}
            result = handler(event, context)
        except Exception as exc:
            results.write(json.dumps({"ok": False, "error": _error_payload(exc)}) + "\n")
            continue
        try:
            out = {"ok": True, "payload": json.dumps(result, default=_marshal_default)}
        except (TypeError, ValueError) as exc:
            out = {"ok": False, "error": {"errorType": "Runtime.MarshalError", "errorMessage": str(exc)}}
        results.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
