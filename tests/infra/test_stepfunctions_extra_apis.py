"""The Step Functions APIs moto lacks (ValidateStateMachineDefinition, ListStateMachineVersions)."""

from __future__ import annotations

import json
import re

import boto3
import pytest
from moto import mock_aws

from arcadeflow.aws.stepfunctions_extra_apis import ACTIONS, ApiError

validate = ACTIONS["ValidateStateMachineDefinition"]
list_versions = ACTIONS["ListStateMachineVersions"]

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:arcadeflow-fanout-writer"


def machine(**states: dict) -> str:
    return json.dumps({"StartAt": next(iter(states)), "States": states})


GOOD = machine(
    WriteFeedPage={
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": FUNCTION, "Payload.$": "$"},
        "Retry": [
            {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2}
        ],
        "Next": "IsDone",
    },
    IsDone={
        "Type": "Choice",
        "Choices": [{"Variable": "$.done", "BooleanEquals": True, "Next": "Done"}],
        "Default": "FanoutFailed",
    },
    Done={"Type": "Succeed"},
    FanoutFailed={"Type": "Fail", "Error": "FanoutFailed", "Cause": "not done"},
)


def test_a_valid_definition_is_ok():
    assert validate({"definition": GOOD}) == {"result": "OK", "diagnostics": [], "truncated": False}


def test_every_fixture_and_real_template_validates_once_filled():
    from arcadeflow.asl import render_definition
    from arcadeflow.deployment import REPO_ROOT

    templates = sorted(REPO_ROOT.glob("statemachines/*.asl.json")) + sorted(
        (REPO_ROOT / "infra/tests/fixtures/statemachines").glob("*.asl.json")
    )
    assert templates
    for path in templates:
        text = path.read_text()
        names = set(re.findall(r"\$\{([a-z][a-z0-9_]*)\}", text))
        values = {n: (FUNCTION if n.endswith("_arn") else "https://example.invalid/q") for n in names}
        rendered = render_definition(str(path.relative_to(REPO_ROOT)), values)
        assert validate({"definition": rendered})["result"] == "OK", path


def test_missing_transition_target_is_reported_where_aws_reports_it():
    out = validate({"definition": machine(A={"Type": "Pass", "Next": "B"})})
    assert out["result"] == "FAIL"
    assert {
        "severity": "ERROR",
        "code": "MISSING_TRANSITION_TARGET",
        "location": "/States/A/Next",
    }.items() <= out["diagnostics"][0].items()
    assert out["diagnostics"][0]["message"] == "Missing 'Next' target: B"


def test_schema_errors_name_the_field():
    out = validate({"definition": machine(A={"Type": "Pass", "End": True, "Bogus": 1})})
    assert out["result"] == "FAIL"
    assert out["diagnostics"][0]["code"] == "SCHEMA_VALIDATION_FAILED"
    assert "Bogus" in out["diagnostics"][0]["message"]


def test_a_choice_without_choices_fails():
    out = validate(
        {"definition": machine(IsDone={"Type": "Choice", "Default": "Done"}, Done={"Type": "Succeed"})}
    )
    assert out["result"] == "FAIL"


def test_malformed_json_is_an_invalid_json_description():
    out = validate({"definition": "{not json"})
    assert out["result"] == "FAIL"
    assert out["diagnostics"][0]["code"] == "INVALID_JSON_DESCRIPTION"


def test_max_results_truncates():
    broken = machine(A={"Type": "Pass", "Next": "B", "X": 1}, C={"Type": "Pass", "Next": "D", "Y": 2})
    everything = validate({"definition": broken})
    assert len(everything["diagnostics"]) > 1 and not everything["truncated"]
    one = validate({"definition": broken, "maxResults": 1})
    assert len(one["diagnostics"]) == 1 and one["truncated"]


@pytest.mark.parametrize(
    "body",
    [{}, {"definition": ""}, {"definition": GOOD, "type": "BATCH"}, {"definition": GOOD, "severity": "INFO"}],
)
def test_bad_requests_are_validation_exceptions(body):
    with pytest.raises(ApiError) as err:
        validate(body)
    assert err.value.code == "ValidationException" and err.value.status == 400


@pytest.fixture
def sfn():
    with mock_aws():
        yield boto3.client("stepfunctions", region_name="us-east-1")


ROLE = "arn:aws:iam::123456789012:role/arcadeflow-status-fanout"


def test_a_machine_never_published_has_no_versions(sfn):
    arn = sfn.create_state_machine(name="plain", definition=GOOD, roleArn=ROLE)["stateMachineArn"]
    assert list_versions({"stateMachineArn": arn}) == {"stateMachineVersions": []}


def test_published_versions_are_listed_newest_first_and_paginate(sfn):
    arn = sfn.create_state_machine(name="versioned", definition=GOOD, roleArn=ROLE, publish=True)[
        "stateMachineArn"
    ]
    sfn.update_state_machine(stateMachineArn=arn, definition=GOOD, publish=True)
    sfn.update_state_machine(stateMachineArn=arn, definition=GOOD, publish=True)
    out = list_versions({"stateMachineArn": arn})
    assert [v["stateMachineVersionArn"] for v in out["stateMachineVersions"]] == [
        f"{arn}:3",
        f"{arn}:2",
        f"{arn}:1",
    ]
    assert all(isinstance(v["creationDate"], float) for v in out["stateMachineVersions"])
    first = list_versions({"stateMachineArn": arn, "maxResults": 2})
    assert len(first["stateMachineVersions"]) == 2 and first["nextToken"]
    rest = list_versions({"stateMachineArn": arn, "maxResults": 2, "nextToken": first["nextToken"]})
    assert [v["stateMachineVersionArn"] for v in rest["stateMachineVersions"]] == [f"{arn}:1"]
    assert "nextToken" not in rest


def test_unknown_machine_and_bad_arn_are_client_errors(sfn):
    with pytest.raises(ApiError) as missing:
        list_versions({"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:nope"})
    assert missing.value.code == "StateMachineDoesNotExist"
    with pytest.raises(ApiError) as bad:
        list_versions({"stateMachineArn": "arn:aws:lambda:us-east-1:123456789012:function:f"})
    assert bad.value.code == "InvalidArn"
    with pytest.raises(ApiError) as token:
        arn = sfn.create_state_machine(name="t", definition=GOOD, roleArn=ROLE)["stateMachineArn"]
        list_versions({"stateMachineArn": arn, "nextToken": "garbage"})
    assert token.value.code == "InvalidToken"
