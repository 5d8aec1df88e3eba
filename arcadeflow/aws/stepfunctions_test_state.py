"""TestState (API reference "TestState"; developer guide "Using TestState API to test a state").

moto 5.2.5 ships LocalStack's TestState components (a parser for one state, an environment that
records inspection data) but no API serves them: TestState answers 500. This module serves it
with those components, so the state runs on moto's own interpreter, not on a second one:

- `definition` is one state, or (with `stateName`) a whole state machine whose named state is
  tested; the machine's QueryLanguage is inherited, as AWS does.
- `input`, `variables` (bound before the state runs) and `context` (merged into `$$`).
- `mock.result` / `mock.errorOutput` answer for the Task's service call (the service is not
  called), validated against the API's answer by `fieldValidationMode` as AWS does; a Map or a
  Parallel (and .sync, .waitForTaskToken, Activity tasks) run only with a mock, which is then the
  state's whole result.
- Retry and Catch are evaluated once, as AWS does: an error a retrier matches, with attempts left
  (`stateConfiguration.retrierRetryCount` says how many were made), answers RETRIABLE with the
  retrier's index and its backoff, and nothing waits or re-runs; a caught error answers
  CAUGHT_ERROR with the catcher's `Next` as nextState and the catcher's output.
- inspectionLevel INFO answers output/error/cause/nextState/status; DEBUG and TRACE add
  inspectionData (input, afterInputPath, afterParameters, result, afterResultSelector,
  afterResultPath, variables, errorDetails). TRACE's HTTP request/response exists only for HTTP
  Tasks, which the embedded AWS does not run (README: what still differs).
"""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any

from arcadeflow.aws.stepfunctions_extra_apis import ApiError, required_string

ACCOUNT_ID = "123456789012"
# The request carries no region; the embedded AWS serves one (EmbeddedAws.region's default).
REGION = "us-east-1"
INSPECTION_LEVELS = ("INFO", "DEBUG", "TRACE")
FIELD_VALIDATION_MODES = ("STRICT", "PRESENT", "NONE")
TEST_EXECUTION_ARN = f"arn:aws:states:{REGION}:{ACCOUNT_ID}:execution:TestStateMachine:TestState"
TEST_STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:TestStateMachine"
DEFAULT_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/TestStateRole"


class _RetryDecided(Exception):
    """Raised inside the state once a retrier matched with attempts left: nothing is retried."""

    def __init__(self, retry_index: int, backoff_seconds: int) -> None:
        super().__init__(f"retrier {retry_index} would retry after {backoff_seconds} s")
        self.retry_index, self.backoff_seconds = retry_index, backoff_seconds


def _json_field(body: dict[str, Any], field: str, default: Any, code: str = "ValidationException") -> Any:
    raw = body.get(field)
    if raw is None:
        return default
    if not isinstance(raw, str):
        raise ApiError(
            "ValidationException", f"Value at '{field}' failed to satisfy constraint: must be a string"
        )
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(code, f"Invalid {field}: '{exc}'") from exc


