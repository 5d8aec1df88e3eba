"""Canaries of the validation patches (stepfunctions_definitions, stepfunctions_parser_scopes,
stepfunctions_wait_limit), each beside the same scenario with the patch, as AWS behaves.

See tests/unit/test_moto_patches.py for what a canary is.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.unit.test_moto_patches import (
    ACCOUNT,
    EXECUTING,
    PASS_MACHINE,
    client,
    finished,
    fixed_upstream,
    front,  # noqa: F401 (a fixture)
    with_patch,
    without,
)

ROLE = f"arn:aws:iam::{ACCOUNT}:role/canary"
MISSING_TARGET = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}
EXPRESS_SYNC = {
    "StartAt": "Run",
    "States": {
        "Run": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:child"},
            "End": True,
        }
    },
}
NOT_ASL = {"StartAt": "A", "States": {"A": {"Type": "Bogus", "End": True}}}
ILLEGAL_ESCAPE = {
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "Parameters": {"m.$": "States.Format('\\q')"}, "End": True}},
}


def _create(sfn: Any, definition: dict[str, Any], name: str = "m", **kwargs: Any) -> dict[str, Any]:
    try:
        role = kwargs.pop("roleArn", ROLE)
        return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role, **kwargs)
    except ClientError as exc:
        return {"error": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}


# --- stepfunctions_parser_scopes ------------------------------------------------------------------

DOWNGRADE = {
    "QueryLanguage": "JSONata",
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}},
}
WITH_VARIABLES = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"x.$": "$x"}, "End": True},
    },
}


@pytest.fixture
def clean_parser() -> Iterator[Callable[[dict[str, Any]], str | None]]:
    """Parses with moto's ASL parser: None, or why it refused. Empties the class-level scope
    stack afterwards, so a leak shown here does not reach other tests in this process."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    def parse(definition: dict[str, Any]) -> str | None:
        try:
            AmazonStateLanguageParser.parse(json.dumps(definition))
        except Exception as exc:
            return str(exc)
        return None

    try:
        yield parse
    finally:
        Preprocessor._query_language_per_scope.clear()


def test_canary_stepfunctions_parser_scopes(clean_parser: Callable[[dict[str, Any]], str | None]) -> None:
    """moto keeps the parser's scopes on the class: after one refused definition, a valid one is refused."""
    with without("stepfunctions_parser_scopes"):
        assert clean_parser(WITH_VARIABLES) is None
        assert clean_parser(DOWNGRADE) is not None
        refused = clean_parser(WITH_VARIABLES)
    assert refused is not None and "Unsupported declaration in QueryLanguage=JSONPath" in refused, (
        fixed_upstream("stepfunctions_parser_scopes")
    )


def test_stepfunctions_parser_scopes_a_refusal_leaves_nothing_behind(
    clean_parser: Callable[[dict[str, Any]], str | None],
) -> None:
    with with_patch("stepfunctions_parser_scopes"):
        assert clean_parser(DOWNGRADE) is not None
        assert clean_parser(WITH_VARIABLES) is None
        assert clean_parser({**PASS_MACHINE, "QueryLanguage": "JSONata"}) is None


# --- stepfunctions_definitions (an interceptor) ----------------------------------------------------


def test_canary_stepfunctions_definitions() -> None:
    """moto refuses with an empty code, accepts what AWS refuses, and re-creates a name silently."""
    with mock_aws(config=EXECUTING):
        sfn = client("stepfunctions")
        bad = _create(sfn, NOT_ASL, name="bad")
        missing = _create(sfn, MISSING_TARGET, name="missing")
        escape = _create(sfn, ILLEGAL_ESCAPE, name="escape")
        express = _create(sfn, EXPRESS_SYNC, name="express", type="EXPRESS")
        first = _create(sfn, PASS_MACHINE, name="taken")
        other = _create(sfn, {**PASS_MACHINE, "Comment": "another definition"}, name="taken")
    assert bad.get("error") == "", fixed_upstream("stepfunctions_definitions")
    assert all("stateMachineArn" in out for out in (missing, escape, express)), fixed_upstream(
        "stepfunctions_definitions"
    )
    assert other["stateMachineArn"] == first["stateMachineArn"], fixed_upstream("stepfunctions_definitions")


def test_stepfunctions_definitions_are_refused_as_aws_refuses_them(front: Callable[..., str]) -> None:  # noqa: F811
    sfn = client("stepfunctions", front("stepfunctions_definitions"))
    bad = _create(sfn, MISSING_TARGET, name="bad")
    assert bad["error"] == "InvalidDefinition"
    assert bad["message"].startswith(
        "Invalid State Machine Definition: "
        "'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next"
    )
    not_asl = _create(sfn, NOT_ASL, name="not-asl")
    assert not_asl["error"] == "InvalidDefinition" and "SCHEMA_VALIDATION_FAILED" in not_asl["message"]
    escape = _create(sfn, ILLEGAL_ESCAPE, name="escape")
    assert escape["error"] == "InvalidDefinition" and "illegal escape '\\q'" in escape["message"]
    express = _create(sfn, EXPRESS_SYNC, name="express", type="EXPRESS")
    assert express["error"] == "InvalidDefinition" and "'.sync' service integration" in express["message"]
    assert "stateMachineArn" in _create(sfn, EXPRESS_SYNC, name="standard")


