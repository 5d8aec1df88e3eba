"""Definitions AWS refuses, refused as AWS refuses them: InvalidDefinition and its message.

AWS: API reference, CreateStateMachine and UpdateStateMachine ("InvalidDefinition: The provided
Amazon States Language definition is not valid"); the diagnostics' codes and locations as
ValidateStateMachineDefinition lists them (API reference, ValidateStateMachineDefinition).
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conformance.validation_support import LAMBDA_INVOKE, create, one_state, update, validate

PASS = one_state({"Type": "Pass"})


def choice_to(*targets: str) -> dict:
    """A Choice state A whose rules go to `targets`, by default to Done."""
    rules = [{"Variable": "$.x", "IsPresent": True, "Next": t} for t in targets]
    return {
        "StartAt": "A",
        "States": {"A": {"Type": "Choice", "Choices": rules, "Default": "Done"}, "Done": {"Type": "Succeed"}},
    }


TO_B = choice_to("B")  # B does not exist


def test_a_missing_transition_target_is_invalid_definition_with_code_and_location(aws):
    """API reference, CreateStateMachine (InvalidDefinition); ValidateStateMachineDefinition
    (diagnostic code MISSING_TRANSITION_TARGET, location a JSON path into the definition)."""
    refused = create(aws, TO_B)
    assert refused.get("error") == "InvalidDefinition", refused
    assert refused["message"] == (
        "Invalid State Machine Definition: "
        "'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Choices/0/Next'"
    )


def test_several_problems_are_joined_inside_one_pair_of_quotes(aws):
    """AWS joins several problems with ", " inside the quotes of one InvalidDefinition message,
    and reports an unreachable state as MISSING_TRANSITION_TARGET 'State "X" is not
    reachable.'. The developer guide quotes no such answer: this is AWS's answer as a user
    recorded it in localstack/localstack#11978."""
    refused = create(
        aws,
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "Gone"},
                "Lost": {"Type": "Pass", "End": True},
            },
        },
    )
    assert refused.get("error") == "InvalidDefinition", refused
    assert refused["message"].startswith(
        "Invalid State Machine Definition: "
        "'MISSING_TRANSITION_TARGET: Missing 'Next' target: Gone at /States/A/Next, "
    )
    assert 'MISSING_TRANSITION_TARGET: State "Lost" is not reachable. at /States/Lost' in refused["message"]


def test_a_definition_that_is_not_json_is_invalid_definition(aws):
    """API reference, CreateStateMachine (InvalidDefinition); code INVALID_JSON_DESCRIPTION."""
    refused = create(aws, '{"StartAt": "A", ')
    assert refused.get("error") == "InvalidDefinition", refused
    assert refused["message"].startswith("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: ")


def test_an_unknown_field_is_schema_validation_failed_where_it_is(aws):
    """API reference, ValidateStateMachineDefinition: SCHEMA_VALIDATION_FAILED with the
    location of the field."""
    refused = create(aws, one_state({"Type": "Pass", "Bogus": 1}))
    assert refused.get("error") == "InvalidDefinition", refused
    assert refused["message"].startswith("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: ")
    assert "Bogus" in refused["message"] and refused["message"].endswith(" at /States/S'")


def test_an_illegal_escape_in_an_intrinsic_string_is_refused(aws):
    """Developer guide, "Intrinsic functions for JSONPath states": in a string argument only
    ' { } and \\ are escaped with a backslash. AWS refuses the definition at creation; the
    wording of its message is AWS's ("must be a valid JSONPath or a valid intrinsic function
    call"), with our reason in parentheses."""
    refused = create(aws, one_state({"Type": "Pass", "Parameters": {"m.$": "States.Format('\\q')"}}))
    assert refused.get("error") == "InvalidDefinition", refused
    assert (
        "SCHEMA_VALIDATION_FAILED: The value for the field 'm.$' must be a valid JSONPath or a valid"
        " intrinsic function call" in refused["message"]
    )
    assert refused["message"].endswith(" at /States/S/Parameters'")


