"""The test fault switch of the embedded AWS: make chosen invocations of a function fail.

For tests only, and served only by the embedded runtime (never deployed, nothing on AWS): a test
that needs an execution to fail in the middle (to redrive it, to see a Catch, to see a retry) sets
a fault on a function rather than shipping a handler that fails on purpose. A fault makes
invocations number N, M, ... of that function (counted from when the fault is set, 1-based) fail
in one of three modes, each answering what AWS answers:

- "error" (the default): as an unhandled exception of the handler would: FunctionError
  "Unhandled", the given errorType and errorMessage, so ASL Retry and Catch rules on the error
  name apply. An error name no Retry covers, such as "Arcadeflow.InjectedFault", fails the
  execution for sure. The handler does not run.
- "timeout": as a handler that overran its timeout: "Sandbox.Timedout", "RequestId: <id> Error:
  Task timed out after <timeout> seconds", and its worker process is killed (the next invocation
  starts a fresh one), without waiting out the timeout. The handler does not run.
- "crash": the worker process running the invocation is killed with SIGKILL (the worker kills
  itself on receiving the invocation, before the handler runs, so the test knows what was done)
  and the invoke answers what Lambda answers for a crashed sandbox: "Runtime.ExitError",
  "RequestId: <id> Error: Runtime exited with error: signal: killed".

Wire, on the embedded AWS endpoint:
    POST   /arcadeflow/faults  {"function", "failOn": [N, ...], "mode"?, "error"?, "message"?}  sets one
    GET    /arcadeflow/faults  lists them with their counters
    DELETE /arcadeflow/faults  clears all
A function is named by its physical name, its ARN, or its logical name (the last part of a
physical name <project>-<environment>-<logical>); setting a fault on a function again replaces it.
"error" and "message" belong to mode "error": a timeout and a crash fail as AWS says they do.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from arcadeflow.aws.interceptor import Response, json_error

FAULTS_PATH = "/arcadeflow/faults"
DEFAULT_ERROR = "Arcadeflow.InjectedFault"
DEFAULT_MESSAGE = "a fault injected by a test"
# What each mode fails with: the error names AWS gives a timed-out and a crashed sandbox.
LAMBDA_MODES = {"error": None, "timeout": "Sandbox.Timedout", "crash": "Runtime.ExitError"}


@dataclass
class Fault:
    function: str
    fail_on: frozenset[int]
    error: str
    message: str
    mode: str = "error"
    invocations: int = 0  # of the function since the fault was set
    failed: list[int] = field(default_factory=list)  # which of them this fault failed

    def names(self, function_name: str, function_arn: str) -> bool:
        # A logical name (fanout_followers_page) is the physical name's tail with _ as -.
        logical_tail = "-" + self.function.replace("_", "-")
        return self.function in (function_name, function_arn) or function_name.endswith(logical_tail)

    def describe(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "failOn": sorted(self.fail_on),
            "mode": self.mode,
            "error": self.error,
            "message": self.message,
            "invocations": self.invocations,
            "failed": list(self.failed),
        }


@dataclass(frozen=True)
class Injection:
    """What an injected fault does to one invocation."""

    mode: str  # "error" | "timeout" | "crash"
    error: str
    message: str


class FaultError(ValueError):
    pass


class FaultSwitch:
    """The faults set by tests; the Lambda runner asks it before every invocation."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def set(self, function: str, fail_on: list[int], error: str, message: str, mode: str = "error") -> Fault:
        fault = Fault(function, frozenset(fail_on), error, message, mode)
        with self._lock:
            self._faults = [f for f in self._faults if f.function != function] + [fault]
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults = []

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def injected(self, function_name: str, function_arn: str) -> Injection | None:
        """Counts this invocation for every fault naming the function; what it does to it when
        one of them fails it."""
        outcome: Injection | None = None
        with self._lock:
            for fault in self._faults:
                if not fault.names(function_name, function_arn):
                    continue
                fault.invocations += 1
                if fault.invocations in fault.fail_on and outcome is None:
                    fault.failed.append(fault.invocations)
                    outcome = Injection(fault.mode, fault.error, fault.message)
        return outcome

    # --- the wire ----------------------------------------------------------------------------

    def serve(self, environ: dict[str, Any], body: bytes) -> Response | None:
        """The embedded AWS's interceptor for /arcadeflow/faults."""
        if environ.get("PATH_INFO", "") != FAULTS_PATH:
            return None
        method = environ["REQUEST_METHOD"]
        if method == "GET":
            return _json(200, {"faults": self.list()})
        if method == "DELETE":
            self.clear()
            return _json(200, {"faults": []})
        if method == "POST":
            try:
                request = _parse(body)
            except FaultError as exc:
                return json_error(400, "ValidationException", str(exc))
            fault = self.set(**request)
            return _json(200, fault.describe())
        return json_error(405, "MethodNotAllowed", f"{method} {FAULTS_PATH}: use GET, POST or DELETE")


def _parse(body: bytes) -> dict[str, Any]:
    try:
        request = json.loads(body or b"{}")
    except json.JSONDecodeError as exc:
        raise FaultError(f"the body is not JSON: {exc}") from None
    if not isinstance(request, dict):
        raise FaultError("the body must be a JSON object")
    function = request.get("function")
    if not isinstance(function, str) or not function:
        raise FaultError("'function' must name a function (physical, logical name or ARN)")
    fail_on = request.get("failOn")
    if (
        not isinstance(fail_on, list)
        or not fail_on
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in fail_on)
    ):
        raise FaultError("'failOn' must be a non-empty list of invocation numbers (1-based)")
    mode = request.get("mode", "error")
    if not isinstance(mode, str) or mode not in LAMBDA_MODES:
        raise FaultError(f"'mode' must be one of {', '.join(LAMBDA_MODES)}, not {mode!r}")
    aws_error = LAMBDA_MODES[mode]
    if aws_error is not None:
        if request.get("error", aws_error) != aws_error or "message" in request:
            raise FaultError(
                f"mode {mode!r} fails with {aws_error} and AWS's message; "
                "'error' and 'message' belong to mode 'error'"
            )
        return {"function": function, "fail_on": fail_on, "error": aws_error, "message": "", "mode": mode}
    error = request.get("error", DEFAULT_ERROR)
    message = request.get("message", DEFAULT_MESSAGE)
    if not isinstance(error, str) or not error or not isinstance(message, str):
        raise FaultError("'error' must be a non-empty string and 'message' a string")
    return {"function": function, "fail_on": fail_on, "error": error, "message": message, "mode": mode}


def _json(status: int, body: Any) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()
