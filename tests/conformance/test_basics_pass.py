"""Pass: Result, ResultPath, Parameters, InputPath and OutputPath (null included).

AWS: Step Functions developer guide, "Pass workflow state" and "Processing input and output in
Step Functions" (InputPath, Parameters, ResultSelector, ResultPath, OutputPath)."""

from __future__ import annotations

from typing import Any


def one_pass(**fields: Any) -> dict[str, Any]:
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True, **fields}}}


def test_pass_without_result_passes_its_input_through(aws):
    """Developer guide, "Pass workflow state": without Result the input is the output."""
    run = aws.run(one_pass(), {"a": 1})
    assert (run.status, run.output) == ("SUCCEEDED", {"a": 1})


def test_pass_result_replaces_the_input_when_result_path_is_absent(aws):
    """Developer guide, "ResultPath": the default `$` makes the result the whole output."""
    run = aws.run(one_pass(Result={"x": 1}), {"a": 1})
    assert run.output == {"x": 1}


def test_pass_result_path_nests_into_new_objects(aws):
    """Developer guide, "ResultPath": a path to a field that does not exist creates it."""
    run = aws.run(one_pass(Result="r", ResultPath="$.deep.er"), {"a": 1})
    assert run.output == {"a": 1, "deep": {"er": "r"}}


def test_pass_result_path_null_discards_the_result(aws):
    """Developer guide, "ResultPath": `null` discards the result and keeps the input."""
    run = aws.run(one_pass(Result={"x": 1}, ResultPath=None), {"a": 1})
    assert run.output == {"a": 1}


def test_pass_parameters_select_from_the_input_with_dot_dollar_keys(aws):
    """Developer guide, "Parameters": keys ending in `.$` take the value of a path."""
    run = aws.run(
        one_pass(Parameters={"fixed": "f", "picked.$": "$.a.b", "list.$": "$.items[1]"}),
        {"a": {"b": 7}, "items": ["x", "y"]},
    )
    assert run.output == {"fixed": "f", "picked": 7, "list": "y"}


def test_pass_input_path_selects_what_the_state_sees(aws):
    """Developer guide, "InputPath": the state works on the selected part of its input."""
    run = aws.run(one_pass(InputPath="$.inner"), {"inner": {"v": 1}, "outer": 2})
    assert run.output == {"v": 1}


def test_pass_input_path_null_gives_an_empty_object(aws):
    """Developer guide, "InputPath": `null` discards the input; the state sees `{}`."""
    run = aws.run(one_pass(InputPath=None), {"a": 1})
    assert run.output == {}


def test_pass_result_path_applies_to_the_raw_input_not_the_input_path_selection(aws):
    """Developer guide, "ResultPath": the result is combined with the state's raw input, before
    InputPath selected from it."""
    run = aws.run(one_pass(InputPath="$.inner", Result=1, ResultPath="$.r"), {"inner": {"v": 1}, "a": 1})
    assert run.output == {"inner": {"v": 1}, "a": 1, "r": 1}


def test_pass_output_path_selects_what_goes_on(aws):
    """Developer guide, "OutputPath": only the selected part becomes the output."""
    run = aws.run(one_pass(Result=5, ResultPath="$.r", OutputPath="$.r"), {"a": 1})
    assert run.output == 5


def test_pass_output_path_null_sends_an_empty_object_on(aws):
    """Developer guide, "OutputPath": `null` sends `{}` on."""
    run = aws.run(one_pass(OutputPath=None), {"a": 1})
    assert run.output == {}


def test_pass_paths_apply_in_order_input_parameters_result_output(aws):
    """Developer guide, "Processing input and output": InputPath, then Parameters, then
    ResultPath against the state's original input, then OutputPath."""
    run = aws.run(
        one_pass(
            InputPath="$.in",
            Parameters={"seen.$": "$.v"},
            ResultPath="$.out",
            OutputPath="$.out",
        ),
        {"in": {"v": 3}, "other": 0},
    )
    assert run.output == {"seen": 3}


def test_pass_input_path_to_a_missing_field_fails_with_states_runtime(aws):
    """Developer guide, "Handling errors in Step Functions workflows": States.Runtime is an
    exception the execution could not process, such as applying InputPath to what is not there."""
    run = aws.run(one_pass(InputPath="$.missing"), {"a": 1})
    assert (run.status, run.error) == ("FAILED", "States.Runtime")


def test_pass_parameters_path_to_a_missing_field_fails(aws):
    """Developer guide, "Handling errors": States.ParameterPathFailure is listed for a Parameters
    path that cannot be replaced, yet AWS's recorded answers (LocalStack's snapshots, whose
    interpreter this is) are States.Runtime naming the field; we cannot tell which AWS gives
    today. Our choice: States.Runtime, with a cause naming the field and its path."""
    run = aws.run(one_pass(Parameters={"x.$": "$.missing"}), {"a": 1})
    assert (run.status, run.error) == ("FAILED", "States.Runtime")
    assert "'$.missing'" in (run.cause or "") and "'x.$'" in (run.cause or "")


def test_pass_result_path_into_a_number_fails_with_result_path_match_failure(aws):
    """Developer guide, "Handling errors": States.ResultPathMatchFailure, Step Functions failed
    to apply a state's ResultPath field to the input the state received."""
    run = aws.run(one_pass(Result=1, ResultPath="$.a.b"), {"a": 1})
    assert (run.status, run.error) == ("FAILED", "States.ResultPathMatchFailure")


def test_pass_result_path_into_an_array_input_fails_with_result_path_match_failure(aws):
    run = aws.run(one_pass(Result=1, ResultPath="$.r"), [1, 2])
    assert (run.status, run.error) == ("FAILED", "States.ResultPathMatchFailure")


def test_pass_history_has_entered_and_exited_events_with_the_data(aws):
    """API reference, GetExecutionHistory / HistoryEvent: PassStateEntered carries the input,
    PassStateExited the output."""
    run = aws.run(one_pass(Result={"x": 1}, ResultPath="$.r"), {"a": 1})
    types = [e["type"] for e in run.events]
    assert types == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    entered, exited = run.events[1], run.events[2]
    assert entered["stateEnteredEventDetails"]["name"] == "P"
    assert exited["stateExitedEventDetails"]["name"] == "P"