def test_the_four_legal_escapes_of_an_intrinsic_string_are_accepted(aws):
    """Developer guide, "Intrinsic functions for JSONPath states" (escaping ' { } \\)."""
    created = create(
        aws, one_state({"Type": "Pass", "Parameters": {"m.$": "States.Format('it\\'s \\{\\} \\\\ {}', $.x)"}})
    )
    assert "stateMachineArn" in created, created


def test_an_unknown_intrinsic_function_is_refused(aws):
    """Developer guide, "Intrinsic functions for JSONPath states" lists every function."""
    refused = create(aws, one_state({"Type": "Pass", "Parameters": {"m.$": "States.Shout('a')"}}))
    assert refused.get("error") == "InvalidDefinition", refused
    assert "States.Shout is not an intrinsic function" in refused["message"]


def test_an_unclosed_intrinsic_call_is_refused(aws):
    """Developer guide, "Intrinsic functions for JSONPath states" (the call syntax)."""
    refused = create(aws, one_state({"Type": "Pass", "Parameters": {"m.$": "States.Format('a', $.x"}}))
    assert refused.get("error") == "InvalidDefinition", refused
    assert "States.Format( is never closed" in refused["message"]


def test_a_sync_integration_in_an_express_machine_is_refused(aws):
    """Developer guide, "Discover service integration patterns in Step Functions": Express
    workflows do not support Run a Job (.sync). The message is AWS's wording as LocalStack
    recorded it; the location (/States/S/Resource) is our choice (AWS's is not documented)."""
    definition = one_state(
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child"},
        }
    )
    refused = create(aws, definition, type="EXPRESS")
    assert refused.get("error") == "InvalidDefinition", refused
    assert (
        "SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration"
        in (refused["message"])
    )
    assert "stateMachineArn" in create(aws, definition, type="STANDARD")


def test_a_callback_integration_in_an_express_machine_is_refused(aws):
    """Developer guide, "Discover service integration patterns in Step Functions": Express
    workflows do not support Wait for a Callback (.waitForTaskToken)."""
    definition = one_state(
        {
            "Type": "Task",
            "Resource": f"{LAMBDA_INVOKE}.waitForTaskToken",
            "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
        }
    )
    refused = create(aws, definition, type="EXPRESS")
    assert refused.get("error") == "InvalidDefinition", refused
    assert (
        "Express state machine does not support '.waitForTaskToken' service integration" in refused["message"]
    )


def test_a_wait_of_more_seconds_than_allowed_is_refused(aws):
    """Developer guide, "Wait workflow state": Seconds is an integer from 0 to 99999999."""
    refused = create(aws, one_state({"Type": "Wait", "Seconds": 100_000_000}))
    assert refused.get("error") == "InvalidDefinition", refused
    assert refused["message"].endswith(" at /States/S/Seconds'")
    assert "stateMachineArn" in create(aws, one_state({"Type": "Wait", "Seconds": 99_999_999}))


def test_update_refuses_what_create_refuses(aws):
    """API reference, UpdateStateMachine (InvalidDefinition)."""
    arn = create(aws, PASS)["stateMachineArn"]
    refused = update(aws, arn, definition=TO_B)
    assert refused.get("error") == "InvalidDefinition", refused
    assert (
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Choices/0/Next"
        in refused["message"]
    )
    described = aws.sfn.describe_state_machine(stateMachineArn=arn)
    assert described["definition"] == json.dumps(PASS)  # unchanged


def test_update_of_an_express_machine_refuses_a_sync_integration(aws):
    """API reference, UpdateStateMachine; developer guide, "Discover service integration
    patterns": the machine's own type decides."""
    arn = create(aws, PASS, type="EXPRESS")["stateMachineArn"]
    refused = update(
        aws,
        arn,
        definition=one_state(
            {"Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync", "Parameters": {"Cluster": "c"}}
        ),
    )
    assert refused.get("error") == "InvalidDefinition", refused
    assert "'.sync' service integration" in refused["message"]


def test_validate_answers_the_same_problem_as_a_diagnostic(aws):
    """API reference, ValidateStateMachineDefinition: result FAIL with diagnostics (severity,
    code, message, location)."""
    checked = validate(aws, TO_B)
    assert checked["result"] == "FAIL" and checked["truncated"] is False
    assert checked["diagnostics"] == [
        {
            "severity": "ERROR",
            "code": "MISSING_TRANSITION_TARGET",
            "message": "Missing 'Next' target: B",
            "location": "/States/A/Choices/0/Next",
        }
    ]


