"""RedriveExecution against the embedded AWS, with the real boto3 call: an execution failed on
purpose (the fault switch) continues under the same ARN from where it failed, runs nothing that
succeeded again, and answers AWS's errors where AWS refuses."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import pytest

from arcadeflow.faults import clear_faults, set_fault
from tests.functional.branches.conftest import ROLE_ARN, Flow, poll

FAULT = "Arcadeflow.InjectedFault"


@pytest.fixture(autouse=True)
def no_faults_left(bench):
    yield
    clear_faults(bench.aws.url)


def _task(function_arn: str, nxt: str | None = None, **extra: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
        "ResultSelector": {"result.$": "$.Payload"},
        **extra,
    }
    state.update({"Next": nxt} if nxt else {"End": True})
    return state


def _machine(bench, states: dict[str, Any], start_at: str, machine_type: str = "STANDARD") -> Flow:
    arn = bench.sfn.create_state_machine(
        name=f"redrive-{uuid.uuid4().hex[:8]}",
        definition=json.dumps({"StartAt": start_at, "States": states}),
        roleArn=ROLE_ARN,
        type=machine_type,
    )["stateMachineArn"]
    return Flow(bench, arn)


def _redrive(bench, execution_arn: str, flow: Flow, **kwargs: Any):
    answer = bench.sfn.redrive_execution(executionArn=execution_arn, **kwargs)
    assert "redriveDate" in answer
    return flow.finished(execution_arn)


def _after_redrive(execution, count: int = 1) -> list[dict[str, Any]]:
    """The events the count-th redrive recorded, its ExecutionRedriven first."""
    redriven = [i for i, e in enumerate(execution.events) if e["type"] == "ExecutionRedriven"]
    return execution.events[redriven[count - 1] :]


def _handled(bench, case: str, role: str) -> int:
    """How many times the role's handler really ran for the case (a faulted call never reaches it)."""
    return len(bench.calls(case, role))


