"""State colours from histories shaped as AWS writes them (ids, previousEventId chains): the
cases no small machine of the embedded AWS makes on demand, such as a timeout of the whole
execution or a redrive after an execution stopped in a Map."""

from __future__ import annotations

import datetime
from typing import Any

from arcadeflow.console.history import read_states

T0 = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


class History:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, previous: int | None = None, ms: int | None = None, **details: Any) -> int:
        event_id = len(self.events) + 1
        event: dict[str, Any] = {
            "id": event_id,
            "type": kind,
            "previousEventId": self.events[-1]["id"] if previous is None and self.events else previous or 0,
            "timestamp": T0 + datetime.timedelta(milliseconds=ms if ms is not None else event_id * 10),
        }
        if details:
            key = "stateEnteredEventDetails" if kind.endswith("StateEntered") else None
            key = key or ("stateExitedEventDetails" if kind.endswith("StateExited") else None)
            event[key or kind[0].lower() + kind[1:] + "EventDetails"] = details
        self.events.append(event)
        return event_id

    def statuses(self, status: str) -> dict[str, str]:
        return {n: s["status"] for n, s in read_states(self.events, status).summary().items()}

    def summary(self, status: str) -> dict[str, dict[str, Any]]:
        return read_states(self.events, status).summary()


def test_a_retried_task_then_caught_counts_its_attempts_and_shows_the_last_error():
    h = History()
    h.add("ExecutionStarted", input="{}")
    h.add("TaskStateEntered", name="Charge", input="{}")
    for attempt in range(2):
        h.add("TaskScheduled", resource="invoke")
        h.add("TaskStarted")
        h.add("TaskFailed", error="Payments.Down", cause=f"attempt {attempt + 1}")
    h.add("TaskStateExited", name="Charge", output='{"failed": true}')
    h.add("PassStateEntered", name="Refund", input="{}")
    h.add("PassStateExited", name="Refund", output="{}")
    h.add("ExecutionSucceeded", output="{}")

    charge = h.summary("SUCCEEDED")["Charge"]

    assert (charge["status"], charge["attempts"], charge["retries"]) == ("caught", 2, 1)
    assert (charge["error"], charge["cause"]) == ("Payments.Down", "attempt 2")
    assert h.statuses("SUCCEEDED")["Refund"] == "succeeded"


def test_an_execution_that_timed_out_fails_the_state_it_was_in():
    h = History()
    h.add("ExecutionStarted", input="{}")
    h.add("TaskStateEntered", name="WaitForAnswer", input="{}")
    h.add("TaskScheduled", resource="invoke.waitForTaskToken")
    h.add("ExecutionTimedOut", error="States.Timeout", cause="the execution ran too long")

    row = h.summary("TIMED_OUT")["WaitForAnswer"]

    assert (row["status"], row["error"]) == ("failed", "States.Timeout")


def test_a_stopped_execution_aborts_its_running_map_iterations_and_a_redrive_runs_them_again():
    h = History()
    h.add("ExecutionStarted", input="{}")
    entered = h.add("MapStateEntered", name="Deliver", input="[1, 2]")
    started = h.add("MapStateStarted", length=2)
    first = h.add("MapIterationStarted", previous=started, name="Deliver", index=0)
    second = h.add("MapIterationStarted", previous=started, name="Deliver", index=1)
    one = h.add("TaskStateEntered", previous=first, name="Send", input="1")
    two = h.add("TaskStateEntered", previous=second, name="Send", input="2")
    h.add("TaskStateExited", previous=one, name="Send", output="1")
    h.add("MapIterationSucceeded", name="Deliver", index=0)
    assert h.statuses("RUNNING") == {"Deliver": "running", "Send": "running"}

    h.add("ExecutionAborted", previous=two)
    assert h.statuses("ABORTED") == {"Deliver": "aborted", "Send": "aborted"}

    h.add("ExecutionRedriven", redriveCount=1)
    again = h.add("MapStateEntered", name="Deliver", input="[1, 2]")
    h.add("MapIterationStarted", previous=again, name="Deliver", index=1)
    rerun = h.add("TaskStateEntered", name="Send", input="2")
    assert h.statuses("RUNNING") == {"Deliver": "running", "Send": "running"}
    h.add("TaskStateExited", name="Send", output="2")
    h.add("MapIterationSucceeded", name="Deliver", index=1)
    h.add("MapStateSucceeded", previous=again)
    h.add("MapStateExited", name="Deliver", output="[1, 2]")
    h.add("ExecutionSucceeded", output="[1, 2]")

    summary = h.summary("SUCCEEDED")
    assert {n: s["status"] for n, s in summary.items()} == {"Deliver": "succeeded", "Send": "succeeded"}
    assert (summary["Send"]["entries"], summary["Send"]["retiredByRedrive"]) == (3, 1)
    # The Map is timed from its run after the redrive (events 10 ms apart, the first at 10 ms);
    # Send from its first run that still counts (iteration 0's, before the stop).
    assert summary["Deliver"]["startOffsetMs"] == (again - 1) * 10
    assert summary["Send"]["startOffsetMs"] == (one - 1) * 10 and rerun > one
    assert summary["Deliver"]["iterations"]["succeeded"] == 2
    assert read_states(h.events, "SUCCEEDED").redrive_count == 1
    assert entered < again


def test_offsets_and_durations_are_measured_from_the_execution_start():
    h = History()
    h.add("ExecutionStarted", ms=0, input="{}")
    h.add("WaitStateEntered", ms=250, name="Pause", input="{}")
    h.add("WaitStateExited", ms=1750, name="Pause", output="{}")
    h.add("ExecutionSucceeded", ms=1760, output="{}")

    pause = h.summary("SUCCEEDED")["Pause"]

    assert (pause["startOffsetMs"], pause["durationMs"], pause["entries"]) == (250, 1500, 1)
