"""Canaries of the patches of part "jsonata" (JSONata and workflow variables): each runs moto
without its patch and shows the original bug, then with it and shows AWS's behaviour."""

from __future__ import annotations

import json
from typing import Any

from moto import mock_aws

from arcadeflow.aws.moto_patches import stepfunctions_jsonata
from tests.unit.test_moto_patches import (
    EXECUTING,
    client,
    finished,
    fixed_upstream,
    state_machine,
    with_patch,
    without,
)

JSONATA_PASS = {
    "QueryLanguage": "JSONata",
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "Output": {"sum": "{% $states.input.a + 1 %}"}, "End": True}},
}
VARIABLES = {
    "QueryLanguage": "JSONata",
    "StartAt": "Init",
    "States": {
        "Init": {"Type": "Pass", "Assign": {"n": 1, "quoted": 'say "hi"'}, "Next": "Bump"},
        "Bump": {
            "Type": "Pass",
            "Assign": {"n": "{% $n + 1 %}"},
            "Output": {"seen": "{% $n %}"},
            "Next": "Read",
        },
        "Read": {
            "Type": "Pass",
            "Output": {"seen": "{% $states.input.seen %}", "now": "{% $n %}", "q": "{% $quoted %}"},
            "End": True,
        },
    },
}


def run(definition: dict[str, Any], execution_input: Any = None) -> dict[str, Any]:
    arn = client("stepfunctions").start_execution(
        stateMachineArn=state_machine(definition), input=json.dumps(execution_input or {})
    )["executionArn"]
    return finished(arn)


# --- stepfunctions_jsonata --------------------------------------------------------------------


def test_canary_stepfunctions_jsonata() -> None:
    with without("stepfunctions_jsonata"), mock_aws(config=EXECUTING):
        ended = run(JSONATA_PASS, {"a": 1})
    assert ended["status"] == "FAILED", fixed_upstream("stepfunctions_jsonata")
    assert "'NoneType' object is not callable" in ended["cause"]


def test_stepfunctions_jsonata_evaluates_with_states_bound() -> None:
    with with_patch("stepfunctions_jsonata"), mock_aws(config=EXECUTING):
        ended = run(JSONATA_PASS, {"a": 41})
    assert (ended["status"], json.loads(ended["output"])) == ("SUCCEEDED", {"sum": 42})


def test_the_evaluator_binds_values_instead_of_pasting_them() -> None:
    tricky = {"s": 'a "quote" and a \\ backslash', "n": None, "list": [1, 2.5]}
    assert stepfunctions_jsonata.evaluate("$v", {"v": tricky}) == tricky
    assert stepfunctions_jsonata.evaluate("$v.n", {"v": tricky}) is None
    assert stepfunctions_jsonata.evaluate("$v.absent", {"v": tricky}) is stepfunctions_jsonata.UNDEFINED


def test_the_evaluator_refuses_eval_and_names_failures() -> None:
    for expression in ("$eval('1')", "1 + 'x'", "function($x){$x}"):
        try:
            stepfunctions_jsonata.evaluate(expression, {})
        except stepfunctions_jsonata.JsonataEvaluationError as exc:
            assert expression in str(exc)
        else:
            raise AssertionError(f"{expression} evaluated")


# --- stepfunctions_variables ------------------------------------------------------------------


def test_canary_stepfunctions_variables() -> None:
    with with_patch("stepfunctions_jsonata"), without("stepfunctions_variables"), mock_aws(config=EXECUTING):
        ended = run(VARIABLES)
    output = json.loads(ended["output"])
    assert output["seen"] == 2, fixed_upstream("stepfunctions_variables")  # Output read the new value
    assert output["q"] == 'say \\"hi\\"'  # the literal kept its escapes


def test_stepfunctions_variables_take_effect_when_the_state_exits() -> None:
    with (
        with_patch("stepfunctions_jsonata"),
        with_patch("stepfunctions_variables"),
        mock_aws(config=EXECUTING),
    ):
        ended = run(VARIABLES)
    assert json.loads(ended["output"]) == {"seen": 1, "now": 2, "q": 'say "hi"'}


def test_stepfunctions_variables_refuse_a_variable_over_256_kib() -> None:
    big = {
        "QueryLanguage": "JSONata",
        "StartAt": "Big",
        "States": {"Big": {"Type": "Pass", "Assign": {"big": "{% $pad('', 262145, 'x') %}"}, "End": True}},
    }
    with (
        with_patch("stepfunctions_jsonata"),
        with_patch("stepfunctions_variables"),
        mock_aws(config=EXECUTING),
    ):
        ended = run(big)
    assert (ended["status"], ended["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert "'big'" in ended["cause"]