def _state_to_test(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The state's own definition (its query language made explicit) and its name."""
    text = required_string(body, "definition")
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise ApiError("InvalidDefinition", f"Invalid State Machine Definition: '{exc}'") from exc
    if not isinstance(parsed, dict):
        raise ApiError(
            "InvalidDefinition", "Invalid State Machine Definition: the definition is not an object"
        )
    state_name = body.get("stateName")
    if state_name is None:
        if "States" in parsed and "Type" not in parsed:
            raise ApiError(
                "InvalidDefinition",
                "Invalid State Machine Definition: a whole state machine needs stateName (the state to test)",
            )
        return parsed, "TestState"
    state = _find_state(parsed, state_name)
    if state is None:
        raise ApiError(
            "InvalidDefinition", f"Invalid State Machine Definition: no state named '{state_name}'"
        )
    state = dict(state)
    if "QueryLanguage" not in state and parsed.get("QueryLanguage"):
        state["QueryLanguage"] = parsed["QueryLanguage"]
    return state, state_name


def _find_state(machine: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The state named `name` anywhere in the machine: top level, Parallel branches, Map processors."""
    states = machine.get("States")
    if not isinstance(states, dict):
        return None
    if isinstance(states.get(name), dict):
        return states[name]
    for state in states.values():
        if not isinstance(state, dict):
            continue
        nested = [*state.get("Branches", ()), state.get("ItemProcessor"), state.get("Iterator")]
        for machine_inside in nested:
            if isinstance(machine_inside, dict):
                found = _find_state(machine_inside, name)
                if found is not None:
                    return found
    return None


def _validated_request(body: dict[str, Any]) -> dict[str, Any]:
    level = body.get("inspectionLevel") or "INFO"
    if level not in INSPECTION_LEVELS:
        raise ApiError(
            "ValidationException",
            f"1 validation error detected: Value '{level}' at 'inspectionLevel' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(INSPECTION_LEVELS)}]",
        )
    mock = body.get("mock")
    if mock is not None:
        if not isinstance(mock, dict) or (("result" in mock) == ("errorOutput" in mock)):
            raise ApiError("ValidationException", "A mock has exactly one of result and errorOutput")
        mode = mock.get("fieldValidationMode", "STRICT")
        if mode not in FIELD_VALIDATION_MODES:
            raise ApiError(
                "ValidationException",
                f"Value '{mode}' at 'mock.fieldValidationMode' failed to satisfy constraint",
            )
        if "result" in mock:
            try:
                json.loads(mock["result"])
            except (TypeError, ValueError) as exc:
                raise ApiError("ValidationException", f"mock.result is not JSON: {exc}") from exc
    variables = _json_field(body, "variables", {})
    if not isinstance(variables, dict):
        raise ApiError("ValidationException", "variables must be a JSON object")
    context = _json_field(body, "context", {})
    if not isinstance(context, dict):
        raise ApiError("ValidationException", "context must be a JSON object")
    configuration = body.get("stateConfiguration") or {}
    retry_count = configuration.get("retrierRetryCount", 0)
    if not isinstance(retry_count, int) or retry_count < 0:
        raise ApiError("ValidationException", "stateConfiguration.retrierRetryCount must be 0 or more")
    return {
        "level": level,
        "input": _json_field(body, "input", {}, code="InvalidExecutionInput"),
        "variables": variables,
        "context": context,
        "mock": mock,
        "retry_count": retry_count,
        "role_arn": body.get("roleArn") or DEFAULT_ROLE_ARN,
        "reveal_secrets": bool(body.get("revealSecrets")),
    }


# Step Functions' names of services whose botocore name differs.
_BOTOCORE_SERVICE = {"sfn": "stepfunctions", "states": "stepfunctions"}


def _api_output_shape(state: dict[str, Any]) -> Any:
    """The botocore output shape of the API a Task calls, or None (not a Task, unknown API)."""
    import botocore.session
    from botocore.exceptions import UnknownServiceError
    from botocore.model import OperationNotFoundError

    resource = state.get("Resource")
    if state.get("Type") != "Task" or not isinstance(resource, str):
        return None
    prefix = "arn:aws:states:::"
    if not resource.startswith(prefix):
        return None
    parts = resource[len(prefix) :].split(".", 1)[0].split(":")
    service, action = (
        (parts[1], parts[2]) if parts[0] == "aws-sdk" and len(parts) > 2 else (parts[0], parts[-1])
    )
    if len(parts) < 2:
        return None
    try:
        model = botocore.session.get_session().get_service_model(_BOTOCORE_SERVICE.get(service, service))
        return model.operation_model(action[:1].upper() + action[1:]).output_shape
    except (UnknownServiceError, OperationNotFoundError):  # an API botocore does not know: not validated
        return None


def _shape_problems(value: Any, shape: Any, where: str, strict: bool) -> list[str]:
    """How `value` departs from the botocore shape (member names compared as Step Functions cases
    them: the first letter upper-case)."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where} must be an object"]
        members = {name[:1].upper() + name[1:]: member for name, member in shape.members.items()}
        problems = [
            f"{where}.{key} is not a field of the API's answer" for key in value if key not in members
        ]
        for key, item in value.items():
            if key in members:
                problems += _shape_problems(item, members[key], f"{where}.{key}", strict)
        if strict:
            problems += [
                f"{where}.{name[:1].upper() + name[1:]} is required"
                for name in shape.required_members
                if name[:1].upper() + name[1:] not in value
            ]
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{where} must be a list"]
        return [
            p
            for i, item in enumerate(value)
            for p in _shape_problems(item, shape.member, f"{where}[{i}]", strict)
        ]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{where} must be an object"]
        return [
            p for k, item in value.items() for p in _shape_problems(item, shape.value, f"{where}.{k}", strict)
        ]
    expected: dict[str, tuple[type, ...]] = {
        "string": (str,),
        "integer": (int,),
        "long": (int,),
        "boolean": (bool,),
        "float": (int, float),
        "double": (int, float),
        "timestamp": (str, int, float),
    }
    if kind in expected and (
        not isinstance(value, expected[kind]) or (kind != "boolean" and isinstance(value, bool))
    ):
        return [f"{where} must be a {kind}"]
    return []  # blob (a Lambda's Payload is any JSON once Step Functions decodes it), document


def _validate_mocked_result(state: dict[str, Any], mock: dict[str, Any]) -> None:
    mode = mock.get("fieldValidationMode", "STRICT")
    if "result" not in mock or mode == "NONE":
        return
    shape = _api_output_shape(state)
    if shape is None:
        return
    problems = _shape_problems(json.loads(mock["result"]), shape, "result", strict=mode == "STRICT")
    if problems:
        # AWS's documentation does not word this refusal; the code and the wording are our choice.
        raise ApiError(
            "ValidationException", f"The mocked result does not conform to the API: {'; '.join(problems)}"
        )


def _parse(state: dict[str, Any]) -> Any:
    """moto's TestState program of the state. moto's own TestState parser treats every state
    declaration as the tested one, so a Map's or a Parallel's inner states fail to parse; here only
    the outermost is, the inner ones parse as in a state machine."""
    from antlr4 import CommonTokenStream, InputStream
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
    from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException, SyntaxErrorListener
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
    from moto.stepfunctions.parser.asl.parse.test_state.preprocessor import TestStatePreprocessor

    class OutermostStatePreprocessor(TestStatePreprocessor):
        depth = 0

        def visitState_decl_body(self, ctx: Any) -> Any:  # noqa: N802 - ANTLR's visitor name
            self.depth += 1
            try:
                if self.depth == 1:
                    return super().visitState_decl_body(ctx)
                return Preprocessor.visitState_decl_body(self, ctx)
            finally:
                self.depth -= 1

    try:
        errors = SyntaxErrorListener()
        parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(json.dumps(state)))))
        parser.removeErrorListeners()
        parser.addErrorListener(errors)
        tree = parser.state_decl_body()
        if errors.errors:
            raise ASLParserException(errors=errors.errors)
        return OutermostStatePreprocessor().visit(tree)
    except Exception as exc:  # the parser raises bare ANTLR and value errors
        raise ApiError("InvalidDefinition", f"Invalid State Machine Definition: '{exc}'") from exc


