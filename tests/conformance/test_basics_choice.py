"""Choice: every comparison operator family, the *Path variants, And/Or/Not, the type tests,
Default, and no match without Default.

AWS: Step Functions developer guide, "Choice workflow state" (Choice Rules, comparison
operators) and "Handling errors in Step Functions workflows" (States.NoChoiceMatched)."""

from __future__ import annotations

from typing import Any

import pytest


def choosing(rule: dict[str, Any], default: bool = True) -> dict[str, Any]:
    """A Choice that goes to Yes when `rule` holds, else to No (or nowhere without a Default)."""
    choice: dict[str, Any] = {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}]}
    if default:
        choice["Default"] = "No"
    states: dict[str, Any] = {"Decide": choice, "Yes": {"Type": "Pass", "Result": "yes", "End": True}}
    if default:  # AWS refuses a definition with a state nothing leads to
        states["No"] = {"Type": "Pass", "Result": "no", "End": True}
    return {"StartAt": "Decide", "States": states}


TS = "2026-01-02T03:04:05Z"
LATER = "2026-01-02T03:04:06Z"

# (rule, input, whether it holds): one comparison each, as the guide's operator list names them.
RULES = [
    ({"Variable": "$.s", "StringEquals": "abc"}, {"s": "abc"}, True),
    ({"Variable": "$.s", "StringEquals": "abc"}, {"s": "abd"}, False),
    ({"Variable": "$.s", "StringLessThan": "b"}, {"s": "a"}, True),
    ({"Variable": "$.s", "StringGreaterThan": "b"}, {"s": "a"}, False),
    ({"Variable": "$.s", "StringLessThanEquals": "a"}, {"s": "a"}, True),
    ({"Variable": "$.s", "StringGreaterThanEquals": "a"}, {"s": "b"}, True),
    ({"Variable": "$.s", "StringMatches": "log-*.txt"}, {"s": "log-2026.txt"}, True),
    ({"Variable": "$.s", "StringMatches": "log-*.txt"}, {"s": "log-2026.csv"}, False),
    # The guide: a literal * is escaped as \\* in the pattern.
    ({"Variable": "$.s", "StringMatches": "a\\*b"}, {"s": "a*b"}, True),
    ({"Variable": "$.s", "StringMatches": "a\\*b"}, {"s": "axb"}, False),
    # Only * is a wildcard: ? and [..] stand for themselves.
    ({"Variable": "$.s", "StringMatches": "a?c"}, {"s": "abc"}, False),
    ({"Variable": "$.s", "StringMatches": "[ab]*"}, {"s": "[ab]x"}, True),
    ({"Variable": "$.n", "NumericEquals": 3}, {"n": 3.0}, True),
    ({"Variable": "$.n", "NumericLessThan": 3}, {"n": 2.5}, True),
    ({"Variable": "$.n", "NumericGreaterThan": 3}, {"n": 3}, False),
    ({"Variable": "$.n", "NumericLessThanEquals": 3}, {"n": 3}, True),
    ({"Variable": "$.n", "NumericGreaterThanEquals": 3}, {"n": 2}, False),
    ({"Variable": "$.b", "BooleanEquals": True}, {"b": True}, True),
    ({"Variable": "$.b", "BooleanEquals": True}, {"b": False}, False),
    ({"Variable": "$.t", "TimestampEquals": TS}, {"t": TS}, True),
    ({"Variable": "$.t", "TimestampLessThan": LATER}, {"t": TS}, True),
    ({"Variable": "$.t", "TimestampGreaterThan": LATER}, {"t": TS}, False),
    ({"Variable": "$.t", "TimestampLessThanEquals": TS}, {"t": TS}, True),
    ({"Variable": "$.t", "TimestampGreaterThanEquals": LATER}, {"t": TS}, False),
    # *Path: the right-hand side is read from the input.
    ({"Variable": "$.s", "StringEqualsPath": "$.o"}, {"s": "x", "o": "x"}, True),
    ({"Variable": "$.s", "StringLessThanPath": "$.o"}, {"s": "a", "o": "b"}, True),
    ({"Variable": "$.s", "StringGreaterThanPath": "$.o"}, {"s": "a", "o": "b"}, False),
    ({"Variable": "$.s", "StringLessThanEqualsPath": "$.o"}, {"s": "b", "o": "b"}, True),
    ({"Variable": "$.s", "StringGreaterThanEqualsPath": "$.o"}, {"s": "a", "o": "b"}, False),
    ({"Variable": "$.n", "NumericEqualsPath": "$.m"}, {"n": 1, "m": 1}, True),
    ({"Variable": "$.n", "NumericLessThanPath": "$.m"}, {"n": 1, "m": 2}, True),
    ({"Variable": "$.n", "NumericGreaterThanPath": "$.m"}, {"n": 1, "m": 2}, False),
    ({"Variable": "$.n", "NumericLessThanEqualsPath": "$.m"}, {"n": 2, "m": 2}, True),
    ({"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.m"}, {"n": 3, "m": 2}, True),
    ({"Variable": "$.b", "BooleanEqualsPath": "$.c"}, {"b": False, "c": False}, True),
    ({"Variable": "$.t", "TimestampEqualsPath": "$.u"}, {"t": TS, "u": TS}, True),
    ({"Variable": "$.t", "TimestampLessThanPath": "$.u"}, {"t": TS, "u": LATER}, True),
    ({"Variable": "$.t", "TimestampGreaterThanPath": "$.u"}, {"t": TS, "u": LATER}, False),
    ({"Variable": "$.t", "TimestampLessThanEqualsPath": "$.u"}, {"t": LATER, "u": LATER}, True),
    ({"Variable": "$.t", "TimestampGreaterThanEqualsPath": "$.u"}, {"t": TS, "u": LATER}, False),
    # Type tests.
    ({"Variable": "$.x", "IsPresent": True}, {"x": None}, True),
    ({"Variable": "$.x", "IsPresent": True}, {}, False),
    ({"Variable": "$.x", "IsPresent": False}, {}, True),
    ({"Variable": "$.x", "IsNull": True}, {"x": None}, True),
    ({"Variable": "$.x", "IsNull": True}, {"x": 0}, False),
    ({"Variable": "$.x", "IsNumeric": True}, {"x": 1.5}, True),
    ({"Variable": "$.x", "IsNumeric": True}, {"x": "1.5"}, False),
    ({"Variable": "$.x", "IsString": True}, {"x": "s"}, True),
    ({"Variable": "$.x", "IsString": False}, {"x": 1}, True),
    ({"Variable": "$.x", "IsBoolean": True}, {"x": False}, True),
    ({"Variable": "$.x", "IsBoolean": True}, {"x": "false"}, False),
    ({"Variable": "$.x", "IsTimestamp": True}, {"x": TS}, True),
    ({"Variable": "$.x", "IsTimestamp": True}, {"x": "yesterday"}, False),
    # Boolean combinations.
    (
        {"And": [{"Variable": "$.n", "NumericGreaterThan": 1}, {"Variable": "$.n", "NumericLessThan": 3}]},
        {"n": 2},
        True,
    ),
    (
        {"And": [{"Variable": "$.n", "NumericGreaterThan": 1}, {"Variable": "$.n", "NumericLessThan": 3}]},
        {"n": 3},
        False,
    ),
    (
        {"Or": [{"Variable": "$.s", "StringEquals": "a"}, {"Variable": "$.s", "StringEquals": "b"}]},
        {"s": "b"},
        True,
    ),
    ({"Not": {"Variable": "$.s", "StringEquals": "a"}}, {"s": "b"}, True),
    ({"Not": {"Variable": "$.s", "StringEquals": "a"}}, {"s": "a"}, False),
    (
        {
            "And": [
                {"Variable": "$.x", "IsPresent": True},
                {
                    "Not": {
                        "Or": [{"Variable": "$.x", "IsNull": True}, {"Variable": "$.x", "StringEquals": ""}]
                    }
                },
            ]
        },
        {"x": "set"},
        True,
    ),
]


