"""A failed service integration fails under the name AWS gives it, with AWS's cause, so a Catch
written for AWS takes the same branch locally.

AWS: Step Functions developer guide, "Handling errors in Step Functions workflows" (a service
integration's errors are named `<Service>.<ExceptionName>`), and the service integration pages
"Perform DynamoDB CRUD operations with Step Functions", "Send messages to an Amazon SQS queue
with Step Functions", "Start a new AWS Step Functions state machine from a running execution",
"Invoke an AWS Lambda function with Step Functions".

The cause is worded as the AWS SDK for Java words a service error, `<message> (Service: <name>;
Status Code: <n>; Error Code: <code>; Request ID: <id>; Proxy: null)`: the guide shows it in
its examples of failed tasks but does not specify it, so the tests hold its parts, not its text.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

MISSING_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:no-such-machine"
MISSING_FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:no-such-function"


def caught(resource: str, parameters: dict[str, Any] | None, error: str) -> dict[str, Any]:
    """One Task whose failure is caught: `error` leads to Expected, anything else to Other."""
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": resource,
        "Catch": [
            {"ErrorEquals": [error], "ResultPath": "$.error", "Next": "Expected"},
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Other"},
        ],
        "End": True,
    }
    if parameters is not None:
        task["Parameters"] = parameters
    return {
        "StartAt": "Call",
        "States": {
            "Call": task,
            "Expected": {"Type": "Pass", "Result": "Expected", "ResultPath": "$.branch", "End": True},
            "Other": {"Type": "Pass", "Result": "Other", "ResultPath": "$.branch", "End": True},
        },
    }


def assert_sdk_cause(cause: str, message: str, service: str, status: int, code: str) -> None:
    match = re.fullmatch(
        r"(?P<message>.*) \(Service: (?P<service>\w+); Status Code: (?P<status>\d+); "
        r"Error Code: (?P<code>[\w.]+); Request ID: (?P<request>[\w-]+); Proxy: null\)",
        cause,
    )
    assert match, cause
    assert match["message"].startswith(message), cause
    assert (match["service"], int(match["status"]), match["code"]) == (service, status, code)


@pytest.fixture
def table(aws) -> str:
    name = aws.unique("errors")
    aws.dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    aws.dynamodb.put_item(TableName=name, Item={"pk": {"S": "taken"}})
    return name


@pytest.mark.parametrize(
    ("action", "parameters"),
    [
        ("putItem", {"Item": {"pk": {"S": "taken"}}, "ConditionExpression": "attribute_not_exists(pk)"}),
        (
            "updateItem",
            {
                "Key": {"pk": {"S": "taken"}},
                "UpdateExpression": "SET wins = :one",
                "ConditionExpression": "attribute_exists(seat)",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            },
        ),
        ("deleteItem", {"Key": {"pk": {"S": "taken"}}, "ConditionExpression": "attribute_exists(seat)"}),
    ],
)
def test_a_failed_dynamodb_condition_is_dynamodb_conditional_check_failed(aws, table, action, parameters):
    """Developer guide, "Perform DynamoDB CRUD operations with Step Functions": the error of a
    failed call is `DynamoDB.<exception>`; a condition that does not hold is DynamoDB's
    ConditionalCheckFailedException (DynamoDB API reference, PutItem/UpdateItem/DeleteItem)."""
    run = aws.run(
        caught(
            f"arn:aws:states:::dynamodb:{action}",
            {"TableName": table, **parameters},
            "DynamoDB.ConditionalCheckFailedException",
        )
    )
    assert (run.status, run.output["branch"]) == ("SUCCEEDED", "Expected"), run.output
    assert_sdk_cause(
        run.output["error"]["Cause"],
        "The conditional request failed",
        "AmazonDynamoDBv2",
        400,
        "ConditionalCheckFailedException",
    )


def test_reading_a_missing_table_is_dynamodb_resource_not_found(aws):
    """Developer guide, "Perform DynamoDB CRUD operations with Step Functions"."""
    run = aws.run(
        caught(
            "arn:aws:states:::dynamodb:getItem",
            {"TableName": "no-such-table", "Key": {"pk": {"S": "a"}}},
            "DynamoDB.ResourceNotFoundException",
        )
    )
    assert (run.status, run.output["branch"]) == ("SUCCEEDED", "Expected"), run.output
    assert_sdk_cause(
        run.output["error"]["Cause"],
        "Requested resource not found",
        "AmazonDynamoDBv2",
        400,
        "ResourceNotFoundException",
    )


def test_sending_to_a_missing_queue_is_sqs_queue_does_not_exist(aws):
    """Developer guide, "Send messages to an Amazon SQS queue with Step Functions": errors are
    `SQS.<exception>`; TestState's documented example of a caught send names a missing queue
    `SQS.QueueDoesNotExistException`."""
    url = aws.sqs.create_queue(QueueName=aws.unique("errors"))["QueueUrl"]
    run = aws.run(
        caught(
            "arn:aws:states:::sqs:sendMessage",
            {"QueueUrl": f"{url}-deleted", "MessageBody": "move"},
            "SQS.QueueDoesNotExistException",
        )
    )
    assert (run.status, run.output["branch"]) == ("SUCCEEDED", "Expected"), run.output
    assert_sdk_cause(
        run.output["error"]["Cause"],
        "The specified queue does not exist",
        "AmazonSQS",
        400,
        "AWS.SimpleQueueService.NonExistentQueue",
    )


@pytest.mark.parametrize("pattern", ["", ".sync", ".sync:2"])
def test_starting_a_missing_state_machine_is_stepfunctions_state_machine_does_not_exist(aws, pattern):
    """Developer guide, "Start a new AWS Step Functions state machine from a running
    execution"; API reference, StartExecution (StateMachineDoesNotExist)."""
    run = aws.run(
        caught(
            f"arn:aws:states:::states:startExecution{pattern}",
            {"StateMachineArn": MISSING_MACHINE, "Input": {}},
            "StepFunctions.StateMachineDoesNotExistException",
        )
    )
    assert (run.status, run.output["branch"]) == ("SUCCEEDED", "Expected"), run.output
    assert_sdk_cause(
        run.output["error"]["Cause"],
        "State Machine Does Not Exist",
        "AWSStepFunctions",
        400,
        "StateMachineDoesNotExist",
    )


