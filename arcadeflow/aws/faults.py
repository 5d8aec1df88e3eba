"""The test fault switch of the embedded AWS: Lambda invocations that fail, DynamoDB tables that
throttle, WebSocket connections that drop, each on the Nth call a test names.

For tests only, and served only by the embedded runtime (never deployed, nothing on AWS): a test
that needs a flow to meet a fault in the middle (to redrive it, to see a Catch, to see a retry)
sets one here rather than shipping code that fails on purpose. Each kind answers exactly what AWS
answers, so the code under test sees what it would see there.

**Lambda.** A fault makes invocations number N, M, ... of a function (counted from when the fault
is set, 1-based) fail in one of three modes:

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

A function is named by its physical name, its ARN, or its logical name (the last part of a
physical name <project>-<environment>-<logical>); setting a fault on a function again replaces it.
"error" and "message" belong to mode "error": a timeout and a crash fail as AWS says they do.

**DynamoDB.** A throttle makes calls number N, ... to a table (counted over its write calls,
PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems, or over the `operations`
named, reads included) answer as a table over its capacity does: HTTP 400
ProvisionedThroughputExceededException (the answer capacity.py gives, which botocore's standard
retry mode retries); a BatchWriteItem writes the other tables' items and the first `admit` of the
throttled table's (0 by default) and hands the rest back as UnprocessedItems, or answers the
exception when it wrote nothing; a TransactWriteItems is cancelled whole
(TransactionCanceledException, reason ThrottlingError for the throttled table's actions). Tables
are named by physical or logical name, as functions are. The throttle answers before anything
else sees the request, so a throttled call writes nothing.

**WebSocket.** A drop closes a connection (by connectionId, or every connection of a principal)
abruptly, the TCP connection closed with no close frame, as a lost network does: at once, or,
with onPush N, on the Nth @connections push to it from now, which is then not delivered (the
pusher gets 410 GoneException, as for any connection known gone). The WebSocket API emulator then
runs $disconnect (status 1006) as API Gateway does, and later pushes to it get 410.

Wire, on the embedded AWS endpoint:
    POST   /arcadeflow/faults            {"function", "failOn": [N, ...], "mode"?, "error"?, "message"?}
    POST   /arcadeflow/faults/dynamodb   {"table", "throttleOn": [N, ...], "operations"?, "admit"?}
    POST   /arcadeflow/faults/websocket  {"connectionId"? | "userId"?, "onPush"?}
    GET    /arcadeflow/faults            every kind with its counters ({"faults", "dynamodb", "websocket"})
    DELETE /arcadeflow/faults            clears every kind
GET and DELETE on /arcadeflow/faults/dynamodb and /websocket list and clear that kind alone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from arcadeflow.aws.capacity import error_headers, forward_admitted_writes
from arcadeflow.aws.capacity import throttled as throughput_exceeded
from arcadeflow.aws.interceptor import Forward, Response, json_error

FAULTS_PATH = "/arcadeflow/faults"
DYNAMODB_FAULTS_PATH = FAULTS_PATH + "/dynamodb"
WEBSOCKET_FAULTS_PATH = FAULTS_PATH + "/websocket"
DEFAULT_ERROR = "Arcadeflow.InjectedFault"
DEFAULT_MESSAGE = "a fault injected by a test"
# What each mode fails with: the error names AWS gives a timed-out and a crashed sandbox.
LAMBDA_MODES = {"error": None, "timeout": "Sandbox.Timedout", "crash": "Runtime.ExitError"}


def _names(given: str, physical: str, arn: str = "") -> bool:
    # A logical name (fanout_followers_page) is the physical name's tail with _ as -.
    logical_tail = "-" + given.replace("_", "-")
    return given in (physical, arn) or physical.endswith(logical_tail)


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
        return _names(self.function, function_name, function_arn)

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
    """The faults set by tests: the Lambda runner asks it before every invocation, the embedded
    AWS's front before every DynamoDB call (throttle), the WebSocket emulator before every push."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.tables = TableThrottles()
        self.connections = ConnectionDrops()

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
        """The embedded AWS's interceptor for /arcadeflow/faults[/dynamodb|/websocket]."""
        path = environ.get("PATH_INFO", "")
        method = environ["REQUEST_METHOD"]
        if path == DYNAMODB_FAULTS_PATH:
            return self.tables.serve(method, body)
        if path == WEBSOCKET_FAULTS_PATH:
            return self.connections.serve(method, body)
        if path != FAULTS_PATH:
            return None
        if method == "GET":
            return _json(
                200,
                {"faults": self.list(), "dynamodb": self.tables.list(), "websocket": self.connections.list()},
            )
        if method == "DELETE":
            self.clear()
            self.tables.clear()
            self.connections.clear()
            return _json(200, {"faults": [], "dynamodb": [], "websocket": []})
        if method == "POST":
            try:
                request = _parse(body)
            except FaultError as exc:
                return json_error(400, "ValidationException", str(exc))
            fault = self.set(**request)
            return _json(200, fault.describe())
        return json_error(405, "MethodNotAllowed", f"{method} {FAULTS_PATH}: use GET, POST or DELETE")


