"""Where a redrive resumes and whether AWS allows it, from a definition and a history alone."""

from __future__ import annotations

import datetime
import json

from arcadeflow.aws import redrive_plan
from arcadeflow.aws.redrive_plan import plan_redrive

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


def test_an_execution_that_stopped_more_than_14_days_ago_is_not_redrivable() -> None:
    just_in = NOW - datetime.timedelta(days=14)
    too_late = NOW - datetime.timedelta(days=14, seconds=1)
    assert redrive_plan.not_redrivable_reason("FAILED", "STANDARD", just_in, 10, NOW) is None
    assert (
        redrive_plan.not_redrivable_reason("FAILED", "STANDARD", too_late, 10, NOW)
        == "Execution redrivable period exceeded"
    )


def test_a_history_of_24999_events_or_more_is_not_redrivable() -> None:
    assert redrive_plan.not_redrivable_reason("TIMED_OUT", "STANDARD", NOW, 24_998, NOW) is None
    assert (
        redrive_plan.not_redrivable_reason("TIMED_OUT", "STANDARD", NOW, 24_999, NOW)
        == "Execution history event limit exceeded"
    )


def test_only_a_standard_execution_that_did_not_succeed_is_redrivable() -> None:
    for status in ("FAILED", "TIMED_OUT", "ABORTED"):
        assert redrive_plan.not_redrivable_reason(status, "STANDARD", NOW, 5, NOW) is None
    assert "RUNNING" in redrive_plan.not_redrivable_reason("RUNNING", "STANDARD", None, 5, NOW)
    assert "SUCCEEDED" in redrive_plan.not_redrivable_reason("SUCCEEDED", "STANDARD", NOW, 5, NOW)
    assert "EXPRESS" in redrive_plan.not_redrivable_reason("FAILED", "EXPRESS", NOW, 5, NOW)


DEFINITION = {
    "StartAt": "First",
    "States": {
        "First": {"Type": "Pass", "Next": "Second"},
        "Second": {"Type": "Task", "Resource": "x", "End": True},
    },
}


def _event(event_id: int, kind: str, **details: object) -> dict:
    return {"id": event_id, "previousEventId": event_id - 1, "type": kind, "timestamp": NOW, **details}


def test_it_resumes_at_the_state_left_unfinished_with_the_input_it_had() -> None:
    events = [
        _event(1, "ExecutionStarted"),
        _event(2, "PassStateEntered", stateEnteredEventDetails={"name": "First", "input": '{"a":1}'}),
        _event(3, "PassStateExited", stateExitedEventDetails={"name": "First", "output": '{"a":2}'}),
        _event(4, "TaskStateEntered", stateEnteredEventDetails={"name": "Second", "input": '{"a":2}'}),
        _event(5, "TaskFailed"),
        _event(6, "ExecutionFailed"),
    ]
    plan = plan_redrive(DEFINITION, events)
    assert (plan.state, plan.state_input, plan.redrive_count) == ("Second", {"a": 2}, 1)


def test_an_execution_aborted_before_its_first_state_starts_from_the_beginning() -> None:
    events = [_event(1, "ExecutionStarted"), _event(2, "ExecutionAborted")]
    plan = plan_redrive(DEFINITION, events)
    assert plan.state is None and plan.redrive_count == 1


def test_a_second_redrive_keeps_the_iterations_the_first_attempt_succeeded() -> None:
    definition = {"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemProcessor": {}, "End": True}}}
    map_entered = {"name": "Each", "input": "[1,2,3]"}

    def iteration(first_id: int, index: int, outcome: str) -> list[dict]:
        started = _event(
            first_id, "MapIterationStarted", mapIterationStartedEventDetails={"name": "Each", "index": index}
        )
        exited = _event(
            first_id + 1,
            "PassStateExited",
            stateExitedEventDetails={"name": "Item", "output": json.dumps(index * 10)},
        )
        ended = _event(
            first_id + 2,
            f"MapIteration{outcome}",
            **{f"mapIteration{outcome}EventDetails": {"name": "Each", "index": index}},
        )
        return [started, exited, ended]

    events = [
        _event(1, "ExecutionStarted"),
        _event(2, "MapStateEntered", stateEnteredEventDetails=map_entered),
        *iteration(3, 0, "Succeeded"),
        *iteration(6, 1, "Failed"),
        _event(9, "ExecutionFailed"),
        _event(10, "ExecutionRedriven", executionRedrivenEventDetails={"redriveCount": 1}),
        _event(11, "MapStateEntered", stateEnteredEventDetails=map_entered),
        *iteration(12, 1, "Succeeded"),
        *iteration(15, 2, "Failed"),
        _event(18, "ExecutionFailed"),
    ]
    plan = plan_redrive(definition, events)
    assert plan.state == "Each" and plan.redrive_count == 2
    assert plan.map_outputs == {"Each": {0: 0, 1: 10}}