@pytest.fixture(scope="module")
def three_steps(bench):
    first, second, third = (bench.function_arn(f"redrive_{n}") for n in ("first", "second", "third"))
    transient = [{"ErrorEquals": ["Game.Transient"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    flow = _machine(
        bench,
        {
            "RecordFirst": _task(first, "RecordSecond", ResultPath="$.first"),
            "RecordSecond": _task(second, "RecordThird", ResultPath="$.second", Retry=transient),
            "RecordThird": _task(third, ResultPath="$.third"),
        },
        "RecordFirst",
    )
    return flow, second


def test_a_task_failed_once_is_redriven_under_the_same_arn_and_nothing_before_it_runs_again(
    bench, three_steps
) -> None:
    flow, second = three_steps
    case = str(uuid.uuid4())
    set_fault(bench.aws.url, second, fail_on=[1], error=FAULT, message="failed on purpose")
    failed = flow.run("once", {"userId": case})
    assert failed.status == "FAILED" and failed.error == FAULT, failed.describe()
    described = bench.sfn.describe_execution(executionArn=flow_arn(flow, "once"))
    assert described["redriveCount"] == 0
    assert described["redriveStatus"] == "REDRIVABLE"

    execution_arn = described["executionArn"]
    redriven = _redrive(bench, execution_arn, flow)

    assert redriven.status == "SUCCEEDED", redriven.describe()
    assert set(redriven.output) == {"userId", "first", "second", "third"}
    # Each step's handler ran exactly once over both attempts: RecordFirst was not run again.
    assert [_handled(bench, case, r) for r in ("redrive_first", "redrive_second", "redrive_third")] == [
        1,
        1,
        1,
    ]
    again = bench.sfn.describe_execution(executionArn=execution_arn)
    assert again["executionArn"] == execution_arn
    assert again["redriveCount"] == 1 and again["redriveDate"] is not None
    assert again["redriveStatus"] == "NOT_REDRIVABLE"
    assert again["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
    tail = _after_redrive(redriven)
    assert tail[0]["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert tail[0]["id"] == redriven.events[tail[0]["id"] - 2]["id"] + 1  # ids go on, one history
    entered = [e["stateEnteredEventDetails"]["name"] for e in tail if "stateEnteredEventDetails" in e]
    assert entered == ["RecordSecond", "RecordThird"]
    assert tail[-1]["type"] == "ExecutionSucceeded"


def flow_arn(flow: Flow, name: str) -> str:
    """The ARN of the flow's execution of that name."""
    return flow.arn.replace(":stateMachine:", ":execution:") + f":{name}"


def test_a_redriven_task_gets_its_retries_afresh(bench, three_steps) -> None:
    flow, second = three_steps
    case = str(uuid.uuid4())
    # Two transient failures exhaust RecordSecond's one retry; a redrive that kept the count would
    # fail at once on the third, one that starts afresh retries it and succeeds on the fourth.
    set_fault(bench.aws.url, second, fail_on=[1, 2, 3], error="Game.Transient")
    failed = flow.run("retries", {"userId": case})
    assert failed.status == "FAILED" and failed.error == "Game.Transient", failed.describe()

    redriven = _redrive(bench, flow_arn(flow, "retries"), flow)

    assert redriven.status == "SUCCEEDED", redriven.describe()
    assert _handled(bench, case, "redrive_second") == 1
    assert _handled(bench, case, "redrive_first") == 1


def test_a_map_redriven_runs_only_its_failed_and_unfinished_iterations_and_keeps_the_others_results(
    bench,
) -> None:
    item_fn = bench.function_arn("redrive_item")
    flow = _machine(
        bench,
        {
            "WriteItems": {
                "Type": "Map",
                "ItemsPath": "$.items",
                # One at a time, so which iterations succeed is certain: a first failure fails the
                # Map at once, and iterations in flight then are left unfinished.
                "MaxConcurrency": 1,
                "ItemSelector": {"userId.$": "$.userId", "item.$": "$$.Map.Item.Value"},
                "ItemProcessor": {
                    "StartAt": "WriteItem",
                    "States": {"WriteItem": _task(item_fn, OutputPath="$.result")},
                },
                "End": True,
            }
        },
        "WriteItems",
    )
    case = str(uuid.uuid4())
    bench.script(case, "redrive_item", {"return": {"written": "$.item"}})
    # Item 8 fails; item 9 never starts.
    set_fault(bench.aws.url, item_fn, fail_on=[9])
    failed = flow.run("map", {"userId": case, "items": list(range(10))})
    assert failed.status == "FAILED", failed.describe()
    succeeded_before = sum(1 for e in failed.events if e["type"] == "MapIterationSucceeded")
    assert succeeded_before == 8, failed.describe()

    redriven = _redrive(bench, flow_arn(flow, "map"), flow)

    assert redriven.status == "SUCCEEDED", redriven.describe()
    assert redriven.output == [{"written": i} for i in range(10)]
    rerun = [
        e["mapIterationStartedEventDetails"]["index"]
        for e in _after_redrive(redriven)
        if e["type"] == "MapIterationStarted"
    ]
    # The failed iteration and the one never started run again; the eight that succeeded do not.
    assert sorted(rerun) == [8, 9]
    # Each item handled once over both attempts: nothing lost, nothing twice.
    assert Counter(c["item"] for c in bench.calls(case, "redrive_item")) == Counter(range(10))


def test_a_parallel_redriven_runs_only_its_failed_branch(bench) -> None:
    left, right = bench.function_arn("redrive_left"), bench.function_arn("redrive_right")
    # The right branch waits for the test's answer, so that it fails only once the left one has
    # succeeded (a first failure stops the branches still running: they are unfinished).
    answered_by_the_test = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {
            "FunctionName": right,
            "Payload": {"userId.$": "$.userId", "taskToken.$": "$$.Task.Token"},
        },
        "End": True,
    }
    flow = _machine(
        bench,
        {
            "NotifyBoth": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "NotifyLeft", "States": {"NotifyLeft": _task(left)}},
                    {"StartAt": "AskRight", "States": {"AskRight": answered_by_the_test}},
                ],
                "End": True,
            }
        },
        "NotifyBoth",
    )
    case = str(uuid.uuid4())
    bench.script(case, "redrive_left", {"return": {"side": "left"}})
    arn = flow.start("parallel", {"userId": case})
    token = bench.wait_for_call(case, "redrive_right")["taskToken"]
    poll(lambda: _handled(bench, case, "redrive_left") == 1, "the left branch to have run")
    poll(
        lambda: any(
            e["type"] == "TaskSucceeded" for e in flow.sfn.get_execution_history(executionArn=arn)["events"]
        ),
        "the left branch to have succeeded",
    )
    bench.sfn.send_task_failure(taskToken=token, error="Game.Refused")
    failed = flow.finished(arn)
    assert failed.status == "FAILED" and failed.error == "Game.Refused", failed.describe()

    bench.sfn.redrive_execution(executionArn=arn)
    second = poll(
        lambda: len(bench.calls(case, "redrive_right")) == 2 and bench.calls(case, "redrive_right")[1],
        "the right branch to run again",
    )
    bench.sfn.send_task_success(taskToken=second["taskToken"], output=json.dumps({"side": "right"}))
    redriven = flow.finished(arn)

    assert redriven.status == "SUCCEEDED", redriven.describe()
    assert redriven.output == [{"result": {"side": "left"}}, {"side": "right"}]
    assert _handled(bench, case, "redrive_left") == 1
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in _after_redrive(redriven)
        if "stateEnteredEventDetails" in e
    ]
    assert entered == ["NotifyBoth", "AskRight"]


