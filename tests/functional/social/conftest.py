"""A fresh mocked AWS per test with every table of infra/deployment.json, and a way to call the
social handlers in-process with exactly the environment their deployment entry gives them."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from arcadeflow.deployer import create_tables, table_environment
from arcadeflow.deployment import Deployment, ResourceRefs, load
from functions.shared import aws
from tests.functional.answers import check_answer
from tests.support.lambda_events import FakeLambdaContext, http_event
from tests.support.moto_atomic import make_dynamodb_requests_atomic


@dataclass
class Reply:
    status: int
    body: Any

    @property
    def error_code(self) -> str | None:
        return (self.body or {}).get("error", {}).get("code") if isinstance(self.body, dict) else None


class SocialWorld:
    def __init__(self, deployment: Deployment, client: Any, names: dict[str, str], monkeypatch) -> None:
        self.deployment = deployment
        self.client = client
        self.names = names
        self._monkeypatch = monkeypatch

    def use_function(self, function: str) -> None:
        """Environment exactly as deployed: only the tables this function declares."""
        for variable in list(os.environ):
            if variable.endswith("_TABLE"):
                self._monkeypatch.delenv(variable)
        env = self.deployment.function_environment(function, ResourceRefs(tables=self.names))
        for variable, value in env.items():
            self._monkeypatch.setenv(variable, value)

    def handler(self, function: str):
        self.use_function(function)
        module_path, _, attribute = self.deployment.functions[function].handler.rpartition(".")
        return getattr(importlib.import_module(module_path), attribute)

    def call(self, function: str, method: str, path: str, **event_options: Any) -> Reply:
        response = self.handler(function)(http_event(method, path, **event_options), FakeLambdaContext())
        body = response.get("body")
        reply = Reply(response["statusCode"], json.loads(body) if body else None)
        check_answer(method, path, reply.status, reply.body)
        return reply

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        return self.handler(function)(event, FakeLambdaContext())

    def scan(self, logical_table: str) -> list[dict[str, Any]]:
        from functions.shared.dynamo import from_item

        items = self.client.scan(TableName=self.names[logical_table])["Items"]
        return [from_item(item) for item in items]

    def stream_records(self, logical_table: str) -> list[dict[str, Any]]:
        """Every record on the table's stream so far, as moto's DynamoDB Streams returns them."""
        # botocore 1.44 sends stream calls to <account>.streams-ddb.<region>.amazonaws.com when the
        # ARN names an account; moto 5.2.5 only answers the classic host, so name it.
        streams = boto3.client(
            "dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com"
        )
        arn = self.client.describe_table(TableName=self.names[logical_table])["Table"]["LatestStreamArn"]
        records: list[dict[str, Any]] = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            response = streams.get_records(ShardIterator=iterator)
            records += response["Records"]
        for record in records:
            record.setdefault("eventSourceARN", arn)
        return records


@pytest.fixture
def world(monkeypatch) -> Iterator[SocialWorld]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "arcadeflow-test")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("PRESENCE_TTL_SECONDS", raising=False)
    make_dynamodb_requests_atomic(monkeypatch)
    with mock_aws():
        aws.reset()
        deployment = load()
        client = boto3.client("dynamodb")
        names = create_tables(deployment, client)
        assert set(table_environment(deployment, names))  # every table has its variable
        yield SocialWorld(deployment, client, names, monkeypatch)
    aws.reset()


def pytest_configure(config) -> None:
    # Read-only requests publish no metric; Powertools warns about that on every call.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish:UserWarning")