def test_a_failed_child_of_start_execution_sync_is_states_task_failed_with_its_description(aws):
    """Developer guide, "Start a new AWS Step Functions state machine from a running execution":
    a `.sync` task fails when the child fails; the cause is the child's DescribeExecution (its
    error and cause inside)."""
    child = aws.machine(
        {"StartAt": "Lose", "States": {"Lose": {"Type": "Fail", "Error": "Game.Lost", "Cause": "x"}}}
    )
    run = aws.run(
        caught(
            "arn:aws:states:::states:startExecution.sync",
            {"StateMachineArn": child, "Input": {}},
            "States.TaskFailed",
        )
    )
    assert (run.status, run.output["branch"]) == ("SUCCEEDED", "Expected"), run.output
    described = json.loads(run.output["error"]["Cause"])
    assert (described["Status"], described["Error"], described["Cause"]) == ("FAILED", "Game.Lost", "x")


def test_lambda_invoke_of_a_missing_function_is_a_catchable_lambda_resource_not_found(aws):
    """Developer guide, "Invoke an AWS Lambda function with Step Functions" and "Handling errors
    in Step Functions workflows": Lambda's own errors arrive as `Lambda.<exception>`; Invoke of a
    function that does not exist is ResourceNotFoundException (Lambda API reference, Invoke)."""
    run = aws.run(
        caught(
            "arn:aws:states:::lambda:invoke",
            {"FunctionName": MISSING_FUNCTION, "Payload": {}},
            "Lambda.ResourceNotFoundException",
        )
    )
    assert (run.status, run.output["branch"]) == ("SUCCEEDED", "Expected"), run.output
    assert_sdk_cause(
        run.output["error"]["Cause"],
        f"Function not found: {MISSING_FUNCTION}",
        "AWSLambda",
        404,
        "ResourceNotFoundException",
    )


def test_a_bare_function_arn_resource_of_a_missing_function_is_lambda_resource_not_found(aws):
    """AWS's documentation is silent on the error of a Task whose Resource is the ARN of a
    function that does not exist; our choice: the same `Lambda.ResourceNotFoundException` and
    cause as `lambda:invoke` (a Lambda service error under Lambda's name, never `Exception`)."""
    run = aws.run(caught(MISSING_FUNCTION, None, "Lambda.ResourceNotFoundException"))
    assert (run.status, run.output["branch"]) == ("SUCCEEDED", "Expected"), run.output
    assert run.output["error"]["Cause"].startswith(
        f"Function not found: {MISSING_FUNCTION} (Service: AWSLambda"
    )


def test_an_uncaught_service_error_fails_the_execution_under_its_name(aws):
    """Developer guide, "Handling errors in Step Functions workflows": an error no Catch takes
    fails the execution with that error and cause."""
    definition = caught("arn:aws:states:::lambda:invoke", {"FunctionName": MISSING_FUNCTION}, "None.Such")
    del definition["States"]["Call"]["Catch"]
    definition["States"] = {"Call": definition["States"]["Call"]}  # nothing leads to the others now
    run = aws.run(definition)
    assert (run.status, run.error) == ("FAILED", "Lambda.ResourceNotFoundException")
    assert run.cause and run.cause.startswith("Function not found")


def test_an_sdk_integration_error_is_prefixed_with_the_sdk_service_name(aws, table):
    """Developer guide, "Integrating services with Step Functions" (AWS SDK integrations): an
    SDK integration's error is `<service>.<exception>`. AWS lists no names; that the service part
    is the AWS SDK for Java 2.x's client name (DynamoDb, Sqs, Sfn, ...) is our reading, from the
    two names moto's interpreter recorded from AWS (DynamoDb, Sfn)."""
    url = aws.sqs.create_queue(QueueName=aws.unique("errors"))["QueueUrl"]
    sqs = aws.run(
        caught(
            "arn:aws:states:::aws-sdk:sqs:sendMessage",
            {"QueueUrl": f"{url}-deleted", "MessageBody": "move"},
            "Sqs.QueueDoesNotExistException",
        )
    )
    dynamodb = aws.run(
        caught(
            "arn:aws:states:::aws-sdk:dynamodb:putItem",
            {
                "TableName": table,
                "Item": {"pk": {"S": "taken"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            },
            "DynamoDb.ConditionalCheckFailedException",
        )
    )
    assert sqs.output["branch"] == dynamodb.output["branch"] == "Expected", (sqs.output, dynamodb.output)
    assert sqs.output["error"]["Cause"].startswith(
        "The specified queue does not exist. (Service: Sqs, Status Code: 400"
    )
