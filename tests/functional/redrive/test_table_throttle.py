"""The fault switch's throttled tables: boto3 sees what a throttled DynamoDB table answers on
AWS (error code, message, HTTP 400, retried by botocore's standard mode), and a throttled call
writes nothing but what AWS would have written."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from arcadeflow.faults import all_faults, clear_faults, throttle_table
from tests.functional.branches.conftest import ROLE_ARN, Flow

THROTTLED_MESSAGE = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)


@pytest.fixture(autouse=True)
def no_faults_left(bench):
    yield
    clear_faults(bench.aws.url)


def _client(bench, **retries):
    return boto3.client(
        "dynamodb",
        endpoint_url=bench.aws.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries=retries),
    )


@pytest.fixture
def dynamodb(bench):
    """A client that tries once: each throttled answer reaches the test."""
    return _client(bench, mode="standard", total_max_attempts=1)


def _table(bench) -> str:
    return bench.table(f"throttle-{uuid.uuid4().hex[:8]}", ("pk",))


def _item(pk: str) -> dict:
    return {"pk": {"S": pk}}


def _stored(bench, table: str) -> set[str]:
    return {i["pk"]["S"] for i in bench.dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]}


def test_the_chosen_writes_fail_as_a_throttled_table_answers_and_write_nothing(bench, dynamodb) -> None:
    table = _table(bench)
    throttle_table(bench.aws.url, table, throttle_on=[1, 2])

    errors = []
    for pk in ("one", "two"):
        with pytest.raises(ClientError) as throttled:
            dynamodb.put_item(TableName=table, Item=_item(pk))
        errors.append(throttled.value.response)
    bench.dynamodb.put_item(TableName=table, Item=_item("three"))

    for error in errors:
        assert error["Error"]["Code"] == "ProvisionedThroughputExceededException"
        assert error["Error"]["Message"] == THROTTLED_MESSAGE
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert error["ResponseMetadata"]["RequestId"]  # as DynamoDB sends with every answer
    assert _stored(bench, table) == {"three"}
    [throttle] = all_faults(bench.aws.url)["dynamodb"]
    assert (throttle["calls"], throttle["throttled"]) == (3, [1, 2])


def test_botocore_standard_retry_mode_retries_a_throttled_write_to_success(bench) -> None:
    table = _table(bench)
    client = _client(bench, mode="standard", max_attempts=3)
    throttle_table(bench.aws.url, table, throttle_on=[1, 2])

    answer = client.update_item(
        TableName=table,
        Key=_item("retried"),
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
    )

    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
    assert _stored(bench, table) == {"retried"}


def test_a_throttled_batch_fails_whole_or_hands_back_all_but_the_admitted_items(bench, dynamodb) -> None:
    table = _table(bench)
    writes = [{"PutRequest": {"Item": _item(f"item-{n}")}} for n in range(5)]
    throttle_table(bench.aws.url, table, throttle_on=[1])
    with pytest.raises(ClientError) as refused:
        dynamodb.batch_write_item(RequestItems={table: writes})
    assert refused.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert _stored(bench, table) == set()

    throttle_table(bench.aws.url, table, throttle_on=[1], admit=2)
    answer = dynamodb.batch_write_item(RequestItems={table: writes})

    assert answer["UnprocessedItems"] == {table: writes[2:]}
    assert _stored(bench, table) == {"item-0", "item-1"}


def test_a_batch_over_two_tables_writes_the_other_table_and_hands_back_the_throttled_ones(
    bench, dynamodb
) -> None:
    throttled, other = _table(bench), _table(bench)
    throttle_table(bench.aws.url, throttled, throttle_on=[1])

    answer = dynamodb.batch_write_item(
        RequestItems={
            throttled: [{"PutRequest": {"Item": _item("held")}}],
            other: [{"PutRequest": {"Item": _item("written")}}],
        }
    )

    assert answer["UnprocessedItems"] == {throttled: [{"PutRequest": {"Item": _item("held")}}]}
    assert (_stored(bench, throttled), _stored(bench, other)) == (set(), {"written"})


def test_a_transaction_touching_a_throttled_table_is_cancelled_whole(bench, dynamodb) -> None:
    other, throttled = _table(bench), _table(bench)
    throttle_table(bench.aws.url, throttled, throttle_on=[1])

    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": other, "Item": _item("a")}},
                {"Put": {"TableName": throttled, "Item": _item("b")}},
            ]
        )

    error = cancelled.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert [r["Code"] for r in error["CancellationReasons"]] == ["None", "ThrottlingError"]
    assert error["Error"]["Message"].endswith("[None, ThrottlingError]")
    assert (_stored(bench, other), _stored(bench, throttled)) == (set(), set())


def test_reads_are_counted_only_when_named_and_a_logical_name_names_the_table(bench, dynamodb) -> None:
    table = bench.table("throttle-logical", ("pk",))  # physical branches-throttle-logical
    bench.dynamodb.put_item(TableName=table, Item=_item("x"))
    throttle_table(bench.aws.url, "throttle_logical", throttle_on=[1])
    bench.dynamodb.get_item(TableName=table, Key=_item("x"))  # a read: not a counted call
    with pytest.raises(ClientError, match="ProvisionedThroughputExceededException"):
        dynamodb.delete_item(TableName=table, Key=_item("x"))

    throttle_table(bench.aws.url, table, throttle_on=[1], operations=["GetItem"])
    bench.dynamodb.put_item(TableName=table, Item=_item("y"))  # not counted now
    with pytest.raises(ClientError, match="ProvisionedThroughputExceededException"):
        dynamodb.get_item(TableName=table, Key=_item("y"))
    assert _stored(bench, table) == {"x", "y"}


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"throttleOn": [1]}, "'table' must name a table"),
        ({"table": "t", "throttleOn": []}, "'throttleOn' must be a non-empty list"),
        ({"table": "t", "throttleOn": [1], "operations": ["DropTable"]}, "'operations' must be"),
        ({"table": "t", "throttleOn": [1], "admit": -1}, "'admit' must be"),
    ],
)
def test_a_bad_throttle_is_refused_with_what_is_wrong(bench, body, complaint) -> None:
    request = urllib.request.Request(
        f"{bench.aws.url}/arcadeflow/faults/dynamodb", data=json.dumps(body).encode(), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400 and complaint in refused.value.read().decode()
    assert all_faults(bench.aws.url)["dynamodb"] == []


def test_a_state_machines_dynamodb_task_fails_with_the_error_step_functions_names_and_retries(bench) -> None:
    table = _table(bench)
    put = {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:putItem",
        "Parameters": {"TableName": table, "Item": {"pk": {"S": "from-the-flow"}}},
        "Retry": [
            {
                "ErrorEquals": ["DynamoDB.ProvisionedThroughputExceededException"],
                "IntervalSeconds": 1,
                "MaxAttempts": 1,
            }
        ],
        "End": True,
    }
    machine = bench.sfn.create_state_machine(
        name=f"throttle-{uuid.uuid4().hex[:6]}",
        definition=json.dumps({"StartAt": "RecordIt", "States": {"RecordIt": put}}),
        roleArn=ROLE_ARN,
    )["stateMachineArn"]
    throttle_table(bench.aws.url, table, throttle_on=[1])

    execution = Flow(bench, machine).run("throttled-once", {})

    assert execution.status == "SUCCEEDED", execution.describe()
    [failed] = [e["taskFailedEventDetails"] for e in execution.events if e["type"] == "TaskFailed"]
    # Step Functions' own words, request id included (moto's interpreter needs the header for it).
    assert failed["error"] == "DynamoDB.ProvisionedThroughputExceededException"
    assert re.search(r"Error Code: ProvisionedThroughputExceededException; Request ID: \w+", failed["cause"])
    assert _stored(bench, table) == {"from-the-flow"}
