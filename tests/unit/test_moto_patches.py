"""The moto patch registry (arcadeflow/aws/moto_patches/) and one canary per patch.

A canary runs moto WITHOUT the patch and reproduces the bug the patch fixes (for a speed patch:
the cost it removes and the shape of what it replaces). When a moto upgrade fixes the bug
upstream, the canary fails and says the patch can go. Beside each canary, the same scenario
WITH the patch shows the behaviour AWS has. Patches are installed in fixtures and uninstalled
after; none is installed at import time.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import random
import re
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws

from arcadeflow.aws import moto_patches
from arcadeflow.aws.embedded import EmbeddedAws
from arcadeflow.aws.moto_patches import REGISTRY, registry
from arcadeflow.aws.moto_patches.dynamodb_ttl_identity import TTL_IDENTITY, ttl_deletion
from tests.support.key_comparisons import count_key_comparisons

ACCOUNT = "123456789012"
REGION = "us-east-1"
EXECUTING: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


# --- helpers --------------------------------------------------------------------------------


@contextmanager
def without(name: str) -> Iterator[None]:
    with REGISTRY.uninstalled(name):
        yield


@contextmanager
def with_patch(name: str) -> Iterator[None]:
    with REGISTRY.installed(name):
        yield


def client(service: str, endpoint_url: str | None = None) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def echo_function() -> str:
    """A Lambda function (moto echoes its input without Docker); returns its name."""
    role = client("iam").create_role(RoleName="canary", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    client("lambda").create_function(
        FunctionName="canary",
        Runtime="python3.11",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )
    return "canary"


def streamed_table(name: str = "t") -> str:
    """A table with a stream; returns the stream ARN."""
    out = client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return out["TableDescription"]["LatestStreamArn"]


def backend_table(name: str = "t") -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][REGION].tables[name]


def state_machine(definition: dict[str, Any], name: str = "canary", endpoint_url: str | None = None) -> str:
    return client("stepfunctions", endpoint_url).create_state_machine(
        name=name,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/canary",
        definition=json.dumps(definition),
    )["stateMachineArn"]


def finished(execution_arn: str, timeout: float = 20.0) -> dict[str, Any]:
    """The execution once it is no longer RUNNING."""
    sfn = client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.02)
    raise AssertionError(f"{execution_arn} still RUNNING after {timeout} s")


def fixed_upstream(name: str) -> str:
    """What a canary says when moto no longer shows the bug."""
    return (
        f"moto {registry.installed_moto_version()} no longer shows the bug that patch {name} fixes: "
        "if AWS's behaviour holds without it, remove the patch from arcadeflow/aws/moto_patches/"
    )


PASS_MACHINE = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


@pytest.fixture
def front(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """The embedded AWS's WSGI front in this process, with only the interceptor patches asked for.

    Returns its endpoint URL. moto's backends are reset afterwards.
    """
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config["stepfunctions"], "execute_state_machine", True)
    started: list[EmbeddedAws] = []

    def start(*patch_names: str) -> str:
        aws = EmbeddedAws(0, REGION)
        for name in patch_names:
            patch = REGISTRY.get(name)
            assert patch.interceptor is not None
            aws.interceptors.append(patch.interceptor(aws.forward))
        aws.serve()
        started.append(aws)
        return aws.endpoint_url

    yield start
    for aws in started:
        requests.post(f"{aws.endpoint_url}/moto-api/reset", timeout=10)
        aws.stop()


# --- the registry -----------------------------------------------------------------------------


def test_every_registered_patch_has_a_canary() -> None:
    # Canaries live here and in test_moto_patches_<concern>.py beside this file.
    canaries = {
        match
        for module in Path(__file__).parent.glob("test_moto_patches*.py")
        for match in re.findall(r"^def (test_canary_\w+)\(", module.read_text(), re.MULTILINE)
    }
    missing = [p.name for p in REGISTRY if not any(c.startswith(f"test_canary_{p.name}") for c in canaries)]
    assert not missing, f"patches without a canary test_canary_<name>: {missing}"


def test_every_patch_record_says_what_it_fixes_for_which_moto_and_where_upstream() -> None:
    for patch in REGISTRY:
        assert patch.fixes and patch.targets and patch.moto_versions, patch.name
        assert patch.upstream is None or patch.upstream.startswith("getmoto/moto#"), patch.name
        assert (patch.apply is None) == (patch.kind == "interceptor"), patch.name
    assert REGISTRY.get("stepfunctions_start_execution_parameters").upstream == "getmoto/moto#10076"


def test_the_installed_moto_is_one_every_patch_was_written_for() -> None:
    REGISTRY.check_version()
    assert registry.installed_moto_version() in REGISTRY.known_versions


def test_every_target_exists_with_the_parameters_its_patch_relies_on() -> None:
    for patch in REGISTRY:
        REGISTRY.check_targets(patch)


def test_an_unknown_moto_version_is_refused_naming_the_version_and_the_patches() -> None:
    with pytest.raises(moto_patches.UnsupportedMotoVersion) as refused:
        REGISTRY.check_version("5.3.0")
    message = str(refused.value)
    assert "moto 5.3.0 is installed" in message
    assert "written for moto 5.2.5" in message
    for patch in REGISTRY:
        assert patch.name in message


def test_the_runtime_refuses_an_unknown_moto_at_once_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "installed_moto_version", lambda: "5.3.0")
    aws = EmbeddedAws(0, REGION)
    with pytest.raises(moto_patches.UnsupportedMotoVersion, match="moto 5.3.0"):
        aws.start()
    assert not [p.name for p in REGISTRY if REGISTRY.is_installed(p.name)]
    assert aws._server is None  # nothing served
    assert aws.interceptors == [aws._serve_stepfunctions_extras, aws.runner.faults.serve]


def test_arcadeflow_up_on_an_unknown_moto_prints_why_and_exits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging
    import signal

    from arcadeflow import cli

    monkeypatch.setattr(registry, "installed_moto_version", lambda: "5.3.0")
    # `up` would configure logging and take SIGTERM for itself: not in the test process.
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: None)
    monkeypatch.setattr(signal, "signal", lambda *args: None)
    code = cli.main(
        ["up", "--state-dir", str(tmp_path), "--aws-port", "0", "--http-port", "0", "--ws-port", "0"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("arcadeflow up: moto 5.3.0 is installed")
    assert "Traceback" not in err


def test_install_all_installs_every_patch_and_appends_every_interceptor() -> None:
    interceptors: list[Any] = []
    try:
        REGISTRY.install_all(interceptors, lambda environ, body: (200, {}, b""))
        replacing = [p.name for p in REGISTRY if p.apply is not None]
        assert all(REGISTRY.is_installed(name) for name in replacing)
        assert len(interceptors) == len([p for p in REGISTRY if p.kind == "interceptor"])
        REGISTRY.install_all([], lambda environ, body: (200, {}, b""))  # idempotent for moto
        assert [REGISTRY.patcher(name) for name in replacing]
    finally:
        REGISTRY.uninstall_all()
    assert not [p.name for p in REGISTRY if REGISTRY.is_installed(p.name)]


def test_a_target_whose_parameters_moved_is_refused_at_install() -> None:
    moved = registry.MotoPatch(
        name="relies_on_an_old_signature",
        fixes="nothing",
        upstream=None,
        moto_versions=("5.2.5",),
        targets=("moto.dynamodb.models.table.Table.query",),
        kind="fix",
        apply=lambda patcher: None,
        signatures={"moto.dynamodb.models.table.Table.query": ("self", "hash_key", "index_name")},
    )
    with pytest.raises(
        registry.PatchTargetChanged, match=r"Table\.query takes \(self, hash_key, range_comparison"
    ):
        registry.Registry((moved,)).install(moved.name)


def test_a_target_that_vanished_is_refused_at_install() -> None:
    vanished = registry.MotoPatch(
        name="relies_on_a_removed_method",
        fixes="nothing",
        upstream=None,
        moto_versions=("5.2.5",),
        targets=("moto.dynamodb.models.table.Table.query_the_old_way",),
        kind="fix",
        apply=lambda patcher: None,
    )
    with pytest.raises(registry.PatchTargetChanged, match="query_the_old_way no longer exists"):
        registry.Registry((vanished,)).install(vanished.name)


def _replacing_patches() -> list[registry.MotoPatch]:
    return [p for p in REGISTRY if p.apply is not None]


@pytest.mark.parametrize("patch", _replacing_patches(), ids=lambda p: p.name)
def test_install_is_idempotent_and_uninstall_restores_moto_exactly(patch: registry.MotoPatch) -> None:
    assert not REGISTRY.is_installed(patch.name)
    with with_patch(patch.name):
        replaced = REGISTRY.patcher(patch.name).replaced
        assert replaced, "installing changed nothing"
        now = [vars(owner).get(attribute) for owner, attribute, _, _ in replaced]
        REGISTRY.install(patch.name)  # a second install does not wrap again
        assert [vars(owner).get(attribute) for owner, attribute, _, _ in replaced] == now
    first_replacements = {(id(o), a): (o, a, w, v) for o, a, w, v in reversed(replaced)}.values()
    for owner, attribute, was_own, original in first_replacements:
        if was_own:
            assert vars(owner)[attribute] is original, f"{owner}.{attribute} not restored"
        else:
            assert attribute not in vars(owner), f"{owner}.{attribute} left behind"


def test_no_patch_is_installed_by_importing_anything() -> None:
    # Every collected test module has been imported by now: none may have installed a patch
    # (that would change moto for every test after it). Fixture-installed ones are uninstalled.
    assert not [p.name for p in REGISTRY if REGISTRY.is_installed(p.name)]


# --- lambda_stream_delivery_off ---------------------------------------------------------------


def _map_stream_and_write() -> int:
    stream_arn = streamed_table()
    client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=echo_function(), StartingPosition="TRIM_HORIZON"
    )
    client("dynamodb").put_item(TableName="t", Item={"pk": {"S": "a"}})
    return len(backend_table().stream_shard.items)


def test_canary_lambda_stream_delivery_off() -> None:
    """moto delivers the record inside PutItem, then empties the stream: no poller ever sees it."""
    with without("lambda_stream_delivery_off"), mock_aws(config=EXECUTING):
        assert _map_stream_and_write() == 0, fixed_upstream("lambda_stream_delivery_off")


def test_lambda_stream_delivery_off_leaves_records_on_the_stream() -> None:
    with with_patch("lambda_stream_delivery_off"), mock_aws(config=EXECUTING):
        assert _map_stream_and_write() == 1


# --- sqs_queue_mappings_hidden ----------------------------------------------------------------


def _map_queue_and_send() -> dict[str, str]:
    sqs = client("sqs")
    queue_url = sqs.create_queue(QueueName="q")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn["QueueArn"], FunctionName=echo_function()
    )
    sqs.send_message(QueueUrl=queue_url, MessageBody="hello")
    return sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]


def test_canary_sqs_queue_mappings_hidden() -> None:
    """moto receives and consumes the message inside SendMessage."""
    with without("sqs_queue_mappings_hidden"), mock_aws(config=EXECUTING):
        attributes = _map_queue_and_send()
    consumed = (
        attributes["ApproximateNumberOfMessages"]
        == attributes["ApproximateNumberOfMessagesNotVisible"]
        == "0"
    )
    assert consumed, fixed_upstream("sqs_queue_mappings_hidden")


def test_sqs_queue_mappings_hidden_leaves_the_message_for_the_poller() -> None:
    with with_patch("sqs_queue_mappings_hidden"), mock_aws(config=EXECUTING):
        attributes = _map_queue_and_send()
    assert attributes["ApproximateNumberOfMessages"] == "1"


# --- dynamodb_ttl_stream_identity ---------------------------------------------------------------


def _ttl_and_user_removes() -> tuple[dict[str, Any], dict[str, Any]]:
    from moto.dynamodb.models import dynamodb_backends

    streamed_table()
    dynamodb = client("dynamodb")
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "expired"}})
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "deleted"}})
    with ttl_deletion():
        dynamodb_backends[ACCOUNT][REGION].delete_item("t", {"pk": {"S": "expired"}})
    dynamodb.delete_item(TableName="t", Key={"pk": {"S": "deleted"}})
    ttl_remove, user_remove = [r.record for r in backend_table().stream_shard.items][-2:]
    return ttl_remove, user_remove


def test_canary_dynamodb_ttl_stream_identity() -> None:
    """moto's REMOVE records never carry the TTL service's identity (moto has no TTL)."""
    with without("dynamodb_ttl_stream_identity"), mock_aws():
        ttl_remove, _ = _ttl_and_user_removes()
    assert ttl_remove["eventName"] == "REMOVE"
    assert "userIdentity" not in ttl_remove, fixed_upstream("dynamodb_ttl_stream_identity")


def test_dynamodb_ttl_stream_identity_marks_only_ttl_deletions() -> None:
    with with_patch("dynamodb_ttl_stream_identity"), mock_aws():
        ttl_remove, user_remove = _ttl_and_user_removes()
    assert ttl_remove["userIdentity"] == TTL_IDENTITY
    assert user_remove["eventName"] == "REMOVE" and "userIdentity" not in user_remove


# --- dynamodb_speed ---------------------------------------------------------------------------
# Its equivalence with moto's own answers: the Hypothesis test in test_dynamodb_speed.py.


def _query_one_partition_of_a_big_table(monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName="big",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(300):
        dynamodb.put_item(TableName="big", Item={"pk": {"S": f"p{n:03}"}, "sk": {"S": "s"}})
    counted = count_key_comparisons(monkeypatch)
    found = dynamodb.query(
        TableName="big",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p150"}},
    )["Count"]
    return found, counted[0]


def test_canary_dynamodb_speed_query_sorts_the_whole_table(monkeypatch: pytest.MonkeyPatch) -> None:
    with without("dynamodb_speed"), mock_aws():
        found, comparisons = _query_one_partition_of_a_big_table(monkeypatch)
    assert found == 1
    # A sort of all 300 items of the table, to answer one partition.
    assert comparisons >= 299, fixed_upstream("dynamodb_speed")


def test_dynamodb_speed_query_reads_only_its_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    with with_patch("dynamodb_speed"), mock_aws():
        found, comparisons = _query_one_partition_of_a_big_table(monkeypatch)
    assert found == 1
    assert comparisons < 10


def _transactions(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[Any], int]:
    """(table items after, tables moto deep-copied, stream length) for a committed and a
    rolled-back transaction."""
    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models.table import Table

    streamed_table()
    dynamodb = client("dynamodb")
    for key in ("a", "b"):
        dynamodb.put_item(TableName="t", Item={"pk": {"S": key}, "v": {"N": "1"}})
    copied: list[Any] = []

    class SpyCopy:
        copy = staticmethod(copy.copy)

        @staticmethod
        def deepcopy(value: Any, *args: Any) -> Any:
            if isinstance(value, Table):
                copied.append(value.name)
            return copy.deepcopy(value, *args)

    monkeypatch.setattr(dynamodb_models, "copy", SpyCopy)
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "c"}, "v": {"N": "1"}}}},
            {
                "Update": {
                    "TableName": "t",
                    "Key": {"pk": {"S": "a"}},
                    "UpdateExpression": "SET v = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}},
                }
            },
        ]
    )
    with pytest.raises(ClientError, match="TransactionCanceledException"):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "d"}, "v": {"N": "1"}}}},
                {"Delete": {"TableName": "t", "Key": {"pk": {"S": "b"}}}},
                {
                    "Put": {
                        "TableName": "t",
                        "Item": {"pk": {"S": "a"}, "v": {"N": "9"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    items = sorted(dynamodb.scan(TableName="t")["Items"], key=lambda item: item["pk"]["S"])
    return items, copied, len(backend_table().stream_shard.items)


def test_canary_dynamodb_speed_transaction_copies_whole_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    with without("dynamodb_speed"), mock_aws():
        _, copied, _ = _transactions(monkeypatch)
    assert "t" in copied, fixed_upstream("dynamodb_speed")  # moto's rollback copy: the whole table


def test_dynamodb_speed_transactions_end_as_moto_ends_them_without_copying_tables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with without("dynamodb_speed"), mock_aws():
        reference_items, _, reference_stream = _transactions(monkeypatch)
    with with_patch("dynamodb_speed"), mock_aws():
        items, copied, stream = _transactions(monkeypatch)
    assert copied == []
    assert items == reference_items
    assert [i["pk"]["S"] for i in items] == ["a", "b", "c"]  # the rolled-back one left nothing
    assert stream == reference_stream == 4  # two puts, the committed transaction's two writes


# --- dynamodb_atomic_conditional_writes (an interceptor) ----------------------------------------


def _race_two_conditional_puts(
    endpoint_url: str, monkeypatch: pytest.MonkeyPatch, wait_for_the_other: float
) -> list[str]:
    """Two `attribute_not_exists` puts of one key, each made to read the item before either writes
    (each reader waits up to `wait_for_the_other` seconds for the other to have read too)."""
    from moto.dynamodb.models.table import Table

    dynamodb = client("dynamodb", endpoint_url)
    dynamodb.create_table(
        TableName="race",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    both_read = threading.Barrier(2, timeout=wait_for_the_other)
    original_get_item = Table.get_item

    def get_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = original_get_item(self, *args, **kwargs)
        # Holds the first reader until the second has read too (if it can); a broken barrier means
        # the other write could not read meanwhile: writes were serialised.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()
        return found

    monkeypatch.setattr(Table, "get_item", get_item)
    outcomes: list[str] = []

    def put(who: str) -> None:
        try:
            dynamodb.put_item(
                TableName="race",
                Item={"pk": {"S": "seat"}, "who": {"S": who}},
                ConditionExpression="attribute_not_exists(pk)",
            )
            outcomes.append("won")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=put, args=(who,)) for who in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return sorted(outcomes)


def test_canary_dynamodb_atomic_conditional_writes(
    front: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto checks the condition, then writes, with no lock: both conditional puts win."""
    # A long wait: only a slow machine delays the second reader, and then the race is not shown.
    outcomes = _race_two_conditional_puts(front(), monkeypatch, wait_for_the_other=10.0)
    assert outcomes == ["won", "won"], fixed_upstream("dynamodb_atomic_conditional_writes")