def _needs_a_mock(state: dict[str, Any]) -> str | None:
    """Why AWS's TestState runs this state only with a mock, or None."""
    kind, resource = state.get("Type"), state.get("Resource")
    if kind in ("Map", "Parallel"):
        return f"a {kind} state"
    if kind == "Task" and isinstance(resource, str):
        if ":activity:" in resource:
            return "an Activity task"
        for pattern in (".sync", ".waitForTaskToken"):
            if pattern in resource:
                return f"the {pattern} integration pattern"
    return None


def _environment(request: dict[str, Any]) -> Any:
    from moto.stepfunctions.parser.api import StateMachineType
    from moto.stepfunctions.parser.asl.eval.evaluation_details import AWSExecutionDetails
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
    from moto.stepfunctions.parser.asl.eval.states import (
        ContextObjectData,
        ExecutionData,
        StateMachineData,
    )
    from moto.stepfunctions.parser.asl.eval.test_state.environment import TestStateEnvironment

    context = ContextObjectData(  # type: ignore[typeddict-item]  # State/Task/Map: set as it runs
        Execution=ExecutionData(
            Id=TEST_EXECUTION_ARN,
            Input=copy.deepcopy(request["input"]),
            Name="TestState",
            RoleArn=request["role_arn"],
            StartTime=datetime.datetime.now(tz=datetime.UTC).isoformat(),
        ),
        StateMachine=StateMachineData(Id=TEST_STATE_MACHINE_ARN, Name="TestStateMachine"),
    )
    _merge(context, request["context"])
    env = TestStateEnvironment(
        aws_execution_details=AWSExecutionDetails(
            account=ACCOUNT_ID, region=REGION, role_arn=request["role_arn"]
        ),
        execution_type=StateMachineType.STANDARD,
        context=context,
        event_history_context=EventHistoryContext.of_program_start(),
        activity_store={},
    )
    env.states.reset(input_value=copy.deepcopy(request["input"]))
    for name, value in request["variables"].items():
        env.variable_store.set(name, value)
    return env


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def _mocked_answer(mock: dict[str, Any]) -> Any:
    """What the mocked call does: push the result, or fail with the mocked error (a States.* name
    included, which moto's own mocked mode refuses as a custom error name)."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    def answer(env: Any) -> None:
        if "result" in mock:
            result = json.loads(mock["result"])
            env.stack.append(result)
            env.inspection_data["result"] = json.dumps(result)
            return
        error = mock["errorOutput"] or {}
        name, cause = error.get("error", ""), error.get("cause", "")
        try:
            error_name: Any = StatesErrorName.from_name(name)
        except ValueError:
            error_name = CustomErrorName(name)
        raise FailureEventException(
            failure_event=FailureEvent(
                env=env,
                error_name=error_name,
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(  # type: ignore[typeddict-item]  # one of its keys
                    taskFailedEventDetails=TaskFailedEventDetails(error=name, cause=cause)
                ),
            )
        )

    return answer


def _mock(state: Any, mock: dict[str, Any]) -> None:
    """On this one state object: a service Task's call answers the mock (its Parameters, events and
    result handling as usual); any other state (Map, Parallel, an Activity, a Lambda by function
    ARN) has the mock as its whole execution: no iteration, branch or call runs."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
        StateTaskService,
    )

    answer = _mocked_answer(mock)
    # A .sync or .waitForTaskToken Task would wait for its job or token after the call: with a
    # mock, the mock is that outcome.
    waits = any(
        p in getattr(getattr(state, "resource", None), "resource_arn", "") for p in (".sync", ".waitFor")
    )
    if isinstance(state, StateTaskService) and not waits:
        state._eval_service_task = lambda env, *_args, **_kwargs: answer(env)  # type: ignore[method-assign]
    else:
        state._eval_execution = answer


