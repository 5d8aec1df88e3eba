"""A fresh mocked AWS per test with every table of infra/deployment.json, the matchmaking
handlers called in-process with exactly their deployed environment, and an in-memory
Management API (the duels' one: an unknown connection is gone, 410)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.shared import aws
from functions.shared.dynamo import to_item
from tests.functional.duels.conftest import DuelsWorld, message_event
from tests.support.lambda_events import FakeLambdaContext


class MatchmakingWorld(DuelsWorld):
    def send(self, user_id: str, connection_id: str, body: str | dict) -> dict:
        text = body if isinstance(body, str) else json.dumps(body)
        event = message_event(user_id, connection_id, text)
        return self.handler("matchmaking_actions")(event, FakeLambdaContext())

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        return self.handler(function)(event, FakeLambdaContext())

    def pair(self, joiner: str = "someone") -> dict[str, Any]:
        return self.invoke("matchmaking_pair", {"userId": joiner, "reason": "joinQueue"})

    def put_ticket(self, user_id: str, **fields: Any) -> None:
        self.client.put_item(
            TableName=self.names["queue_tickets"], Item=to_item({"userId": user_id, **fields})
        )

    def pairing_inputs(self) -> list[dict[str, Any]]:
        arn = self.state_machines["queue_pairing"]
        return [
            json.loads(self.sfn.describe_execution(executionArn=e["executionArn"])["input"])
            for e in self.sfn.list_executions(stateMachineArn=arn)["executions"]
        ]

    def stream_records(self, logical_table: str) -> list[dict[str, Any]]:
        """Every record on the table's stream so far, as moto's DynamoDB Streams returns them."""
        # As tests/functional/social: moto answers stream calls only on the classic host.
        streams = boto3.client(
            "dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com"
        )
        arn = self.client.describe_table(TableName=self.names[logical_table])["Table"]["LatestStreamArn"]
        records: list[dict[str, Any]] = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            records += streams.get_records(ShardIterator=iterator)["Records"]
        return records

    def disconnect(self, user_id: str, connection_id: str) -> None:
        """What ws_connections does on $disconnect: the connection record goes."""
        self.client.delete_item(
            TableName=self.names["connections"],
            Key=to_item({"userId": user_id, "connectionId": connection_id}),
        )
        self.api.open.discard(connection_id)


@pytest.fixture
def world(monkeypatch, time_machine):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "arcadeflow")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset()
        yield MatchmakingWorld(monkeypatch)
        aws.reset()
