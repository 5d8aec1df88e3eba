"""Canaries of the moto patches the conformance suite's basics found (tests/conformance/
test_basics_*.py): each runs moto without its patch and reproduces the bug, and beside it the
same scenario with the patch shows AWS's behaviour. See test_moto_patches.py for the pattern."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from moto import mock_aws

from tests.functional.branches.conftest import poll
from tests.unit.test_moto_patches import (
    EXECUTING,
    client,
    echo_function,
    finished,
    fixed_upstream,
    state_machine,
    with_patch,
    without,
)


def _unique() -> str:
    return uuid.uuid4().hex[:12]


def _run(definition: dict[str, Any], execution_input: Any = None) -> dict[str, Any]:
    """Runs a new machine once (named: moto names an unnamed execution None)."""
    arn = state_machine(definition, name=_unique())
    started = client("stepfunctions").start_execution(
        stateMachineArn=arn,
        name=_unique(),
        input=json.dumps({} if execution_input is None else execution_input),
    )
    return finished(started["executionArn"])


# --- stepfunctions_no_choice_matched -------------------------------------------------------------

NO_DEFAULT = {
    "StartAt": "Decide",
    "States": {
        "Decide": {"Type": "Choice", "Choices": [{"Variable": "$.s", "StringEquals": "a", "Next": "Yes"}]},
        "Yes": {"Type": "Succeed"},
    },
}


def test_canary_stepfunctions_no_choice_matched() -> None:
    with without("stepfunctions_no_choice_matched"), mock_aws(config=EXECUTING):
        execution = _run(NO_DEFAULT, {"s": "b"})
    assert execution["error"] == "States.Runtime", fixed_upstream("stepfunctions_no_choice_matched")


def test_stepfunctions_no_choice_matched_names_the_error_as_aws() -> None:
    with with_patch("stepfunctions_no_choice_matched"), mock_aws(config=EXECUTING):
        unmatched = _run(NO_DEFAULT, {"s": "b"})
        matched = _run(NO_DEFAULT, {"s": "a"})
    assert (unmatched["status"], unmatched["error"]) == ("FAILED", "States.NoChoiceMatched")
    assert "Decide" in unmatched["cause"]
    assert matched["status"] == "SUCCEEDED"


# --- stepfunctions_wait_until --------------------------------------------------------------------


def _wait_until_a_second_away() -> tuple[datetime, datetime]:
    """Waits until a whole second 1-2 s ahead; returns (that time, when the Wait was left)."""
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    definition = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Timestamp": until.strftime("%Y-%m-%dT%H:%M:%SZ"), "End": True}},
    }
    execution = _run(definition)
    events = client("stepfunctions").get_execution_history(executionArn=execution["executionArn"])["events"]
    exited = next(e["timestamp"] for e in events if e["type"] == "WaitStateExited")
    return until, exited


def test_canary_stepfunctions_wait_until() -> None:
    # moto truncates the remaining wait to whole seconds: it leaves up to a second early.
    with without("stepfunctions_wait_until"), mock_aws(config=EXECUTING):
        leaves = [_wait_until_a_second_away() for _ in range(2)]
    assert any(exited < until for until, exited in leaves), fixed_upstream("stepfunctions_wait_until")


def test_stepfunctions_wait_until_leaves_at_the_timestamp() -> None:
    with with_patch("stepfunctions_wait_until"), mock_aws(config=EXECUTING):
        until, exited = _wait_until_a_second_away()
    assert until <= exited < until + timedelta(seconds=1)


def test_stepfunctions_wait_until_a_fraction_of_a_second_ends() -> None:
    from arcadeflow.aws.moto_patches.stepfunctions_wait_until import parsed_utc

    assert parsed_utc("2026-01-02T03:04:05.250Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parsed_utc("2026-01-02T04:04:05+01:00") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parsed_utc("2026-13-02T03:04:05Z") is None
    assert parsed_utc("2026-01-02 03:04:05") is None
    soon = (datetime.now(UTC) + timedelta(milliseconds=300)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    with with_patch("stepfunctions_wait_until"), mock_aws(config=EXECUTING):
        execution = _run({"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": soon, "End": True}}})
    assert execution["status"] == "SUCCEEDED"


# --- stepfunctions_string_output -----------------------------------------------------------------

STRING_RESULT = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "yes", "End": True}}}


def test_canary_stepfunctions_string_output() -> None:
    with without("stepfunctions_string_output"), mock_aws(config=EXECUTING):
        execution = _run(STRING_RESULT)
    assert execution["output"] == "yes", fixed_upstream("stepfunctions_string_output")


def test_stepfunctions_string_output_is_json_text() -> None:
    with with_patch("stepfunctions_string_output"), mock_aws(config=EXECUTING):
        string = _run(STRING_RESULT)
        mapping = _run({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": "b"}, "End": True}}})
    assert json.loads(string["output"]) == "yes"
    assert json.loads(mapping["output"]) == {"a": "b"}


# --- stepfunctions_string_matches ----------------------------------------------------------------


def _string_matches(value: str, pattern: str) -> bool:
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations import (
        string_operators,
    )

    return bool(string_operators.StringMatches._compare(value, pattern))


def test_canary_stepfunctions_string_matches() -> None:
    with without("stepfunctions_string_matches"):
        answers = (_string_matches("a*b", "a\\*b"), _string_matches("abc", "a?c"))
    assert answers == (False, True), fixed_upstream("stepfunctions_string_matches")


def test_stepfunctions_string_matches_as_aws_defines_it() -> None:
    with with_patch("stepfunctions_string_matches"):
        assert _string_matches("a*b", "a\\*b")
        assert not _string_matches("axb", "a\\*b")
        assert not _string_matches("abc", "a?c")
        assert _string_matches("[x]y", "[x]*")
        assert _string_matches("log-2026.txt", "log-*.txt")
        assert _string_matches("a\\b", "a\\\\b")
        assert not _string_matches("log-2026.csv", "log-*.txt")
        assert not _string_matches(1, "*")  # type: ignore[arg-type]


# --- stepfunctions_heartbeats --------------------------------------------------------------------


def _callback(function: str, heartbeat_seconds: int | None) -> dict[str, Any]:
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": function, "Payload": {"token.$": "$$.Task.Token"}},
        "TimeoutSeconds": 5,
        "End": True,
    }
    if heartbeat_seconds is not None:
        task["HeartbeatSeconds"] = heartbeat_seconds
    return {"StartAt": "T", "States": {"T": task}}


def _heartbeat_without_heartbeat_seconds(function: str) -> str:
    """SendTaskHeartbeat to a waiting task that has no HeartbeatSeconds: the answer's code."""
    sfn = client("stepfunctions")
    machine = state_machine(_callback(function, None), name=_unique())
    arn = sfn.start_execution(stateMachineArn=machine, name=_unique())["executionArn"]

    def token() -> str | None:
        for event in sfn.get_execution_history(executionArn=arn)["events"]:
            if event["type"] == "TaskSubmitted":  # the task's request returned: it waits now
                return str(json.loads(event["taskSubmittedEventDetails"]["output"])["Payload"]["token"])
        return None

    task_token = poll(token, "the callback task to be submitted", timeout=10)
    try:
        sfn.send_task_heartbeat(taskToken=task_token)
        answer = "OK"
    except ClientError as exc:
        answer = exc.response["Error"]["Code"]
    sfn.send_task_success(taskToken=task_token, output="{}")
    return answer


