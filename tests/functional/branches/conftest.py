"""ASL-branch tests: each flow's real ASL, executed by moto's interpreter in an embedded AWS of
its own process (no `arcadeflow up`, no deployment), its Lambda tasks served by
scripted_handlers.py. A test scripts what each task answers, starts an execution with short
durations in its input, waits until it is no longer RUNNING and reads what happened from the
execution's history (every frame a flow pushes is a push task's input there)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from arcadeflow.asl import PLACEHOLDER, render_definition
from tests.support.stack import REPO_ROOT, free_port

ROLE_ARN = "arn:aws:iam::123456789012:role/asl-branches"
STARTUP_TIMEOUT_SECONDS = 60
# Long enough for a loaded 2-core machine; a branch that takes longer is broken, not slow.
EXECUTION_TIMEOUT_SECONDS = 30
SCRIPTED_HANDLER = "tests.functional.branches.scripted_handlers.handler"


def poll(check: Callable[[], Any], what: str, timeout: float = EXECUTION_TIMEOUT_SECONDS) -> Any:
    """Polls until check() answers something truthy; fails naming what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class EmbeddedAwsProcess:
    """lambda_code: project files (repo-relative) the functions may import besides functions/."""

    def __init__(
        self, log_dir: Path, lambda_code: tuple[str, ...] = (), env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_dir / "embedded-aws.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.functional.branches.embedded_aws_process",
                str(self.port),
                str(log_dir),
                *lambda_code,
            ],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            # Extra variables of the embedded AWS process (e.g. ARCADEFLOW_EXPRESS_MAX_SECONDS).
            env={**os.environ, **(env or {})},
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()  # blocks until "ready" or the process dies
        if ready.strip() != b"ready":
            self.stop()
            raise RuntimeError(f"embedded AWS did not start:\n{(log_dir / 'embedded-aws.log').read_text()}")

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}),
        )

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


class Bench:
    """The resources the flows' placeholders name, made once per run and shared by the tests:
    one scripted function per role, tables, queues. Tests keep apart by their case ids."""

    def __init__(self, aws: EmbeddedAwsProcess) -> None:
        self.aws = aws
        self.sfn = aws.client("stepfunctions")
        self.dynamodb = aws.client("dynamodb")
        self.sqs = aws.client("sqs")
        # moto's Lambda refuses a function whose role does not exist.
        aws.client("iam").create_role(
            RoleName=ROLE_ARN.rsplit("/", 1)[1],
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )
        self.script_table = self.table("scripts", ("pk", "sk"))
        self._functions: dict[str, str] = {}
        self._tables: dict[str, str] = {"scripts": self.script_table}
        self._queues: dict[str, str] = {}

    def table(self, name: str, key: tuple[str, ...]) -> str:
        physical = f"branches-{name}"
        types = ("HASH", "RANGE")
        self.dynamodb.create_table(
            TableName=physical,
            KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(key, types, strict=False)],
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in key],
            BillingMode="PAY_PER_REQUEST",
        )
        return physical

    def function_arn(self, role: str) -> str:
        if role not in self._functions:
            self._functions[role] = self.aws.client("lambda").create_function(
                FunctionName=f"branches-{role.replace('_', '-')}",
                Runtime="python3.11",
                Role=ROLE_ARN,
                Handler=SCRIPTED_HANDLER,
                Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
                Timeout=10,
                Environment={"Variables": {"ROLE": role, "SCRIPT_TABLE": self.script_table}},
            )["FunctionArn"]
        return self._functions[role]

    def queue_url(self, name: str) -> str:
        if name not in self._queues:
            self._queues[name] = self.sqs.create_queue(QueueName=f"branches-{name}")["QueueUrl"]
        return self._queues[name]

    def state_machine(self, flow: str, **placeholders: str) -> Flow:
        """Creates the flow from statemachines/<flow>.asl.json. Placeholders not given are filled
        by their kind: <role>_function_arn a scripted function, <name>_queue_url a queue."""
        path = f"statemachines/{flow}.asl.json"
        variables = dict(placeholders)
        for name in PLACEHOLDER.findall((REPO_ROOT / path).read_text()):
            if name in variables:
                continue
            if name.endswith("_function_arn"):
                variables[name] = self.function_arn(name.removesuffix("_function_arn"))
            elif name.endswith("_queue_url"):
                variables[name] = self.queue_url(name.removesuffix("_queue_url"))
            else:
                raise KeyError(f"{path}: the bench has no value for ${{{name}}}")
        arn = self.sfn.create_state_machine(
            name=f"branches-{flow}-{uuid.uuid4().hex[:6]}",
            definition=render_definition(path, variables),
            roleArn=ROLE_ARN,
        )["stateMachineArn"]
        return Flow(self, arn)

    def passing_state_machine(self, name: str) -> str:
        """A machine that only succeeds: stands for a flow another flow starts."""
        definition = {"StartAt": "Started", "States": {"Started": {"Type": "Succeed"}}}
        return self.sfn.create_state_machine(
            name=f"branches-{name}-{uuid.uuid4().hex[:6]}",
            definition=json.dumps(definition),
            roleArn=ROLE_ARN,
        )["stateMachineArn"]

    # --- scripting and reading the scripted functions -------------------------------------------

    def script(self, case: str, role: str, *steps: dict[str, Any]) -> None:
        self.dynamodb.put_item(
            TableName=self.script_table,
            Item={"pk": {"S": f"script#{case}"}, "sk": {"S": role}, "steps": {"S": json.dumps(list(steps))}},
        )

    def calls(self, case: str, role: str) -> list[dict[str, Any]]:
        """The events the role's function was invoked with for this case, in order."""
        items = self.dynamodb.query(
            TableName=self.script_table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :role)",
            ExpressionAttributeValues={":pk": {"S": f"calls#{case}"}, ":role": {"S": f"{role}#"}},
            ConsistentRead=True,
        )["Items"]
        return [
            json.loads(i["event"]["S"]) for i in sorted(items, key=lambda i: i["sk"]["S"]) if "event" in i
        ]

    def wait_for_call(self, case: str, role: str) -> dict[str, Any]:
        return poll(lambda: self.calls(case, role), f"{role} to be invoked for {case}")[-1]

    def put(self, table: str, item: dict[str, Any]) -> None:
        self.dynamodb.put_item(TableName=table, Item={k: {"S": str(v)} for k, v in item.items()})

    def get(self, table: str, **key: str) -> dict[str, str] | None:
        found = self.dynamodb.get_item(
            TableName=table, Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True
        ).get("Item")
        return {k: next(iter(v.values())) for k, v in found.items()} if found else None


