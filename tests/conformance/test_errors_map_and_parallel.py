"""An error leaving a Parallel branch or a Map iteration reaches the Parallel or Map state under
its own name and with its own cause, so the state's Retry and Catch see what the branch saw.

AWS: Step Functions developer guide, "Parallel workflow state" ("If any branch fails, because of
an unhandled error or by transitioning to a Fail state, the entire Parallel state fails") and
"Map workflow state" / "Handling errors in Step Functions workflows" (an iteration's failure
fails the Map state with that error).
"""

from __future__ import annotations

from typing import Any

import pytest

LOSE = {
    "StartAt": "Lose",
    "States": {"Lose": {"Type": "Fail", "Error": "Game.Lost", "Cause": "out of moves"}},
}


def slow_task(aws) -> dict[str, Any]:
    """A branch whose Lambda task overruns its TimeoutSeconds: States.Timeout."""
    return {
        "StartAt": "Think",
        "States": {
            "Think": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": aws.handler_arn, "Payload": {"sleep": 3, "return": 1}},
                "TimeoutSeconds": 1,
                "End": True,
            }
        },
    }


def raising_task(aws) -> dict[str, Any]:
    """A branch whose Lambda raises Game.Forfeit: the handler's exception name is the error."""
    return {
        "StartAt": "Move",
        "States": {
            "Move": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": aws.handler_arn,
                    "Payload": {"raise": "Game.Forfeit", "message": "gave up"},
                },
                "End": True,
            }
        },
    }


def parallel(branch: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "Parallel",
        "Branches": [{"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}, branch],
    }


def inline_map(branch: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": branch}


def caught_by(state: dict[str, Any]) -> dict[str, Any]:
    state = dict(state, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Handled"}], End=True)
    return {"StartAt": "Fan", "States": {"Fan": state, "Handled": {"Type": "Pass", "End": True}}}


@pytest.mark.parametrize("container", [parallel, inline_map], ids=["parallel", "map"])
def test_a_fail_state_in_a_branch_fails_the_state_with_its_error_and_cause(aws, container):
    run = aws.run({"StartAt": "Fan", "States": {"Fan": dict(container(LOSE), End=True)}}, {"items": [1, 2]})
    assert (run.status, run.error, run.cause) == ("FAILED", "Game.Lost", "out of moves")


@pytest.mark.parametrize("container", [parallel, inline_map], ids=["parallel", "map"])
def test_a_catch_on_the_state_receives_the_branch_error_output(aws, container):
    run = aws.run(caught_by(container(LOSE)), {"items": [1]})
    assert run.status == "SUCCEEDED"
    assert run.output == {"Error": "Game.Lost", "Cause": "out of moves"}


@pytest.mark.parametrize("container", [parallel, inline_map], ids=["parallel", "map"])
def test_a_task_timeout_in_a_branch_arrives_as_states_timeout(aws, container):
    run = aws.run(caught_by(container(slow_task(aws))), {"items": [1]})
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output["Error"] == "States.Timeout"


@pytest.mark.parametrize("container", [parallel, inline_map], ids=["parallel", "map"])
def test_a_lambda_error_in_a_branch_arrives_under_the_exception_name(aws, container):
    run = aws.run(caught_by(container(raising_task(aws))), {"items": [1]})
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output["Error"] == "Game.Forfeit"
    assert "gave up" in run.output["Cause"]


@pytest.mark.parametrize("container", [parallel, inline_map], ids=["parallel", "map"])
def test_a_retry_on_the_state_matches_the_branch_error(aws, container):
    """Developer guide, "Handling errors in Step Functions workflows": a Retrier on a Parallel
    or Map state retries the whole state when its ErrorEquals matches the branch's error."""
    state = dict(
        container(LOSE),
        Retry=[{"ErrorEquals": ["Game.Lost"], "IntervalSeconds": 1, "MaxAttempts": 1}],
        End=True,
    )
    run = aws.run({"StartAt": "Fan", "States": {"Fan": state}}, {"items": [1]})
    assert (run.status, run.error) == ("FAILED", "Game.Lost")
    entered = run.states_entered()
    assert entered.count("Lose") == 2, entered  # the first try and one retry


def distributed_map(**tolerance: Any) -> dict[str, Any]:
    """A Distributed Map over $.items whose iteration fails (Game.Lost) on the item "bad"."""
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "IsBad",
        "States": {
            "IsBad": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "StringEquals": "bad", "Next": "Lose"}],
                "Default": "Play",
            },
            "Lose": {"Type": "Fail", "Error": "Game.Lost", "Cause": "a bad move"},
            "Play": {"Type": "Pass", "End": True},
        },
    }
    state = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "End": True, **tolerance}
    return {"StartAt": "Fan", "States": {"Fan": state}}


