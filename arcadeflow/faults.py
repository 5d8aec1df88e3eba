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

from arcadeflow.aws.faults import DEFAULT_ERROR, DEFAULT_MESSAGE, FAULTS_PATH

__all__ = ["DEFAULT_ERROR", "FaultSwitchUnavailable", "clear_faults", "list_faults", "set_fault"]

TIMEOUT_SECONDS = 10


class FaultSwitchUnavailable(RuntimeError):
    """The endpoint serves no fault switch (not the embedded AWS), or refused the fault."""


def _call(endpoint_url: str, method: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        endpoint_url.rstrip("/") + FAULTS_PATH,
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


def list_faults(endpoint_url: str) -> list[dict[str, Any]]:
    """Every fault set, with `invocations` (counted since it was set) and `failed` (which)."""
    return _call(endpoint_url, "GET")["faults"]


def clear_faults(endpoint_url: str) -> None:
    _call(endpoint_url, "DELETE")
