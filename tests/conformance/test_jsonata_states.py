"""JSONata states: `{% ... %}` in each field AWS lets it stand in, with the `$states` bindings.

AWS: Step Functions developer guide, "Transforming data with JSONata in Step Functions"."""

from __future__ import annotations

import json


def jsonata(states: dict, start: str | None = None) -> dict:
    return {"QueryLanguage": "JSONata", "StartAt": start or next(iter(states)), "States": states}


def test_output_reads_states_input(aws):
    """Output is the state's output; `$states.input` is what the state received."""
    run = aws.run(
        jsonata(
            {"P": {"Type": "Pass", "Output": {"name": "{% $states.input.user.name %}", "k": 1}, "End": True}}
        ),
        {"user": {"name": "ada"}},
    )
    assert (run.status, run.output) == ("SUCCEEDED", {"name": "ada", "k": 1})


def test_a_string_without_the_delimiters_is_a_literal(aws):
    """A string that does not start with {% and end with %} is not evaluated."""
    run = aws.run(
        jsonata({"P": {"Type": "Pass", "Output": {"s": "$states.input", "t": " {% 1 %}"}, "End": True}})
    )
    assert run.output == {"s": "$states.input", "t": " {% 1 %}"}


def test_query_language_per_state_overrides_the_top_level(aws):
    """A JSONPath machine may hold a JSONata state (QueryLanguage on the state)."""
    run = aws.run(
        {
            "StartAt": "Path",
            "States": {
                "Path": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "Next": "Ata"},
                "Ata": {
                    "Type": "Pass",
                    "QueryLanguage": "JSONata",
                    "Output": "{% $states.input.n * 2 %}",
                    "End": True,
                },
            },
        },
        {"n": 21},
    )
    assert (run.status, run.output) == ("SUCCEEDED", 42)


def test_task_arguments_and_output_of_states_result(aws):
    """Arguments is what the task is called with; in Output, `$states.result` is its result."""
    run = aws.run(
        jsonata(
            {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Arguments": {
                        "FunctionName": aws.handler_arn,
                        "Payload": {"return": {"score": "{% $states.input.base + 5 %}"}},
                    },
                    "Output": {
                        "got": "{% $states.result.Payload.score %}",
                        "was": "{% $states.input.base %}",
                    },
                    "End": True,
                }
            }
        ),
        {"base": 10},
    )
    assert (run.status, run.output) == ("SUCCEEDED", {"got": 15, "was": 10})


def test_states_context_is_the_context_object(aws):
    """`$states.context` is the context object ($$ of JSONPath)."""
    run = aws.run(
        jsonata(
            {
                "Named": {
                    "Type": "Pass",
                    "Output": {
                        "state": "{% $states.context.State.Name %}",
                        "input": "{% $states.context.Execution.Input.x %}",
                        "isArn": "{% $contains($states.context.Execution.Id, ':execution:') %}",
                    },
                    "End": True,
                }
            }
        ),
        {"x": 7},
    )
    assert run.output == {"state": "Named", "input": 7, "isArn": True}


def test_catch_output_reads_states_error_output(aws):
    """In a Catch, `$states.errorOutput` is the error output ({Error, Cause})."""
    run = aws.run(
        jsonata(
            {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Arguments": {
                        "FunctionName": aws.handler_arn,
                        "Payload": {"raise": "OutOfStock", "message": "none"},
                    },
                    "Catch": [
                        {
                            "ErrorEquals": ["OutOfStock"],
                            "Output": {
                                "error": "{% $states.errorOutput.Error %}",
                                "in": "{% $states.input.order %}",
                            },
                            "Next": "Done",
                        }
                    ],
                    "End": True,
                },
                "Done": {"Type": "Succeed"},
            }
        ),
        {"order": 3},
    )
    assert (run.status, run.output) == ("SUCCEEDED", {"error": "OutOfStock", "in": 3})


def test_choice_condition(aws):
    """A JSONata Choice rule is a Condition that must evaluate to a boolean."""
    machine = jsonata(
        {
            "C": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input.age >= 18 %}", "Next": "Adult"}],
                "Default": "Minor",
            },
            "Adult": {"Type": "Pass", "Output": "adult", "End": True},
            "Minor": {"Type": "Pass", "Output": "minor", "End": True},
        }
    )
    assert aws.run(machine, {"age": 30}).output == "adult"
    assert aws.run(machine, {"age": 3}).output == "minor"


def test_map_items_and_item_selector(aws):
    """Map's Items is a JSONata expression; ItemSelector reads `$states.context.Map.Item`."""
    run = aws.run(
        jsonata(
            {
                "M": {
                    "Type": "Map",
                    "Items": "{% $states.input.scores[$ > 1] %}",
                    "ItemSelector": {
                        "v": "{% $states.context.Map.Item.Value %}",
                        "i": "{% $states.context.Map.Item.Index %}",
                    },
                    "ItemProcessor": {
                        "StartAt": "Double",
                        "States": {
                            "Double": {
                                "Type": "Pass",
                                "Output": "{% $states.input.v * 2 + $states.input.i %}",
                                "End": True,
                            }
                        },
                    },
                    "End": True,
                }
            }
        ),
        {"scores": [1, 2, 3]},
    )
    assert (run.status, run.output) == ("SUCCEEDED", [4, 7])


