"""Where a redriven execution resumes, decided from its definition and its history alone.

AWS's RedriveExecution continues an execution that did not succeed from the states that failed
or never finished, with the input they had; a Map re-runs only its failed or unfinished
iterations and a Parallel only its failed branches, the others keep their results. Everything
needed for that is in the history: a StateEntered event carries a state's input, a StateExited
its output, a MapIterationSucceeded points (previousEventId) at the last event of its
iteration, whose output is the iteration's. So a redrive needs nothing of the interpreter's
memory: an execution restored from disk after a restart (its definition and its events) is
redrivable as a live one is.

State names are unique in a whole state machine (States Language), so an event names its state
without ambiguity; the top-level states are the definition's own `States`.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# AWS's limits for RedriveExecution (Step Functions developer guide, "Redriving executions").
REDRIVABLE_PERIOD = datetime.timedelta(days=14)
MAX_HISTORY_EVENTS = 24_999
REDRIVABLE_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")

# The reasons AWS gives (DescribeExecution's redriveStatusReason, ExecutionNotRedrivable's message).
REASON_RUNNING = "Execution is RUNNING and cannot be redriven"
REASON_SUCCEEDED = "Execution is SUCCEEDED and cannot be redriven"
REASON_PERIOD = "Execution redrivable period exceeded"
REASON_EVENTS = "Execution history event limit exceeded"
REASON_EXPRESS = "Execution of an EXPRESS state machine cannot be redriven"

ATTEMPT_STARTS = ("ExecutionStarted", "ExecutionRedriven")


@dataclass
class ResumePlan:
    """What a redrive runs: `state` with `state_input` (None: the StartAt state with the
    execution's input), and, when that state is a Map or a Parallel, what of it already
    succeeded and is not run again."""

    state: str | None
    state_input: Any
    redrive_count: int
    # Map state name (the resumed one, or one in a Parallel branch run again) -> iteration
    # index -> the iteration's output.
    map_outputs: dict[str, dict[int, Any]] = field(default_factory=dict)
    # A Parallel branch's StartAt state name -> the branch's output.
    branch_outputs: dict[str, Any] = field(default_factory=dict)


def redrive_count(events: Iterable[dict[str, Any]]) -> int:
    return sum(1 for e in events if e["type"] == "ExecutionRedriven")


def last_redrive_date(events: Sequence[dict[str, Any]]) -> datetime.datetime | None:
    for event in reversed(events):
        if event["type"] == "ExecutionRedriven":
            return as_datetime(event["timestamp"])
    return None


def as_datetime(value: Any) -> datetime.datetime:
    """An event timestamp as moto keeps it (ISO 8601 text), as a restored history may hold it
    (epoch seconds), or already a datetime."""
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    if isinstance(value, int | float):
        return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def not_redrivable_reason(
    status: str,
    machine_type: str,
    stop_date: datetime.datetime | None,
    event_count: int,
    now: datetime.datetime,
) -> str | None:
    """Why RedriveExecution refuses this execution (AWS's reason), or None: it is redrivable."""
    if machine_type == "EXPRESS":
        return REASON_EXPRESS
    if status == "RUNNING":
        return REASON_RUNNING
    if status == "SUCCEEDED":
        return REASON_SUCCEEDED
    if status not in REDRIVABLE_STATUSES:
        return f"Execution is {status} and cannot be redriven"
    if stop_date is not None and now - as_datetime(stop_date) > REDRIVABLE_PERIOD:
        return REASON_PERIOD
    if event_count >= MAX_HISTORY_EVENTS:
        return REASON_EVENTS
    return None


def plan_redrive(definition: dict[str, Any], events: Sequence[dict[str, Any]]) -> ResumePlan:
    top_level = definition["States"]
    open_state: tuple[str, Any, int] | None = None  # (name, input, position of its entry)
    for position, event in enumerate(events):
        entered = event.get("stateEnteredEventDetails")
        if entered and entered["name"] in top_level:
            open_state = (entered["name"], _json(entered.get("input")), position)
            continue
        exited = event.get("stateExitedEventDetails")
        if exited and open_state is not None and exited["name"] == open_state[0]:
            open_state = None
    count = redrive_count(events) + 1
    if open_state is None:
        # Nothing was left unfinished at the top (it failed before its first state, or between
        # states): from the start, with the execution's input.
        return ResumePlan(state=None, state_input=None, redrive_count=count)
    name, state_input, position = open_state
    plan = ResumePlan(state=name, state_input=state_input, redrive_count=count)
    state = top_level[name]
    windows = list(_attempt_windows(events, name, position))
    if state.get("Type") == "Map":
        plan.map_outputs[name] = _succeeded_iterations(events, name, windows)
    elif state.get("Type") == "Parallel":
        for branch in state.get("Branches", []):
            output = _branch_output(events, branch, windows)
            if output is not _MISSING:
                plan.branch_outputs[branch["StartAt"]] = output
                continue
            # A branch that runs again keeps what its Maps had done (the status fan-out's page
            # is a Parallel whose first branch is the Map of feed batches).
            for inner_name, inner in branch["States"].items():
                if inner.get("Type") == "Map":
                    kept = _succeeded_iterations(events, inner_name, windows)
                    if kept:
                        plan.map_outputs[inner_name] = kept
    return plan


_MISSING = object()


def _json(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else text


def _attempt_windows(events: Sequence[dict[str, Any]], name: str, position: int) -> Iterable[tuple[int, int]]:
    """The event ranges in which the state now resumed ran: from its last entry to the end of
    that attempt, and, while that entry was itself a redrive resuming this state (the first
    state its attempt entered), the earlier attempts' runs of it too, whose succeeded
    iterations or branches were kept rather than run again."""
    end = len(events)
    while True:
        yield position, end
        start = position
        while start > 0 and events[start]["type"] not in ATTEMPT_STARTS:
            start -= 1
        first_entered = next(
            (i for i in range(start, position + 1) if "stateEnteredEventDetails" in events[i]), None
        )
        if events[start]["type"] != "ExecutionRedriven" or first_entered != position:
            return
        end = start
        earlier = [
            i for i in range(start) if events[i].get("stateEnteredEventDetails", {}).get("name") == name
        ]
        if not earlier:
            return
        position = earlier[-1]


def _succeeded_iterations(
    events: Sequence[dict[str, Any]], name: str, windows: list[tuple[int, int]]
) -> dict[int, Any]:
    by_id = {e["id"]: e for e in events}
    outputs: dict[int, Any] = {}
    for start, end in windows:
        for event in events[start:end]:
            details = event.get("mapIterationSucceededEventDetails")
            if not details or details.get("name") != name:
                continue
            last = by_id.get(event.get("previousEventId"))
            exited = last.get("stateExitedEventDetails") if last else None
            if exited is not None and "output" in exited:
                outputs.setdefault(details["index"], _json(exited["output"]))
    return outputs


def _terminal_states(branch: dict[str, Any]) -> set[str]:
    return {n for n, s in branch["States"].items() if s.get("End") or s.get("Type") == "Succeed"}


def _branch_output(
    events: Sequence[dict[str, Any]], branch: dict[str, Any], windows: list[tuple[int, int]]
) -> Any:
    terminal = _terminal_states(branch)
    for start, end in windows:
        for event in reversed(events[start:end]):
            exited = event.get("stateExitedEventDetails")
            if exited and exited["name"] in terminal and "output" in exited:
                return _json(exited["output"])
    return _MISSING
