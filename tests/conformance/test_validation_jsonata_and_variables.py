"""JSONata states and workflow variables: accepted where AWS accepts them, refused where it refuses.

AWS: developer guide, "Transforming data with JSONata in Step Functions" (QueryLanguage,
Arguments, Output, Condition, Items, `{% %}` expressions, JSONPath fields unsupported in
JSONata states) and "Passing data between states with variables" (Assign, variable names,
the reserved `$states`). These templates are checked by CreateStateMachine and
ValidateStateMachineDefinition alike; whether they run is the "jsonata" part's concern.
"""

from __future__ import annotations

from tests.conformance.validation_support import LAMBDA_INVOKE, accepted, create, one_state, validate

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:conformance-handler"
JSONATA = {"QueryLanguage": "JSONata"}


def refusal(aws, definition: dict) -> tuple[str, str]:
    """(CreateStateMachine's message, ValidateStateMachineDefinition's first diagnostic location)."""
    refused = create(aws, definition)
    assert refused.get("error") == "InvalidDefinition", refused
    checked = validate(aws, definition)
    assert checked["result"] == "FAIL"
    return refused["message"], checked["diagnostics"][0].get("location", "")


# --- accepted -----------------------------------------------------------------------------------


def test_a_jsonata_task_with_arguments_output_and_expression_timeouts_is_accepted(aws):
    """Developer guide, "Transforming data with JSONata": Arguments and Output, and
    TimeoutSeconds as a JSONata expression."""
    accepted(
        aws,
        one_state(
            {
                "Type": "Task",
                "Resource": LAMBDA_INVOKE,
                "Arguments": {"FunctionName": FUNCTION, "Payload": "{% $states.input %}"},
                "TimeoutSeconds": "{% $states.input.timeout %}",
                "Output": "{% $states.result.Payload %}",
                "Assign": {"answer": "{% $states.result.Payload.answer %}"},
            },
            **JSONATA,
        ),
    )


def test_a_jsonata_choice_with_conditions_is_accepted(aws):
    """Developer guide, "Choice workflow state" (JSONata: Condition)."""
    accepted(
        aws,
        {
            **JSONATA,
            "StartAt": "IsBig",
            "States": {
                "IsBig": {
                    "Type": "Choice",
                    "Choices": [
                        {"Condition": "{% $states.input.n > 10 %}", "Next": "Big", "Output": {"big": True}}
                    ],
                    "Default": "Small",
                },
                "Big": {"Type": "Succeed"},
                "Small": {"Type": "Succeed", "Output": "{% {'small': true} %}"},
            },
        },
    )


def test_a_jsonata_map_over_items_and_a_wait_of_an_expression_are_accepted(aws):
    """Developer guide, "Map workflow state" (JSONata: Items) and "Wait workflow state" (in
    JSONata states, Seconds may be an expression)."""
    accepted(
        aws,
        {
            **JSONATA,
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "Items": "{% $states.input.xs %}",
                    "ItemProcessor": {
                        "StartAt": "Double",
                        "States": {
                            "Double": {"Type": "Pass", "Output": "{% $states.input * 2 %}", "End": True}
                        },
                    },
                    "Next": "Hold",
                },
                "Hold": {"Type": "Wait", "Seconds": "{% $count($states.input) %}", "Next": "Stop"},
                "Stop": {"Type": "Fail", "Error": "{% 'Stopped' %}", "Cause": "{% $string($states.input) %}"},
            },
        },
    )


def test_a_single_jsonata_state_inside_a_jsonpath_machine_is_accepted(aws):
    """Developer guide, "Transforming data with JSONata": QueryLanguage may be set per state."""
    accepted(
        aws,
        {
            "StartAt": "Old",
            "States": {
                "Old": {"Type": "Pass", "ResultPath": "$.kept", "Next": "New"},
                "New": {
                    "Type": "Pass",
                    "QueryLanguage": "JSONata",
                    "Output": "{% $states.input.kept %}",
                    "End": True,
                },
            },
        },
    )


def test_variables_assigned_and_read_in_jsonpath_are_accepted(aws):
    """Developer guide, "Passing data between states with variables": Assign in JSONPath states
    ("name.$" for a path), and `$name` read in Parameters, intrinsic functions and Choice rules."""
    accepted(
        aws,
        {
            "StartAt": "Remember",
            "States": {
                "Remember": {
                    "Type": "Pass",
                    "Assign": {"limit": 3, "player.$": "$.player"},
                    "Next": "IsOver",
                },
                "IsOver": {
                    "Type": "Choice",
                    "Choices": [
                        {"Variable": "$limit", "NumericGreaterThan": 2, "Next": "Greet"},
                        {"Variable": "$.n", "NumericGreaterThanPath": "$limit", "Next": "Greet"},
                    ],
                    "Default": "Greet",
                },
                "Greet": {
                    "Type": "Pass",
                    "Parameters": {"who.$": "$player.name", "line.$": "States.Format('hi {}', $player.name)"},
                    "End": True,
                },
            },
        },
    )


# --- refused ------------------------------------------------------------------------------------