@pytest.fixture(scope="module")
def always_fails(bench):
    return _machine(
        bench,
        {
            "IsAllowed": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.allowed", "BooleanEquals": True, "Next": "Allowed"}],
                "Default": "Refused",
            },
            "Allowed": {"Type": "Succeed"},
            "Refused": {"Type": "Fail", "Error": "Game.Refused", "Cause": "not allowed"},
        },
        "IsAllowed",
    )


def test_a_fail_state_redriven_fails_again_and_can_be_redriven_again(bench, always_fails) -> None:
    failed = always_fails.run("refused", {"allowed": False})
    assert failed.error == "Game.Refused", failed.describe()
    arn = flow_arn(always_fails, "refused")

    once = _redrive(bench, arn, always_fails)
    assert once.status == "FAILED" and once.error == "Game.Refused"
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in _after_redrive(once) if "stateEnteredEventDetails" in e
    ]
    assert entered == ["Refused"]
    twice = _redrive(bench, arn, always_fails)
    assert [
        e["executionRedrivenEventDetails"]["redriveCount"]
        for e in twice.events
        if e["type"] == "ExecutionRedriven"
    ] == [1, 2]
    described = bench.sfn.describe_execution(executionArn=arn)
    assert described["redriveCount"] == 2 and described["redriveStatus"] == "REDRIVABLE"


def test_the_same_client_token_redrives_once(bench, always_fails) -> None:
    always_fails.run("token", {"allowed": False})
    arn = flow_arn(always_fails, "token")
    first = bench.sfn.redrive_execution(executionArn=arn, clientToken="same-token")
    always_fails.finished(arn)
    second = bench.sfn.redrive_execution(executionArn=arn, clientToken="same-token")
    assert second["redriveDate"] == first["redriveDate"]
    assert bench.sfn.describe_execution(executionArn=arn)["redriveCount"] == 1


def _refusal(bench, arn: str) -> tuple[str, str]:
    with pytest.raises(bench.sfn.exceptions.ClientError) as refused:
        bench.sfn.redrive_execution(executionArn=arn)
    error = refused.value.response["Error"]
    return error["Code"], error["Message"]


