"""Variable scope across Parallel branches and Map iterations.

AWS: Step Functions developer guide, "Passing data between states with variables", section
"Variable scope": the states of a branch or an iteration read the variables of the scopes
around them; what they assign is their own, gone when the branch or iteration ends; the only
way out is their output."""

from __future__ import annotations


def jsonata(states: dict) -> dict:
    return {"QueryLanguage": "JSONata", "StartAt": next(iter(states)), "States": states}


def test_a_parallel_branch_reads_outer_variables(aws):
    run = aws.run(
        jsonata(
            {
                "Set": {"Type": "Pass", "Assign": {"bonus": 10}, "Next": "Both"},
                "Both": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "A",
                            "States": {"A": {"Type": "Pass", "Output": "{% $bonus + 1 %}", "End": True}},
                        },
                        {
                            "StartAt": "B",
                            "States": {"B": {"Type": "Pass", "Output": "{% $bonus + 2 %}", "End": True}},
                        },
                    ],
                    "End": True,
                },
            }
        )
    )
    assert (run.status, run.output) == ("SUCCEEDED", [11, 12])


def test_a_map_iteration_reads_outer_variables_and_keeps_its_own(aws):
    """Each iteration reads the outer `$factor` and has its own `$mine` (iterations run at once and
    do not see each other's)."""
    run = aws.run(
        jsonata(
            {
                "Set": {"Type": "Pass", "Assign": {"factor": 3}, "Next": "Each"},
                "Each": {
                    "Type": "Map",
                    "Items": "{% [1, 2, 3, 4, 5] %}",
                    "ItemProcessor": {
                        "StartAt": "Keep",
                        "States": {
                            "Keep": {
                                "Type": "Pass",
                                "Assign": {"mine": "{% $states.input %}"},
                                "Next": "Use",
                            },
                            "Use": {"Type": "Pass", "Output": "{% $mine * $factor %}", "End": True},
                        },
                    },
                    "End": True,
                },
            }
        )
    )
    assert (run.status, run.output) == ("SUCCEEDED", [3, 6, 9, 12, 15])


def test_what_an_iteration_assigns_is_gone_after_the_map(aws):
    """After the Map, a variable assigned only inside its iterations is not defined: reading it
    evaluates to nothing (States.QueryEvaluationError)."""
    run = aws.run(
        jsonata(
            {
                "Each": {
                    "Type": "Map",
                    "Items": "{% [1] %}",
                    "ItemProcessor": {
                        "StartAt": "Keep",
                        "States": {"Keep": {"Type": "Pass", "Assign": {"inner": 1}, "End": True}},
                    },
                    "Next": "After",
                },
                "After": {"Type": "Pass", "Output": {"v": "{% $inner %}"}, "End": True},
            }
        )
    )
    assert (run.status, run.error) == ("FAILED", "States.QueryEvaluationError")
    assert "'$inner'" in run.cause


def test_a_map_states_own_assign_reads_its_result(aws):
    """The Map state's own Assign is in the outer scope and reads the collected results."""
    run = aws.run(
        jsonata(
            {
                "Each": {
                    "Type": "Map",
                    "Items": "{% [1, 2] %}",
                    "ItemProcessor": {
                        "StartAt": "Id",
                        "States": {"Id": {"Type": "Pass", "Output": "{% $states.input * 10 %}", "End": True}},
                    },
                    "Assign": {"total": "{% $sum($states.result) %}"},
                    "Next": "After",
                },
                "After": {"Type": "Pass", "Output": "{% $total %}", "End": True},
            }
        )
    )
    assert (run.status, run.output) == ("SUCCEEDED", 30)


def test_a_branch_cannot_assign_an_outer_variable(aws):
    """A branch's state may not assign a variable of an outer scope. The guide says it is not
    allowed but not how a run fails: ours fails the state with States.Runtime naming the
    variable (our choice), so the outer value is never changed behind the user's back. (The cause
    that names the variable reaches the execution with part "errors"' stepfunctions_branch_errors:
    without it moto replaces any States.* error leaving a branch by its own ValueError text.)"""
    run = aws.run(
        jsonata(
            {
                "Set": {"Type": "Pass", "Assign": {"level": 1}, "Next": "Both"},
                "Both": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "A",
                            "States": {"A": {"Type": "Pass", "Assign": {"level": 2}, "End": True}},
                        },
                    ],
                    "End": True,
                },
            }
        )
    )
    assert (run.status, run.error) == ("FAILED", "States.Runtime")


def test_jsonpath_branch_reads_outer_variable(aws):
    """The same scope rules hold in JSONPath states: `$name` in a branch's Parameters."""
    run = aws.run(
        {
            "StartAt": "Set",
            "States": {
                "Set": {"Type": "Pass", "Assign": {"who": "ada"}, "Next": "Both"},
                "Both": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "A",
                            "States": {"A": {"Type": "Pass", "Parameters": {"w.$": "$who"}, "End": True}},
                        }
                    ],
                    "End": True,
                },
            },
        }
    )
    assert (run.status, run.output) == ("SUCCEEDED", [{"w": "ada"}])