def test_stepfunctions_definitions_create_is_idempotent_only_on_the_same_machine(
    front: Callable[..., str],  # noqa: F811
) -> None:
    sfn = client("stepfunctions", front("stepfunctions_definitions"))
    first = _create(sfn, PASS_MACHINE, name="taken")
    again = _create(sfn, PASS_MACHINE, name="taken", roleArn=f"arn:aws:iam::{ACCOUNT}:role/other")
    assert (again["stateMachineArn"], again["creationDate"]) == (
        first["stateMachineArn"],
        first["creationDate"],
    )
    other = _create(sfn, {**PASS_MACHINE, "Comment": "another definition"}, name="taken")
    assert other == {
        "error": "StateMachineAlreadyExists",
        "message": f"State Machine Already Exists: '{first['stateMachineArn']}'",
    }
    assert _create(sfn, PASS_MACHINE, name="taken", type="EXPRESS")["error"] == "StateMachineAlreadyExists"


def test_stepfunctions_definitions_update_is_checked_against_the_machines_type(
    front: Callable[..., str],  # noqa: F811
) -> None:
    sfn = client("stepfunctions", front("stepfunctions_definitions"))
    arn = _create(sfn, PASS_MACHINE, name="fast", type="EXPRESS")["stateMachineArn"]
    with pytest.raises(ClientError) as refused:
        sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(EXPRESS_SYNC))
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == PASS_MACHINE


# --- stepfunctions_wait_limit ------------------------------------------------------------------------

WAIT_FROM_INPUT = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}}
TEN_YEARS = 10 * 365 * 24 * 3600


def _entered_wait(sfn: Any, execution_arn: str, timeout: float = 20.0) -> list[str]:
    """The history's event types once the Wait was entered (or the execution ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        types = [e["type"] for e in sfn.get_execution_history(executionArn=execution_arn)["events"]]
        if "WaitStateEntered" in types or "ExecutionFailed" in types:
            return types
        time.sleep(0.02)
    raise AssertionError(f"{execution_arn} never entered its Wait")


def test_canary_stepfunctions_wait_limit() -> None:
    """moto waits ten years if asked: the execution stays RUNNING."""
    with without("stepfunctions_wait_limit"), mock_aws(config=EXECUTING):
        sfn = client("stepfunctions")
        arn = _create(sfn, WAIT_FROM_INPUT)["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"s": TEN_YEARS}))[
            "executionArn"
        ]
        types = _entered_wait(sfn, execution)
        status = sfn.describe_execution(executionArn=execution)["status"]
        sfn.stop_execution(executionArn=execution)
    assert status == "RUNNING" and "ExecutionFailed" not in types, fixed_upstream("stepfunctions_wait_limit")


def test_stepfunctions_wait_limit_fails_a_wait_beyond_a_year_at_once() -> None:
    with with_patch("stepfunctions_wait_limit"), mock_aws(config=EXECUTING):
        sfn = client("stepfunctions")
        arn = _create(sfn, WAIT_FROM_INPUT)["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"s": TEN_YEARS}))[
            "executionArn"
        ]
        described = finished(execution)
        quick = sfn.start_execution(stateMachineArn=arn, name="quick", input=json.dumps({"s": 0}))[
            "executionArn"
        ]
        assert finished(quick)["status"] == "SUCCEEDED"
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert "beyond the 31536000 seconds" in described["cause"]


def test_stepfunctions_wait_limit_counts_the_year_from_the_executions_start() -> None:
    from types import SimpleNamespace

    from arcadeflow.aws.moto_patches.stepfunctions_wait_limit import MAX_STANDARD_SECONDS, seconds_left

    started = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=60)
    context = {"Execution": {"StartTime": started.isoformat()}}
    env = SimpleNamespace(states=SimpleNamespace(context_object=SimpleNamespace(context_object_data=context)))
    assert MAX_STANDARD_SECONDS - 62 <= seconds_left(env) <= MAX_STANDARD_SECONDS - 60


def test_stepfunctions_definitions_a_refusal_of_motos_parser_is_named_as_aws_names_it(
    front: Callable[..., str],  # noqa: F811
) -> None:
    # Valid for AWS and for the validator's own checks, refused by moto 5.2.5's parser (it takes
    # ToleratedFailurePercentage only with a decimal point): the one parse, moto's, decides. The
    # patch that teaches moto the integer is held off, whichever test of this worker installed it.
    distributed = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "End": True}},
                },
                "ToleratedFailurePercentage": 50,
                "End": True,
            }
        },
    }
    sfn = client("stepfunctions", front("stepfunctions_definitions"))
    with without("stepfunctions_map_integer_percentage"):
        refused = _create(sfn, distributed, name="distributed")
        assert refused.get("error") == "InvalidDefinition", refused
        assert refused["message"].startswith(
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: "
            "The embedded interpreter cannot parse it: ASLParserException"
        )
        arn = _create(sfn, PASS_MACHINE, name="kept")["stateMachineArn"]
        with pytest.raises(ClientError) as update_refused:
            sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(distributed))
        assert update_refused.value.response["Error"]["Code"] == "InvalidDefinition"
