"""CreateStateMachine's own refusals and its idempotency, as the API reference gives them.

AWS: API reference, CreateStateMachine ("CreateStateMachine is an idempotent API ... based on
the state machine name, definition, type, LoggingConfiguration, and TracingConfiguration ...
If a following request has a different roleArn or tags, Step Functions will ignore these
differences"; errors StateMachineAlreadyExists, InvalidName, InvalidLoggingConfiguration,
ValidationException).
"""

from __future__ import annotations

import json

from tests.conformance.validation_support import create, one_state

PASS = one_state({"Type": "Pass"})
OTHER_ROLE = "arn:aws:iam::123456789012:role/another-role"


def test_the_same_request_again_answers_the_same_arn_and_creation_date(aws):
    """API reference, CreateStateMachine: idempotent on name, definition, type, logging, tracing."""
    name = aws.unique("idempotent")
    first = create(aws, PASS, name=name)
    again = create(aws, PASS, name=name)
    assert (again["stateMachineArn"], again["creationDate"]) == (
        first["stateMachineArn"],
        first["creationDate"],
    )


def test_a_different_role_is_ignored_and_answers_the_same_machine(aws):
    """API reference, CreateStateMachine: a different roleArn or tags are ignored, and not updated."""
    name = aws.unique("same-but-role")
    first = create(aws, PASS, name=name)
    again = create(aws, PASS, name=name, roleArn=OTHER_ROLE, tags=[{"key": "k", "value": "v"}])
    assert again["stateMachineArn"] == first["stateMachineArn"]
    assert aws.sfn.describe_state_machine(stateMachineArn=first["stateMachineArn"])["roleArn"] != OTHER_ROLE


def test_the_same_name_with_another_definition_is_state_machine_already_exists(aws):
    """API reference, CreateStateMachine (StateMachineAlreadyExists: "A state machine with the
    same name but a different definition or role ARN already exists")."""
    name = aws.unique("taken")
    arn = create(aws, PASS, name=name)["stateMachineArn"]
    refused = create(aws, one_state({"Type": "Pass", "Result": 1}), name=name)
    assert refused == {
        "error": "StateMachineAlreadyExists",
        "message": f"State Machine Already Exists: '{arn}'",
    }
    described = aws.sfn.describe_state_machine(stateMachineArn=arn)
    assert json.loads(described["definition"]) == PASS  # the first one stands


def test_the_same_name_with_another_type_is_state_machine_already_exists(aws):
    """API reference, CreateStateMachine: the idempotency check includes the type."""
    name = aws.unique("typed")
    create(aws, PASS, name=name)
    assert create(aws, PASS, name=name, type="EXPRESS")["error"] == "StateMachineAlreadyExists"


def test_the_same_name_with_another_logging_configuration_is_state_machine_already_exists(aws):
    """API reference, CreateStateMachine: the idempotency check includes LoggingConfiguration;
    a request without one equals one asking for level OFF (what DescribeStateMachine answers)."""
    name = aws.unique("logged")
    create(aws, PASS, name=name)
    assert "stateMachineArn" in create(aws, PASS, name=name, loggingConfiguration={"level": "OFF"})
    logged = {
        "level": "ERROR",
        "destinations": [
            {"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"}}
        ],
    }
    assert create(aws, PASS, name=name, loggingConfiguration=logged)["error"] == "StateMachineAlreadyExists"


def test_a_version_description_without_publish_is_a_validation_exception(aws):
    """API reference, CreateStateMachine (versionDescription: "You can only set the description
    if the publish parameter is set to true. Otherwise, if you set versionDescription, but
    publish to false, this API action throws ValidationException")."""
    refused = create(aws, PASS, versionDescription="first")
    assert refused.get("error") == "ValidationException", refused
    published = create(aws, PASS, versionDescription="first", publish=True)
    assert published["stateMachineVersionArn"].endswith(":1")


def test_a_name_with_a_character_aws_forbids_is_invalid_name(aws):
    """API reference, CreateStateMachine (name: no white space, brackets, wildcards, special
    characters " # % \\ ^ | ~ ` $ & , ; : /, control characters; InvalidName)."""
    for name in ("a b", "a/b", "a:b", "a{b", "a*b"):
        refused = create(aws, PASS, name=name)
        assert refused == {"error": "InvalidName", "message": f"Invalid Name: '{name}'"}, name


def test_a_name_over_80_characters_is_refused(aws):
    """API reference, CreateStateMachine (name: length 1 to 80). A length constraint of the
    API answers ValidationException, as AWS's request validation does for every member."""
    assert create(aws, PASS, name="n" * 81)["error"] == "ValidationException"
    assert "stateMachineArn" in create(aws, PASS, name=aws.unique("n" * 71))


def test_a_type_that_is_neither_standard_nor_express_is_a_validation_exception(aws):
    """API reference, CreateStateMachine (type: STANDARD | EXPRESS)."""
    refused = create(aws, PASS, type="BATCH")
    assert refused.get("error") == "ValidationException", refused
    assert "Member must satisfy enum value set: [STANDARD, EXPRESS]" in refused["message"]


def test_logging_at_a_level_other_than_off_without_a_destination_is_refused(aws):
    """API reference, LoggingConfiguration (destinations: "Required, if your log level is not
    set to OFF", at most one); CreateStateMachine (InvalidLoggingConfiguration). The message is
    AWS's wording as we know it; the API reference does not quote it."""
    refused = create(aws, PASS, loggingConfiguration={"level": "ALL"})
    assert refused.get("error") == "InvalidLoggingConfiguration", refused
    assert "stateMachineArn" in create(aws, PASS, loggingConfiguration={"level": "OFF"})


def test_a_definition_over_a_megabyte_is_a_validation_exception(aws):
    """API reference, CreateStateMachine (definition: maximum length of 1048576)."""
    padded = one_state({"Type": "Pass", "Comment": "x" * 1_048_576})
    assert create(aws, padded)["error"] == "ValidationException"