def test_dynamodb_atomic_conditional_writes_let_exactly_one_win(
    front: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint_url = front("dynamodb_atomic_conditional_writes")
    # Serialised, the first reader always waits in vain: the second cannot read before it wrote.
    outcomes = _race_two_conditional_puts(endpoint_url, monkeypatch, wait_for_the_other=0.5)
    assert outcomes == ["ConditionalCheckFailedException", "won"]


# --- stepfunctions_start_execution_parameters (getmoto/moto#10076) --------------------------------


def _start_a_nested_execution() -> dict[str, Any]:
    child = state_machine(PASS_MACHINE, "child")
    parent = state_machine(
        {
            "StartAt": "StartChild",
            "States": {
                "StartChild": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution",
                    "Parameters": {"StateMachineArn": child, "Input": {"from": "parent"}},
                    "End": True,
                }
            },
        },
        "parent",
    )
    return finished(client("stepfunctions").start_execution(stateMachineArn=parent)["executionArn"])


def test_canary_stepfunctions_start_execution_parameters() -> None:
    with without("stepfunctions_start_execution_parameters"), mock_aws(config=EXECUTING):
        execution = _start_a_nested_execution()
    assert execution["status"] == "FAILED", fixed_upstream("stepfunctions_start_execution_parameters")
    assert execution["error"] == "States.Runtime"
    assert "StateMachineArn" in execution["cause"]