class Flow:
    def __init__(self, bench: Bench, arn: str) -> None:
        self.bench = bench
        self.arn = arn
        self.sfn = bench.sfn

    def start(self, name: str, execution_input: dict[str, Any]) -> str:
        return self.sfn.start_execution(
            stateMachineArn=self.arn, name=name, input=json.dumps(execution_input)
        )["executionArn"]

    def run(self, name: str, execution_input: dict[str, Any]) -> Execution:
        return self.finished(self.start(name, execution_input))

    def finished(self, execution_arn: str) -> Execution:
        """Waits until the execution is no longer RUNNING (never a fixed sleep)."""
        described = poll(
            lambda: (
                (d := self.sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING" and d
            ),
            f"execution {execution_arn} to finish",
        )
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events += page["events"]
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        return Execution(described, events)


class Execution:
    def __init__(self, described: dict[str, Any], events: list[dict[str, Any]]) -> None:
        self.status: str = described["status"]
        self.output = json.loads(described["output"]) if described.get("output") else None
        self.events = events
        failed = [e["executionFailedEventDetails"] for e in events if e["type"] == "ExecutionFailed"]
        self.error: str | None = failed[0].get("error") if failed else None
        self.cause: str | None = failed[0].get("cause") if failed else None

    def states_entered(self) -> list[str]:
        return [e["stateEnteredEventDetails"]["name"] for e in self.events if "stateEnteredEventDetails" in e]

    def task_inputs(self, function_arn: str) -> list[dict[str, Any]]:
        """The payloads the execution invoked a function with, attempts included, in order."""
        payloads = []
        for event in self.events:
            details = event.get("taskScheduledEventDetails")
            if not details:
                continue
            parameters = json.loads(details["parameters"])
            if parameters.get("FunctionName") == function_arn:
                payloads.append(parameters["Payload"])
        return payloads

    def describe(self) -> str:
        """For assertion messages: the path the execution took and how it ended."""
        return f"{self.status} {self.error or ''} via {' -> '.join(self.states_entered())}"


@pytest.fixture(scope="session")
def bench(tmp_path_factory) -> Iterator[Bench]:
    aws = EmbeddedAwsProcess(tmp_path_factory.mktemp("asl-branches"))
    try:
        yield Bench(aws)
    finally:
        aws.stop()
