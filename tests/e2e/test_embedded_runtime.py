"""The embedded AWS behaves as AWS does where arcadeflow relies on it.

Functions here run tests/support/sample_handlers.py through the real runner of a running
`arcadeflow up`, created over the AWS API exactly as Terraform would create them: from a zip
holding the function package (the bytes infra/package_functions.py builds) and these handlers.
"""

from __future__ import annotations

import functools
import io
import json
import subprocess
import sys
import time
import uuid
import zipfile

import pytest

from arcadeflow.lambda_package import function_package
from tests.conftest import SAMPLE_HANDLERS
from tests.support.stack import REPO_ROOT, wait_for

pytestmark = pytest.mark.e2e
ROLE = "arn:aws:iam::123456789012:role/arcadeflow-local"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def record_table(stack):
    name = _name("runtime-records")
    stack.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@functools.cache
def _package() -> bytes:
    """functions/ as Terraform deploys it, plus the sample handlers at their project paths."""
    buffer = io.BytesIO(function_package())
    with zipfile.ZipFile(buffer, "a") as archive:
        for name in SAMPLE_HANDLERS:
            archive.writestr(name, (REPO_ROOT / name).read_bytes())
        for package in ("tests/__init__.py", "tests/support/__init__.py"):
            archive.writestr(package, (REPO_ROOT / package).read_bytes())
    return buffer.getvalue()


def _function(stack, handler: str, env: dict[str, str] | None = None, timeout: int = 10) -> str:
    name = _name(handler.rsplit(".", 1)[1].replace("_", "-"))
    stack.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": _package()},
        Timeout=timeout,
        Environment={"Variables": env or {}},
    )
    return name


def _invoke(stack, name: str, payload: dict) -> tuple[str | None, dict]:
    out = stack.client("lambda").invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    return out.get("FunctionError"), json.loads(out["Payload"].read())


def _item(stack, table: str, pk: str, sk: str = "-") -> dict | None:
    return (
        stack.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")
    )


def test_each_function_sees_only_its_own_environment(stack):
    a = _function(stack, "tests.support.sample_handlers.show_environment", {"SECRET": "a", "SECRET_A": "1"})
    b = _function(stack, "tests.support.sample_handlers.show_environment", {"SECRET": "b", "SECRET_B": "2"})
    error_a, out_a = _invoke(stack, a, {"hello": "a"})
    error_b, out_b = _invoke(stack, b, {"hello": "b"})
    assert error_a is None and error_b is None
    assert (out_a["secret"], out_a["other_secrets"], out_a["function"]) == ("a", ["SECRET_A"], a)
    assert (out_b["secret"], out_b["other_secrets"], out_b["function"]) == ("b", ["SECRET_B"], b)
    assert out_a["endpoint"] == stack.aws_url
    assert out_a["event"] == {"hello": "a"}
    assert 0 < out_a["remaining_ms"] <= 10_000


@pytest.mark.needs("domain_error_routing")
def test_exception_becomes_function_error_named_by_its_class(stack):
    name = _function(stack, "tests.support.sample_handlers.raise_domain_error")
    error, payload = _invoke(stack, name, {"inviteId": "i-1"})
    assert error == "Unhandled"
    assert payload["errorType"] == "InviteExpired"
    assert payload["errorMessage"] == "invite i-1 expired"


def test_overrunning_the_timeout_fails_as_on_aws_and_the_function_recovers(stack):
    name = _function(stack, "tests.support.sample_handlers.sleep_seconds", timeout=1)
    started = time.monotonic()
    error, payload = _invoke(stack, name, {"seconds": 5})
    assert time.monotonic() - started < 4
    assert error == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]
    assert _invoke(stack, name, {"seconds": 0}) == (None, {"slept": 0})


@pytest.mark.needs("import_error_type")
def test_a_handler_importing_the_runtime_fails_at_import_as_on_aws(stack):
    # The zip holds no arcadeflow/: `import arcadeflow` works locally only if the checkout
    # leaks into the Lambda's path.
    name = _function(stack, "tests.support.handler_importing_the_runtime.handler")
    error, payload = _invoke(stack, name, {})
    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"] == (
        "Unable to import module 'tests.support.handler_importing_the_runtime': No module named 'arcadeflow'"
    )


def test_a_function_imports_its_package_and_dependencies_but_nothing_else_of_the_checkout(stack):
    name = _function(stack, "tests.support.sample_handlers.try_imports")
    modules = [
        "functions.shared",
        "boto3",
        "pydantic",
        "arcadeflow",
        "tools",
        "benchmarks",
        "tests.support.stack",
    ]
    error, outcome = _invoke(stack, name, {"modules": modules})
    assert error is None
    assert outcome["functions.shared"] == outcome["boto3"] == outcome["pydantic"] == "ok"
    for module in ("arcadeflow", "tools", "benchmarks", "tests.support.stack"):
        assert outcome[module].startswith("ModuleNotFoundError: No module named"), (module, outcome[module])


