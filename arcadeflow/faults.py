"""Tests' handle on the embedded AWS's fault switch (arcadeflow/aws/faults.py).

    set_fault(endpoint_url, "duel_notify_invitee", fail_on=[1], error="Arcadeflow.InjectedFault")

makes the first invocation of that function from now on fail as an unhandled exception of its
handler would (errorType and errorMessage as given); mode="timeout" fails it as a timed-out
sandbox (Sandbox.Timedout), mode="crash" kills its worker process (Runtime.ExitError). For
tests only: the switch is served by the embedded runtime alone, so against LocalStack or AWS
these calls fail (FaultSwitchUnavailable).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import Any

from arcadeflow.aws.faults import (
    DEFAULT_ERROR,
    DEFAULT_MESSAGE,
    DYNAMODB_FAULTS_PATH,
    FAULTS_PATH,
    WEBSOCKET_FAULTS_PATH,
)

__all__ = [
    "DEFAULT_ERROR",
    "FaultSwitchUnavailable",
    "all_faults",
    "clear_faults",
    "drop_connection",
    "list_faults",
    "set_fault",
    "throttle_table",
]

TIMEOUT_SECONDS = 10


class FaultSwitchUnavailable(RuntimeError):
    """The endpoint serves no fault switch (not the embedded AWS), or refused the fault."""


def _call(endpoint_url: str, method: str, body: dict[str, Any] | None = None, path: str = FAULTS_PATH) -> Any:
    request = urllib.request.Request(
        endpoint_url.rstrip("/") + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        raise FaultSwitchUnavailable(
            f"{method} {request.full_url}: {exc.code} {exc.read().decode(errors='replace')}"
        ) from None


def set_fault(
    endpoint_url: str,
    function: str,
    fail_on: Iterable[int],
    error: str | None = None,
    message: str | None = None,
    mode: str = "error",
) -> dict[str, Any]:
    """Invocations number `fail_on` (1-based, counted from now) of `function` (its physical
    name, logical name or ARN) fail: with `error` (default Arcadeflow.InjectedFault) in mode
    "error", as a timeout in mode "timeout", as a crashed worker in mode "crash" (those two
    take no error or message: they fail as AWS says). Replaces an earlier fault on that function.
    Returns the fault as the switch records it."""
    body: dict[str, Any] = {"function": function, "failOn": list(fail_on), "mode": mode}
    if mode == "error":
        body["error"] = DEFAULT_ERROR if error is None else error
        body["message"] = DEFAULT_MESSAGE if message is None else message
    else:
        if error is not None:
            body["error"] = error
        if message is not None:
            body["message"] = message
    return _call(endpoint_url, "POST", body)


def throttle_table(
    endpoint_url: str,
    table: str,
    throttle_on: Iterable[int],
    operations: Iterable[str] | None = None,
    admit: int = 0,
) -> dict[str, Any]:
    """Calls number `throttle_on` (1-based, counted from now over the table's write calls, or
    over `operations`) to `table` (physical or logical name) answer as a throttled table does on
    AWS: ProvisionedThroughputExceededException; a BatchWriteItem hands the table's items back as
    UnprocessedItems (all but the first `admit`), or fails whole when it wrote nothing; a
    TransactWriteItems is cancelled (ThrottlingError). Replaces an earlier throttle of the table."""
    body: dict[str, Any] = {"table": table, "throttleOn": list(throttle_on), "admit": admit}
    if operations is not None:
        body["operations"] = list(operations)
    return _call(endpoint_url, "POST", body, DYNAMODB_FAULTS_PATH)


def drop_connection(
    endpoint_url: str,
    connection_id: str | None = None,
    user_id: str | None = None,
    on_push: int | None = None,
) -> dict[str, Any]:
    """Drops a WebSocket connection (`connection_id`, or every connection of principal `user_id`)
    as a lost network does, no close frame: now (answers {"dropped": [ids]}; none open is an
    error), or with `on_push` on the Nth @connections push to it from now, which is not delivered."""
    body: dict[str, Any] = {}
    if connection_id is not None:
        body["connectionId"] = connection_id
    if user_id is not None:
        body["userId"] = user_id
    if on_push is not None:
        body["onPush"] = on_push
    return _call(endpoint_url, "POST", body, WEBSOCKET_FAULTS_PATH)


def list_faults(endpoint_url: str) -> list[dict[str, Any]]:
    """Every Lambda fault set, with `invocations` (counted since it was set) and `failed` (which)."""
    return _call(endpoint_url, "GET")["faults"]


def all_faults(endpoint_url: str) -> dict[str, list[dict[str, Any]]]:
    """Every kind with its counters: {"faults": Lambda, "dynamodb": throttles, "websocket": drops}."""
    return _call(endpoint_url, "GET")


def clear_faults(endpoint_url: str) -> None:
    """Clears every kind: Lambda faults, table throttles, pending connection drops."""
    _call(endpoint_url, "DELETE")