def test_validate_applies_the_express_rules_for_type_express(aws):
    """API reference, ValidateStateMachineDefinition (type: STANDARD by default, or EXPRESS)."""
    definition = one_state(
        {"Type": "Task", "Resource": f"{LAMBDA_INVOKE}.waitForTaskToken", "Parameters": {}}
    )
    assert validate(aws, definition)["result"] == "OK"
    checked = validate(aws, definition, type="EXPRESS")
    assert checked["result"] == "FAIL"
    assert checked["diagnostics"][0]["code"] == "SCHEMA_VALIDATION_FAILED"


def test_validate_truncates_to_max_results(aws):
    """API reference, ValidateStateMachineDefinition: maxResults bounds the diagnostics, and
    truncated says more were found."""
    broken = choice_to("B", "D")
    everything = validate(aws, broken)
    assert len(everything["diagnostics"]) == 2 and everything["truncated"] is False
    first = validate(aws, broken, maxResults=1)
    assert first["diagnostics"] == everything["diagnostics"][:1] and first["truncated"] is True
    assert validate(aws, broken, maxResults=0) == everything  # 0: the default, 100


def test_validate_refuses_max_results_over_100(aws):
    """API reference, ValidateStateMachineDefinition (maxResults: "The default and maximum value
    is 100"). A value over the maximum is a ValidationException, as for every bounded member."""
    with pytest.raises(ClientError) as refused:
        validate(aws, PASS, maxResults=101)
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_a_state_name_used_twice_in_the_machine_is_a_duplicate_state_name(aws):
    """Amazon States Language, "States": state names are unique within the scope of the whole
    state machine, Parallel branches included; AWS's code is DUPLICATE_STATE_NAME."""
    refused = create(
        aws,
        {
            "StartAt": "Both",
            "States": {
                "Both": {
                    "Type": "Parallel",
                    "Branches": [{"StartAt": "Same", "States": {"Same": {"Type": "Pass", "End": True}}}],
                    "Next": "Same",
                },
                "Same": {"Type": "Succeed"},
            },
        },
    )
    assert refused.get("error") == "InvalidDefinition", refused
    assert "DUPLICATE_STATE_NAME: Duplicate State name: Same" in refused["message"]


def test_a_task_with_neither_next_nor_end_is_refused(aws):
    """Developer guide, "Task workflow state" (a non-terminal state has Next, a terminal one End)."""
    refused = create(
        aws, {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA_INVOKE, "Parameters": {}}}}
    )
    assert refused.get("error") == "InvalidDefinition", refused
    assert refused["message"].startswith("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: ")


def test_a_tolerated_failure_percentage_with_decimals_is_accepted(aws):
    """Developer guide, "Map state in Distributed mode" (ToleratedFailurePercentage: a number
    from 0 to 100; JSON has one number type)."""
    definition = one_state(
        {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "P",
                "States": {"P": {"Type": "Pass", "End": True}},
            },
            "ToleratedFailurePercentage": 2.5,
        }
    )
    assert validate(aws, definition)["result"] == "OK"
    assert "stateMachineArn" in create(aws, definition)


def test_an_activity_in_an_express_machine_is_refused(aws):
    """Developer guide, "Learn about activities in Step Functions": activities are not
    supported by Express workflows."""
    activity = aws.sfn.create_activity(name=aws.unique("activity"))["activityArn"]
    definition = one_state({"Type": "Task", "Resource": activity})
    refused = create(aws, definition, type="EXPRESS")
    assert refused.get("error") == "InvalidDefinition", refused
    assert "Express state machine does not support Activity ARN" in refused["message"]
    assert "stateMachineArn" in create(aws, definition)


def test_an_update_that_changes_nothing_is_refused(aws):
    """API reference, UpdateStateMachine: at least one of definition, roleArn,
    loggingConfiguration, tracingConfiguration (or publish) must be given
    (MissingRequiredParameter)."""
    arn = create(aws, PASS)["stateMachineArn"]
    assert update(aws, arn)["error"] == "MissingRequiredParameter"