def test_stepfunctions_start_execution_parameters_start_the_child_as_on_aws() -> None:
    with with_patch("stepfunctions_start_execution_parameters"), mock_aws(config=EXECUTING):
        execution = _start_a_nested_execution()
    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert set(output) == {"ExecutionArn", "StartDate"}
    assert ":execution:child:" in output["ExecutionArn"]
    assert isinstance(output["StartDate"], int)


# --- stepfunctions_early_stop -------------------------------------------------------------------


def _stop_before_the_first_state(monkeypatch: pytest.MonkeyPatch) -> tuple[Exception | None, dict[str, Any]]:
    """Stops an execution whose thread has not reached its first state; (stop error, execution)."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    release = threading.Event()
    original_entrypoint = ExecutionWorker._get_evaluation_entrypoint

    def held_entrypoint(self: Any) -> Any:
        release.wait(10)  # the execution's thread, held before it builds anything
        return original_entrypoint(self)

    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", held_entrypoint)
    sfn = client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=state_machine(PASS_MACHINE), name="early")["executionArn"]
    error: Exception | None = None
    try:
        sfn.stop_execution(executionArn=arn)
    except Exception as exc:  # moto fails inside the backend: whatever reaches the client
        error = exc
    release.set()
    return error, finished(arn)


def test_canary_stepfunctions_early_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """StopExecution before the execution's thread built its environment fails, and it runs on."""
    with without("stepfunctions_early_stop"), mock_aws(config=EXECUTING):
        error, execution = _stop_before_the_first_state(monkeypatch)
    assert error is not None and "set_stop" in str(error), fixed_upstream("stepfunctions_early_stop")
    assert execution["status"] == "SUCCEEDED"


