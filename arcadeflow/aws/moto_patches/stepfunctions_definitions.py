"""CreateStateMachine and UpdateStateMachine refuse what AWS refuses, as AWS names it.

moto (5.2.5) departs from AWS's CreateStateMachine and UpdateStateMachine in these ways, fixed
here at the wire (interceptors, not replacements of moto internals):

- a definition its parser refuses is answered with an empty error code (its InvalidDefinition
  loses its name on the wire) and the parser's own message ("ASLParserException line 1:25 ..."),
  where AWS answers 400 InvalidDefinition, "Invalid State Machine Definition:
  'SCHEMA_VALIDATION_FAILED: ... at /States/X/Y'";
- what its parser accepts is accepted, though AWS refuses some of it: an illegal escape in an
  intrinsic function's string, an unknown intrinsic function, `.sync` or `.waitForTaskToken` in an
  EXPRESS machine, a reserved or malformed variable name. Here every definition goes through
  arcadeflow/aws/asl_validation.py, the validator ValidateStateMachineDefinition answers with;
- re-creating an existing name answers the existing machine whatever the new request says; AWS's
  CreateStateMachine is idempotent only on the same definition, type, logging and tracing
  configuration (a different roleArn or tags are ignored) and answers StateMachineAlreadyExists
  otherwise (API reference, CreateStateMachine);
- a `type` that is neither STANDARD nor EXPRESS is accepted, and so is a logging level other
  than OFF with no destination (AWS: ValidationException, InvalidLoggingConfiguration).

moto's own answers that match AWS are kept: InvalidName, versionDescription without publish
(ValidationException), StateMachineDoesNotExist.
"""

from __future__ import annotations

import json
from typing import Any

from arcadeflow.aws import asl_validation
from arcadeflow.aws.interceptor import Forward, Interceptor, Response, json_error, json_request
from arcadeflow.aws.moto_patches.registry import MotoPatch

_CREATE = "AWSStepFunctions.CreateStateMachine"
_UPDATE = "AWSStepFunctions.UpdateStateMachine"
MACHINE_TYPES = ("STANDARD", "EXPRESS")
LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")
# What AWS describes for a machine created without them.
DEFAULT_LOGGING = {"level": "OFF", "includeExecutionData": False}
DEFAULT_TRACING = {"enabled": False}
# API reference, CreateStateMachine / UpdateStateMachine: definition, "Maximum length of 1048576".
MAX_DEFINITION_LENGTH = 1_048_576


def _call(forward: Forward, environ: dict[str, Any], action: str, payload: dict[str, Any]) -> tuple[int, Any]:
    """Another Step Functions action, asked of moto on the request's own credentials."""
    inner = dict(environ)
    inner["HTTP_X_AMZ_TARGET"] = f"AWSStepFunctions.{action}"
    status, _, answer = forward(inner, json.dumps(payload).encode())
    return status, json.loads(answer or b"{}")


def _logging_problem(config: Any) -> Response | None:
    if config is None:
        return None
    if not isinstance(config, dict):
        return json_error(400, "InvalidLoggingConfiguration", "Invalid Logging Configuration: not an object")
    level = config.get("level", "OFF")
    if level not in LOG_LEVELS:
        return json_error(
            400,
            "ValidationException",
            f"1 validation error detected: Value '{level}' at 'loggingConfiguration.level' failed to satisfy"
            f" constraint: Member must satisfy enum value set: [{', '.join(LOG_LEVELS)}]",
        )
    destinations = config.get("destinations") or []
    if level != "OFF" and len(destinations) != 1:
        # API reference, LoggingConfiguration: destinations is limited to one, and required
        # unless the level is OFF.
        return json_error(
            400,
            "InvalidLoggingConfiguration",
            "Invalid Logging Configuration: Must specify exactly one Log Destination.",
        )
    return None


def _named_as_aws_names_it(answer: Response) -> Response:
    """moto's own refusal of a definition (its parser's, with an empty error code) as AWS's."""
    status, _, payload = answer
    if status < 400:
        return answer
    try:
        error = json.loads(payload or b"{}")
    except ValueError:
        return answer
    # moto's parser refusal goes out as {"__type": null, ...} with X-Amzn-ErrorType UnknownError.
    if not isinstance(error, dict) or error.get("__type"):
        return answer  # named already: InvalidName, ValidationException, StateMachineDoesNotExist ...
    reason = str(error.get("message") or error.get("Message") or "")
    diagnostic = asl_validation.interpreter_diagnostic(reason)
    return json_error(400, "InvalidDefinition", asl_validation.invalid_definition_message([diagnostic]))