def _parse(body: bytes) -> dict[str, Any]:
    request = _body_object(body)
    function = request.get("function")
    if not isinstance(function, str) or not function:
        raise FaultError("'function' must name a function (physical, logical name or ARN)")
    fail_on = _positive_ints(request.get("failOn"), "failOn", "invocation")
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


def _positive_ints(value: Any, name: str, what: str) -> list[int]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in value)
    ):
        raise FaultError(f"'{name}' must be a non-empty list of {what} numbers (1-based)")
    return value


def _body_object(body: bytes) -> dict[str, Any]:
    try:
        request = json.loads(body or b"{}")
    except json.JSONDecodeError as exc:
        raise FaultError(f"the body is not JSON: {exc}") from None
    if not isinstance(request, dict):
        raise FaultError("the body must be a JSON object")
    return request


# --- DynamoDB: throttled tables ----------------------------------------------------------------

_DYNAMODB_TARGET = "DynamoDB_20120810."
WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
READ_OPERATIONS = ("GetItem", "Query", "Scan")
# DynamoDB's words for a transaction action cancelled by a throttled table.
_THROTTLING_REASON = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
    "scaling your table or index so please try again shortly. If exceptions persist, check if "
    "you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
    "bp-partition-key-design.html."
)
_TRANSACTION_CANCELLED = "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]"


@dataclass
class TableThrottle:
    table: str
    throttle_on: frozenset[int]
    operations: frozenset[str]
    admit: int = 0
    calls: int = 0  # to the table, of those operations, since the throttle was set
    throttled: list[int] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "throttleOn": sorted(self.throttle_on),
            "operations": sorted(self.operations),
            "admit": self.admit,
            "calls": self.calls,
            "throttled": list(self.throttled),
        }


def _transact_table(action: dict[str, Any]) -> str:
    for kind in ("Put", "Update", "Delete", "ConditionCheck"):
        if isinstance(action.get(kind), dict):
            return str(action[kind].get("TableName", ""))
    return ""


def tables_of(operation: str, request: dict[str, Any]) -> list[str]:
    """The tables one DynamoDB call touches, each once, in request order."""
    if operation == "BatchWriteItem":
        items = request.get("RequestItems")
        return list(items) if isinstance(items, dict) else []
    if operation == "TransactWriteItems":
        actions = request.get("TransactItems")
        names = (
            [_transact_table(a) for a in actions if isinstance(a, dict)] if isinstance(actions, list) else []
        )
        return list(dict.fromkeys(n for n in names if n))
    table = request.get("TableName")
    return [table] if isinstance(table, str) and table else []