def test_canary_stepfunctions_heartbeats() -> None:
    with without("stepfunctions_heartbeats"), mock_aws(config=EXECUTING):
        function = echo_function()
        missed = _run(_callback(function, 1))
        answer = _heartbeat_without_heartbeat_seconds(function)
    assert (missed["error"], answer) == ("States.Timeout", "InvalidToken"), fixed_upstream(
        "stepfunctions_heartbeats"
    )


def test_stepfunctions_heartbeats_as_aws() -> None:
    with with_patch("stepfunctions_heartbeats"), mock_aws(config=EXECUTING):
        function = echo_function()
        missed = _run(_callback(function, 1))
        answer = _heartbeat_without_heartbeat_seconds(function)
    assert (missed["status"], missed["error"]) == ("FAILED", "States.HeartbeatTimeout")
    assert answer == "OK"


# --- stepfunctions_task_output_errors (an interceptor) --------------------------------------------


def _send_output_that_is_not_json(function: str) -> tuple[str, dict[str, Any]]:
    """SendTaskSuccess("{not json") to a waiting task: the answer's code and how it ended."""
    sfn = client("stepfunctions")
    machine = state_machine(_callback(function, None), name=_unique())
    arn = sfn.start_execution(stateMachineArn=machine, name=_unique())["executionArn"]

    def token() -> str | None:
        for event in sfn.get_execution_history(executionArn=arn)["events"]:
            if event["type"] == "TaskSubmitted":
                return str(json.loads(event["taskSubmittedEventDetails"]["output"])["Payload"]["token"])
        return None

    task_token = poll(token, "the callback task to be submitted", timeout=10)
    try:
        sfn.send_task_success(taskToken=task_token, output="{not json")
        answer = "OK"
    except ClientError as exc:
        answer = exc.response["Error"]["Code"]
    return answer, finished(arn)