def _definition_problem(definition: Any, machine_type: str) -> Response | None:
    if not isinstance(definition, str):
        return None  # moto answers a missing definition itself
    if len(definition) > MAX_DEFINITION_LENGTH:
        return json_error(
            400,
            "ValidationException",
            "1 validation error detected: Value at 'definition' failed to satisfy constraint: Member must"
            f" have length less than or equal to {MAX_DEFINITION_LENGTH}",
        )
    # moto parses the definition itself next: its refusal is renamed by _named_as_aws_names_it.
    diagnostics = [
        d
        for d in asl_validation.diagnose(definition, machine_type, interpreter=False)
        if d.severity == "ERROR"
    ]
    if not diagnostics:
        return None
    return json_error(400, "InvalidDefinition", asl_validation.invalid_definition_message(diagnostics))


def _same(found: Any, asked: Any, default: dict[str, Any]) -> bool:
    return {**default, **(found or {})} == {**default, **(asked or {})}


def _existing(forward: Forward, environ: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The described state machine of that name, if there is one."""
    token: str | None = None
    while True:
        status, page = _call(
            forward,
            environ,
            "ListStateMachines",
            {"maxResults": 1000, **({"nextToken": token} if token else {})},
        )
        if status != 200:
            return None
        for machine in page.get("stateMachines", ()):
            if machine.get("name") == name:
                status, described = _call(
                    forward, environ, "DescribeStateMachine", {"stateMachineArn": machine["stateMachineArn"]}
                )
                return described if status == 200 else None
        token = page.get("nextToken")
        if not token:
            return None


def refuse_definitions_aws_refuses(forward: Forward) -> Interceptor:
    def create(environ: dict[str, Any], request: dict[str, Any], body: bytes) -> Response | None:
        machine_type = request.get("type") or "STANDARD"
        if machine_type not in MACHINE_TYPES:
            return json_error(
                400,
                "ValidationException",
                f"1 validation error detected: Value '{machine_type}' at 'type' failed to satisfy constraint:"
                f" Member must satisfy enum value set: [{', '.join(MACHINE_TYPES)}]",
            )
        refused = _logging_problem(request.get("loggingConfiguration")) or _definition_problem(
            request.get("definition"), machine_type
        )
        if refused is not None:
            return refused
        name = request.get("name")
        existing = _existing(forward, environ, name) if isinstance(name, str) else None
        if existing is not None and not (
            existing.get("definition") == request.get("definition")
            and existing.get("type", "STANDARD") == machine_type
            and _same(
                existing.get("loggingConfiguration"), request.get("loggingConfiguration"), DEFAULT_LOGGING
            )
            and _same(
                existing.get("tracingConfiguration"), request.get("tracingConfiguration"), DEFAULT_TRACING
            )
        ):
            arn = existing["stateMachineArn"]
            return json_error(400, "StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'")
        # moto creates it (or answers the same machine again), or its parser refuses it.
        return _named_as_aws_names_it(forward(environ, body))

    def update(environ: dict[str, Any], request: dict[str, Any], body: bytes) -> Response | None:
        fields = (
            "definition",
            "roleArn",
            "loggingConfiguration",
            "tracingConfiguration",
            "encryptionConfiguration",
        )
        if not any(request.get(f) is not None for f in fields) and not request.get("publish"):
            return json_error(
                400,
                "MissingRequiredParameter",
                "Either the definition, the role ARN, the LoggingConfiguration, the EncryptionConfiguration"
                " or the TracingConfiguration must be specified",
            )
        refused = _logging_problem(request.get("loggingConfiguration"))
        if refused is not None or request.get("definition") is None:
            return refused
        status, described = _call(
            forward, environ, "DescribeStateMachine", {"stateMachineArn": request.get("stateMachineArn")}
        )
        if status != 200:
            return None  # moto answers StateMachineDoesNotExist or InvalidArn itself
        refused = _definition_problem(request["definition"], described.get("type", "STANDARD"))
        return refused or _named_as_aws_names_it(forward(environ, body))

    def intercept(environ: dict[str, Any], body: bytes) -> Response | None:
        request = json_request(environ, body, _CREATE)
        if request is not None:
            return create(environ, request, body)
        request = json_request(environ, body, _UPDATE)
        if request is not None:
            return update(environ, request, body)
        return None

    return intercept


PATCH = MotoPatch(
    name="stepfunctions_definitions",
    fixes=(
        "CreateStateMachine/UpdateStateMachine refuse a bad definition with an empty error code and"
        " the parser's message, accept some AWS refuses (illegal intrinsic escapes, .sync in EXPRESS),"
        " and answer a re-created name with the old machine whatever its definition or type"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        "moto.stepfunctions.parser.models.StepFunctionsParserBackend.create_state_machine",
        "moto.stepfunctions.parser.models.StepFunctionsParserBackend.update_state_machine",
        "moto.stepfunctions.models.StepFunctionBackend.create_state_machine",
    ),
    kind="interceptor",
    interceptor=refuse_definitions_aws_refuses,
)
