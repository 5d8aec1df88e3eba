"""Which engine the e2e and flows tiers run against, and what each engine lacks.

`ARCADEFLOW_E2E_TARGET=embedded|ministack|localstack|aws` (default embedded). The tests are the
same on every target; a test that needs a capability a target lacks says so with
`@pytest.mark.needs("<capability>")` (or by starting its own `arcadeflow up`, see
tests/support/stack.py) and is skipped there with the reason below, never silently.
tests/conftest.py prints the skips per target and reason at the end of the run; the README's
"what differs from AWS on each engine" table is this one.
"""

from __future__ import annotations

import os

TARGETS = ("embedded", "ministack", "localstack", "aws")
TARGET = os.environ.get("ARCADEFLOW_E2E_TARGET", "embedded")
if TARGET not in TARGETS:
    raise RuntimeError(f"ARCADEFLOW_E2E_TARGET={TARGET!r}: one of {', '.join(TARGETS)}")

# Capabilities of the embedded runtime only: a test harness, not AWS behaviour.
_EMBEDDED_ONLY = {
    "embedded_runtime": "needs `arcadeflow up` itself (its own process, restarts, local pages, "
    "--lambda-code, emulated capacity)",
    "fault_switch": "needs the embedded runtime's fault switch (/arcadeflow-api/faults)",
    "local_routes": "needs the HTTP port's own routes (/health, /openapi.json, the local pages): "
    "`arcadeflow up` serves them, the description does not deploy them",
}

# target -> capability -> why that target lacks it.
MISSING: dict[str, dict[str, str]] = {
    "embedded": {},
    "ministack": {
        **_EMBEDDED_ONLY,
        "start_execution_integration": "MiniStack 1.5.33: no StepFunctions-StartExecution "
        "integration in API Gateway v2 (docs/ministack/start-execution-integration.md)",
        "domain_error_routing": "MiniStack 1.5.33: every Lambda exception is Runtime.HandlerError, "
        "so ASL Retry/Catch on domain errors misroute and failures name no domain error "
        "(docs/ministack/lambda-error-type.md)",
        "import_error_type": "MiniStack 1.5.33: a handler whose module fails to import answers "
        "errorType RuntimeError, not Runtime.ImportModuleError (docs/ministack/lambda-error-type.md)",
        "task_timeout_path": "MiniStack 1.5.33: a Task's TimeoutSecondsPath is ignored, so a "
        ".waitForTaskToken window read from the input never closes "
        "(docs/ministack/wait-for-task-token.md)",
        "callback_task_failure": "MiniStack 1.5.33: a Lambda that fails behind "
        "lambda:invoke.waitForTaskToken does not fail its task, which waits for a callback "
        "(docs/ministack/wait-for-task-token.md)",
        "websocket_frame_checks": "MiniStack 1.5.33: WebSocket frames are not checked as API Gateway "
        "does: no 1009 close over 32 KB, binary frames routed instead of a 1003 close, non-UTF-8 "
        "text dropped without a 1007 close (docs/ministack/websocket-frame-checks.md)",
        "connection_management_api": "MiniStack 1.5.33: @connections GetConnection answers "
        "ConnectedAt/Identity/LastActiveAt instead of connectedAt/identity/lastActiveAt, so SDKs "
        "read none of them (docs/ministack/connections-api.md)",
        "ttl_expiry": "MiniStack 1.5.33: TTL sweeps every 60 s and puts no REMOVE record on the "
        "stream (docs/ministack/ttl-stream-records.md)",
        "stream_batch_failures": "MiniStack 1.5.33: stream mappings ignore ReportBatchItemFailures "
        "and MaximumRetryAttempts (docs/ministack/stream-batch-item-failures.md)",
    },
    "localstack": {
        **_EMBEDDED_ONLY,
        "start_execution_integration": "LocalStack community: no API Gateway v2",
    },
    "aws": {
        **_EMBEDDED_ONLY,
    },
}


def missing_reason(capability: str, target: str = TARGET) -> str | None:
    """Why `target` lacks `capability`, or None when it has it."""
    return MISSING[target].get(capability)