def test_a_distributed_map_within_its_tolerated_failure_count_succeeds(aws):
    """Developer guide, "Setting failure thresholds for Distributed Map states": the run goes on
    while the failed items do not exceed ToleratedFailureCount. What a failed item contributes
    to the output (without a ResultWriter) the guide does not say; our choice: its error output."""
    run = aws.run(distributed_map(ToleratedFailureCount=1), {"items": ["ok", "bad", "ok"]})
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output == ["ok", {"Error": "Game.Lost", "Cause": "a bad move"}, "ok"]


def test_a_distributed_map_past_its_tolerated_failure_count_fails_with_exceed_threshold(aws):
    """Developer guide, "Setting failure thresholds for Distributed Map states" and "Handling
    errors in Step Functions workflows" (States.ExceedToleratedFailureThreshold)."""
    run = aws.run(distributed_map(ToleratedFailureCount=1), {"items": ["bad", "ok", "bad"]})
    assert (run.status, run.error) == ("FAILED", "States.ExceedToleratedFailureThreshold"), run.describe()


def test_a_distributed_map_past_its_tolerated_failure_percentage_fails_with_exceed_threshold(aws):
    """Developer guide, "Setting failure thresholds for Distributed Map states": 2 failed of 4
    items is 50 %, over a 30 % tolerance. (Written 30.0: moto's parser refuses the integer 30,
    which AWS accepts; a validation matter, not this part's.)"""
    run = aws.run(distributed_map(ToleratedFailurePercentage=30.0), {"items": ["bad", "ok", "bad", "ok"]})
    assert (run.status, run.error) == ("FAILED", "States.ExceedToleratedFailureThreshold"), run.describe()


def test_a_distributed_map_without_tolerance_fails_at_its_first_failed_item(aws):
    """API reference, DescribeMapRun (ToleratedFailureCount: "the maximum number of failed child
    workflow executions before the Map Run fails", 0 unless set) and developer guide, "Setting
    failure thresholds for Distributed Map states": with no threshold one failed item fails the
    Map Run, so the Map state fails with States.ExceedToleratedFailureThreshold (not the item's
    own error, which an inline Map reports)."""
    run = aws.run(distributed_map(), {"items": ["ok", "bad"]})
    assert (run.status, run.error) == ("FAILED", "States.ExceedToleratedFailureThreshold"), run.describe()
    assert run.cause and "1 of 2 items failed" in run.cause


def test_a_fail_state_raises_a_caught_states_error_again(aws):
    """Developer guide, "Fail workflow state": `ErrorPath` takes the error name from the state's
    input, such as the error a Catch put there. Whether a Fail state may raise a `States.` name
    the guide does not say; our choice: raising a caught States.Timeout again ends the execution
    with States.Timeout (moto's interpreter made it States.Runtime)."""
    task = {key: value for key, value in slow_task(aws)["States"]["Think"].items() if key != "End"}
    task["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Rethrow"}]
    task["Next"] = "Done"
    definition = {
        "StartAt": "Think",
        "States": {
            "Think": task,
            "Rethrow": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
            "Done": {"Type": "Succeed"},
        },
    }
    run = aws.run(definition)
    assert (run.status, run.error) == ("FAILED", "States.Timeout"), run.describe()