@pytest.mark.parametrize(("rule", "execution_input", "holds"), RULES, ids=lambda v: str(v)[:60])
def test_choice_rule_takes_the_branch_aws_documents(aws, rule, execution_input, holds):
    run = aws.run(choosing(rule), execution_input)
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output == ("yes" if holds else "no")


def test_choice_takes_the_first_matching_rule_in_order(aws):
    """Developer guide, "Choice workflow state": Step Functions examines the Choice Rules in
    the order listed and transitions on the first that matches."""
    definition = {
        "StartAt": "Decide",
        "States": {
            "Decide": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.n", "NumericGreaterThan": 0, "Next": "First"},
                    {"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Second"},
                ],
                "Default": "Second",
            },
            "First": {"Type": "Pass", "Result": "first", "End": True},
            "Second": {"Type": "Pass", "Result": "second", "End": True},
        },
    }
    assert aws.run(definition, {"n": 5}).output == "first"


def test_choice_passes_its_input_on_unchanged(aws):
    """Developer guide, "Choice workflow state": a Choice state has no Result; its input, after
    InputPath/OutputPath, goes to the next state."""
    definition = choosing({"Variable": "$.s", "StringEquals": "a"})
    definition["States"]["Yes"] = {"Type": "Pass", "End": True}
    assert aws.run(definition, {"s": "a", "kept": [1]}).output == {"s": "a", "kept": [1]}


def test_choice_comparing_a_missing_variable_fails_with_states_runtime(aws):
    """Developer guide, "Choice workflow state": a rule may test IsPresent before comparing a
    field that may be absent; comparing one that is absent fails the execution (States.Runtime)."""
    run = aws.run(choosing({"Variable": "$.missing", "StringEquals": "a"}), {})
    assert (run.status, run.error) == ("FAILED", "States.Runtime")
    assert "$.missing" in (run.cause or "")


def test_choice_is_present_guards_a_comparison_of_a_missing_field(aws):
    rule = {"And": [{"Variable": "$.x", "IsPresent": True}, {"Variable": "$.x", "StringEquals": "a"}]}
    assert aws.run(choosing(rule), {}).output == "no"


def test_choice_of_a_value_of_another_type_does_not_match(aws):
    """Developer guide, "Choice workflow state": a comparison of a value of another type
    (a number against StringEquals) does not match; it is no error."""
    assert aws.run(choosing({"Variable": "$.s", "StringEquals": "1"}), {"s": 1}).output == "no"


def test_choice_without_a_match_and_without_default_fails_with_no_choice_matched(aws):
    """Developer guide, "Handling errors in Step Functions workflows": States.NoChoiceMatched,
    a Choice state failed to match its input against any rule and has no Default."""
    run = aws.run(choosing({"Variable": "$.s", "StringEquals": "a"}, default=False), {"s": "b"})
    assert (run.status, run.error) == ("FAILED", "States.NoChoiceMatched")
    types = [e["type"] for e in run.events]
    assert types[-1] == "ExecutionFailed"
    assert "ChoiceStateEntered" in types
