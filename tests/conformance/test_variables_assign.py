"""Workflow variables: `Assign` in JSONPath and JSONata states, read back as `$name`.

AWS: Step Functions developer guide, "Passing data between states with variables"."""

from __future__ import annotations

import json

from tests.functional.branches.conftest import poll


def jsonata(states: dict) -> dict:
    return {"QueryLanguage": "JSONata", "StartAt": next(iter(states)), "States": states}


def exited(run, state: str) -> dict:
    return next(
        e["stateExitedEventDetails"]
        for e in run.events
        if e.get("stateExitedEventDetails", {}).get("name") == state
    )


def test_jsonpath_assign_then_read_in_a_later_state(aws):
    """A variable assigned in a JSONPath state is read by a later state's path `$name` (and a
    path into it); a state in between does not need to carry it."""
    run = aws.run(
        {
            "StartAt": "Keep",
            "States": {
                "Keep": {"Type": "Pass", "Assign": {"order.$": "$.order", "fixed": 5}, "Next": "Forget"},
                "Forget": {"Type": "Pass", "Result": {"nothing": True}, "Next": "Use"},
                "Use": {
                    "Type": "Pass",
                    "Parameters": {"order.$": "$order", "first.$": "$order.items[0]", "fixed.$": "$fixed"},
                    "End": True,
                },
            },
        },
        {"order": {"items": ["sword", "shield"]}},
    )
    assert (run.status, run.output) == (
        "SUCCEEDED",
        {"order": {"items": ["sword", "shield"]}, "first": "sword", "fixed": 5},
    )


def test_jsonpath_assign_reads_the_raw_task_result(aws):
    """In a JSONPath Task, `$` in Assign is the task's result, as ResultSelector sees it (the raw
    result, not the state input and not ResultSelector's output). The guide puts Assign beside
    ResultSelector on the result; that ResultSelector's output is not what Assign reads is moto's
    (LocalStack's, snapshot-tested against AWS) reading, which we keep."""
    run = aws.run(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": aws.handler_arn, "Payload": {"return": {"score": 9}}},
                    "ResultSelector": {"s.$": "$.Payload.score"},
                    "Assign": {"best.$": "$.Payload.score"},
                    "ResultPath": None,
                    "Next": "Use",
                },
                "Use": {"Type": "Pass", "Parameters": {"best.$": "$best", "score.$": "$.score"}, "End": True},
            },
        },
        {"score": 1},
    )
    assert (run.status, run.output) == ("SUCCEEDED", {"best": 9, "score": 1})


def test_jsonata_assign_reads_states_result(aws):
    """In a JSONata Task, Assign reads `$states.result`; a later state reads `$name`."""
    run = aws.run(
        jsonata(
            {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Arguments": {"FunctionName": aws.handler_arn, "Payload": {"return": {"level": 3}}},
                    "Assign": {
                        "level": "{% $states.result.Payload.level %}",
                        "from": "{% $states.input.who %}",
                    },
                    "Output": {},
                    "Next": "Use",
                },
                "Use": {"Type": "Pass", "Output": "{% $from & ' reached ' & $string($level) %}", "End": True},
            }
        ),
        {"who": "ada"},
    )
    assert (run.status, run.output) == ("SUCCEEDED", "ada reached 3")


def test_assignments_of_one_assign_see_the_values_from_before_it(aws):
    """All assignments in one Assign are evaluated with the variables' values from before the
    state: here two variables swap."""
    run = aws.run(
        jsonata(
            {
                "Init": {"Type": "Pass", "Assign": {"a": 1, "b": 2}, "Next": "Swap"},
                "Swap": {"Type": "Pass", "Assign": {"a": "{% $b %}", "b": "{% $a %}"}, "Next": "Read"},
                "Read": {"Type": "Pass", "Output": {"a": "{% $a %}", "b": "{% $b %}"}, "End": True},
            }
        )
    )
    assert run.output == {"a": 2, "b": 1}


def test_output_sees_the_values_from_before_the_states_assign(aws):
    """Assign and Output are evaluated in parallel: the state's own Output reads the old value."""
    run = aws.run(
        jsonata(
            {
                "Init": {"Type": "Pass", "Assign": {"n": 1}, "Next": "Bump"},
                "Bump": {
                    "Type": "Pass",
                    "Assign": {"n": "{% $n + 1 %}"},
                    "Output": {"seen": "{% $n %}"},
                    "Next": "Read",
                },
                "Read": {
                    "Type": "Pass",
                    "Output": {"seen": "{% $states.input.seen %}", "now": "{% $n %}"},
                    "End": True,
                },
            }
        )
    )
    assert run.output == {"seen": 1, "now": 2}


def test_catch_assign_reads_the_error_output(aws):
    """A Catch may Assign, reading `$states.errorOutput` (JSONata)."""
    run = aws.run(
        jsonata(
            {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Arguments": {
                        "FunctionName": aws.handler_arn,
                        "Payload": {"raise": "Busy", "message": "later"},
                    },
                    "Catch": [
                        {
                            "ErrorEquals": ["States.ALL"],
                            "Assign": {"why": "{% $states.errorOutput.Cause %}"},
                            "Next": "Read",
                        }
                    ],
                    "End": True,
                },
                "Read": {"Type": "Pass", "Output": "{% $parse($why).errorMessage %}", "End": True},
            }
        )
    )
    assert (run.status, run.output) == ("SUCCEEDED", "later")


def test_choice_rule_assign(aws):
    """A matched Choice rule's Assign applies; the state's own Assign is for when no rule matched
    (the Default), even when the rule's Next is the Default's state ("Choice workflow state")."""
    run = aws.run(
        jsonata(
            {
                "C": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "Condition": "{% $states.input.v > 0 %}",
                            "Assign": {"sign": "positive"},
                            "Next": "Read",
                        }
                    ],
                    "Default": "Read",
                    "Assign": {"sign": "not positive"},
                },
                "Read": {"Type": "Pass", "Output": "{% $sign %}", "End": True},
            }
        ),
        {"v": 4},
    )
    assert run.output == "positive"


