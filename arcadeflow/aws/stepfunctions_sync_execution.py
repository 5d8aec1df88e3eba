"""StartSyncExecution (API reference "StartSyncExecution"), which moto 5.2.5 does not serve (500).

EXPRESS machines only: a STANDARD one answers StateMachineTypeNotSupported, as AWS does. The
execution is an express one (moto_patches/stepfunctions_express.py: the express ARN, no history,
the 5-minute limit) run in the request's thread on moto's interpreter (its SyncExecution); the
answer comes when it ends: SUCCEEDED, FAILED or TIMED_OUT.

boto3 sends this action to the host "sync-" + the endpoint's host (the service model's
hostPrefix), even for an endpoint_url of 127.0.0.1: `sync-127.0.0.1` does not resolve, and the
call fails before it leaves the client. A local client turns the prefix off, with
AWS_DISABLE_HOST_PREFIX_INJECTION=true in its environment (botocore 1.44.5 reads it) or
Config(inject_host_prefix=False); the embedded AWS serves the action whatever the Host header
says (it routes on X-Amz-Target).

billingDetails: AWS bills an Express execution's duration in 100 ms steps and its memory in 64 MB
steps; the embedded AWS does not measure memory and reports 64 MB (our choice).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from typing import Any

from arcadeflow.aws.moto_patches.stepfunctions_execution_names import invalid_name_reason
from arcadeflow.aws.moto_patches.stepfunctions_express import new_express_execution
from arcadeflow.aws.stepfunctions_extra_apis import ApiError, _backend, required_string

# A state machine, or one of its versions or aliases.
_MACHINE_ARN = re.compile(
    r"^arn:aws[a-z-]*:states:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):stateMachine:[A-Za-z0-9_-]{1,80}(:[^:]+)?$"
)
BILLED_DURATION_STEP_MS = 100
BILLED_MEMORY_MB = 64


def _timestamp(value: Any) -> float | None:
    return value.timestamp() if value is not None else None


def start_sync_execution(body: dict[str, Any]) -> dict[str, Any]:
    arn = required_string(body, "stateMachineArn")
    match = _MACHINE_ARN.match(arn)
    if match is None:
        resource_type = arn.split(":")[5] if arn.count(":") >= 5 else arn
        raise ApiError(
            "InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {resource_type}'"
        )
    try:
        machine = _backend(match["account"], match["region"]).describe_state_machine(arn)
    except Exception as exc:  # moto raises its StateMachineDoesNotExist (or a lookup error)
        raise ApiError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'") from exc
    if machine.type != "EXPRESS":
        raise ApiError(
            "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine"
        )
    name = body.get("name")
    if name is None:
        name = str(uuid.uuid4())
    elif not isinstance(name, str) or invalid_name_reason(name):
        raise ApiError("InvalidName", f"Invalid Name: '{name}'")
    execution_input = body.get("input")
    execution_input = "{}" if execution_input is None else execution_input
    try:
        json.loads(execution_input)
    except (TypeError, ValueError) as exc:
        raise ApiError("InvalidExecutionInput", f"Invalid State Machine Execution Input: '{exc}'") from exc
    included = body.get("includedData") or "ALL_DATA"
    if included not in ("ALL_DATA", "METADATA_ONLY"):
        raise ApiError(
            "ValidationException", f"Value '{included}' at 'includedData' failed to satisfy constraint"
        )

    execution = new_express_execution(machine, name, execution_input, synchronous=True)
    execution.start()  # moto's SyncExecution runs the program in this thread, to its end
    return answer_of(execution, include_data=included == "ALL_DATA", trace_header=body.get("traceHeader"))


def answer_of(execution: Any, include_data: bool, trace_header: str | None) -> dict[str, Any]:
    start, stop = execution.start_date, execution.stop_date
    duration_ms = max(0.0, (stop - start).total_seconds() * 1000) if stop else 0.0
    out: dict[str, Any] = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine.arn,
        "name": execution.name,
        "startDate": _timestamp(start),
        "stopDate": _timestamp(stop),
        "status": getattr(execution.sync_execution_status, "value", "FAILED"),
        "inputDetails": {"included": include_data},
        "billingDetails": {
            "billedMemoryUsedInMB": BILLED_MEMORY_MB,
            "billedDurationInMilliseconds": max(
                BILLED_DURATION_STEP_MS,
                math.ceil(duration_ms / BILLED_DURATION_STEP_MS) * BILLED_DURATION_STEP_MS,
            ),
        },
    }
    if include_data:
        out["input"] = json.dumps(execution.input_data, separators=(",", ":"))
    if out["status"] == "SUCCEEDED":
        out["outputDetails"] = {"included": include_data}
        if include_data:
            out["output"] = json.dumps(execution.output, separators=(",", ":"))
    if execution.error is not None:
        out["error"] = execution.error
    if execution.cause is not None:
        out["cause"] = execution.cause
    if trace_header:
        out["traceHeader"] = trace_header
    return out
