"""The console's JSON API over an embedded AWS of its own process (the ASL-branch tests' one):
small machines of Pass, Choice, Wait, Map, Parallel and Fail states make every status a state
can have without a Lambda, and a werkzeug test client calls the API as the page does."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from arcadeflow.console.api import ConsoleApi
from tests.functional.branches.conftest import EmbeddedAwsProcess

ROLE_ARN = "arn:aws:iam::123456789012:role/console-tests"
WAIT_SECONDS = 30


@pytest.fixture(scope="package")
def aws(tmp_path_factory) -> Iterator[EmbeddedAwsProcess]:
    process = EmbeddedAwsProcess(tmp_path_factory.mktemp("console-aws"))
    process.client("iam").create_role(RoleName=ROLE_ARN.rsplit("/", 1)[1], AssumeRolePolicyDocument="{}")
    yield process
    process.stop()


class Console:
    """The API as the page calls it, and the machines the tests run."""

    def __init__(self, aws: EmbeddedAwsProcess):
        self.sfn = aws.client("stepfunctions")
        api = ConsoleApi(self.sfn)

        def app(environ: dict[str, Any], start_response: Any) -> Any:
            response = api.handle(Request(environ)) or Response("not the console's", status=418)
            return response(environ, start_response)

        self.http = Client(app)

    def get(self, path: str, **query: str) -> Any:
        response = self.http.get(f"/console/api/{path}", query_string=query)
        return response.status_code, response.get_json()

    def post(self, path: str, body: Any) -> Any:
        response = self.http.post(f"/console/api/{path}", json=body)
        return response.status_code, response.get_json()

    def machine(self, definition: dict[str, Any], prefix: str = "console") -> str:
        return self.sfn.create_state_machine(
            name=f"{prefix}-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE_ARN
        )["stateMachineArn"]

    def start(self, machine_arn: str, data: dict[str, Any], name: str | None = None) -> str:
        kwargs = {"name": name} if name else {}
        return self.sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(data), **kwargs)[
            "executionArn"
        ]

    def finished(self, execution_arn: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            described = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise AssertionError(f"{execution_arn} still RUNNING after {WAIT_SECONDS} s")
            time.sleep(0.05)

    def entered(self, execution_arn: str, state: str) -> None:
        """Waits until the history shows the state entered."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            events = self.sfn.get_execution_history(executionArn=execution_arn)["events"]
            if any((e.get("stateEnteredEventDetails") or {}).get("name") == state for e in events):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{state} never entered in {execution_arn}")
            time.sleep(0.05)


@pytest.fixture(scope="package")
def console(aws) -> Console:
    return Console(aws)


@pytest.fixture(scope="package")
def bench(aws):
    """Scripted Lambda functions on the same embedded AWS, for tasks that fail on purpose."""
    from tests.functional.branches.conftest import Bench

    return Bench(aws)
