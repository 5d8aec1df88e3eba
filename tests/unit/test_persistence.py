"""Executions and table items written to the state directory come back as they were.

An embedded AWS in this process (no Lambda: Pass, Fail and Wait states only) runs executions;
the checkpointer writes them; a "restart" empties the Step Functions backend and the tables, and
the restore puts them back from the database. The APIs must answer as before (boto3, real
calls), and what was RUNNING comes back FAILED with Arcadeflow.RuntimeRestarted.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid

import pytest

from arcadeflow.aws import persistence
from arcadeflow.aws.embedded import EmbeddedAws
from arcadeflow.aws.moto_patches import REGISTRY
from arcadeflow.aws.persistence import (
    RESTARTED_ERROR,
    ExecutionCheckpointer,
    RestoreReport,
    StateStore,
    TableSnapshots,
    restore_executions,
    restore_tables,
)

ROLE = "arn:aws:iam::123456789012:role/persistence"
REGION = "us-east-1"


def _machine(name: str, states: dict, start: str) -> str:
    return json.dumps({"StartAt": start, "States": states})


SUCCEEDS = _machine(
    "succeeds",
    {
        "Greet": {"Type": "Pass", "Result": {"hello": "world"}, "ResultPath": "$.greeting", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
    "Greet",
)
FAILS = _machine(
    "fails",
    {
        "Prepare": {"Type": "Pass", "Next": "GiveUp"},
        "GiveUp": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"},
    },
    "Prepare",
)
WAITS = _machine(
    "waits",
    {"Prepare": {"Type": "Pass", "Next": "Linger"}, "Linger": {"Type": "Wait", "Seconds": 3600, "End": True}},
    "Prepare",
)


@pytest.fixture(scope="module")
def aws():
    embedded = EmbeddedAws(0, REGION)
    embedded.start()
    yield embedded
    embedded.stop()
    # start() installed every moto patch in this process: later tests of this worker expect none.
    REGISTRY.uninstall_all()


def _wait(check, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _history(sfn, arn: str) -> list[dict]:
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def _describe(sfn, arn: str) -> dict:
    out = sfn.describe_execution(executionArn=arn)
    out.pop("ResponseMetadata")
    return out


def _restart(machines: list[str]) -> None:
    """What a new process starts from: the deployed machines, none of their executions."""
    backend = persistence.parser_backend(REGION)
    for machine in backend.state_machines:
        if machine.arn in machines:
            machine.executions.clear()


def test_executions_come_back_with_their_histories_and_a_running_one_failed(aws, tmp_path):
    sfn = aws.client("stepfunctions")
    suffix = uuid.uuid4().hex[:8]
    arns = {
        kind: sfn.create_state_machine(name=f"{kind}-{suffix}", definition=definition, roleArn=ROLE)[
            "stateMachineArn"
        ]
        for kind, definition in (("succeeds", SUCCEEDS), ("fails", FAILS), ("waits", WAITS))
    }
    started = {
        kind: sfn.start_execution(stateMachineArn=arn, name=f"run-{kind}", input=json.dumps({"n": 1}))[
            "executionArn"
        ]
        for kind, arn in arns.items()
    }
    _wait(lambda: _describe(sfn, started["succeeds"])["status"] == "SUCCEEDED", "the Pass machine to succeed")
    _wait(lambda: _describe(sfn, started["fails"])["status"] == "FAILED", "the Fail machine to fail")
    _wait(
        lambda: any(e["type"] == "WaitStateEntered" for e in _history(sfn, started["waits"])),
        "the Wait machine to be waiting",
    )
    before = {kind: (_describe(sfn, arn), _history(sfn, arn)) for kind, arn in started.items()}
    listed_before = sfn.list_executions(stateMachineArn=arns["fails"])["executions"]

    store = StateStore(tmp_path)
    checkpointer = ExecutionCheckpointer(store, REGION)
    assert checkpointer.checkpoint() >= 3
    assert checkpointer.checkpoint() == 0, "nothing changed, nothing should be written again"
    store.close()

    _restart(list(arns.values()))
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn=started["fails"])

    store = StateStore(tmp_path)
    report = RestoreReport()
    restore_executions(store, REGION, report)
    assert report.restarted == [started["waits"]]

    for kind in ("succeeds", "fails"):
        assert _describe(sfn, started[kind]) == before[kind][0], kind
        assert _history(sfn, started[kind]) == before[kind][1], kind
    output = json.loads(_describe(sfn, started["succeeds"])["output"])
    assert output == {"n": 1, "greeting": {"hello": "world"}}
    assert sfn.list_executions(stateMachineArn=arns["fails"])["executions"] == listed_before
    assert sfn.list_executions(stateMachineArn=arns["fails"], statusFilter="FAILED")["executions"]

    running = _describe(sfn, started["waits"])
    assert (running["status"], running["error"]) == ("FAILED", RESTARTED_ERROR)
    assert "stopped while this execution was running" in running["cause"]
    history = _history(sfn, started["waits"])
    assert history[:-1] == before["waits"][1]
    assert history[-1]["type"] == "ExecutionFailed"
    assert history[-1]["id"] == len(history)
    assert history[-1]["executionFailedEventDetails"]["error"] == RESTARTED_ERROR

    # The name stays taken, as on AWS: the restored execution is the one with that name.
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=arns["fails"], name="run-fails", input=json.dumps({"n": 2}))
    store.close()


def test_a_checkpoint_appends_only_the_new_events(aws, tmp_path):
    sfn = aws.client("stepfunctions")
    arn = sfn.create_state_machine(name=f"waits-{uuid.uuid4().hex[:8]}", definition=WAITS, roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, name="appends")["executionArn"]
    _wait(lambda: any(e["type"] == "WaitStateEntered" for e in _history(sfn, execution)), "the wait")
    store = StateStore(tmp_path)
    checkpointer = ExecutionCheckpointer(store, REGION)
    checkpointer.checkpoint()
    written = checkpointer.stats.events_written
    kept_events = len(store.history(execution))
    assert kept_events == len(_history(sfn, execution))
    sfn.stop_execution(executionArn=execution, error="Stopped", cause="by the test")
    assert _describe(sfn, execution)["status"] == "ABORTED"  # StopExecution is synchronous
    assert checkpointer.checkpoint() >= 1
    # Only the events after the first checkpoint, not the whole history again.
    assert checkpointer.stats.events_written - written == len(_history(sfn, execution)) - kept_events >= 1
    kept = {r["executionArn"]: r for r in store.executions()}[execution]
    assert kept["status"] == "ABORTED"
    assert [e["id"] for e in store.history(execution)] == [e["id"] for e in _history(sfn, execution)]
    store.close()


def test_items_come_back_without_new_stream_records(aws, tmp_path):
    ddb = aws.client("dynamodb")
    streams = aws.client("dynamodbstreams")
    name = f"kept-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    items = [
        {"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1.5"}, "tags": {"SS": ["x", "y"]}},
        {"pk": {"S": "a"}, "sk": {"S": "2"}, "m": {"M": {"b": {"BOOL": True}, "l": {"L": [{"NULL": True}]}}}},
        {"pk": {"S": "b"}, "sk": {"S": "1"}, "bin": {"B": b"\x00\x01"}},
    ]
    for item in items:
        ddb.put_item(TableName=name, Item=item)
    store = StateStore(tmp_path)
    snapshots = TableSnapshots(store, REGION)
    assert snapshots.snapshot() >= 1
    assert snapshots.snapshot() == 0, "a table not written since its snapshot is not written again"

    def scan() -> list[dict]:
        return sorted(ddb.scan(TableName=name)["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"]))

    kept = scan()
    for item in items:
        ddb.delete_item(TableName=name, Key={"pk": item["pk"], "sk": item["sk"]})
    assert scan() == []

    def stream_records() -> int:
        arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        return len(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])

    records_before = stream_records()
    report = RestoreReport()
    restore_tables(store, REGION, report)
    assert scan() == kept
    assert stream_records() == records_before, "restored items must not be streamed again"
    store.close()


def test_fresh_forgets_what_was_kept(tmp_path):
    store = StateStore(tmp_path)
    store.save_table("t", [{"pk": {"S": "x"}}])
    store.close()
    StateStore.wipe(tmp_path)
    assert StateStore(tmp_path).tables() == {}


def test_a_killed_writer_leaves_whole_checkpoints(tmp_path):
    """Each checkpoint is one transaction: an interrupted one leaves the previous state."""
    store = StateStore(tmp_path)
    record = {"executionArn": "arn:x", "stateMachineArn": "arn:m", "status": "RUNNING"}
    with store.transaction() as db:
        store.save_execution(db, record, [{"id": 1, "type": "ExecutionStarted"}], replace_history=True)
    with pytest.raises(RuntimeError), store.transaction() as db:
        failed = {**record, "status": "FAILED"}
        store.save_execution(db, failed, [{"id": 2, "type": "X"}], replace_history=False)
        raise RuntimeError("the process died here")
    reader = sqlite3.connect(tmp_path / persistence.DATABASE_FILE)
    assert json.loads(reader.execute("SELECT record FROM executions").fetchone()[0])["status"] == "RUNNING"
    assert reader.execute("SELECT count(*) FROM history_events").fetchone()[0] == 1
    store.close()


def test_up_fresh_starts_on_an_empty_state_directory(tmp_path):
    from arcadeflow.cli import build_parser
    from arcadeflow.stack import EmbeddedStack, StackOptions

    kept = StateStore(tmp_path)
    kept.save_table("arcadeflow-users", [{"userId": {"S": "alice"}}])
    kept.close()
    args = build_parser().parse_args(["up", "--fresh", "--state-dir", str(tmp_path)])
    assert (args.fresh, args.persist) == (True, True)
    stack = EmbeddedStack(StackOptions(state_dir=tmp_path, fresh=args.fresh, persist=args.persist))
    assert stack.store is not None and stack.store.tables() == {}
    stack.store.close()

    again = StateStore(tmp_path)
    again.save_table("arcadeflow-users", [{"userId": {"S": "bob"}}])
    again.close()
    stack = EmbeddedStack(StackOptions(state_dir=tmp_path))  # no --fresh: what was kept stays
    assert stack.store is not None and list(stack.store.tables()) == ["arcadeflow-users"]
    stack.store.close()
    assert EmbeddedStack(StackOptions(state_dir=tmp_path, persist=False)).store is None


def test_queue_messages_come_back_with_their_attributes_and_receive_counts(aws, tmp_path):
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=f"kept-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": "900"})[
        "QueueUrl"
    ]
    attributes = {
        "failedBatch": {"DataType": "String", "StringValue": "7"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
    }
    sqs.send_message(QueueUrl=url, MessageBody="dead letter 1", MessageAttributes=attributes)
    sqs.send_message(QueueUrl=url, MessageBody="dead letter 2")
    # One received and not deleted: in flight (invisible for 900 s) when the runtime stops.
    in_flight = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, MessageAttributeNames=["All"])[
        "Messages"
    ][0]
    assert in_flight["Body"] == "dead letter 1"
    store = StateStore(tmp_path)
    snapshots = TableSnapshots(store, REGION, services=persistence.ServiceSnapshots(store, REGION))
    assert snapshots.snapshot() >= 1
    sqs.purge_queue(QueueUrl=url)  # the restart: an empty queue
    report = RestoreReport()
    persistence.restore_queue_messages(store, REGION, report)
    assert report.messages == 2
    received = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
    )["Messages"]
    # The one in flight is visible again, once received more; its attributes are intact.
    by_body = {m["Body"]: m for m in received}
    assert set(by_body) == {"dead letter 1", "dead letter 2"}
    first = by_body["dead letter 1"]
    assert first["MessageId"] == in_flight["MessageId"]
    assert first["Attributes"]["ApproximateReceiveCount"] == "2"
    assert by_body["dead letter 2"]["Attributes"]["ApproximateReceiveCount"] == "1"
    assert first["MessageAttributes"] == {
        "failedBatch": {"DataType": "String", "StringValue": "7"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
    }
    assert first["MD5OfMessageAttributes"] == in_flight["MD5OfMessageAttributes"]
    store.close()


def test_parameters_come_back_with_their_versions_replacing_new_ones(aws, tmp_path):
    ssm = aws.client("ssm")
    name = f"/arcadeflow/kept-{uuid.uuid4().hex[:8]}"
    ssm.put_parameter(Name=name, Value="first key", Type="SecureString")
    ssm.put_parameter(Name=name, Value="second key", Type="SecureString", Overwrite=True)
    store = StateStore(tmp_path)
    services = persistence.ServiceSnapshots(store, REGION)
    assert services.snapshot() >= 1
    assert services.snapshot() == 0, "unchanged parameters are not written again"
    # The restart: the stack makes a fresh random key before the restore.
    ssm.delete_parameter(Name=name)
    ssm.put_parameter(Name=name, Value="a new random key", Type="SecureString")
    persistence.restore_parameters(store, REGION, RestoreReport())
    got = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert (got["Value"], got["Version"]) == ("second key", 2)
    history = ssm.get_parameter_history(Name=name, WithDecryption=True)["Parameters"]
    assert [p["Value"] for p in history] == ["first key", "second key"]
    store.close()


def test_unconsumed_stream_records_come_back_where_each_consumer_stopped(aws, tmp_path):
    from arcadeflow.aws.embedded import dynamodb_backend

    ddb = aws.client("dynamodb")
    name = f"streamed-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    for key in ("r0", "r1", "r2", "r3"):
        ddb.put_item(TableName=name, Item={"pk": {"S": key}})
    # Consumer A had read one record, consumer B three: r0 was read by both, so is not kept.
    positions = {name: {"arn:fn:a": 1, "arn:fn:b": 3}}
    store = StateStore(tmp_path)
    services = persistence.ServiceSnapshots(store, REGION, lambda: positions)
    assert services.snapshot() >= 1
    records, offsets = store.rows("stream_records")[name]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["r1", "r2", "r3"]
    assert offsets == {"arn:fn:a": 0, "arn:fn:b": 2}

    shard = dynamodb_backend(REGION).tables[name].stream_shard
    shard.items.clear()  # the restart: an empty stream
    report = RestoreReport()
    resume = persistence.restore_stream_records(store, REGION, report)
    assert report.stream_records == 3
    assert resume == {(name, "arn:fn:a"): 0, (name, "arn:fn:b"): 2}
    ddb.put_item(TableName=name, Item={"pk": {"S": "r4"}})  # written after the start: after them
    got = [r.to_json() for r in shard.items]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in got] == ["r1", "r2", "r3", "r4"]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in got]
    assert numbers == sorted(set(numbers)), "sequence numbers stay unique and in order"
    store.close()


def _v1_database(state_dir) -> None:
    """A state directory as issue 11's arcadeflow wrote it: three tables, no format version."""
    db = sqlite3.connect(state_dir / persistence.DATABASE_FILE)
    db.executescript(
        """
        CREATE TABLE executions (arn TEXT PRIMARY KEY, state_machine_arn TEXT NOT NULL, record TEXT NOT NULL);
        CREATE TABLE history_events (arn TEXT NOT NULL, event_id INTEGER NOT NULL, event TEXT NOT NULL,
            PRIMARY KEY (arn, event_id)) WITHOUT ROWID;
        CREATE TABLE table_items (table_name TEXT PRIMARY KEY, items TEXT NOT NULL);
        """
    )
    db.execute(
        "INSERT INTO table_items VALUES ('arcadeflow-users', ?)", (json.dumps([{"userId": {"S": "al"}}]),)
    )
    db.commit()
    db.close()


