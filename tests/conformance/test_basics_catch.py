"""Catch: the error output {Error, Cause} and its ResultPath, the order of catchers, States.ALL,
a catch after the retries.

AWS: Step Functions developer guide, "Handling errors in Step Functions workflows" (Fallback
states, Error output, "Handling a failure using Catch")."""

from __future__ import annotations

from typing import Any


def caught(catch: list[dict[str, Any]], failing: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Parallel whose only branch fails with error Broken, cause "it broke"; catchers lead to
    states named after them, which pass their input on."""
    failing = failing or {"Type": "Fail", "Error": "Broken", "Cause": "it broke"}
    targets = {c["Next"] for c in catch}
    return {
        "StartAt": "Try",
        "States": {
            "Try": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "Fails", "States": {"Fails": failing}}],
                "Catch": catch,
                "End": True,
            },
            **{t: {"Type": "Pass", "Result": t, "ResultPath": "$.caughtBy", "End": True} for t in targets},
        },
    }


def test_catch_without_result_path_replaces_the_input_with_the_error_output(aws):
    run = aws.run(caught([{"ErrorEquals": ["Broken"], "Next": "Handled"}]), {"original": 1})
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output == {"Error": "Broken", "Cause": "it broke", "caughtBy": "Handled"}


def test_catch_result_path_puts_the_error_output_beside_the_input(aws):
    run = aws.run(
        caught([{"ErrorEquals": ["Broken"], "ResultPath": "$.error", "Next": "Handled"}]), {"original": 1}
    )
    assert run.output == {
        "original": 1,
        "error": {"Error": "Broken", "Cause": "it broke"},
        "caughtBy": "Handled",
    }


def test_catch_takes_the_first_catcher_whose_errors_match(aws):
    run = aws.run(
        caught(
            [
                {"ErrorEquals": ["Other"], "Next": "ByOther"},
                {"ErrorEquals": ["Broken", "Else"], "Next": "ByBroken"},
                {"ErrorEquals": ["States.ALL"], "Next": "ByAll"},
            ]
        )
    )
    assert run.output["caughtBy"] == "ByBroken"


def test_catch_states_all_takes_any_error(aws):
    run = aws.run(
        caught(
            [{"ErrorEquals": ["Other"], "Next": "ByOther"}, {"ErrorEquals": ["States.ALL"], "Next": "ByAll"}]
        )
    )
    assert run.output["caughtBy"] == "ByAll"


def test_catch_that_names_no_matching_error_lets_the_execution_fail(aws):
    run = aws.run(caught([{"ErrorEquals": ["Other"], "Next": "ByOther"}]))
    assert (run.status, run.error, run.cause) == ("FAILED", "Broken", "it broke")


def test_catch_states_task_failed_takes_a_lambda_error(aws):
    """Developer guide, "Handling errors": States.TaskFailed matches any error of a Task except
    States.Timeout."""
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": aws.handler_arn,
                    "Payload": {"raise": "Custom", "message": "m"},
                },
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Handled"}],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    run = aws.run(definition)
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output["error"]["Error"] == "Custom"


def test_catch_after_the_retries_are_spent(aws):
    """Developer guide, "Handling errors": a Catch applies once the retriers give up."""
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": aws.handler_arn,
                    "Payload": {"raise": "Flaky", "message": "m"},
                },
                "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 1, "IntervalSeconds": 1}],
                "Catch": [{"ErrorEquals": ["Flaky"], "ResultPath": "$.error", "Next": "Handled"}],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    run = aws.run(definition)
    assert run.status == "SUCCEEDED", run.describe()
    assert sum(1 for e in run.events if e["type"] == "TaskScheduled") == 2
    assert run.output["error"]["Error"] == "Flaky"


def test_fail_state_error_path_and_cause_path_read_the_input(aws):
    """Developer guide, "Fail workflow state": ErrorPath and CausePath select the error and
    the cause from the input."""
    definition = {"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}}}
    run = aws.run(definition, {"e": "Chosen", "c": "because"})
    assert (run.status, run.error, run.cause) == ("FAILED", "Chosen", "because")


def test_catch_states_all_does_not_take_a_runtime_error(aws):
    """Developer guide, "Handling errors in Step Functions workflows": States.ALL "can't catch the
    States.DataLimitExceeded terminal error or Runtime error types"; a ResultSelector path to a
    field the result does not have is a States.Runtime error, so the execution fails past the
    catcher."""
    run = aws.run(
        {
            "StartAt": "Call",
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": aws.handler_arn, "Payload": {"return": {"a": 1}}},
                    "ResultSelector": {"b.$": "$.Payload.missing"},
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                    "End": True,
                },
                "Caught": {"Type": "Succeed"},
            },
        },
        {"a": 1},
    )
    assert (run.status, run.error) == ("FAILED", "States.Runtime"), run.describe()
    assert "Caught" not in run.states_entered()