def test_canary_stepfunctions_task_output_errors() -> None:
    with mock_aws(config=EXECUTING):
        answer, execution = _send_output_that_is_not_json(echo_function())
    assert answer == "OK", fixed_upstream("stepfunctions_task_output_errors")
    assert execution["status"] == "FAILED"  # the task, told "OK", fails parsing the output


def test_stepfunctions_task_output_errors_refuses_what_is_not_json() -> None:
    from arcadeflow.aws.moto_patches import REGISTRY

    forwarded: list[bytes] = []
    intercept = REGISTRY.get("stepfunctions_task_output_errors").interceptor(  # type: ignore[misc]
        lambda environ, body: forwarded.append(body) or (200, {}, b"{}")
    )
    environ = {"HTTP_X_AMZ_TARGET": "AWSStepFunctions.SendTaskSuccess"}
    refused = intercept(environ, json.dumps({"taskToken": "t", "output": "{not json"}).encode())
    assert refused is not None and refused[0] == 400
    assert json.loads(refused[2])["__type"] == "InvalidOutput"
    assert intercept(environ, json.dumps({"taskToken": "t", "output": '{"ok": 1}'}).encode()) is None
    assert intercept({"HTTP_X_AMZ_TARGET": "AWSStepFunctions.SendTaskFailure"}, b'{"output": "x"}') is None


# --- stepfunctions_choice_missing_variable -------------------------------------------------------

COMPARES_A_FIELD = {
    "StartAt": "Decide",
    "States": {
        "Decide": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.missing", "StringEquals": "a", "Next": "Yes"}],
            "Default": "No",
        },
        "Yes": {"Type": "Succeed"},
        "No": {"Type": "Succeed"},
    },
}


def test_canary_stepfunctions_choice_missing_variable() -> None:
    with without("stepfunctions_choice_missing_variable"), mock_aws(config=EXECUTING):
        execution = _run(COMPARES_A_FIELD, {})
    assert execution["status"] == "SUCCEEDED", fixed_upstream("stepfunctions_choice_missing_variable")


def test_stepfunctions_choice_missing_variable_fails_as_aws() -> None:
    is_present = {**COMPARES_A_FIELD}
    is_present["States"] = {
        **COMPARES_A_FIELD["States"],
        "Decide": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.missing", "IsPresent": True, "Next": "Yes"}],
            "Default": "No",
        },
    }
    with with_patch("stepfunctions_choice_missing_variable"), mock_aws(config=EXECUTING):
        missing = _run(COMPARES_A_FIELD, {})
        present = _run(COMPARES_A_FIELD, {"missing": "a"})
        tested = _run(is_present, {})
    assert (missing["status"], missing["error"]) == ("FAILED", "States.Runtime")
    assert "$.missing" in missing["cause"]
    assert present["status"] == tested["status"] == "SUCCEEDED"


# --- stepfunctions_map_integer_percentage --------------------------------------------------------


def _distributed_map(**fields: Any) -> dict[str, Any]:
    """A Distributed Map whose every item fails."""
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Broken",
                    "States": {"Broken": {"Type": "Fail", "Error": "Bad"}},
                },
                "End": True,
                **fields,
            }
        },
    }