def test_what_aws_refuses_to_redrive_is_refused_with_its_error(bench, always_fails) -> None:
    succeeded = always_fails.run("allowed", {"allowed": True})
    assert succeeded.status == "SUCCEEDED"
    code, message = _refusal(bench, flow_arn(always_fails, "allowed"))
    assert code == "ExecutionNotRedrivable" and "Execution is SUCCEEDED and cannot be redriven" in message

    waits = _machine(
        bench, {"WaitALittle": {"Type": "Wait", "SecondsPath": "$.seconds", "End": True}}, "WaitALittle"
    )
    running = waits.start("running", {"seconds": 60})
    code, message = _refusal(bench, running)
    assert code == "ExecutionNotRedrivable" and "Execution is RUNNING and cannot be redriven" in message
    # Stopped (ABORTED) it is redrivable: the Wait it was in runs again, with its input.
    bench.sfn.stop_execution(executionArn=running)
    # StopExecution is synchronous: ABORTED when it answers.
    assert bench.sfn.describe_execution(executionArn=running)["status"] == "ABORTED"
    assert bench.sfn.describe_execution(executionArn=running)["redriveStatus"] == "REDRIVABLE"
    bench.sfn.redrive_execution(executionArn=running)
    assert bench.sfn.describe_execution(executionArn=running)["status"] == "RUNNING"
    bench.sfn.stop_execution(executionArn=running)
    aborted_again = waits.finished(running)
    entered = [
        e["stateEnteredEventDetails"]
        for e in _after_redrive(aborted_again)
        if "stateEnteredEventDetails" in e
    ]
    assert (
        entered and entered[0]["name"] == "WaitALittle" and json.loads(entered[0]["input"]) == {"seconds": 60}
    )

    express = _machine(
        bench, {"Refused": {"Type": "Fail", "Error": "Game.Refused", "Cause": "always"}}, "Refused", "EXPRESS"
    )
    # An express execution keeps no history to describe: its ARN (the express form) is all there is.
    express_arn = express.start("express", {})
    code, message = _refusal(bench, express_arn)
    assert code == "ExecutionNotRedrivable" and "EXPRESS" in message

    unknown = flow_arn(always_fails, "never-started")
    code, _message = _refusal(bench, unknown)
    assert code == "ExecutionDoesNotExist"
    code, _message = _refusal(bench, "arn:aws:states:us-east-1:123456789012:stateMachine:not-an-execution")
    assert code == "InvalidArn"


def test_list_executions_filters_on_redrive_and_reports_the_count(bench) -> None:
    flow = _machine(
        bench, {"Refused": {"Type": "Fail", "Error": "Game.Refused", "Cause": "always"}}, "Refused"
    )
    for name in ("kept", "redriven"):
        assert flow.run(name, {}).status == "FAILED"
    arns = [flow_arn(flow, name) for name in ("kept", "redriven")]
    _redrive(bench, arns[1], flow)

    def listed(**kwargs: Any) -> dict[str, dict[str, Any]]:
        page = bench.sfn.list_executions(stateMachineArn=flow.arn, **kwargs)["executions"]
        return {e["executionArn"]: e for e in page}

    redriven = listed(redriveFilter="REDRIVEN")
    assert list(redriven) == [arns[1]] and redriven[arns[1]]["redriveCount"] == 1
    assert "redriveDate" in redriven[arns[1]]
    assert list(listed(redriveFilter="NOT_REDRIVEN")) == [arns[0]]
    everything = listed()
    assert {a: e["redriveCount"] for a, e in everything.items()} == {arns[0]: 0, arns[1]: 1}


def test_a_parallel_branch_run_again_keeps_the_iterations_its_map_had_done(bench) -> None:
    """The status fan-out's shape: a page is a Parallel whose first branch maps the batches."""
    batch_fn = bench.function_arn("redrive_batch")
    flow = _machine(
        bench,
        {
            "WritePage": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "WriteBatches",
                        "States": {
                            "WriteBatches": {
                                "Type": "Map",
                                "ItemsPath": "$.batches",
                                "MaxConcurrency": 1,
                                "ItemSelector": {"userId.$": "$.userId", "item.$": "$$.Map.Item.Value"},
                                "ItemProcessor": {
                                    "StartAt": "WriteBatch",
                                    "States": {"WriteBatch": _task(batch_fn, OutputPath="$.result")},
                                },
                                "End": True,
                            }
                        },
                    },
                    {"StartAt": "ReadNextPage", "States": {"ReadNextPage": {"Type": "Pass", "End": True}}},
                ],
                "End": True,
            }
        },
        "WritePage",
    )
    case = str(uuid.uuid4())
    bench.script(case, "redrive_batch", {"return": {"written": "$.item"}})
    set_fault(bench.aws.url, batch_fn, fail_on=[4])  # batch 3 fails, batch 4 never starts
    failed = flow.run("page", {"userId": case, "batches": list(range(5))})
    assert failed.status == "FAILED", failed.describe()

    redriven = _redrive(bench, flow_arn(flow, "page"), flow)

    assert redriven.status == "SUCCEEDED", redriven.describe()
    assert redriven.output[0] == [{"written": i} for i in range(5)]
    rerun = [
        e["mapIterationStartedEventDetails"]["index"]
        for e in _after_redrive(redriven)
        if e["type"] == "MapIterationStarted"
    ]
    assert sorted(rerun) == [3, 4]
    assert Counter(c["item"] for c in bench.calls(case, "redrive_batch")) == Counter(range(5))