def test_a_version_1_state_directory_is_migrated_and_keeps_its_items(tmp_path):
    _v1_database(tmp_path)
    store = StateStore(tmp_path)
    assert (store.found_version, store.migrated_from) == (1, 1)
    assert store.tables() == {"arcadeflow-users": [{"userId": {"S": "al"}}]}
    store.close()
    again = StateStore(tmp_path)
    assert (again.found_version, again.migrated_from, again.last_stop_clean) == (2, None, True)
    again.close()


def test_a_newer_state_directory_is_refused_untouched_naming_both_versions(tmp_path):
    store = StateStore(tmp_path)
    with store.transaction() as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'format_version'")
    store.close()
    before = (tmp_path / persistence.DATABASE_FILE).read_bytes()
    with pytest.raises(persistence.StateFormatError) as refused:
        StateStore(tmp_path)
    assert "format version 99" in str(refused.value)
    assert f"versions 1 to {persistence.FORMAT_VERSION}" in str(refused.value)
    assert (tmp_path / persistence.DATABASE_FILE).read_bytes() == before


def test_up_refuses_a_newer_state_directory_with_the_versions(tmp_path):
    import subprocess
    import sys

    store = StateStore(tmp_path)
    with store.transaction() as db:
        db.execute("UPDATE meta SET value = '3' WHERE key = 'format_version'")
    store.close()
    out = subprocess.run(
        [sys.executable, "-m", "arcadeflow.cli", "up", "--no-deploy", "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0
    assert "state format version 3" in out.stderr and "versions 1 to 2" in out.stderr, out.stderr


def test_a_stop_that_did_not_close_the_store_is_reported_unclean(tmp_path):
    first = StateStore(tmp_path)
    assert first.last_stop_clean is None  # a new state directory
    first.close(clean=False)  # as a killed runtime leaves it: the running flag still set
    second = StateStore(tmp_path)
    assert second.last_stop_clean is False
    second.close()
    assert StateStore(tmp_path).last_stop_clean is True


IAM_AUTH = "AWS4-HMAC-SHA256 Credential=testing/20261202/us-east-1/iam/aws4_request, SignedHeaders=host"


@pytest.mark.parametrize(
    ("environ", "body", "kept"),
    [
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.CreateTable"}, b"{}", True),
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}, b"{}", False),
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "AmazonSQS.CreateQueue"}, b"{}", True),
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "AmazonSQS.SendMessage"}, b"{}", False),
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "AWSStepFunctions.CreateStateMachine"}, b"{}", True),
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "AWSStepFunctions.StartExecution"}, b"{}", False),
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "AmazonSSM.PutParameter"}, b"{}", False),
        ({"REQUEST_METHOD": "POST", "PATH_INFO": "/2015-03-31/functions"}, b"{}", True),
        ({"REQUEST_METHOD": "PUT", "PATH_INFO": "/2015-03-31/functions/f/code"}, b"{}", True),
        ({"REQUEST_METHOD": "GET", "PATH_INFO": "/2015-03-31/functions/f"}, b"", False),
        ({"REQUEST_METHOD": "POST", "PATH_INFO": "/2015-03-31/functions/f/invocations"}, b"{}", False),
        ({"REQUEST_METHOD": "POST", "PATH_INFO": "/2014-11-13/functions/f/invoke-async/"}, b"{}", False),
        ({"REQUEST_METHOD": "DELETE", "PATH_INFO": "/2015-03-31/event-source-mappings/u"}, b"", True),
        ({"REQUEST_METHOD": "POST", "PATH_INFO": "/v2/apis"}, b"{}", True),
        (
            {
                "REQUEST_METHOD": "POST",
                "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8",
                "HTTP_AUTHORIZATION": IAM_AUTH,
            },
            b"Action=CreateRole&RoleName=r",
            True,
        ),
        (
            {
                "REQUEST_METHOD": "POST",
                "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8",
                "HTTP_AUTHORIZATION": IAM_AUTH,
            },
            b"Action=GetRole&RoleName=r",
            False,
        ),
    ],
)
def test_the_journal_keeps_control_plane_calls_only(environ, body, kept):
    assert persistence.journaled(environ, body) is kept


def test_stream_positions_count_records_the_retention_trimmed(aws, tmp_path):
    """Positions count from the shard's first record ever (trimmed ones too, after 24 hours)."""
    from arcadeflow.aws.embedded import dynamodb_backend

    ddb = aws.client("dynamodb")
    name = f"trimmed-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    for key in ("r2", "r3", "r4"):
        ddb.put_item(TableName=name, Item={"pk": {"S": key}})
    shard = dynamodb_backend(REGION).tables[name].stream_shard
    shard.arcadeflow_trimmed = 2  # r0 and r1 expired: the shard holds r2 (position 2) onwards
    store = StateStore(tmp_path)
    services = persistence.ServiceSnapshots(store, REGION, lambda: {name: {"arn:fn:a": 3, "arn:fn:b": 5}})
    services.snapshot()
    records, offsets = store.rows("stream_records")[name]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["r3", "r4"]
    assert offsets == {"arn:fn:a": 0, "arn:fn:b": 2}
    store.close()