def test_stepfunctions_early_stop_aborts_before_any_state(monkeypatch: pytest.MonkeyPatch) -> None:
    with with_patch("stepfunctions_early_stop"), mock_aws(config=EXECUTING):
        error, execution = _stop_before_the_first_state(monkeypatch)
        history = client("stepfunctions").get_execution_history(executionArn=execution["executionArn"])
    assert error is None
    assert execution["status"] == "ABORTED"
    assert not [e for e in history["events"] if e["type"].endswith("StateEntered")]


# --- stepfunctions_synchronous_stop ---------------------------------------------------------------


def _stop_while_a_lambda_task_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """Stops an execution while its Lambda task is being set up (held there until the stop has
    answered); (the stop's answer, DescribeExecution right after it, once finished, history)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )

    in_task, stop_answered = threading.Event(), threading.Event()
    original_credentials = StateTaskLambda._eval_state_credentials

    def held_credentials(self: Any, env: Any) -> Any:
        in_task.set()
        stop_answered.wait(10)
        return original_credentials(self, env)

    monkeypatch.setattr(StateTaskLambda, "_eval_state_credentials", held_credentials)
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{echo_function()}"
    arn = state_machine(
        {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": function_arn, "End": True}}}
    )
    sfn = client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=arn, name="mid-task")["executionArn"]
    assert in_task.wait(10), "the Lambda task never started"
    answer = sfn.stop_execution(executionArn=execution, error="Operator.Stopped", cause="by the canary")
    right_after = sfn.describe_execution(executionArn=execution)
    stop_answered.set()
    ended = finished(execution)
    history = sfn.get_execution_history(executionArn=execution)["events"]
    return answer, right_after, ended, history


def test_canary_stepfunctions_synchronous_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """StopExecution answers before anything is recorded, and a stop landing in a Lambda task
    ends the execution FAILED."""
    with (
        with_patch("stepfunctions_early_stop"),
        without("stepfunctions_synchronous_stop"),
        mock_aws(config=EXECUTING),
    ):
        answer, right_after, ended, _history = _stop_while_a_lambda_task_starts(monkeypatch)
    assert right_after["status"] == "RUNNING", fixed_upstream("stepfunctions_synchronous_stop")
    assert "stopDate" not in answer
    assert ended["status"] == "FAILED"
    assert "'dict' object has no attribute 'region'" in ended["cause"]


def test_stepfunctions_synchronous_stop_is_aborted_when_it_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    with (
        with_patch("stepfunctions_early_stop"),
        with_patch("stepfunctions_synchronous_stop"),
        mock_aws(config=EXECUTING),
    ):
        answer, right_after, ended, history = _stop_while_a_lambda_task_starts(monkeypatch)
    assert right_after["status"] == "ABORTED"
    assert right_after["stopDate"] == answer["stopDate"]
    assert (right_after["error"], right_after["cause"]) == ("Operator.Stopped", "by the canary")
    # The task's thread, let go after the stop, changes neither the outcome nor the history.
    assert (ended["status"], ended["stopDate"]) == ("ABORTED", answer["stopDate"])
    assert [e["type"] for e in history] == ["ExecutionStarted", "TaskStateEntered", "ExecutionAborted"]
    assert history[-1]["executionAbortedEventDetails"] == {
        "error": "Operator.Stopped",
        "cause": "by the canary",
    }


def test_stepfunctions_a_stop_right_after_the_start_is_recorded_before_it_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stopped before the execution's thread recorded anything: the history is AWS's two events."""
    with (
        with_patch("stepfunctions_early_stop"),
        with_patch("stepfunctions_synchronous_stop"),
        mock_aws(config=EXECUTING),
    ):
        error, execution = _stop_before_the_first_state(monkeypatch)
        history = client("stepfunctions").get_execution_history(executionArn=execution["executionArn"])
    assert error is None
    assert execution["status"] == "ABORTED" and "stopDate" in execution
    assert [e["type"] for e in history["events"]] == ["ExecutionStarted", "ExecutionAborted"]
    assert [e["id"] for e in history["events"]] == [1, 2]


def test_stepfunctions_stops_landing_anywhere_in_a_lambda_loop_all_end_aborted_at_once() -> None:
    """Stops at seeded random moments of a loop of Lambda tasks: each execution is ABORTED when
    StopExecution answers, stays so, and nothing follows ExecutionAborted in its history."""
    seed = int(os.environ.get("ARCADEFLOW_RACE_SEED") or random.randrange(1 << 30))
    print(f"ARCADEFLOW_RACE_SEED={seed}")
    jitter = random.Random(seed)
    with (
        with_patch("stepfunctions_early_stop"),
        with_patch("stepfunctions_synchronous_stop"),
        mock_aws(config=EXECUTING),
    ):
        function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{echo_function()}"
        arn = state_machine(
            {
                "StartAt": "Call",
                "States": {"Call": {"Type": "Task", "Resource": function_arn, "Next": "Call"}},
            }
        )
        sfn = client("stepfunctions")
        stopped = []
        for n in range(12):
            execution = sfn.start_execution(stateMachineArn=arn, name=f"loop-{n}")["executionArn"]
            time.sleep(jitter.uniform(0, 0.05))  # the jitter is the point: where the stop lands
            answer = sfn.stop_execution(executionArn=execution)
            described = sfn.describe_execution(executionArn=execution)
            assert (described["status"], described["stopDate"]) == ("ABORTED", answer["stopDate"]), n
            stopped.append((execution, answer["stopDate"]))
        for execution, stop_date in stopped:
            ended = finished(execution)
            assert (ended["status"], ended["stopDate"]) == ("ABORTED", stop_date)
            events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
            assert events[0]["type"] == "ExecutionStarted"
            assert [e["type"] for e in events].count("ExecutionAborted") == 1
            assert events[-1]["type"] == "ExecutionAborted", (seed, [e["type"] for e in events[-4:]])


# --- stepfunctions_jsonpath_definite_paths -------------------------------------------------------