def test_unknown_function_is_resource_not_found(stack):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as err:
        stack.client("lambda").invoke(FunctionName="no-such-function", Payload=b"{}")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def _run_state_machine(stack, definition: dict, payload: dict, timeout: float = 30) -> dict:
    sfn = stack.client("stepfunctions")
    arn = sfn.create_state_machine(name=_name("sm"), definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"]
    return wait_for(
        lambda: (d := sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and d,
        timeout=timeout,
        message="execution to finish",
    )


@pytest.mark.needs("domain_error_routing")
def test_asl_catch_matches_the_domain_error_class_name(stack):
    fn = _function(stack, "tests.support.sample_handlers.raise_domain_error")
    definition = {
        "StartAt": "CheckInvite",
        "States": {
            "CheckInvite": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": fn, "Payload.$": "$"},
                "Catch": [
                    {"ErrorEquals": ["InviteExpired"], "ResultPath": "$.error", "Next": "RecordExpiry"}
                ],
                "End": True,
            },
            "RecordExpiry": {"Type": "Pass", "End": True},
        },
    }
    done = _run_state_machine(stack, definition, {"inviteId": "i-9"})
    assert done["status"] == "SUCCEEDED"
    output = json.loads(done["output"])
    assert output["error"]["Error"] == "InviteExpired"
    assert json.loads(output["error"]["Cause"])["errorMessage"] == "invite i-9 expired"


@pytest.mark.needs("domain_error_routing")
def test_asl_retry_on_a_transient_error_then_succeeds(stack, record_table):
    fn = _function(stack, "tests.support.sample_handlers.fail_until_attempt", {"RECORD_TABLE": record_table})
    definition = {
        "StartAt": "FlakyStep",
        "States": {
            "FlakyStep": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": fn, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "Retry": [
                    {
                        "ErrorEquals": ["TransientGlitch"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 3,
                        "BackoffRate": 1.0,
                    }
                ],
                "End": True,
            }
        },
    }
    done = _run_state_machine(stack, definition, {"key": uuid.uuid4().hex, "succeedOn": 3})
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == {"attempts": 3}


def _stream_table(stack, ttl: bool = False) -> tuple[str, str]:
    ddb = stack.client("dynamodb")
    name = _name("stream-src")
    stream_arn = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    if ttl:
        ddb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
        )
    return name, stream_arn


def _map(stack, function: str, source_arn: str, batch_size: int, **extra) -> None:
    stack.client("lambda").create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=source_arn,
        BatchSize=batch_size,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        **extra,
    )


@pytest.mark.needs("stream_batch_failures")
def test_stream_delivery_is_asynchronous_batched_and_retries_reported_failures(stack, record_table):
    source, stream_arn = _stream_table(stack)
    fn = _function(
        stack,
        "tests.support.sample_handlers.record_stream_batch",
        {"RECORD_TABLE": record_table, "SLOW_SECONDS": "1"},
    )
    _map(stack, fn, stream_arn, 2, StartingPosition="TRIM_HORIZON", MaximumRetryAttempts=5)
    ddb = stack.client("dynamodb")
    keys = [f"k{i}-{uuid.uuid4().hex[:6]}" for i in range(5)]
    started = time.monotonic()
    for i, key in enumerate(keys):
        ddb.put_item(TableName=source, Item={"id": {"S": key}, "fail": {"BOOL": i == 2}})
    # The handler sleeps a second per batch: writes that waited for it would take 3 s.
    assert time.monotonic() - started < 1.5
    seen = wait_for(
        lambda: (
            all(_item(stack, record_table, f"seen#{k}", "INSERT") for k in keys)
            and {k: _item(stack, record_table, f"seen#{k}", "INSERT") for k in keys}
        ),
        timeout=30,
        message="every record delivered",
    )
    assert all(int(item["batchSize"]["N"]) <= 2 for item in seen.values())
    # The reported failure is redelivered, and only from the failed record on.
    assert int(seen[keys[2]]["deliveries"]["N"]) == 2
    assert int(seen[keys[0]]["deliveries"]["N"]) == 1
    assert int(seen[keys[4]]["deliveries"]["N"]) == 1