def test_assigned_variables_are_recorded_in_state_exited_as_json(aws):
    """The history's stateExited details carry assignedVariables: each name with its value as
    JSON text (API reference, StateExitedEventDetails)."""
    run = aws.run(
        jsonata(
            {"P": {"Type": "Pass", "Assign": {"s": 'a "quoted" word', "o": {"k": [1, None]}}, "End": True}}
        )
    )
    assigned = exited(run, "P")["assignedVariables"]
    assert {name: json.loads(text) for name, text in assigned.items()} == {
        "s": 'a "quoted" word',
        "o": {"k": [1, None]},
    }


def test_reading_an_unassigned_variable_in_jsonata_fails_the_state(aws):
    """A JSONata expression reading a variable never assigned evaluates to nothing, so the field
    fails with States.QueryEvaluationError (as any undefined result does)."""
    run = aws.run(jsonata({"P": {"Type": "Pass", "Output": {"v": "{% $never %}"}, "End": True}}))
    assert (run.status, run.error) == ("FAILED", "States.QueryEvaluationError")


def test_a_variable_may_hold_null(aws):
    """null is a value a variable may hold and give back."""
    run = aws.run(
        jsonata(
            {
                "Set": {"Type": "Pass", "Assign": {"nothing": None}, "Next": "Read"},
                "Read": {"Type": "Pass", "Output": {"v": "{% $nothing %}"}, "End": True},
            }
        )
    )
    assert (run.status, run.output) == ("SUCCEEDED", {"v": None})


def test_a_variable_over_256_kib_fails_the_state(aws):
    """A variable holds at most 256 KiB (as UTF-8 JSON). The guide gives the limit, not the error's
    name: ours is States.DataLimitExceeded, the error AWS documents for data over a size limit
    (our choice), and a Catch on it would fire."""
    run = aws.run(
        jsonata({"Big": {"Type": "Pass", "Assign": {"big": "{% $pad('', 262145, 'x') %}"}, "End": True}})
    )
    assert (run.status, run.error) == ("FAILED", "States.DataLimitExceeded")
    assert "'big'" in run.cause


def test_a_variable_just_under_the_limit_is_kept(aws):
    """256 KiB of JSON (the quotes count) is still allowed."""
    run = aws.run(
        jsonata(
            {
                "Big": {"Type": "Pass", "Assign": {"big": "{% $pad('', 262142, 'x') %}"}, "Next": "Len"},
                "Len": {"Type": "Pass", "Output": "{% $length($big) %}", "End": True},
            }
        )
    )
    assert (run.status, run.output) == ("SUCCEEDED", 262142)


def test_jsonpath_reading_an_unassigned_variable(aws):
    """A JSONPath path naming a variable no state assigned. The guide does not say how a run fails
    (the console's validation flags it); ours fails the state with States.Runtime (our choice)."""
    run = aws.run(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "$never"}, "End": True}}}
    )
    assert (run.status, run.error) == ("FAILED", "States.Runtime")


def test_jsonpath_assign_takes_intrinsic_functions_and_the_context_object(aws):
    """In a JSONPath Assign, `.$` values may be intrinsic functions and `$$` context paths."""
    run = aws.run(
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Pass",
                    "Assign": {"label.$": "States.Format('lv-{}', $.level)", "state.$": "$$.State.Name"},
                    "Next": "Read",
                },
                "Read": {
                    "Type": "Pass",
                    "Parameters": {"label.$": "$label", "state.$": "$state"},
                    "End": True,
                },
            },
        },
        {"level": 4},
    )
    assert (run.status, run.output) == ("SUCCEEDED", {"label": "lv-4", "state": "P"})


def test_jsonpath_choice_compares_a_variable(aws):
    """A JSONPath Choice rule's Variable may name a workflow variable."""
    machine = {
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"lives.$": "$.lives"}, "Next": "Alive"},
            "Alive": {
                "Type": "Choice",
                "Choices": [{"Variable": "$lives", "NumericGreaterThan": 0, "Next": "Play"}],
                "Default": "Over",
            },
            "Play": {"Type": "Pass", "Result": "play", "End": True},
            "Over": {"Type": "Pass", "Result": "over", "End": True},
        },
    }
    assert aws.run(machine, {"lives": 2}).output == "play"
    assert aws.run(machine, {"lives": 0}).output == "over"


def test_a_redriven_execution_keeps_the_variables_assigned_before_its_failure(aws):
    """RedriveExecution restarts at the failed state (API reference, RedriveExecution). The guide
    does not say what becomes of variables; a JSONata workflow could not be redriven if they were
    lost, so ours restores what the states before the failure assigned (our choice)."""
    name = aws.unique("later")
    arn = aws.start(
        aws.machine(
            jsonata(
                {
                    "Set": {"Type": "Pass", "Assign": {"fn": name, "v": 7}, "Next": "Call"},
                    "Call": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Arguments": {"FunctionName": "{% $fn %}", "Payload": {"return": "{% $v %}"}},
                        "Output": "{% $states.result.Payload %}",
                        "End": True,
                    },
                }
            )
        )
    )
    assert aws.finished(arn).status == "FAILED"  # the function does not exist yet
    aws.function(name=name)
    aws.sfn.redrive_execution(executionArn=arn)
    redriven = poll(
        lambda: (d := aws.sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
        "the redriven execution to end",
    )
    assert (redriven["status"], json.loads(redriven.get("output", "null"))) == ("SUCCEEDED", 7)