def test_wait_seconds_from_an_expression(aws):
    """Wait's Seconds may be a JSONata expression giving a whole number."""
    run = aws.run(
        jsonata(
            {
                "W": {
                    "Type": "Wait",
                    "Seconds": "{% $states.input.delay %}",
                    "Output": "{% 'waited' %}",
                    "End": True,
                }
            }
        ),
        {"delay": 0},
    )
    assert (run.status, run.output) == ("SUCCEEDED", "waited")


def test_fail_error_and_cause_from_expressions(aws):
    """A JSONata Fail state's Error and Cause may be expressions."""
    run = aws.run(
        jsonata(
            {
                "F": {
                    "Type": "Fail",
                    "Error": "{% 'Game.' & $states.input.code %}",
                    "Cause": "{% 'player ' & $states.input.player & ' left' %}",
                }
            }
        ),
        {"code": "Abandoned", "player": "bo"},
    )
    assert (run.status, run.error, run.cause) == ("FAILED", "Game.Abandoned", "player bo left")


def test_timeout_seconds_from_an_expression(aws):
    """TimeoutSeconds may be a JSONata expression: the task then times out as a literal would."""
    run = aws.run(
        jsonata(
            {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "TimeoutSeconds": "{% $states.input.limit %}",
                    "Arguments": {"FunctionName": aws.handler_arn, "Payload": {"sleep": 5, "return": 1}},
                    "End": True,
                }
            }
        ),
        {"limit": 1},
    )
    assert (run.status, run.error) == ("FAILED", "States.Timeout")


def test_undefined_result_fails_with_query_evaluation_error_naming_the_field(aws):
    """A field whose expression returns nothing fails the state with States.QueryEvaluationError.
    The cause's shape ("... specified for the field 'Output/v' returned nothing (undefined).") is
    AWS's as seen in executions; the developer guide does not spell it."""
    run = aws.run(
        jsonata({"P": {"Type": "Pass", "Output": {"v": "{% $states.input.absent %}"}, "End": True}})
    )
    assert (run.status, run.error) == ("FAILED", "States.QueryEvaluationError")
    assert run.cause == (
        "An error occurred while executing the state 'P' (entered at the event id #2). The JSONata "
        "expression '$states.input.absent' specified for the field 'Output/v' returned nothing (undefined)."
    )
    failed = [e for e in run.events if e["type"] == "EvaluationFailed"]
    assert failed and failed[0]["evaluationFailedEventDetails"]["state"] == "P"


def test_an_expression_failing_at_run_time_is_catchable(aws):
    """A run-time JSONata error (here a string added to a number) in a Task's Arguments is
    States.QueryEvaluationError, which the Task's Catch may name; the task is never called."""
    run = aws.run(
        jsonata(
            {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Arguments": {"FunctionName": aws.handler_arn, "Payload": "{% $states.input.name + 1 %}"},
                    "Catch": [
                        {
                            "ErrorEquals": ["States.QueryEvaluationError"],
                            "Output": "{% $states.errorOutput.Error %}",
                            "Next": "Done",
                        }
                    ],
                    "End": True,
                },
                "Done": {"Type": "Succeed"},
            }
        ),
        {"name": "ada"},
    )
    assert (run.status, run.output) == ("SUCCEEDED", "States.QueryEvaluationError")
    assert not run.task_inputs(aws.handler_arn)


def test_values_holding_quotes_survive_evaluation(aws):
    """Values are data, whatever characters they hold (our check: moto pasted them into the
    expression's text, where a quote broke it)."""
    tricky = 'say "hi" \\ it\'s {% 1 %}'
    run = aws.run(
        jsonata({"P": {"Type": "Pass", "Output": {"v": "{% $states.input.s %}"}, "End": True}}), {"s": tricky}
    )
    assert run.output == {"v": tricky}


def test_null_is_a_value_not_nothing(aws):
    """null is a JSON value: a field evaluating to null holds null (only undefined fails)."""
    run = aws.run(
        jsonata({"P": {"Type": "Pass", "Output": {"v": "{% $states.input.n %}"}, "End": True}}), {"n": None}
    )
    assert (run.status, run.output) == ("SUCCEEDED", {"v": None})


def test_describe_execution_output_is_json(aws):
    """The output DescribeExecution returns is the JSON text of what Output evaluated to."""
    arn = aws.start(
        aws.machine(
            jsonata({"P": {"Type": "Pass", "Output": "{% [1, 2.5, 'x', true, null] %}", "End": True}})
        )
    )
    aws.finished(arn)
    assert json.loads(aws.sfn.describe_execution(executionArn=arn)["output"]) == [1, 2.5, "x", True, None]


