"""Express executions: the express ARN, no execution history, at-least-once names, StartSyncExecution
and the 5-minute limit.

AWS: Step Functions developer guide, "Choosing workflow type in Step Functions" (Standard vs.
Express); API reference, "StartExecution", "StartSyncExecution", "DescribeExecution",
"ListExecutions", "GetExecutionHistory"."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from arcadeflow.aws.moto_patches.stepfunctions_express import EXPRESS_MAX_SECONDS_VARIABLE
from tests.conformance.harness import HANDLERS, Conformance
from tests.functional.branches.conftest import EmbeddedAwsProcess

SEND_TO_QUEUE = "arn:aws:states:::sqs:sendMessage"
SUCCEEDS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"won": True}, "End": True}}}
FAILS = {
    "StartAt": "Lose",
    "States": {"Lose": {"Type": "Fail", "Error": "Game.Lost", "Cause": "out of lives"}},
}


def sync_client(url: str) -> Any:
    # boto3 sends StartSyncExecution to "sync-<endpoint host>": a local client turns that off.
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, inject_host_prefix=False),
    )


@pytest.fixture(scope="module")
def sync_sfn(aws):
    return sync_client(aws.aws.url)


def test_an_express_execution_has_the_express_arn_and_runs(aws):
    queue = aws.sqs.create_queue(QueueName=aws.unique("express"))["QueueUrl"]
    machine = aws.machine(
        {
            "StartAt": "Tell",
            "States": {
                "Tell": {
                    "Type": "Task",
                    "Resource": SEND_TO_QUEUE,
                    "Parameters": {"QueueUrl": queue, "MessageBody.$": "$.note"},
                    "End": True,
                }
            },
        },
        type="EXPRESS",
    )
    arn = aws.start(machine, {"note": "ran"}, name="first-run")
    machine_name = machine.rsplit(":", 1)[1]
    prefix = f"arn:aws:states:us-east-1:123456789012:express:{machine_name}:first-run:"
    assert arn.startswith(prefix) and len(arn) > len(prefix)
    received = aws.sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=20)["Messages"]
    assert [m["Body"] for m in received] == ["ran"]


def test_express_names_are_not_deduplicated_every_start_starts(aws):
    machine = aws.machine(SUCCEEDS, type="EXPRESS")
    first = aws.start(machine, {}, name="same-name")
    second = aws.start(machine, {}, name="same-name")
    assert first != second


@pytest.mark.parametrize(
    "action",
    ["describe_execution", "get_execution_history", "stop_execution", "describe_state_machine_for_execution"],
)
def test_no_history_is_kept_an_express_arn_is_refused(aws, action):
    # AWS: "not supported by EXPRESS state machines"; which error code it answers the API reference
    # does not say: InvalidArn is our choice.
    arn = aws.start(aws.machine(SUCCEEDS, type="EXPRESS"), {})
    with pytest.raises(ClientError) as refused:
        getattr(aws.sfn, action)(executionArn=arn)
    assert refused.value.response["Error"]["Code"] == "InvalidArn"
    assert "Resource type not valid in this context: express" in refused.value.response["Error"]["Message"]


def test_list_executions_of_an_express_machine_is_not_supported(aws):
    machine = aws.machine(SUCCEEDS, type="EXPRESS")
    with pytest.raises(ClientError) as refused:
        aws.sfn.list_executions(stateMachineArn=machine)
    assert refused.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"


def test_start_sync_execution_answers_when_the_execution_ends(aws, sync_sfn):
    machine = aws.machine(SUCCEEDS, type="EXPRESS")
    answer = sync_sfn.start_sync_execution(
        stateMachineArn=machine, name="sync-run", input=json.dumps({"p": 1})
    )
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"won": True}
    assert json.loads(answer["input"]) == {"p": 1}
    assert answer["executionArn"].startswith(
        f"arn:aws:states:us-east-1:123456789012:express:{machine.rsplit(':', 1)[1]}:sync-run:"
    )
    assert (answer["stateMachineArn"], answer["name"]) == (machine, "sync-run")
    assert answer["inputDetails"] == {"included": True} and answer["outputDetails"] == {"included": True}
    assert answer["stopDate"] >= answer["startDate"]
    billing = answer["billingDetails"]
    assert (
        billing["billedDurationInMilliseconds"] % 100 == 0 and billing["billedDurationInMilliseconds"] >= 100
    )
    assert billing["billedMemoryUsedInMB"] >= 64


def test_start_sync_execution_of_a_failing_machine_answers_failed_with_error_and_cause(aws, sync_sfn):
    answer = sync_sfn.start_sync_execution(stateMachineArn=aws.machine(FAILS, type="EXPRESS"))
    assert (answer["status"], answer["error"], answer["cause"]) == ("FAILED", "Game.Lost", "out of lives")
    assert "output" not in answer


def test_start_sync_execution_metadata_only_leaves_out_input_and_output(aws, sync_sfn):
    answer = sync_sfn.start_sync_execution(
        stateMachineArn=aws.machine(SUCCEEDS, type="EXPRESS"), input="{}", includedData="METADATA_ONLY"
    )
    assert answer["status"] == "SUCCEEDED"
    assert "input" not in answer and "output" not in answer
    assert answer["inputDetails"] == {"included": False}


def test_start_sync_execution_of_a_standard_machine_is_not_supported(aws, sync_sfn):
    with pytest.raises(ClientError) as refused:
        sync_sfn.start_sync_execution(stateMachineArn=aws.machine(SUCCEEDS))
    assert refused.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"


def test_the_machines_own_timeout_ends_a_sync_execution_timed_out(aws, sync_sfn):
    machine = aws.machine(
        {
            "TimeoutSeconds": 1,
            "StartAt": "Stall",
            "States": {"Stall": {"Type": "Wait", "Seconds": 60, "End": True}},
        },
        type="EXPRESS",
    )
    answer = sync_sfn.start_sync_execution(stateMachineArn=machine)
    assert answer["status"] == "TIMED_OUT"


def test_a_plain_boto3_client_reaches_start_sync_execution_once_host_prefixes_are_off(aws, monkeypatch):
    machine = aws.machine(SUCCEEDS, type="EXPRESS")
    plain = dict(
        endpoint_url=aws.aws.url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    # As boto3 comes: "sync-127.0.0.1" resolves nowhere.
    monkeypatch.delenv("AWS_DISABLE_HOST_PREFIX_INJECTION", raising=False)
    with pytest.raises(EndpointConnectionError, match="sync-127.0.0.1"):
        boto3.client(
            "stepfunctions", config=Config(retries={"max_attempts": 1}), **plain
        ).start_sync_execution(stateMachineArn=machine)
    # What a user sets (README): the environment variable botocore reads.
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    answer = boto3.client("stepfunctions", **plain).start_sync_execution(stateMachineArn=machine)
    assert answer["status"] == "SUCCEEDED"


@pytest.fixture(scope="module")
def short_express_limit(tmp_path_factory) -> Iterator[Conformance]:
    """An embedded AWS whose express limit is 2 s instead of 5 minutes (the test-only variable)."""
    process = EmbeddedAwsProcess(
        tmp_path_factory.mktemp("express-limit"),
        lambda_code=(HANDLERS,),
        env={EXPRESS_MAX_SECONDS_VARIABLE: "2"},
    )
    try:
        yield Conformance(process)
    finally:
        process.stop()


def test_an_express_execution_still_running_at_the_limit_ends_timed_out(short_express_limit):
    aws = short_express_limit
    machine = aws.machine(
        {"StartAt": "Stall", "States": {"Stall": {"Type": "Wait", "Seconds": 120, "End": True}}},
        type="EXPRESS",
    )
    started = time.monotonic()
    answer = sync_client(aws.aws.url).start_sync_execution(stateMachineArn=machine)
    assert answer["status"] == "TIMED_OUT"
    assert time.monotonic() - started < 60, "the express limit, not the 120 s Wait, ended it"


@pytest.mark.parametrize("resource", ["states:startExecution.sync", "states:startExecution.sync:2"])
def test_a_standard_parent_runs_an_express_child_synchronously(aws, resource):
    # AWS: developer guide, "Start a new AWS Step Functions state machine from a running execution"
    # (a parent waits for an Express child with .sync although the child keeps no history).
    child = aws.machine(SUCCEEDS, type="EXPRESS")
    parent = aws.run(
        {
            "StartAt": "RunChild",
            "States": {
                "RunChild": {
                    "Type": "Task",
                    "Resource": f"arn:aws:states:::{resource}",
                    "Parameters": {"StateMachineArn": child, "Input": {"from": "parent"}},
                    "End": True,
                }
            },
        }
    )
    assert parent.status == "SUCCEEDED", parent.events[-1]
    output = parent.output["Output"]
    assert (json.loads(output) if isinstance(output, str) else output) == {"won": True}
    assert ":express:" in parent.output["ExecutionArn"]
    assert parent.output["Status"] == "SUCCEEDED"
