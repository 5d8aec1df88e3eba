"""Map (inline): ItemsPath, ItemSelector, MaxConcurrency, ToleratedFailureCount/Percentage,
$$.Map.Item.Index/Value, ResultSelector, an empty array.

AWS: Step Functions developer guide, "Map state in inline mode", "ItemsPath", "ItemSelector",
"Tolerated failure threshold", "ResultSelector"."""

from __future__ import annotations

from typing import Any


def mapping(iterator: dict[str, Any], mode: str = "INLINE", **fields: Any) -> dict[str, Any]:
    config = {"Mode": mode} if mode == "INLINE" else {"Mode": mode, "ExecutionType": "STANDARD"}
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {"ProcessorConfig": config, **iterator},
                "End": True,
                **fields,
            }
        },
    }


IDENTITY = {"StartAt": "Same", "States": {"Same": {"Type": "Pass", "End": True}}}


def fail_when(condition: dict[str, Any]) -> dict[str, Any]:
    """An iterator that fails (error Bad) on items matching `condition`, else passes them."""
    return {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{**condition, "Next": "Broken"}],
                "Default": "Fine",
            },
            "Broken": {"Type": "Fail", "Error": "Bad", "Cause": "bad item"},
            "Fine": {"Type": "Pass", "End": True},
        },
    }


def test_map_runs_the_iterator_on_every_item_of_the_input_array_in_order(aws):
    run = aws.run(mapping(IDENTITY), [3, 1, 2])
    assert (run.status, run.output) == ("SUCCEEDED", [3, 1, 2])


def test_map_items_path_picks_the_array(aws):
    run = aws.run(mapping(IDENTITY, ItemsPath="$.items"), {"items": ["a", "b"], "other": 1})
    assert run.output == ["a", "b"]


def test_map_item_selector_builds_each_items_input_with_the_context_item(aws):
    """Developer guide, "ItemSelector": $$.Map.Item.Index and $$.Map.Item.Value, beside the
    state's input."""
    run = aws.run(
        mapping(
            IDENTITY,
            ItemsPath="$.items",
            ItemSelector={"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value", "tag.$": "$.tag"},
        ),
        {"items": ["a", "b"], "tag": "t"},
    )
    assert run.output == [{"index": 0, "value": "a", "tag": "t"}, {"index": 1, "value": "b", "tag": "t"}]


def test_map_result_selector_and_result_path_shape_the_output(aws):
    run = aws.run(
        mapping(IDENTITY, ItemsPath="$.items", ResultSelector={"first.$": "$[0]"}, ResultPath="$.out"),
        {"items": [5, 6]},
    )
    assert run.output == {"items": [5, 6], "out": {"first": 5}}


def test_map_of_an_empty_array_succeeds_with_an_empty_array(aws):
    run = aws.run(mapping(IDENTITY), [])
    assert (run.status, run.output) == ("SUCCEEDED", [])
    assert "MapStateSucceeded" in [e["type"] for e in run.events]


def test_map_items_path_to_something_not_an_array_fails(aws):
    """Developer guide, "ItemsPath": the path must select a JSON array. The guide does not name
    the error of one that does not, and we cannot tell what AWS answers: our choice is the
    interpreter's (LocalStack's), States.QueryEvaluationError."""
    run = aws.run(mapping(IDENTITY, ItemsPath="$.items"), {"items": {"not": "an array"}})
    assert (run.status, run.error) == ("FAILED", "States.QueryEvaluationError")


def test_map_max_concurrency_one_runs_the_items_one_after_another(aws):
    """Developer guide, "Map state in inline mode": MaxConcurrency 1 runs one iteration at a
    time, in order. Each iteration waits a second, so iterations running together would both
    start before either succeeds."""
    iterator = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 1, "End": True}}}
    run = aws.run(mapping(iterator, MaxConcurrency=1), [0, 1])
    assert run.status == "SUCCEEDED"
    order = [e["type"] for e in run.events if e["type"] in ("MapIterationStarted", "MapIterationSucceeded")]
    assert order == ["MapIterationStarted", "MapIterationSucceeded"] * 2
    indexes = [
        e["mapIterationStartedEventDetails"]["index"]
        for e in run.events
        if e["type"] == "MapIterationStarted"
    ]
    assert indexes == [0, 1]


