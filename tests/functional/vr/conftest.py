"""A fresh mocked AWS per test with every table of infra/deployment.json, the VR handlers called
in-process with exactly their deployed environment, an in-memory Management API (the duels'
one: an unknown connection is gone, 410) and the movable clock, so expiry needs no waiting.

`end()` runs vr_session_end's tasks in the order its ASL does, with the payloads it builds; the
ASL itself (retries, catches, the paging loop) is tested in tests/functional/branches/ and
against a real stack in tests/flows/test_vr_sessions.py."""

from __future__ import annotations

import importlib
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from arcadeflow.deployer import create_tables
from arcadeflow.deployment import ResourceRefs, load
from functions.shared import aws
from functions.shared.dynamo import from_item, to_item
from tests.functional.answers import check_against, check_answer
from tests.functional.duels.conftest import FakeManagementApi
from tests.support.lambda_events import FakeLambdaContext, http_event
from tests.support.moto_atomic import make_dynamodb_requests_atomic

EXECUTION_PREFIX = "arn:aws:states:us-east-1:123456789012:execution:arcadeflow-vr_session_end:"


@dataclass
class Reply:
    status: int
    body: Any

    @property
    def code(self) -> str | None:
        return (self.body or {}).get("error", {}).get("code") if isinstance(self.body, dict) else None


def objective(n: int = 0, kind: str = "objective_completed") -> dict[str, Any]:
    return {"eventType": kind, "timestamp": f"2026-12-01T20:00:{n % 60:02d}.000Z", "data": {"objective": n}}


class VrWorld:
    def __init__(self, monkeypatch, clock) -> None:
        self.deployment = load()
        self.client = boto3.client("dynamodb", region_name="us-east-1")
        self.names = create_tables(self.deployment, self.client)
        self.sfn = boto3.client("stepfunctions", region_name="us-east-1")
        definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
        self.state_machines = {
            name: self.sfn.create_state_machine(
                name=f"arcadeflow-{name}", definition=definition, roleArn="arn:aws:iam::123456789012:role/t"
            )["stateMachineArn"]
            for name in self.deployment.state_machines
        }
        self.api = FakeManagementApi()
        self.clock = clock
        self._monkeypatch = monkeypatch
        monkeypatch.setattr(aws, "management_api", lambda: self.api)

    # --- handlers with their deployed environment ---------------------------------------------

    def handler(self, function: str):
        for variable in list(os.environ):
            if variable.endswith(("_TABLE", "_STATE_MACHINE_ARN")) or variable.startswith("VR_"):
                self._monkeypatch.delenv(variable)
        refs = ResourceRefs(
            tables=self.names,
            state_machine_arns=self.state_machines,
            websocket_callback_url="http://cb/local",
        )
        for variable, value in self.deployment.function_environment(function, refs).items():
            self._monkeypatch.setenv(variable, value)
        module_path, _, attribute = self.deployment.functions[function].handler.rpartition(".")
        return getattr(importlib.import_module(module_path), attribute)

    def call(self, method: str, path: str, user: str = "alice", **options: Any) -> Reply:
        function = "vr_rewards_api" if path.endswith("/rewards") else "vr_sessions_api"
        response = self.handler(function)(http_event(method, path, user=user, **options), FakeLambdaContext())
        body = response.get("body")
        reply = Reply(response["statusCode"], json.loads(body) if body else None)
        check_answer(method, path, reply.status, reply.body)
        return reply

    def invoke(self, function: str, payload: dict[str, Any]) -> Any:
        return self.handler(function)(payload, FakeLambdaContext())

    # --- a player's steps -----------------------------------------------------------------------

    def start(self, user: str = "alice") -> str:
        reply = self.call("POST", "/vr/sessions", user=user, body={})
        assert reply.status == 201, reply.body
        return reply.body["sessionId"]

    def send(self, session_id: str, events: list[dict[str, Any]], user: str = "alice", **extra: Any) -> Reply:
        return self.call(
            "POST", f"/vr/sessions/{session_id}/events", user=user, body={"events": events, **extra}
        )

    def end(
        self, session_id: str, user: str = "alice", execution: str | None = None, page_size: int = 2
    ) -> dict:
        """vr_session_end's tasks, as its ASL runs them (small pages, so the loop turns)."""
        execution_id = f"{EXECUTION_PREFIX}{execution or uuid.uuid4().hex}"
        check_against(
            "sfn_vr_session_end_input.schema.json", {"sessionId": session_id, "playerId": user}, "input"
        )
        end = self.invoke(
            "vr_record_end", {"sessionId": session_id, "playerId": user, "executionId": execution_id}
        )
        tally: dict[str, Any] = {"cursor": None, "counts": {}, "eventCount": 0, "pages": 0, "finished": False}
        while not tally["finished"]:
            handler = self.handler("vr_count_events")
            self._monkeypatch.setenv("VR_EVENTS_PAGE_SIZE", str(page_size))
            tally = handler(
                {
                    "sessionId": session_id,
                    "expiresAt": end["expiresAt"],
                    **{k: tally[k] for k in ("cursor", "counts", "eventCount", "pages")},
                },
                FakeLambdaContext(),
            )
        granted = self.invoke(
            "vr_grant_rewards",
            {
                "sessionId": session_id,
                "playerId": user,
                "executionId": execution_id,
                "counts": tally["counts"],
                "eventCount": tally["eventCount"],
            },
        )
        self.invoke(
            "vr_push_frames",
            {
                "sessionId": session_id,
                "playerId": user,
                "rewards": granted["rewards"],
                "dedupeKey": f"{execution_id}/PushRewardFrames",
            },
        )
        output = {"sessionId": session_id, "playerId": user, "rewards": granted["rewards"]}
        check_against("sfn_vr_session_end_output.schema.json", output, "output")
        return {"end": end, "tally": tally, **output}

    def connect(self, user: str) -> str:
        connection_id = uuid.uuid4().hex[:11] + "="
        now_ms = int(self.clock.now().timestamp() * 1000)
        self.client.put_item(
            TableName=self.names["connections"],
            Item=to_item(
                {
                    "userId": user,
                    "connectionId": connection_id,
                    "connectedAtMs": now_ms,
                    "expireAt": now_ms // 1000 + 7200,
                }
            ),
        )
        self.api.open.add(connection_id)
        return connection_id

    def frames(self, connection_id: str) -> list[dict[str, Any]]:
        return self.api.posts.get(connection_id, [])

    # --- what the tables hold -------------------------------------------------------------------

    def session_item(self, session_id: str, user: str = "alice") -> dict[str, Any] | None:
        found = self.client.get_item(
            TableName=self.names["player_sessions"], Key=to_item({"playerId": user, "sessionId": session_id})
        )
        return from_item(found.get("Item"))

    def scan(self, table: str) -> list[dict[str, Any]]:
        items = self.client.scan(TableName=self.names[table])["Items"]
        return [i for i in (from_item(item) for item in items) if i is not None]

    def events_of(self, session_id: str) -> list[dict[str, Any]]:
        return sorted(
            (e for e in self.scan("interaction_events") if e["sessionId"] == session_id),
            key=lambda e: e["timestamp"],
        )


@pytest.fixture
def world(monkeypatch, time_machine):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "arcadeflow")
    monkeypatch.setenv("POWERTOOLS_IDEMPOTENCY_DISABLED", "true")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    make_dynamodb_requests_atomic(monkeypatch)
    with mock_aws():
        aws.reset()
        yield VrWorld(monkeypatch, time_machine)
        aws.reset()


def pytest_configure(config) -> None:
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish:UserWarning")