@pytest.mark.needs("ttl_expiry")
def test_ttl_deletes_expired_items_and_the_remove_reaches_the_stream(stack, record_table):
    source, stream_arn = _stream_table(stack, ttl=True)
    fn = _function(stack, "tests.support.sample_handlers.record_stream_batch", {"RECORD_TABLE": record_table})
    _map(stack, fn, stream_arn, 10, StartingPosition="LATEST")
    time.sleep(0.5)  # let the poller take its LATEST checkpoint
    ddb = stack.client("dynamodb")
    expired, alive = f"old-{uuid.uuid4().hex[:6]}", f"new-{uuid.uuid4().hex[:6]}"
    ddb.put_item(TableName=source, Item={"id": {"S": expired}, "expiresAt": {"N": str(int(time.time()) - 5)}})
    ddb.put_item(
        TableName=source, Item={"id": {"S": alive}, "expiresAt": {"N": str(int(time.time()) + 3600)}}
    )
    removed = wait_for(
        lambda: _item(stack, record_table, f"seen#{expired}", "REMOVE"), timeout=15, message="TTL REMOVE"
    )
    assert json.loads(removed["userIdentity"]["S"]) == {
        "type": "Service",
        "principalId": "dynamodb.amazonaws.com",
    }
    assert "Item" not in ddb.get_item(TableName=source, Key={"id": {"S": expired}})
    assert "Item" in ddb.get_item(TableName=source, Key={"id": {"S": alive}})
    assert _item(stack, record_table, f"seen#{alive}", "REMOVE") is None


SQS_VISIBILITY_SECONDS = 5


def test_sqs_mapping_deletes_processed_messages_and_dead_letters_the_poison(stack, record_table):
    sqs = stack.client("sqs")
    dlq = sqs.create_queue(QueueName=_name("dlq"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # AWS refuses a mapping whose queue hides a message for less than the function's timeout (the
    # message would come back while its batch still runs): the two are the same here, and short,
    # so the poison comes back, and on to the DLQ, within seconds.
    queue = sqs.create_queue(
        QueueName=_name("work"),
        Attributes={
            "VisibilityTimeout": str(SQS_VISIBILITY_SECONDS),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    fn = _function(
        stack,
        "tests.support.sample_handlers.record_queue_batch",
        {"RECORD_TABLE": record_table},
        timeout=SQS_VISIBILITY_SECONDS,
    )
    _map(stack, fn, queue_arn, 10)
    bodies = [uuid.uuid4().hex for _ in range(3)]
    for body in [*bodies, "poison"]:
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    wait_for(
        lambda: all(_item(stack, record_table, f"msg#{b}") for b in bodies), message="messages processed"
    )

    def poison_in_dlq():
        got = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])
        return [m["Body"] for m in got]

    # Two receives, each hidden for the visibility timeout, then the DLQ.
    deadline = 3 * SQS_VISIBILITY_SECONDS + 20
    assert wait_for(poison_in_dlq, timeout=deadline, message="poison message in the DLQ") == ["poison"]
    assert all(int(_item(stack, record_table, f"msg#{b}")["deliveries"]["N"]) == 1 for b in bodies)


def _cli(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "arcadeflow.cli", *args, "--state-dir", str(stack.state_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.needs("domain_error_routing")  # the trace names the handler's TransientGlitch
def test_trace_explains_a_failed_execution_and_replay_reruns_it_to_success(stack, record_table):
    fn = _function(stack, "tests.support.sample_handlers.fail_until_attempt", {"RECORD_TABLE": record_table})
    definition = {
        "StartAt": "ChargeWallet",
        "States": {
            "ChargeWallet": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": fn, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    failed = _run_state_machine(stack, definition, {"key": uuid.uuid4().hex, "succeedOn": 2})
    assert failed["status"] == "FAILED"

    trace = _cli(stack, "trace", failed["executionArn"])
    assert trace.returncode == 0, trace.stderr
    assert "ChargeWallet" in trace.stdout
    assert "TransientGlitch" in trace.stdout
    assert "FAILED" in trace.stdout.splitlines()[0]

    replay = _cli(stack, "replay", failed["executionArn"], "--wait")
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "-replay-1" in replay.stdout and "SUCCEEDED" in replay.stdout
    listing = _cli(stack, "executions", failed["stateMachineArn"])
    assert listing.stdout.count("\n") == 2 and "FAILED" in listing.stdout and "SUCCEEDED" in listing.stdout


def test_trace_of_an_unknown_execution_is_a_clear_error(stack):
    out = _cli(stack, "trace", "arn:aws:states:us-east-1:123456789012:execution:nope:nope")
    assert out.returncode == 2
    assert "ExecutionDoesNotExist" in out.stderr and "Traceback" not in out.stderr


def test_unnamed_executions_get_distinct_names_as_on_aws(stack):
    sfn = stack.client("stepfunctions")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    arn = sfn.create_state_machine(name=_name("unnamed"), definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    first = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    second = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    assert first != second
    assert uuid.UUID(first.rsplit(":", 1)[1]) and uuid.UUID(second.rsplit(":", 1)[1])
