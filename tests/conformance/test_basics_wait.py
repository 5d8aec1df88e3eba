"""Wait: Seconds, SecondsPath, Timestamp, TimestampPath, and a timestamp already past.

AWS: Step Functions developer guide, "Wait workflow state". The waits are 1 s at most; how long
a wait took is read from the history's timestamps (WaitStateEntered to WaitStateExited)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any


def one_wait(**fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Next": "Done", **fields}, "Done": {"Type": "Succeed"}},
    }


def waited(run: Any) -> float:
    """Seconds from entering to leaving the Wait state, by the history."""
    entered = next(e["timestamp"] for e in run.events if e["type"] == "WaitStateEntered")
    exited = next(e["timestamp"] for e in run.events if e["type"] == "WaitStateExited")
    return (exited - entered).total_seconds()


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def next_whole_second_but_one() -> datetime:
    """A whole-second time 1 to 2 s from now: the guide's timestamps have no fraction."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)


def test_wait_seconds_waits_that_long_and_passes_the_input_on(aws):
    run = aws.run(one_wait(Seconds=1), {"a": 1})
    assert (run.status, run.output) == ("SUCCEEDED", {"a": 1})
    assert 0.9 <= waited(run) < 5


def test_wait_seconds_path_reads_the_duration_from_the_input(aws):
    run = aws.run(one_wait(SecondsPath="$.delay"), {"delay": 1})
    assert run.status == "SUCCEEDED"
    assert 0.9 <= waited(run) < 5


def test_wait_timestamp_waits_until_that_time(aws):
    until = next_whole_second_but_one()
    run = aws.run(one_wait(Timestamp=iso(until)))
    assert run.status == "SUCCEEDED"
    exited = next(e["timestamp"] for e in run.events if e["type"] == "WaitStateExited")
    # The history's timestamps have milliseconds: leaving in the second before `until` is early.
    assert exited >= until, f"left the Wait at {exited}, before {until}"


def test_wait_timestamp_path_reads_the_time_from_the_input(aws):
    until = next_whole_second_but_one()
    run = aws.run(one_wait(TimestampPath="$.until"), {"until": iso(until)})
    assert run.status == "SUCCEEDED"
    exited = next(e["timestamp"] for e in run.events if e["type"] == "WaitStateExited")
    assert exited >= until, f"left the Wait at {exited}, before {until}"


def test_wait_timestamp_with_a_utc_offset_is_understood(aws):
    """Developer guide, "Wait workflow state": an ISO 8601 timestamp; AWS takes one with an
    offset (localstack/localstack#10523 reports it working on AWS)."""
    until = next_whole_second_but_one()
    shifted = until.astimezone(timezone(timedelta(hours=2))).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    run = aws.run(one_wait(Timestamp=shifted))
    assert run.status == "SUCCEEDED", run.describe()
    exited = next(e["timestamp"] for e in run.events if e["type"] == "WaitStateExited")
    assert until <= exited < until + timedelta(seconds=1)


def test_wait_timestamp_that_is_not_one_fails_with_states_runtime(aws):
    run = aws.run(one_wait(TimestampPath="$.t"), {"t": "next tuesday"})
    assert (run.status, run.error) == ("FAILED", "States.Runtime")


def test_wait_timestamp_in_the_past_goes_on_at_once(aws):
    """Developer guide, "Wait workflow state": a time already past does not wait."""
    run = aws.run(one_wait(Timestamp="2020-01-01T00:00:00Z"))
    assert run.status == "SUCCEEDED"
    assert waited(run) < 1


def test_wait_seconds_path_that_is_not_a_number_fails_with_states_runtime(aws):
    """Developer guide, "Wait workflow state": SecondsPath must select a positive integer; the
    guide does not name the error of one that does not. Our choice, as AWS answers it in
    LocalStack's recorded snapshots: States.Runtime."""
    run = aws.run(one_wait(SecondsPath="$.delay"), {"delay": "soon"})
    assert (run.status, run.error) == ("FAILED", "States.Runtime")


def test_wait_history_has_entered_and_exited_events(aws):
    run = aws.run(one_wait(Seconds=0))
    assert [e["type"] for e in run.events] == [
        "ExecutionStarted",
        "WaitStateEntered",
        "WaitStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
