"""The status handlers in-process against moto (mock_aws): POST /statuses, the feed writer."""

from __future__ import annotations

import importlib
import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from arcadeflow.deployer import create_tables
from arcadeflow.deployment import ResourceRefs, load
from functions.shared import aws
from functions.status.fanout import FeedWriteThrottled, Pacer
from functions.status.repositories import ListingWriter
from tests.functional.answers import check_answer, check_execution_input
from tests.support.lambda_events import FakeLambdaContext, http_event

ROLE = "arn:aws:iam::123456789012:role/x"


@pytest.fixture
def world(monkeypatch):
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_METRICS_NAMESPACE": "arcadeflow-test",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset()
        deployment = load()
        tables = create_tables(deployment, boto3.client("dynamodb"))
        machine = boto3.client("stepfunctions").create_state_machine(
            name="arcadeflow-status-fanout",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn=ROLE,
        )["stateMachineArn"]
        refs = ResourceRefs(tables=tables, state_machine_arns={"status_fanout": machine})
        for name, value in deployment.function_environment("statuses_api", refs).items():
            monkeypatch.setenv(name, value)
        yield {"tables": tables, "machine": machine}
    aws.reset()


def post(body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    handler = importlib.import_module("functions.status.statuses_api").handler
    event = http_event("POST", "/statuses", user="alice", body=body)
    event["headers"].update(headers or {})
    response = handler(event, FakeLambdaContext())
    status, answer = response["statusCode"], json.loads(response["body"])
    check_answer("POST", "/statuses", status, answer)
    return status, answer


def story(world) -> list[dict]:
    return boto3.client("dynamodb").scan(TableName=world["tables"]["story"])["Items"]


def executions(world) -> list[dict]:
    return boto3.client("stepfunctions").list_executions(stateMachineArn=world["machine"])["executions"]


def test_a_post_is_stored_in_the_story_and_its_fanout_started_under_a_name_from_its_id(world):
    status, body = post({"post": "  first!  "})

    assert status == 202
    [item] = story(world)
    assert (item["userAlias"]["S"], item["statusId"]["S"], item["post"]["S"]) == (
        "alice",
        body["statusId"],
        "first!",
    )
    assert item["timestamp"]["S"] == body["timestamp"] == f"{body['postedAt']}#{body['statusId']}"
    [execution] = executions(world)
    assert execution["name"] == f"status-{body['statusId']}"
    assert body["fanoutExecutionArn"] == execution["executionArn"]


def test_the_fanout_is_started_with_an_input_its_schema_accepts(world):
    _, body = post({"post": "hello"})

    [execution] = executions(world)
    started = boto3.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    flow_input = check_execution_input("status_fanout", started["input"])
    assert flow_input["status"]["statusId"] == body["statusId"]


def test_a_retry_with_the_same_key_starts_nothing_new(world):
    key = {"idempotency-key": "client-42"}
    first = post({"post": "once"}, key)
    again = post({"post": "once"}, key)

    assert first == again
    assert len(story(world)) == 1
    assert len(executions(world)) == 1


def test_a_bad_post_writes_nothing_and_starts_nothing(world):
    status, body = post({"post": "x" * 501})

    assert status == 400 and body["error"]["code"] == "invalid_body"
    assert story(world) == [] and executions(world) == []


class ThrottlingClient:
    """Leaves every other item of each BatchWriteItem unprocessed, `rounds` times, then accepts."""

    def __init__(self, rounds: int):
        self.rounds = rounds
        self.requests: list[int] = []

    def batch_write_item(self, RequestItems: dict) -> dict:  # noqa: N803 - boto3's parameter name
        (table, writes), *_ = RequestItems.items()
        self.requests.append(len(writes))
        if self.rounds and len(writes) > 1:
            self.rounds -= 1
            return {"UnprocessedItems": {table: writes[1::2]}}
        return {"UnprocessedItems": {}}


def _items(n: int) -> list[dict]:
    return [{"userAlias": f"u{i}", "timestamp": "t#s"} for i in range(n)]


def test_the_writer_sends_25_a_request_and_retries_only_the_unprocessed():
    client = ThrottlingClient(rounds=2)
    writer = ListingWriter(client, "feed", max_attempts=5, sleep=lambda s: None)

    assert writer.write_all(_items(30), Pacer(None)) == 30
    assert client.requests == [25, 12, 6, 5]
    assert writer.retried_requests == 2


def test_the_writer_gives_the_batch_back_when_throttling_outlasts_its_attempts():
    writer = ListingWriter(ThrottlingClient(rounds=10), "feed", max_attempts=3, sleep=lambda s: None)

    with pytest.raises(FeedWriteThrottled, match="still throttled after 3 attempts"):
        writer.write_all(_items(25), Pacer(None))