def test_a_jsonpath_field_in_a_jsonata_state_is_refused(aws):
    """Developer guide, "Transforming data with JSONata": JSONata states do not support
    InputPath, Parameters, ResultSelector, ResultPath, OutputPath. AWS's exact wording is not
    documented: ours names the field; the code and location are AWS's."""
    message, location = refusal(aws, one_state({"Type": "Pass", "InputPath": "$.a"}, **JSONATA))
    assert "SCHEMA_VALIDATION_FAILED: The field 'InputPath' is not supported for JSONata states" in message
    assert location == "/States/S/InputPath"


def test_a_jsonata_field_in_a_jsonpath_state_is_refused(aws):
    """Developer guide, "Transforming data with JSONata": Arguments and Output belong to
    JSONata states."""
    message, location = refusal(
        aws, one_state({"Type": "Task", "Resource": LAMBDA_INVOKE, "Arguments": {"FunctionName": FUNCTION}})
    )
    assert "The field 'Arguments' is supported only when the QueryLanguage is JSONata" in message
    assert location == "/States/S/Arguments"


def test_a_jsonpath_state_inside_a_jsonata_machine_is_refused(aws):
    """Developer guide, "Transforming data with JSONata": a JSONata state machine's states
    cannot go back to JSONPath. The wording is ours."""
    message, location = refusal(aws, one_state({"Type": "Pass", "QueryLanguage": "JSONPath"}, **JSONATA))
    assert "SCHEMA_VALIDATION_FAILED" in message
    assert location == "/States/S/QueryLanguage"


def test_a_valid_machine_is_accepted_right_after_a_refused_one(aws):
    """A refusal leaves nothing behind: the next JSONPath machine with variables is accepted.
    (moto's parser, left alone, keeps the scopes of a parse it gave up half-way and refuses
    every later machine: tests/unit/test_moto_patches_validation.py shows it.)"""
    refusal(aws, one_state({"Type": "Pass", "QueryLanguage": "JSONPath"}, **JSONATA))
    created = create(
        aws,
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
                "B": {"Type": "Pass", "Parameters": {"x.$": "$x"}, "End": True},
            },
        },
    )
    assert "stateMachineArn" in created, created


def test_a_number_field_of_a_jsonata_state_without_the_delimiters_is_refused(aws):
    """Developer guide, "Wait workflow state": in JSONata states Seconds is an integer or a
    JSONata expression; a string that is not enclosed in {% %} is neither."""
    message, location = refusal(aws, one_state({"Type": "Wait", "Seconds": "$states.input.s"}, **JSONATA))
    assert "must be a number or a JSONata expression enclosed in {% %}" in message
    assert location == "/States/S/Seconds"


def test_a_condition_without_the_delimiters_is_refused(aws):
    """Developer guide, "Choice workflow state": a JSONata Condition is a boolean or an
    expression in {% %}."""
    definition = {
        **JSONATA,
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Condition": "$states.input.a", "Next": "D"}],
                "Default": "D",
            },
            "D": {"Type": "Succeed"},
        },
    }
    message, location = refusal(aws, definition)
    assert location == "/States/C/Choices/0/Condition"


def test_an_expression_that_opens_but_never_closes_is_refused(aws):
    """Developer guide, "Transforming data with JSONata": an expression is enclosed in {% %}."""
    message, location = refusal(
        aws, one_state({"Type": "Pass", "Output": {"a": "{% $states.input "}}, **JSONATA)
    )
    assert location == "/States/S/Output/a"


def test_assigning_the_reserved_variable_states_is_refused(aws):
    """Developer guide, "Passing data between states with variables": `$states` is reserved."""
    message, location = refusal(aws, one_state({"Type": "Pass", "Assign": {"states": 1}}))
    assert "The variable name 'states' is reserved" in message
    assert location == "/States/S/Assign/states"


def test_a_variable_name_that_does_not_start_with_a_letter_is_refused(aws):
    """Developer guide, "Passing data between states with variables": a name starts with a
    Unicode ID_Start character and is at most 80 characters long."""
    for name in ("1st", "a-b", "x" * 81):
        message, location = refusal(aws, one_state({"Type": "Pass", "Assign": {name: 1}}))
        assert location == f"/States/S/Assign/{name}", name
    accepted(aws, one_state({"Type": "Pass", "Assign": {"émile_2": 1, "x" * 80: 2}}))


def test_assign_in_a_succeed_state_is_refused(aws):
    """Developer guide, "Passing data between states with variables": Pass, Task, Map,
    Parallel, Choice and Wait states assign variables; Succeed and Fail do not."""
    message, location = refusal(aws, one_state({"Type": "Succeed", "Assign": {"x": 1}}))
    assert location == "/States/S/Assign"


def test_an_expression_that_does_not_parse_is_refused(aws):
    """Developer guide, "Transforming data with JSONata": the value between {% %} is a JSONata
    expression. AWS refuses one that does not parse at creation; the code is AWS's, the wording
    (the parser's reason) ours."""
    message, location = refusal(aws, one_state({"Type": "Pass", "Output": {"sum": "{% 1 + %}"}}, **JSONATA))
    assert "The JSONata expression '{% 1 + %}' is not valid" in message
    assert location == "/States/S/Output/sum"