def test_canary_stepfunctions_map_integer_percentage() -> None:
    with without("stepfunctions_map_integer_percentage"), mock_aws(config=EXECUTING):
        try:
            state_machine(_distributed_map(ToleratedFailurePercentage=50), name=_unique())
            refused = ""
        except ClientError as exc:
            refused = str(exc)
    assert "ToleratedFailurePercentage" in refused, fixed_upstream("stepfunctions_map_integer_percentage")


def test_stepfunctions_map_integer_percentage_is_accepted() -> None:
    from arcadeflow.aws.moto_patches.stepfunctions_map_integer_percentage import decimal_percentages

    with with_patch("stepfunctions_map_integer_percentage"), mock_aws(config=EXECUTING):
        assert state_machine(_distributed_map(ToleratedFailurePercentage=50), name=_unique())
    assert json.loads(decimal_percentages('{"ToleratedFailurePercentage": 5}')) == {
        "ToleratedFailurePercentage": 5.0
    }
    assert decimal_percentages('{"Comment": "no percentage"}') == '{"Comment": "no percentage"}'


# --- stepfunctions_intrinsic_functions -----------------------------------------------------------


def _evaluate(expression: str, execution_input: Any) -> dict[str, Any]:
    return _run(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": expression}, "End": True}}},
        execution_input,
    )


ESCAPED = "States.Format('It\\'s {} \\{x\\}', $.v)"


def test_canary_stepfunctions_intrinsic_functions() -> None:
    with without("stepfunctions_intrinsic_functions"), mock_aws(config=EXECUTING):
        escaped = _evaluate(ESCAPED, {"v": 1})
        failing = _evaluate("States.StringToJson($.s)", {"s": "{not json"})
    # moto reads the literal as ending at the escaped quote: "It\\" comes out.
    assert json.loads(escaped["output"])["v"] != "It's 1 {x}", fixed_upstream(
        "stepfunctions_intrinsic_functions"
    )
    assert failing["error"] == "States.Runtime", fixed_upstream("stepfunctions_intrinsic_functions")


def test_stepfunctions_intrinsic_functions_as_the_guide() -> None:
    from arcadeflow.aws.moto_patches.stepfunctions_intrinsic_functions import (
        PLACEHOLDER,
        formatted,
        literal_pieces,
        with_null_arguments,
    )

    with with_patch("stepfunctions_intrinsic_functions"), mock_aws(config=EXECUTING):
        escaped = _evaluate(ESCAPED, {"v": 1})
        from_input = _evaluate("States.Format($.t, $.v)", {"t": "a {} b", "v": 2})
        failing = _evaluate("States.StringToJson($.s)", {"s": "{not json"})
    assert json.loads(escaped["output"]) == {"v": "It's 1 {x}"}
    assert json.loads(from_input["output"]) == {"v": "a 2 b"}
    assert (failing["status"], failing["error"]) == ("FAILED", "States.IntrinsicFailure")
    assert literal_pieces("a\\{{}") == ["a", "{", PLACEHOLDER]
    assert with_null_arguments("States.Array('a, null', null)") == (
        "States.Array('a, null', States.StringToJson('null'))"
    )
    assert formatted(literal_pieces("{}-{}"), ["x", "y"]) == "x-y"


# --- stepfunctions_result_path_failure -----------------------------------------------------------

INTO_A_NUMBER = {
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "End": True}},
}


def test_canary_stepfunctions_result_path_failure() -> None:
    with without("stepfunctions_result_path_failure"), mock_aws(config=EXECUTING):
        execution = _run(INTO_A_NUMBER, {"a": 1})
    assert execution["error"] == "States.Runtime", fixed_upstream("stepfunctions_result_path_failure")
    assert "TypeError" in execution["cause"]


def test_stepfunctions_result_path_failure_names_the_error_as_aws() -> None:
    with with_patch("stepfunctions_result_path_failure"), mock_aws(config=EXECUTING):
        number = _run(INTO_A_NUMBER, {"a": 1})
        array = _run(INTO_A_NUMBER, [1])
        fine = _run(INTO_A_NUMBER, {"a": {"c": 2}})
    assert number["error"] == array["error"] == "States.ResultPathMatchFailure"
    assert json.loads(fine["output"]) == {"a": {"c": 2, "b": 1}}