def test_map_without_max_concurrency_runs_the_items_together(aws):
    iterator = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 1, "End": True}}}
    run = aws.run(mapping(iterator), [0, 1])
    order = [e["type"] for e in run.events if e["type"] in ("MapIterationStarted", "MapIterationSucceeded")]
    assert order[:2] == ["MapIterationStarted", "MapIterationStarted"]


def test_map_history_names_the_map_and_its_iterations(aws):
    run = aws.run(mapping(IDENTITY), ["a", "b"])
    types = [e["type"] for e in run.events]
    assert types[:3] == ["ExecutionStarted", "MapStateEntered", "MapStateStarted"]
    started = next(e for e in run.events if e["type"] == "MapStateStarted")
    assert started["mapStateStartedEventDetails"]["length"] == 2
    assert types.count("MapIterationStarted") == 2 and types.count("MapIterationSucceeded") == 2
    assert types[-3:] == ["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]


def test_map_fails_when_an_iteration_fails_without_a_tolerance(aws):
    """Developer guide, "Map state in inline mode": one failed iteration fails the Map with that
    iteration's error."""
    run = aws.run(mapping(fail_when({"Variable": "$", "NumericEquals": 2})), [1, 2, 3])
    assert (run.status, run.error) == ("FAILED", "Bad")
    assert "MapIterationFailed" in [e["type"] for e in run.events]


# Tolerated failures: the guide documents them for Distributed mode ("Setting failure thresholds
# for Distributed Map states"), items read from the state input here.


def test_distributed_map_tolerated_failure_count_lets_that_many_items_fail(aws):
    run = aws.run(
        mapping(
            fail_when({"Variable": "$", "NumericGreaterThan": 2}), "DISTRIBUTED", ToleratedFailureCount=2
        ),
        [1, 2, 3, 4],
    )
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output[:2] == [1, 2]


def test_distributed_map_exceeding_tolerated_failure_count_fails(aws):
    run = aws.run(
        mapping(
            fail_when({"Variable": "$", "NumericGreaterThan": 1}), "DISTRIBUTED", ToleratedFailureCount=1
        ),
        [1, 2, 3],
    )
    assert (run.status, run.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert "MapRunFailed" in [e["type"] for e in run.events]


def test_distributed_map_without_a_threshold_fails_on_one_failed_item(aws):
    run = aws.run(mapping(fail_when({"Variable": "$", "NumericEquals": 2}), "DISTRIBUTED"), [1, 2, 3])
    assert (run.status, run.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_distributed_map_tolerated_failure_percentage_lets_that_share_fail(aws):
    """An integer percentage is valid ASL (the guide's examples write it so)."""
    run = aws.run(
        mapping(
            fail_when({"Variable": "$", "NumericGreaterThan": 2}),
            "DISTRIBUTED",
            ToleratedFailurePercentage=50,
        ),
        [1, 2, 3, 4],
    )
    assert run.status == "SUCCEEDED", run.describe()


def test_distributed_map_exceeding_tolerated_failure_percentage_fails(aws):
    run = aws.run(
        mapping(
            fail_when({"Variable": "$", "NumericGreaterThan": 1}),
            "DISTRIBUTED",
            ToleratedFailurePercentage=50,
        ),
        [1, 2, 3, 4],
    )
    assert (run.status, run.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_distributed_map_threshold_error_is_catchable(aws):
    definition = mapping(
        fail_when({"Variable": "$", "NumericGreaterThan": 0}),
        "DISTRIBUTED",
        ToleratedFailureCount=1,
        ItemsPath="$.items",
    )
    definition["States"]["Each"]["Catch"] = [
        {
            "ErrorEquals": ["States.ExceedToleratedFailureThreshold"],
            "ResultPath": "$.error",
            "Next": "Handled",
        }
    ]
    definition["States"]["Handled"] = {"Type": "Pass", "End": True}
    run = aws.run(definition, {"items": [1, 2, 3]})
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output["error"]["Error"] == "States.ExceedToleratedFailureThreshold"