class TableThrottles:
    """Throttled DynamoDB tables; `intercept` runs before every other interceptor of the front."""

    def __init__(self) -> None:
        self._throttles: list[TableThrottle] = []
        self._lock = threading.Lock()
        # Hands a cut-down BatchWriteItem to moto (set by the embedded AWS).
        self.forward: Forward | None = None

    def set(self, table: str, throttle_on: list[int], operations: list[str], admit: int) -> TableThrottle:
        throttle = TableThrottle(table, frozenset(throttle_on), frozenset(operations), admit)
        with self._lock:
            self._throttles = [t for t in self._throttles if t.table != table] + [throttle]
        return throttle

    def clear(self) -> None:
        with self._lock:
            self._throttles = []

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [t.describe() for t in self._throttles]

    def _throttled_tables(self, operation: str, tables: Sequence[str]) -> dict[str, TableThrottle]:
        """Counts this call for every throttle naming one of its tables; those it throttles."""
        throttled: dict[str, TableThrottle] = {}
        with self._lock:
            for throttle in self._throttles:
                if operation not in throttle.operations:
                    continue
                named = [t for t in tables if _names(throttle.table, t)]
                if not named:
                    continue
                throttle.calls += 1
                if throttle.calls in throttle.throttle_on:
                    throttle.throttled.append(throttle.calls)
                    for table in named:
                        throttled[table] = throttle
        return throttled

    def intercept(self, environ: dict[str, Any], body: bytes) -> Response | None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not self._throttles or not target.startswith(_DYNAMODB_TARGET):
            return None
        operation = target[len(_DYNAMODB_TARGET) :]
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return None  # moto answers a malformed request itself
        if not isinstance(request, dict):
            return None
        throttled = self._throttled_tables(operation, tables_of(operation, request))
        if not throttled:
            return None
        if operation == "BatchWriteItem":
            return self._batch_write(request, throttled, environ)
        if operation == "TransactWriteItems":
            return _transaction_cancelled(request, set(throttled))
        return throughput_exceeded()

    def _batch_write(
        self, request: dict[str, Any], throttled: dict[str, TableThrottle], environ: dict[str, Any]
    ) -> Response:
        admitted: dict[str, list[Any]] = {}
        unprocessed: dict[str, list[Any]] = {}
        for table, writes in request["RequestItems"].items():
            keep = throttled[table].admit if table in throttled else len(writes)
            if writes[:keep]:
                admitted[table] = writes[:keep]
            if writes[keep:]:
                unprocessed[table] = writes[keep:]
        if not admitted or self.forward is None:
            # DynamoDB: when none of the items can be processed, the call fails whole.
            return throughput_exceeded()
        return forward_admitted_writes(self.forward, environ, request, admitted, unprocessed)

    def serve(self, method: str, body: bytes) -> Response:
        if method == "GET":
            return _json(200, {"dynamodb": self.list()})
        if method == "DELETE":
            self.clear()
            return _json(200, {"dynamodb": []})
        if method != "POST":
            return json_error(
                405, "MethodNotAllowed", f"{method} {DYNAMODB_FAULTS_PATH}: use GET, POST or DELETE"
            )
        try:
            request = _body_object(body)
            table = request.get("table")
            if not isinstance(table, str) or not table:
                raise FaultError("'table' must name a table (physical or logical name)")
            throttle_on = _positive_ints(request.get("throttleOn"), "throttleOn", "call")
            operations = request.get("operations", list(WRITE_OPERATIONS))
            known = WRITE_OPERATIONS + READ_OPERATIONS
            if (
                not isinstance(operations, list)
                or not operations
                or not all(isinstance(o, str) and o in known for o in operations)
            ):
                raise FaultError(f"'operations' must be a non-empty list of {', '.join(known)}")
            admit = request.get("admit", 0)
            if not isinstance(admit, int) or isinstance(admit, bool) or admit < 0:
                raise FaultError("'admit' must be a number of items (0 or more)")
        except FaultError as exc:
            return json_error(400, "ValidationException", str(exc))
        return _json(200, self.set(table, throttle_on, operations, admit).describe())


