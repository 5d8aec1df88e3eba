"""One warm Lambda execution environment: a child process that runs one function's handler.

The runner starts it with exactly that function's environment (as Lambda does), sends one
invocation per line on stdin and reads one result per line from the private result pipe.
The handler's own stdout goes to the log stream (stderr), as print() does on Lambda.

It imports what a Lambda's package would hold and nothing else: the task root (argv[1], the
unpacked deployment package), the function's layers (argv[2:], where AWS's runtime puts
/opt/python/lib/python3.11/site-packages and /opt/python), the standard library and the installed
dependencies (which stand for what AWS's runtime and the Powertools layer provide). The project's editable
install (which maps arcadeflow, functions and tools onto the checkout) and any other path outside
the Python installation are taken off first, so `import arcadeflow` in a handler fails here as it
does on AWS. Hence this bootstrap imports nothing but the standard library.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
import traceback
from decimal import Decimal
from pathlib import Path
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


def _isolate_imports(task_root: Path, layer_paths: list[Path]) -> None:
    """Leaves on the import path only the task root, then the layers' paths, then the Python
    installation's own paths: the order of AWS's Python runtime."""
    installation = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}

    def inside_installation(entry: str) -> bool:
        path = Path(entry).resolve()
        return any(path == root or root in path.parents for root in installation)

    task_root = task_root.resolve()
    kept = [entry for entry in sys.path if entry and inside_installation(entry)]
    sys.path[:] = [str(task_root), *(str(p) for p in layer_paths), *kept]
    # setuptools' editable finders (__editable___<project>_finder) are meta-path finders and path
    # hooks that resolve the project's packages to the checkout, whatever sys.path says.
    sys.meta_path[:] = [f for f in sys.meta_path if not _is_editable_install(f)]
    sys.path_hooks[:] = [h for h in sys.path_hooks if not _is_editable_install(h)]
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()


def _is_editable_install(finder: Any) -> bool:
    module = getattr(finder, "__module__", "") or type(finder).__module__
    return module.startswith("__editable__")


def _load_handler(spec: str):
    module_name, _, attr = spec.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def _marshal(result: Any) -> str:
    """The result as AWS's Python runtime serialises it; a value JSON cannot hold fails the
    invocation with Runtime.MarshalError and the runtime's message."""
    try:
        return json.dumps(result, default=_marshal_default)
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise _MarshalError(f"Unable to marshal response: {exc}") from None


class _MarshalError(Exception):
    pass


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
    _isolate_imports(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
    handler_spec = os.environ["_HANDLER"]
    init_error: dict[str, Any] | None = None
    try:
        handler = _load_handler(handler_spec)
    except Exception as exc:  # an import error fails every invocation, as on Lambda
        handler = None
        # What the AWS Python runtime answers (its message names the module it could not import).
        init_error = {
            "errorType": "Runtime.ImportModuleError",
            "errorMessage": f"Unable to import module '{handler_spec.rpartition('.')[0]}': {exc}",
            "stackTrace": [],
        }
    results.write(json.dumps({"ready": True}) + "\n")

    for line in sys.stdin:
        request = json.loads(line)
        if request.get("crash"):
            # The fault switch's crashed sandbox (arcadeflow/aws/faults.py): a real SIGKILL, before
            # the handler runs, so the runner sees what a crash looks like and the test what ran.
            os.kill(os.getpid(), signal.SIGKILL)
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
            out = {"ok": True, "payload": _marshal(result)}
        except _MarshalError as exc:
            error = {"errorType": "Runtime.MarshalError", "errorMessage": str(exc), "stackTrace": []}
            out = {"ok": False, "error": error}
        results.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