def _decide_retry_and_catch_once(state: Any, retry_count: int, decided: dict[str, Any]) -> None:
    """Replace, on this one state object, moto's retry loop (which sleeps and re-runs) by AWS's
    TestState rule: a matching retrier with attempts left ends the test as RETRIABLE."""
    from moto.stepfunctions.parser.asl.component.common.catch.catch_outcome import CatchOutcome
    from moto.stepfunctions.parser.asl.component.common.retry.retry_outcome import RetryOutcome

    if getattr(state, "retry", None) is not None:

        def handle_retry(env: Any, failure_event: Any) -> Any:
            for index, retrier in enumerate(state.retry.retriers):
                env.stack.append(failure_event.error_name)
                retrier.error_equals.eval(env)
                if not env.stack.pop():
                    continue
                if retry_count >= retrier.max_attempts.attempts:
                    return RetryOutcome.CannotRetry  # exhausted: on to Catch, as AWS does
                delay = retrier.interval_seconds.seconds * retrier.backoff_rate.rate**retry_count
                cap = retrier.max_delay_seconds.max_delays_seconds
                decided["retry"] = (index, int(min(delay, cap)))
                raise _RetryDecided(index, int(min(delay, cap)))
            return RetryOutcome.NoRetrier

        state._handle_retry = handle_retry

    if getattr(state, "catch", None) is not None:
        original_catch = state._handle_catch

        def handle_catch(env: Any, failure_event: Any) -> None:
            original_catch(env, failure_event)
            if env.stack[-1] != CatchOutcome.Caught:
                return
            for index, catcher in enumerate(state.catch.catchers):
                env.stack.append(failure_event.error_name)
                catcher.error_equals.eval(env)
                if env.stack.pop():
                    details: dict[str, Any] = next(iter(failure_event.event_details.values()), {})
                    decided["catch_index"] = index
                    decided["caught"] = (details.get("error", ""), details.get("cause", ""))
                    return

        state._handle_catch = handle_catch


