"""Step Functions APIs that moto lacks, served by the embedded AWS.

ACTIONS maps an `AWSStepFunctions.<Action>` target to a callable taking the request body (dict)
and returning the response body (dict); it may raise ApiError for a 4xx.

Terraform's aws provider calls both on every plan and refresh of an aws_sfn_state_machine:
- ValidateStateMachineDefinition really validates, with the validator CreateStateMachine and
  UpdateStateMachine refuse with (asl_validation.py: arcadeflow's checks of JSONata, variables,
  intrinsic functions and EXPRESS integrations, statelint, and moto's own parser). Diagnostics
  come back the way AWS reports them (severity, code, message, location).
- ListStateMachineVersions lists the versions moto keeps for a state machine (publish=true).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from moto.core.config import default_user_config

from arcadeflow.aws import asl_validation

MAX_RESULTS = 100
STATE_MACHINE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):states:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):stateMachine:"
    r"(?P<name>[A-Za-z0-9_-]{1,80})$"
)


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def required_string(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise ApiError(
            "ValidationException",
            f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
            "Member must not be null",
        )
    return value


def _max_results(body: dict[str, Any], maximum: int = 1000) -> int:
    """maxResults; 0 or absent means the default (MAX_RESULTS)."""
    value = body.get("maxResults", 0) or MAX_RESULTS
    if not isinstance(value, int) or not 1 <= value <= maximum:
        raise ApiError(
            "ValidationException",
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: "
            f"Member must have value less than or equal to {maximum}",
        )
    return value


def validate_state_machine_definition(body: dict[str, Any]) -> dict[str, Any]:
    definition = required_string(body, "definition")
    machine_type = body.get("type", "STANDARD")
    if machine_type not in ("STANDARD", "EXPRESS"):
        raise ApiError(
            "ValidationException", f"Value '{machine_type}' at 'type' failed to satisfy constraint"
        )
    severity = body.get("severity", "ERROR")
    if severity not in ("ERROR", "WARNING"):
        raise ApiError(
            "ValidationException", f"Value '{severity}' at 'severity' failed to satisfy constraint"
        )
    # API reference, ValidateStateMachineDefinition: "The default and maximum value is 100.
    # Setting the value to 0 will also use the default of 100."
    limit = _max_results(body, maximum=MAX_RESULTS)

    diagnostics = [d.as_api() for d in asl_validation.diagnose(definition, machine_type)]
    # Nothing here is a warning, so severity=WARNING (errors and warnings) returns the same.
    return {
        "result": "FAIL" if diagnostics else "OK",
        "diagnostics": diagnostics[:limit],
        "truncated": len(diagnostics) > limit,
    }


def _backend(account: str, region: str) -> Any:
    # The same backend moto's own Step Functions responses use (it changes with execution on/off).
    if default_user_config.get("stepfunctions", {}).get("execute_state_machine", False):
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        return stepfunctions_parser_backends[account][region]
    from moto.stepfunctions.models import stepfunctions_backends

    return stepfunctions_backends[account][region]


def list_state_machine_versions(body: dict[str, Any]) -> dict[str, Any]:
    arn = required_string(body, "stateMachineArn")
    match = STATE_MACHINE_ARN.match(arn)
    if match is None:
        raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {arn}'")
    limit = _max_results(body)
    backend = _backend(match["account"], match["region"])
    machine = next((m for m in backend.state_machines if m.arn == arn), None)
    if machine is None:
        raise ApiError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")
    # Newest first, as AWS lists them.
    versions = sorted(machine.versions.values(), key=lambda v: v.version, reverse=True)
    token = body.get("nextToken")
    start = 0
    if token is not None:
        if not (isinstance(token, str) and token.isdigit() and int(token) <= len(versions)):
            raise ApiError("InvalidToken", f"Invalid Token: '{token}'")
        start = int(token)
    page = versions[start : start + limit]
    out: dict[str, Any] = {
        "stateMachineVersions": [
            {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date.timestamp()} for v in page
        ]
    }
    if start + limit < len(versions):
        out["nextToken"] = str(start + limit)
    return out


def _served_elsewhere(module: str, function: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An action of a module of its own, imported on first use (it imports ApiError from here)."""

    def action(body: dict[str, Any]) -> dict[str, Any]:
        return getattr(importlib.import_module(module), function)(body)

    return action


ACTIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ValidateStateMachineDefinition": validate_state_machine_definition,
    "ListStateMachineVersions": list_state_machine_versions,
    "TestState": _served_elsewhere("arcadeflow.aws.stepfunctions_test_state", "test_state"),
    "StartSyncExecution": _served_elsewhere(
        "arcadeflow.aws.stepfunctions_sync_execution", "start_sync_execution"
    ),
}