def test_parallel_arguments_feed_every_branch(aws):
    """A JSONata Parallel state's Arguments is the input of each branch; its Output reads
    `$states.result`, the branches' outputs in order."""
    run = aws.run(
        jsonata(
            {
                "Both": {
                    "Type": "Parallel",
                    "Arguments": {"n": "{% $states.input.n %}"},
                    "Branches": [
                        {
                            "StartAt": "A",
                            "States": {
                                "A": {"Type": "Pass", "Output": "{% $states.input.n + 1 %}", "End": True}
                            },
                        },
                        {
                            "StartAt": "B",
                            "States": {
                                "B": {"Type": "Pass", "Output": "{% $states.input.n * 2 %}", "End": True}
                            },
                        },
                    ],
                    "Output": {"sum": "{% $sum($states.result) %}"},
                    "End": True,
                }
            }
        ),
        {"n": 5},
    )
    assert (run.status, run.output) == ("SUCCEEDED", {"sum": 16})


def test_retry_on_a_jsonata_task(aws):
    """Retry works in JSONata states as in JSONPath ones: the failing call is tried again, then
    caught, and the Catch's Output reads the error."""
    run = aws.run(
        jsonata(
            {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Arguments": {"FunctionName": aws.handler_arn, "Payload": {"raise": "Flaky"}},
                    "Retry": [
                        {"ErrorEquals": ["Flaky"], "MaxAttempts": 2, "IntervalSeconds": 1, "BackoffRate": 1}
                    ],
                    "Catch": [
                        {
                            "ErrorEquals": ["Flaky"],
                            "Output": "{% $states.errorOutput.Error %}",
                            "Next": "Done",
                        }
                    ],
                    "End": True,
                },
                "Done": {"Type": "Succeed"},
            }
        )
    )
    assert (run.status, run.output) == ("SUCCEEDED", "Flaky")
    assert len(run.task_inputs(aws.handler_arn)) == 3


def test_wait_timestamp_from_an_expression(aws):
    """Wait's Timestamp may be a JSONata expression; one in the past does not wait."""
    run = aws.run(
        jsonata(
            {
                "W": {
                    "Type": "Wait",
                    "Timestamp": "{% $states.input.at %}",
                    "Output": "{% 'on time' %}",
                    "End": True,
                }
            }
        ),
        {"at": "2020-01-01T00:00:00Z"},
    )
    assert (run.status, run.output) == ("SUCCEEDED", "on time")


def test_a_condition_that_is_not_a_boolean_fails(aws):
    """A Condition must evaluate to a boolean. The guide does not give the error of one that does
    not; ours is moto's States.Runtime, its cause naming the type it got (our choice)."""
    run = aws.run(
        jsonata(
            {
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Condition": "{% $states.input.n %}", "Next": "Y"}],
                    "Default": "Y",
                },
                "Y": {"Type": "Succeed"},
            }
        ),
        {"n": 3},
    )
    assert (run.status, run.error) == ("FAILED", "States.Runtime")
    assert "boolean" in run.cause


def test_arguments_may_be_one_expression(aws):
    """Arguments may be a single JSONata expression that evaluates to the object."""
    run = aws.run(
        jsonata(
            {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Arguments": "{% {'FunctionName': $states.input.fn, 'Payload': {'return': $states.input.v}} %}",  # noqa: E501
                    "Output": "{% $states.result.Payload %}",
                    "End": True,
                }
            }
        ),
        {"fn": aws.handler_arn, "v": [1, 2]},
    )
    assert (run.status, run.output) == ("SUCCEEDED", [1, 2])


def test_the_cause_names_an_array_element_by_its_index(aws):
    """Inside an array the field is named with the element's index, `Output/list[1]` (our reading
    of AWS's field paths: keys after "/", indexes in brackets)."""
    run = aws.run(
        jsonata({"P": {"Type": "Pass", "Output": {"list": [1, "{% $states.input.none %}"]}, "End": True}})
    )
    assert run.error == "States.QueryEvaluationError"
    assert "specified for the field 'Output/list[1]' returned nothing (undefined)." in run.cause


def test_the_cause_names_a_choice_rule_by_its_index(aws):
    """A failing Condition is named under its rule: `Choices[1]/Condition`."""
    run = aws.run(
        jsonata(
            {
                "C": {
                    "Type": "Choice",
                    "Choices": [
                        {"Condition": "{% false %}", "Next": "Y"},
                        {"Condition": "{% $states.input.none %}", "Next": "Y"},
                    ],
                    "Default": "Y",
                },
                "Y": {"Type": "Succeed"},
            }
        )
    )
    assert run.error == "States.QueryEvaluationError"
    assert "specified for the field 'Choices[1]/Condition' returned nothing (undefined)." in run.cause


def test_the_cause_names_the_item_selector_field(aws):
    run = aws.run(
        jsonata(
            {
                "M": {
                    "Type": "Map",
                    "Items": "{% [1] %}",
                    "ItemSelector": {"v": "{% $states.input.none %}"},
                    "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                    "End": True,
                }
            }
        )
    )
    assert run.error == "States.QueryEvaluationError"
    assert "specified for the field 'ItemSelector/v' returned nothing (undefined)." in run.cause