BRANCHES = [{"page": 1, "status": "a"}, {"page": 2, "status": "b"}]


def test_canary_stepfunctions_jsonpath_definite_paths() -> None:
    from moto.stepfunctions.parser.asl.utils import json_path

    with without("stepfunctions_jsonpath_definite_paths"):
        answer = json_path.extract_json("$[1].page", BRANCHES)
    assert answer == [2], fixed_upstream("stepfunctions_jsonpath_definite_paths")


def test_stepfunctions_jsonpath_definite_paths_answer_the_value() -> None:
    from moto.stepfunctions.parser.asl.utils import json_path

    with with_patch("stepfunctions_jsonpath_definite_paths"):
        assert json_path.extract_json("$[1].page", BRANCHES) == 2
        assert json_path.extract_json("$.b[0].status", {"b": BRANCHES}) == "a"
        assert json_path.extract_json("$[*].page", BRANCHES) == [1, 2]  # wildcards: moto's own


# --- stepfunctions_unnamed_executions (an interceptor) --------------------------------------------


def _two_unnamed_starts(endpoint_url: str | None = None) -> list[str]:
    sfn = client("stepfunctions", endpoint_url)
    arn = state_machine(PASS_MACHINE, endpoint_url=endpoint_url)
    started = []
    for _ in range(2):
        try:
            started.append(sfn.start_execution(stateMachineArn=arn)["executionArn"])
        except ClientError as exc:
            started.append(exc.response["Error"]["Code"])
    return started


def test_canary_stepfunctions_unnamed_executions() -> None:
    """moto names an unnamed execution "None": a second unnamed start never starts a second one."""
    with mock_aws(config=EXECUTING):
        first, second = _two_unnamed_starts()
    assert first.endswith(":None"), fixed_upstream("stepfunctions_unnamed_executions")
    assert second in (first, "ExecutionAlreadyExists")


def test_stepfunctions_unnamed_executions_get_a_uuid_each(front: Callable[..., str]) -> None:
    first, second = _two_unnamed_starts(front("stepfunctions_unnamed_executions"))
    assert first != second
    for arn in (first, second):
        uuid.UUID(arn.rsplit(":", 1)[1])


# --- stepfunctions_execution_names (an interceptor) ----------------------------------------------

NAMES_AWS_REFUSES = ["a b", "a/b", "a:b", "a{b}", "a*", "a$b", "a\u0085b", "a\u007fb", "x" * 81]
WAIT_MACHINE = {
    "StartAt": "Hold",
    "States": {"Hold": {"Type": "Wait", "SecondsPath": "$.seconds", "End": True}},
}


def _start_named(sfn: Any, arn: str, name: str, execution_input: str = "{}") -> dict[str, Any]:
    try:
        return sfn.start_execution(stateMachineArn=arn, name=name, input=execution_input)
    except ClientError as exc:
        return {"error": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}


def test_canary_stepfunctions_execution_input_errors() -> None:
    """moto refuses an input that is not JSON with an empty error code."""
    with mock_aws(config=EXECUTING):
        out = _start_named(client("stepfunctions"), state_machine(PASS_MACHINE), "bad-input", '{"a": soon}')
    assert out.get("error") == "", fixed_upstream("stepfunctions_execution_input_errors")


def test_stepfunctions_execution_input_errors_name_the_error_as_aws_does(front: Callable[..., str]) -> None:
    endpoint = front("stepfunctions_execution_input_errors")
    sfn = client("stepfunctions", endpoint)
    arn = state_machine(PASS_MACHINE, endpoint_url=endpoint)
    out = _start_named(sfn, arn, "bad-input", '{"a": soon}')
    assert out["error"] == "InvalidExecutionInput"
    assert out["message"].startswith("Invalid State Machine Execution Input: ")
    assert "executionArn" in _start_named(sfn, arn, "good-input", '{"a": 1}')


def test_canary_stepfunctions_execution_names() -> None:
    """moto starts an execution under any name, where AWS answers InvalidName."""
    with mock_aws(config=EXECUTING):
        sfn = client("stepfunctions")
        arn = state_machine(PASS_MACHINE)
        started = [_start_named(sfn, arn, name) for name in NAMES_AWS_REFUSES]
    assert all("executionArn" in out for out in started), fixed_upstream("stepfunctions_execution_names")


