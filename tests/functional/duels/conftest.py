"""A fresh mocked AWS per test with every table of infra/deployment.json, the duels handlers
called in-process with exactly their deployed environment, and an in-memory Management API."""

from __future__ import annotations

import importlib
import json
import os
import time
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from arcadeflow.deployer import create_tables
from arcadeflow.deployment import ResourceRefs, load
from functions.shared import aws
from functions.shared.dynamo import from_item, to_item
from tests.support.lambda_events import FakeLambdaContext


class FakeManagementApi:
    """API Gateway's @connections: records posts; an unknown connection is gone (410)."""

    def __init__(self) -> None:
        self.open: set[str] = set()
        self.posts: dict[str, list[dict[str, Any]]] = {}

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict:  # noqa: N803 - boto3's names
        if ConnectionId not in self.open:
            raise ClientError({"Error": {"Code": "GoneException", "Message": ""}}, "PostToConnection")
        self.posts.setdefault(ConnectionId, []).append(json.loads(Data))
        return {}


class DuelsWorld:
    def __init__(self, monkeypatch) -> None:
        self.deployment = load()
        self.client = boto3.client("dynamodb", region_name="us-east-1")
        self.names = create_tables(self.deployment, self.client)
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        role = "arn:aws:iam::123456789012:role/test"
        definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
        self.state_machines = {
            name: sfn.create_state_machine(name=f"arcadeflow-{name}", definition=definition, roleArn=role)[
                "stateMachineArn"
            ]
            for name in self.deployment.state_machines
        }
        self.sfn = sfn
        self.api = FakeManagementApi()
        self._monkeypatch = monkeypatch
        monkeypatch.setattr(aws, "management_api", lambda: self.api)

    def use_function(self, function: str) -> None:
        for variable in list(os.environ):
            if variable.endswith(("_TABLE", "_STATE_MACHINE_ARN")):
                self._monkeypatch.delenv(variable)
        refs = ResourceRefs(
            tables=self.names,
            state_machine_arns=self.state_machines,
            websocket_callback_url="http://cb/local",
        )
        for variable, value in self.deployment.function_environment(function, refs).items():
            self._monkeypatch.setenv(variable, value)

    def handler(self, function: str):
        self.use_function(function)
        module_path, _, attribute = self.deployment.functions[function].handler.rpartition(".")
        return getattr(importlib.import_module(module_path), attribute)

    def connect(self, user_id: str, connected_ms_ago: int = 0) -> str:
        connection_id = uuid.uuid4().hex[:11] + "="
        now_ms = int(time.time() * 1000) - connected_ms_ago
        self.client.put_item(
            TableName=self.names["connections"],
            Item=to_item(
                {
                    "userId": user_id,
                    "connectionId": connection_id,
                    "connectedAtMs": now_ms,
                    "expireAt": int(time.time()) + 3600,
                }
            ),
        )
        self.api.open.add(connection_id)
        return connection_id

    def send(self, user_id: str, connection_id: str, body: str | dict) -> dict:
        text = body if isinstance(body, str) else json.dumps(body)
        return self.handler("ws_actions")(message_event(user_id, connection_id, text), FakeLambdaContext())

    def frames(self, connection_id: str) -> list[dict[str, Any]]:
        return self.api.posts.get(connection_id, [])

    def item(self, table: str, **key: str) -> dict[str, Any] | None:
        out = self.client.get_item(TableName=self.names[table], Key=to_item(key), ConsistentRead=True)
        return from_item(out.get("Item"))

    def scan(self, table: str) -> list[dict[str, Any]]:
        return [from_item(i) for i in self.client.scan(TableName=self.names[table])["Items"]]  # type: ignore[misc]

    def executions(self, machine: str) -> list[dict[str, Any]]:
        return self.sfn.list_executions(stateMachineArn=self.state_machines[machine])["executions"]


def message_event(user_id: str, connection_id: str, body: str) -> dict[str, Any]:
    now = int(time.time() * 1000)
    return {
        "requestContext": {
            "routeKey": "$default",
            "messageId": "m-1",
            "eventType": "MESSAGE",
            "extendedRequestId": "x",
            "requestTime": "01/Jan/2026:00:00:00 +0000",
            "messageDirection": "IN",
            "stage": "local",
            "connectedAt": now,
            "requestTimeEpoch": now,
            "identity": {"sourceIp": "127.0.0.1"},
            "requestId": "r-1",
            "domainName": "127.0.0.1:8001",
            "connectionId": connection_id,
            "apiId": "api",
            "authorizer": {"principalId": user_id, "userId": user_id, "screenName": user_id.title()},
        },
        "isBase64Encoded": False,
        "body": body,
    }


@pytest.fixture
def world(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "arcadeflow")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset()
        yield DuelsWorld(monkeypatch)
        aws.reset()