def _outcome(
    env: Any, program: Any, level: str, decided: dict[str, Any], request_variables: dict[str, Any]
) -> dict[str, Any]:
    from moto.stepfunctions.parser.asl.eval.program_state import (
        ProgramEnded,
        ProgramError,
        ProgramRunning,
        ProgramTimedOut,
    )
    from moto.stepfunctions.parser.asl.eval.test_state.program_state import ProgramChoiceSelected

    state_name = program.test_state.name
    program_state = env.program_state()
    out: dict[str, Any] = {}
    error_details: dict[str, Any] = {}
    if "retry" in decided:
        index, backoff = decided["retry"]
        error_output = env.states.get_error_output() or {}
        out.update(
            status="RETRIABLE", error=error_output.get("Error", ""), cause=error_output.get("Cause", "")
        )
        error_details = {"retryIndex": index, "retryBackoffIntervalSeconds": backoff}
    elif isinstance(program_state, ProgramError):
        error = program_state.error or {}
        out.update(status="FAILED", error=error.get("error", ""), cause=error.get("cause", ""))
    elif isinstance(program_state, ProgramTimedOut):
        out.update(status="FAILED", error="States.Timeout", cause="TestState ran for more than 5 minutes")
    elif isinstance(program_state, ProgramChoiceSelected):
        out.update(status="SUCCEEDED", nextState=program_state.next_state_name)
        out["output"] = json.dumps(env.states.get_input())
    elif "catch_index" in decided:
        error, cause = decided["caught"]
        out.update(
            status="CAUGHT_ERROR",
            nextState=env.next_state_name,
            error=error,
            cause=cause,
            output=json.dumps(env.states.get_input()),
        )
        error_details = {"catchIndex": decided["catch_index"]}
    elif isinstance(program_state, (ProgramEnded, ProgramRunning)):
        out.update(status="SUCCEEDED", output=json.dumps(env.states.get_input()))
        if isinstance(program_state, ProgramRunning) and env.next_state_name != state_name:
            out["nextState"] = env.next_state_name
    else:
        out.update(
            status="FAILED", error="States.Runtime", cause=f"unexpected end: {type(program_state).__name__}"
        )
    if level in ("DEBUG", "TRACE"):
        inspection = dict(env.inspection_data)
        if out["status"] == "SUCCEEDED" and program.test_state.input_path is not None:
            _fill_unchanged_steps(inspection, program.test_state)
        # AWS: the variables after the state ran, the test's own and those the state assigned.
        # (moto's store resets its "assigned" tracing as the state exits: read the scope itself.)
        variables = {**request_variables, **env.variable_store._inner_scope}
        if variables:
            inspection["variables"] = json.dumps(variables)
        if error_details:
            inspection["errorDetails"] = error_details
        out["inspectionData"] = inspection
    return out


# JSONPath's data flow, in order: a step the state does not declare hands on what it was given,
# and AWS reports it all the same (moto records only the steps a state declares).
_DATA_FLOW = ("input", "afterInputPath", "afterParameters", "result", "afterResultSelector")


def _fill_unchanged_steps(inspection: dict[str, Any], state: Any) -> None:
    steps = _DATA_FLOW if type(state).__name__.startswith(("StateTask", "StatePass")) else _DATA_FLOW[:2]
    for before, step in zip(steps, steps[1:], strict=False):
        if step not in inspection and before in inspection:
            inspection[step] = inspection[before]


def test_state(body: dict[str, Any]) -> dict[str, Any]:
    """The TestState action: one state run once on moto's interpreter components."""
    state, state_name = _state_to_test(body)
    request = _validated_request(body)
    if request["mock"] is not None:
        _validate_mocked_result(state, request["mock"])
    elif reason := _needs_a_mock(state):
        # AWS's wording of this refusal is not documented; the code and message are our choice.
        raise ApiError("ValidationException", f"TestState runs {reason} only with a mock")
    program = _parse(state)
    if request["mock"] is not None:
        _mock(program.test_state, request["mock"])
    program.test_state.name = state_name  # mocks, $$.State.Name and Next resolve by this name
    decided: dict[str, Any] = {}
    _decide_retry_and_catch_once(program.test_state, request["retry_count"], decided)
    env = _environment(request)
    program.eval(env)  # moto's TestStateProgram: its own thread, AWS's 5-minute limit
    return _outcome(env, program, request["level"], decided, request["variables"])


# pytest would collect a module-level function named test_*; this is an API, not a test.
test_state.__test__ = False  # type: ignore[attr-defined]