def test_canary_stepfunctions_execution_names_race(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto checks a name and appends its execution without a lock: two starts of one name both start."""
    from moto.stepfunctions.models import StateMachine

    both_checked = threading.Barrier(2, timeout=10)
    check = StateMachine._handle_name_input_idempotency

    def check_then_meet(self: Any, name: str, execution_input: str) -> Any:
        found = check(self, name, execution_input)
        both_checked.wait()  # both starts have checked before either has appended
        return found

    monkeypatch.setattr(StateMachine, "_handle_name_input_idempotency", check_then_meet)
    with mock_aws(config=EXECUTING):
        sfn = client("stepfunctions")
        arn = state_machine(WAIT_MACHINE)
        threads = [
            threading.Thread(target=_start_named, args=(sfn, arn, "once", '{"seconds": 5}')) for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        named = [e for e in sfn.list_executions(stateMachineArn=arn)["executions"] if e["name"] == "once"]
        for execution in named:
            sfn.stop_execution(executionArn=execution["executionArn"])
    assert len(named) == 2, fixed_upstream("stepfunctions_execution_names")


def test_stepfunctions_execution_names_are_validated_as_aws_does(front: Callable[..., str]) -> None:
    endpoint = front("stepfunctions_execution_names")
    sfn = client("stepfunctions", endpoint)
    arn = state_machine(PASS_MACHINE, endpoint_url=endpoint)
    for name in NAMES_AWS_REFUSES:
        out = _start_named(sfn, arn, name)
        assert out.get("error") == "InvalidName", (name, out)
        assert out["message"] == f"Invalid Name: '{name}'"
    valid = "s" * 80
    assert _start_named(sfn, arn, valid)["executionArn"].endswith(f":{valid}")
    assert _start_named(sfn, arn, "end_9c0e-x.y")["executionArn"].endswith(":end_9c0e-x.y")


def test_stepfunctions_a_repeated_name_starts_one_execution_as_aws_does(front: Callable[..., str]) -> None:
    endpoint = front("stepfunctions_execution_names")
    sfn = client("stepfunctions", endpoint)
    arn = state_machine(WAIT_MACHINE, endpoint_url=endpoint)
    held = '{"seconds": 30}'
    first = _start_named(sfn, arn, "end", held)
    again = _start_named(sfn, arn, "end", held)
    assert (again["executionArn"], again["startDate"]) == (first["executionArn"], first["startDate"])
    assert _start_named(sfn, arn, "end", '{"seconds": 1}')["error"] == "ExecutionAlreadyExists"
    sfn.stop_execution(executionArn=first["executionArn"])
    # moto records ABORTED on the execution's own thread, a moment after StopExecution answers.
    assert _finished_at(sfn, first["executionArn"]) == "ABORTED"
    assert _start_named(sfn, arn, "end", held)["error"] == "ExecutionAlreadyExists"
    quick = _start_named(sfn, arn, "quick", '{"seconds": 0}')
    finished_quick = _finished_at(sfn, quick["executionArn"])
    assert finished_quick == "SUCCEEDED"
    assert _start_named(sfn, arn, "quick", '{"seconds": 0}')["error"] == "ExecutionAlreadyExists"


def _finished_at(sfn: Any, execution_arn: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = sfn.describe_execution(executionArn=execution_arn)["status"]
        if status != "RUNNING":
            return str(status)
        time.sleep(0.02)
    raise AssertionError(f"{execution_arn} still RUNNING after {timeout} s")


def test_stepfunctions_concurrent_starts_of_one_name_start_one_execution(
    front: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.stepfunctions.models import StateMachine

    # Each start lingers after moto's name check until a second start has checked too (or 0.5 s
    # pass): without the patch both check before either appends, and both start.
    checked = threading.Condition()
    checks = [0]
    check = StateMachine._handle_name_input_idempotency

    def check_then_linger(self: Any, name: str, execution_input: str) -> Any:
        found = check(self, name, execution_input)
        with checked:
            checks[0] += 1
            checked.notify_all()
            checked.wait_for(lambda: checks[0] >= 2, timeout=0.5)
        return found

    endpoint = front("stepfunctions_execution_names")
    sfn = client("stepfunctions", endpoint)
    arn = state_machine(WAIT_MACHINE, endpoint_url=endpoint)
    monkeypatch.setattr(StateMachine, "_handle_name_input_idempotency", check_then_linger)
    answers: list[dict[str, Any]] = []

    def start() -> None:
        answers.append(_start_named(client("stepfunctions", endpoint), arn, "once", '{"seconds": 30}'))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    listed = sfn.list_executions(stateMachineArn=arn)["executions"]
    for execution in listed:
        sfn.stop_execution(executionArn=execution["executionArn"])
    assert [e["name"] for e in listed] == ["once"]
    assert [a.get("executionArn") for a in answers] == [listed[0]["executionArn"]] * 2


# --- server_routing_cache ---------------------------------------------------------------------

HOSTS = ["dynamodb.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com", "states.us-east-1.amazonaws.com"]


def test_canary_server_routing_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto lists its package directory for every request it routes."""
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    with without("server_routing_cache"):
        listings = [0]
        original = backends.list_of_moto_modules

        def counted() -> Any:
            listings[0] += 1
            return original()

        monkeypatch.setattr(backends, "list_of_moto_modules", counted)
        dispatcher = DomainDispatcherApplication(create_backend_app)
        for host in HOSTS * 2:
            dispatcher.get_backend_for_host(host)
        assert listings[0] >= len(HOSTS) * 2, fixed_upstream("server_routing_cache")


def test_server_routing_cache_routes_as_moto_does_listing_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    with without("server_routing_cache"):
        reference = [DomainDispatcherApplication(create_backend_app).get_backend_for_host(h) for h in HOSTS]
    listings = [0]
    original = backends.list_of_moto_modules

    def counted() -> Any:
        listings[0] += 1
        return original()

    monkeypatch.setattr(backends, "list_of_moto_modules", counted)
    with with_patch("server_routing_cache"):
        dispatcher = DomainDispatcherApplication(create_backend_app)
        answers = [dispatcher.get_backend_for_host(h) for h in HOSTS * 2]
    assert answers == reference * 2
    assert listings[0] == 1


# --- server_direct_dispatch, server_quiet_request_log ---------------------------------------------

_DYNAMODB_HOST = "dynamodb.us-east-1.amazonaws.com"
# What changes between two runs of one request: ids, dates, the server's name.
_VOLATILE_HEADERS = {"x-amzn-requestid", "x-amz-crc32", "date", "server", "x-amz-id-2"}


def _raw_requests() -> list[tuple[str, str, dict[str, str], bytes]]:
    """(host, target, extra headers, body): hits, a missing table, a key that is not the table's,
    a browser's request (Origin: CORS headers), Step Functions and SQS."""
    table = "direct"
    item = {"pk": {"S": "a"}, "n": {"N": "1"}}
    return [
        (
            _DYNAMODB_HOST,
            "DynamoDB_20120810.PutItem",
            {},
            json.dumps({"TableName": table, "Item": item}).encode(),
        ),
        (
            _DYNAMODB_HOST,
            "DynamoDB_20120810.GetItem",
            {},
            json.dumps({"TableName": table, "Key": {"pk": {"S": "a"}}}).encode(),
        ),
        (
            _DYNAMODB_HOST,
            "DynamoDB_20120810.GetItem",
            {},
            json.dumps({"TableName": "absent", "Key": {"pk": {"S": "a"}}}).encode(),
        ),
        (
            _DYNAMODB_HOST,
            "DynamoDB_20120810.Query",
            {},
            json.dumps(
                {
                    "TableName": table,
                    "KeyConditionExpression": "pk = :p",
                    "ExpressionAttributeValues": {":p": {"S": "a"}},
                }
            ).encode(),
        ),
        (
            _DYNAMODB_HOST,
            "DynamoDB_20120810.GetItem",
            {},
            json.dumps({"TableName": table, "Key": {"other": {"S": "a"}}}).encode(),
        ),
        (
            _DYNAMODB_HOST,
            "DynamoDB_20120810.GetItem",
            {"Origin": "http://127.0.0.1:5173"},
            json.dumps({"TableName": table, "Key": {"pk": {"S": "a"}}}).encode(),
        ),
        ("states.us-east-1.amazonaws.com", "AWSStepFunctions.ListStateMachines", {}, b"{}"),
        (
            "sqs.us-east-1.amazonaws.com",
            "AmazonSQS.CreateQueue",
            {},
            json.dumps({"QueueName": "direct"}).encode(),
        ),
        ("sqs.us-east-1.amazonaws.com", "AmazonSQS.ListQueues", {}, b"{}"),
    ]


def _answers_of_the_dispatcher() -> tuple[list[tuple[int, dict[str, str], bytes]], int]:
    """Each raw request's answer through moto's server app, and how many Flask requests it took."""
    import flask
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.test import Client

    flask_requests = [0]

    def counted(sender: Any, **extra: Any) -> None:
        flask_requests[0] += 1

    flask.request_started.connect(counted)
    try:
        with mock_aws():
            client("dynamodb").create_table(
                TableName="direct",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            app = Client(DomainDispatcherApplication(create_backend_app))
            answers = []
            for host, target, extra, body in _raw_requests():
                response = app.post(
                    "/",
                    base_url=f"http://{host}/",
                    data=body,
                    headers={
                        "X-Amz-Target": target,
                        "Content-Type": "application/x-amz-json-1.0",
                        # How moto routes a signed request: the service in the credential scope.
                        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261202/us-east-1/"
                        f"{host.split('.')[0]}/aws4_request, SignedHeaders=host, Signature=0",
                        **extra,
                    },
                )
                headers = {
                    k.lower(): v for k, v in response.headers.items() if k.lower() not in _VOLATILE_HEADERS
                }
                answers.append((response.status_code, headers, response.get_data()))
    finally:
        flask.request_started.disconnect(counted)
    return answers, flask_requests[0]


def test_canary_server_direct_dispatch() -> None:
    """moto's server runs a whole Flask request for every call to a backend."""
    with without("server_direct_dispatch"):
        _, flask_requests = _answers_of_the_dispatcher()
    assert flask_requests == len(_raw_requests()), fixed_upstream("server_direct_dispatch")


def test_server_direct_dispatch_answers_as_flask_did_keeping_flask_for_browsers() -> None:
    with without("server_direct_dispatch"):
        reference, _ = _answers_of_the_dispatcher()
    with with_patch("server_direct_dispatch"):
        answers, flask_requests = _answers_of_the_dispatcher()
    assert answers == reference
    statuses = [status for status, _, _ in answers]
    assert statuses[:4] == [200, 200, 400, 200] and statuses[4] == 400  # refused: no such table, a wrong key
    assert json.loads(answers[1][2])["Item"]["n"] == {"N": "1"}
    # Only the browser's request (Origin) went through Flask, and it kept its CORS header.
    assert flask_requests == 1
    assert answers[5][1]["access-control-allow-origin"] == "http://127.0.0.1:5173"


def test_canary_server_quiet_request_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """werkzeug formats every request's log line, even when its logger drops it."""
    import logging

    from moto.moto_server.werkzeug_app import MotoRequestHandler

    formatted = [0]
    monkeypatch.setattr(
        MotoRequestHandler,
        "log_date_time_string",
        lambda self: formatted.__setitem__(0, formatted[0] + 1) or "",
    )
    monkeypatch.setattr(logging.getLogger("werkzeug"), "level", logging.WARNING)
    handler = MotoRequestHandler.__new__(MotoRequestHandler)
    handler.requestline, handler.client_address = "GET / HTTP/1.1", ("127.0.0.1", 1)
    with without("server_quiet_request_log"):
        handler.log_request(200, 2)
    assert formatted[0] == 1, fixed_upstream("server_quiet_request_log")


def test_server_quiet_request_log_writes_the_line_when_the_logger_wants_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from moto.moto_server.werkzeug_app import MotoRequestHandler

    handler = MotoRequestHandler.__new__(MotoRequestHandler)
    handler.requestline, handler.client_address = "GET /quiet HTTP/1.1", ("127.0.0.1", 1)
    werkzeug_log = logging.getLogger("werkzeug")
    with with_patch("server_quiet_request_log"):
        monkeypatch.setattr(werkzeug_log, "level", logging.WARNING)
        with caplog.at_level(logging.WARNING, logger="werkzeug"):
            handler.log_request(200, 2)
        assert "GET /quiet" not in caplog.text
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            handler.log_request(200, 2)
        assert "GET /quiet" in caplog.text


# --- stepfunctions_client_reuse ---------------------------------------------------------------


def _two_task_clients() -> tuple[Any, Any]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    return (
        lambda_eval_utils.boto_client_for(region=REGION, service="lambda", state_credentials=None),
        lambda_eval_utils.boto_client_for(region=REGION, service="lambda", state_credentials=None),
    )


def test_canary_stepfunctions_client_reuse() -> None:
    """moto's interpreter builds a new client (a new connection pool) for every Task."""
    with without("stepfunctions_client_reuse"):
        first, second = _two_task_clients()
    assert first is not second, fixed_upstream("stepfunctions_client_reuse")


def test_stepfunctions_client_reuse_keeps_one_client_with_moto_settings() -> None:
    with without("stepfunctions_client_reuse"):
        reference, _ = _two_task_clients()
    with with_patch("stepfunctions_client_reuse"):
        first, second = _two_task_clients()
    assert first is second
    assert first.meta.endpoint_url == reference.meta.endpoint_url
    assert first.meta.region_name == reference.meta.region_name
    assert first.meta.config.retries == reference.meta.config.retries


# --- stepfunctions_redrive (an interceptor) and stepfunctions_redrive_keeps_succeeded_work ---------

# Iterations 0 and 1 succeed, 2 fails, one at a time: a redrive must run iteration 2 alone.
MAP_FAILING_ON_ITS_LAST_ITEM = {
    "StartAt": "CheckItems",
    "States": {
        "CheckItems": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "StartAt": "IsOne",
                "States": {
                    "IsOne": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "One"}],
                        "Default": "NotOne",
                    },
                    "One": {"Type": "Succeed"},
                    "NotOne": {"Type": "Fail", "Error": "Canary.NotOne", "Cause": "the item is not 1"},
                },
            },
            "End": True,
        }
    },
}