def _transaction_cancelled(request: dict[str, Any], throttled: set[str]) -> Response:
    reasons = [
        {"Code": "ThrottlingError", "Message": _THROTTLING_REASON}
        if isinstance(action, dict) and _transact_table(action) in throttled
        else {"Code": "None"}
        for action in request.get("TransactItems", [])
    ]
    message = _TRANSACTION_CANCELLED.format(", ".join(r["Code"] for r in reasons))
    payload = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "CancellationReasons": reasons,
        "Message": message,
        "message": message,
    }
    return 400, error_headers(), json.dumps(payload).encode()


# --- WebSocket: dropped connections ------------------------------------------------------------

# The WebSocket emulator's way to drop connections now: (connectionId, principal) -> ids dropped.
Dropper = Callable[[str | None, str | None], list[str]]


@dataclass
class PushDrop:
    connection_id: str | None
    user_id: str | None
    on_push: int
    pushes: int = 0  # to matching connections since the drop was set
    dropped: list[str] = field(default_factory=list)

    def matches(self, connection_id: str, principals: Collection[str]) -> bool:
        if self.connection_id is not None and self.connection_id != connection_id:
            return False
        return self.user_id is None or self.user_id in principals

    def describe(self) -> dict[str, Any]:
        return {
            "connectionId": self.connection_id,
            "userId": self.user_id,
            "onPush": self.on_push,
            "pushes": self.pushes,
            "dropped": list(self.dropped),
        }


class ConnectionDrops:
    """Connections to drop: now (through the emulator's dropper) or on their Nth push."""

    def __init__(self) -> None:
        self._on_push: list[PushDrop] = []
        self._lock = threading.Lock()
        self.dropper: Dropper | None = None  # set by the WebSocket API emulator when it starts

    def clear(self) -> None:
        with self._lock:
            self._on_push = []

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [d.describe() for d in self._on_push]

    def drops_push(self, connection_id: str, principals: Collection[str]) -> bool:
        """Counts a push to this connection (whose authorizer names `principals`); True when it is
        to be dropped instead of delivered."""
        drop = False
        with self._lock:
            for rule in self._on_push:
                if not rule.matches(connection_id, principals):
                    continue
                rule.pushes += 1
                if rule.pushes == rule.on_push:
                    rule.dropped.append(connection_id)
                    drop = True
        return drop

    def serve(self, method: str, body: bytes) -> Response:
        if method == "GET":
            return _json(200, {"websocket": self.list()})
        if method == "DELETE":
            self.clear()
            return _json(200, {"websocket": []})
        if method != "POST":
            return json_error(
                405, "MethodNotAllowed", f"{method} {WEBSOCKET_FAULTS_PATH}: use GET, POST or DELETE"
            )
        try:
            request = _body_object(body)
            connection_id, user_id = request.get("connectionId"), request.get("userId")
            for name, value in (("connectionId", connection_id), ("userId", user_id)):
                if value is not None and (not isinstance(value, str) or not value):
                    raise FaultError(f"'{name}' must be a non-empty string")
            if connection_id is None and user_id is None:
                raise FaultError("name the connection to drop: 'connectionId' or 'userId' (its principal)")
            on_push = request.get("onPush")
            if on_push is not None:
                _positive_ints([on_push], "onPush", "push")
        except FaultError as exc:
            return json_error(400, "ValidationException", str(exc))
        if on_push is not None:
            rule = PushDrop(connection_id, user_id, on_push)
            with self._lock:
                self._on_push.append(rule)
            return _json(200, rule.describe())
        if self.dropper is None:
            return json_error(409, "Unavailable", "no WebSocket API is served by this runtime")
        dropped = self.dropper(connection_id, user_id)
        if not dropped:
            who = f"connection {connection_id}" if connection_id else f"principal {user_id}"
            return json_error(404, "ResourceNotFoundException", f"no open WebSocket connection of {who}")
        return _json(200, {"dropped": dropped})
