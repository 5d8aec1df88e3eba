"""Resources created over the API (`arcadeflow up --no-deploy`, then boto3 as Terraform would)
are back after a restart, with their data: an IAM role, a table with a stream and its items, a
queue and its message, a function from a zip, an event source mapping from the table's stream to
it, a state machine, an SSM parameter. The first runtime stops on SIGTERM, the second on Ctrl-C.
"""

from __future__ import annotations

import io
import json
import signal
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.support.stack import RunningStack, wait_for

pytestmark = pytest.mark.e2e

HANDLERS = "tests/support/sample_handlers.py"
ASSUME = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
MACHINE = json.dumps(
    {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": "kept", "End": True}}}
)


def _start(state_dir: Path) -> RunningStack:
    return RunningStack(state_dir, ["--no-deploy", "--lambda-code", HANDLERS])


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "the handler is tests/support/sample_handlers.py (--lambda-code)")
    return buffer.getvalue()


def _deliveries(stack: RunningStack, record_table: str, key: str) -> int:
    item = stack.client("dynamodb").get_item(
        TableName=record_table, Key={"pk": {"S": f"seen#{key}"}, "sk": {"S": "INSERT"}}
    )
    return int(item["Item"]["deliveries"]["N"]) if "Item" in item else 0


def _create_everything(stack: RunningStack, names: dict[str, str]) -> dict[str, Any]:
    iam, ddb, sqs = stack.client("iam"), stack.client("dynamodb"), stack.client("sqs")
    lam, sfn, ssm = stack.client("lambda"), stack.client("stepfunctions"), stack.client("ssm")
    role = iam.create_role(RoleName=names["role"], AssumeRolePolicyDocument=ASSUME)["Role"]["Arn"]
    for table, stream in ((names["source"], True), (names["records"], False)):
        keys = [("pk", "HASH"), ("sk", "RANGE")] if not stream else [("id", "HASH")]
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
            BillingMode="PAY_PER_REQUEST",
            **(
                {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}}
                if stream
                else {}
            ),
        )
    queue = sqs.create_queue(QueueName=names["queue"], Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="kept over a restart")
    function = lam.create_function(
        FunctionName=names["function"],
        Runtime="python3.11",
        Role=role,
        Handler="tests.support.sample_handlers.record_stream_batch",
        Code={"ZipFile": _zip()},
        Timeout=10,
        Environment={"Variables": {"RECORD_TABLE": names["records"]}},
    )
    stream_arn = ddb.describe_table(TableName=names["source"])["Table"]["LatestStreamArn"]
    lam.create_event_source_mapping(
        FunctionName=names["function"],
        EventSourceArn=stream_arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
    )
    machine = sfn.create_state_machine(name=names["machine"], definition=MACHINE, roleArn=role)[
        "stateMachineArn"
    ]
    ssm.put_parameter(Name=names["parameter"], Value="kept", Type="String")
    ddb.put_item(TableName=names["source"], Item={"id": {"S": "before"}})
    wait_for(lambda: _deliveries(stack, names["records"], "before") == 1, message="the mapping to deliver")
    return {"queue": queue, "function": function, "machine": machine}


@pytest.fixture(scope="module")
def restarted(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("api-resources")
    suffix = uuid.uuid4().hex[:6]
    names = {
        kind: f"kept-{kind}-{suffix}"
        for kind in ("role", "source", "records", "queue", "function", "machine")
    }
    names["parameter"] = f"/kept/{suffix}"
    first = _start(state_dir)
    try:
        created = _create_everything(first, names)
        first.proc.send_signal(signal.SIGTERM)
        first.proc.wait(timeout=30)
    finally:
        first.stop()
    assert first.proc.returncode == 0, "a clean stop on SIGTERM"
    second = _start(state_dir)
    yield names, created, second, state_dir
    second.stop()


def test_tables_queues_functions_mappings_machines_and_parameters_are_back(restarted):
    names, created, stack, _ = restarted
    ddb, sqs, lam = stack.client("dynamodb"), stack.client("sqs"), stack.client("lambda")
    assert ddb.get_item(TableName=names["source"], Key={"id": {"S": "before"}})["Item"] == {
        "id": {"S": "before"}
    }
    assert ddb.describe_table(TableName=names["source"])["Table"]["StreamSpecification"]["StreamEnabled"]
    url = sqs.get_queue_url(QueueName=names["queue"])["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "60"
    }
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in messages] == ["kept over a restart"]
    config = lam.get_function(FunctionName=names["function"])["Configuration"]
    assert config["CodeSha256"] == created["function"]["CodeSha256"]
    assert config["Environment"] == {"Variables": {"RECORD_TABLE": names["records"]}}
    machine = stack.client("stepfunctions").describe_state_machine(stateMachineArn=created["machine"])
    assert json.loads(machine["definition"]) == json.loads(MACHINE)
    assert stack.client("ssm").get_parameter(Name=names["parameter"])["Parameter"]["Value"] == "kept"
    (line,) = [line for line in stack.log_path.read_text().splitlines() if "restored from" in line]
    assert "last stop clean" in line and "; 0 failed)" in line, line


def test_the_mapping_delivers_new_records_and_not_the_consumed_ones_again(restarted):
    names, _, stack, _ = restarted
    mappings = stack.client("lambda").list_event_source_mappings(FunctionName=names["function"])
    (mapping,) = mappings["EventSourceMappings"]
    assert (
        mapping["EventSourceArn"]
        == stack.client("dynamodb").describe_table(TableName=names["source"])["Table"]["LatestStreamArn"]
    )
    stack.client("dynamodb").put_item(TableName=names["source"], Item={"id": {"S": "after"}})
    wait_for(lambda: _deliveries(stack, names["records"], "after") == 1, message="the new record's delivery")
    # Consumed before the restart: not delivered again (TRIM_HORIZON would, without positions).
    assert _deliveries(stack, names["records"], "before") == 1


def test_ctrl_c_stops_cleanly_and_the_next_start_says_so(restarted):
    names, _, stack, state_dir = restarted
    stack.client("ssm").put_parameter(Name=names["parameter"], Value="changed", Type="String", Overwrite=True)
    stack.proc.send_signal(signal.SIGINT)
    stack.proc.wait(timeout=30)
    stack.stop()
    assert stack.proc.returncode == 0
    third = _start(state_dir)
    try:
        got = third.client("ssm").get_parameter(Name=names["parameter"])["Parameter"]
        assert (got["Value"], got["Version"]) == ("changed", 2)
        (line,) = [line for line in third.log_path.read_text().splitlines() if "restored from" in line]
        assert "last stop clean" in line, line
    finally:
        third.stop()