def _history_once_finished(
    endpoint_url: str, execution_arn: str, timeout: float = 20.0
) -> list[dict[str, Any]]:
    """The execution's history once it is no longer RUNNING."""
    sfn = client("stepfunctions", endpoint_url)
    deadline = time.monotonic() + timeout
    while sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{execution_arn} still RUNNING after {timeout} s"
        time.sleep(0.02)
    return sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]


def _redriven_iterations(endpoint_url: str) -> list[int]:
    """Runs the Map machine to its failure, redrives it: the iterations the redrive started."""
    sfn = client("stepfunctions", endpoint_url)
    arn = state_machine(
        MAP_FAILING_ON_ITS_LAST_ITEM, name=f"redrive-{uuid.uuid4().hex[:6]}", endpoint_url=endpoint_url
    )
    execution = sfn.start_execution(stateMachineArn=arn, input="[1, 1, 2]")["executionArn"]
    _history_once_finished(endpoint_url, execution)
    sfn.redrive_execution(executionArn=execution)
    events = _history_once_finished(endpoint_url, execution)
    redriven = next(i for i, e in enumerate(events) if e["type"] == "ExecutionRedriven")
    return [
        e["mapIterationStartedEventDetails"]["index"]
        for e in events[redriven:]
        if e["type"] == "MapIterationStarted"
    ]


def test_canary_stepfunctions_redrive() -> None:
    """moto serves no RedriveExecution."""
    with mock_aws(config=EXECUTING):
        sfn = client("stepfunctions")
        arn = state_machine({"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "E", "Cause": "c"}}})
        execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
        assert finished(execution)["status"] == "FAILED"
        with pytest.raises((ClientError, NotImplementedError)):
            sfn.redrive_execution(executionArn=execution)
            pytest.fail(fixed_upstream("stepfunctions_redrive"))
        assert "redriveCount" not in sfn.describe_execution(executionArn=execution)


def test_stepfunctions_redrive_continues_the_same_execution(front: Callable[..., str]) -> None:
    endpoint_url = front("stepfunctions_redrive")
    sfn = client("stepfunctions", endpoint_url)
    arn = state_machine(
        {"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "E", "Cause": "c"}}},
        endpoint_url=endpoint_url,
    )
    execution = sfn.start_execution(stateMachineArn=arn, name="once")["executionArn"]
    _history_once_finished(endpoint_url, execution)
    assert "redriveDate" in sfn.redrive_execution(executionArn=execution)
    events = _history_once_finished(endpoint_url, execution)
    redriven = next(i for i, e in enumerate(events) if e["type"] == "ExecutionRedriven")
    assert [e["type"] for e in events[redriven:]] == [
        "ExecutionRedriven",
        "FailStateEntered",
        "ExecutionFailed",
    ]
    assert events[redriven]["executionRedrivenEventDetails"] == {"redriveCount": 1}
    described = sfn.describe_execution(executionArn=execution)
    assert (described["status"], described["redriveCount"], described["redriveStatus"]) == (
        "FAILED",
        1,
        "REDRIVABLE",
    )


def test_canary_stepfunctions_redrive_keeps_succeeded_work(front: Callable[..., str]) -> None:
    """Without it, a redriven Map runs the iterations that had succeeded again."""
    endpoint_url = front("stepfunctions_redrive")
    with without("stepfunctions_redrive_keeps_succeeded_work"):
        started = _redriven_iterations(endpoint_url)
    assert started == [0, 1, 2], fixed_upstream("stepfunctions_redrive_keeps_succeeded_work")


def test_stepfunctions_redrive_keeps_succeeded_work_runs_the_failed_iteration_alone(
    front: Callable[..., str],
) -> None:
    endpoint_url = front("stepfunctions_redrive")
    with with_patch("stepfunctions_redrive_keeps_succeeded_work"):
        assert _redriven_iterations(endpoint_url) == [2]


# --- dynamodb_stream_retention ----------------------------------------------------------------


def _iterator_then_trim() -> tuple[Any, str]:
    """A table with two stream records, an iterator at the first, then both trimmed."""
    from datetime import datetime, timedelta

    from arcadeflow.aws.moto_patches.dynamodb_stream_retention import trim_stream

    dynamodb = client("dynamodb")
    arn = dynamodb.create_table(
        TableName="streamed",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )["TableDescription"]["LatestStreamArn"]
    for key in ("a", "b"):
        dynamodb.put_item(TableName="streamed", Item={"pk": {"S": key}})
    # botocore sends stream calls to an account-specific host moto does not answer: name the classic one.
    streams = client("dynamodbstreams", "https://streams.dynamodb.us-east-1.amazonaws.com")
    shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")
    shard = moto_dynamodb_backend().tables["streamed"].stream_shard
    assert trim_stream(shard, datetime.utcnow() + timedelta(seconds=1)) == 2
    return streams, iterator["ShardIterator"]


def moto_dynamodb_backend() -> Any:
    from arcadeflow.aws.embedded import dynamodb_backend

    return dynamodb_backend(REGION)


def test_canary_dynamodb_stream_retention() -> None:
    """moto cannot read past a trimmed head: its shard asserts (a 500 on the wire)."""
    with without("dynamodb_stream_retention"), mock_aws():
        streams, iterator = _iterator_then_trim()
        with pytest.raises(AssertionError):
            streams.get_records(ShardIterator=iterator)


def test_dynamodb_stream_retention_answers_a_trimmed_read_as_aws_does() -> None:
    with with_patch("dynamodb_stream_retention"), mock_aws():
        streams, iterator = _iterator_then_trim()
        with pytest.raises(ClientError) as refused:
            streams.get_records(ShardIterator=iterator)
    assert refused.value.response["Error"]["Code"] == "TrimmedDataAccessException"


# --- stepfunctions_thread_list ----------------------------------------------------------------

MAP_MACHINE = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "One", "States": {"One": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    },
}


def _threads_kept_after_executions(count: int) -> int:
    """How many ended threads moto's list holds once `count` Map executions have finished and
    one more has started."""
    from moto.stepfunctions.parser.utils import TMP_THREADS

    arn = state_machine(MAP_MACHINE)
    sfn = client("stepfunctions")
    for n in range(count + 1):
        execution = sfn.start_execution(stateMachineArn=arn, name=f"run{n}", input='{"items": [1, 2, 3]}')
        if n < count:
            assert finished(execution["executionArn"])["status"] == "SUCCEEDED"
    return len([thread for thread in TMP_THREADS if not thread.is_alive()])


def test_canary_stepfunctions_thread_list() -> None:
    """moto keeps every thread of every finished execution."""
    with without("stepfunctions_thread_list"), mock_aws(config=EXECUTING):
        kept = _threads_kept_after_executions(10)
    assert kept >= 10 * 4, fixed_upstream("stepfunctions_thread_list")  # an execution and 3 iterations


def test_stepfunctions_thread_list_lets_the_threads_of_finished_executions_go() -> None:
    with with_patch("stepfunctions_thread_list"), mock_aws(config=EXECUTING):
        kept = _threads_kept_after_executions(10)
    assert kept < 10  # at most the last execution's, ended since it started


# --- moto_instance_tracking -------------------------------------------------------------------


def _items_tracked_by_writes(count: int) -> int:
    """How many more DynamoDB items moto's model list holds after `count` writes and reads of one
    item (the item itself is replaced every time)."""
    from moto.dynamodb.models.dynamo_type import Item

    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName="tracked",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    before = len(Item.instances_tracked)  # type: ignore[attr-defined]
    for n in range(count):
        dynamodb.put_item(TableName="tracked", Item={"pk": {"S": "one"}, "n": {"N": str(n)}})
        dynamodb.get_item(TableName="tracked", Key={"pk": {"S": "one"}})
    return len(Item.instances_tracked) - before  # type: ignore[attr-defined]


def test_canary_moto_instance_tracking() -> None:
    """moto keeps every item it ever made, overwritten or copied ones too."""
    with without("moto_instance_tracking"), mock_aws():
        kept = _items_tracked_by_writes(50)
    assert kept >= 50, fixed_upstream("moto_instance_tracking")


def test_moto_instance_tracking_keeps_no_dynamodb_item_but_still_s3_keys() -> None:
    from moto.s3.models import FakeKey

    with with_patch("moto_instance_tracking"), mock_aws():
        kept = _items_tracked_by_writes(50)
        s3 = client("s3")
        s3.create_bucket(Bucket="kept")
        before = len(FakeKey.instances_tracked)  # type: ignore[attr-defined]
        s3.put_object(Bucket="kept", Key="k", Body=b"x")
        assert len(FakeKey.instances_tracked) > before  # type: ignore[attr-defined]
    assert kept == 0
