"""What happened to each state of one execution, read from its history events alone.

Every event names the event before it in its own thread of execution (`previousEventId`), so
following that chain back to the nearest `*StateEntered` finds the state an event belongs to,
even when Map iterations and Parallel branches interleave their events. A state's status is
the console's colour for it:

- succeeded: entered and exited with no error left standing (retries that ended well count as
  retries, not errors);
- caught: an error stood when it exited, so a Catch took it elsewhere;
- failed: an error stood and it never exited (the error that failed the execution, or a Map
  iteration's);
- running: entered, not exited, and the execution still runs;
- aborted: unfinished when the execution stopped for another reason (stopped, timed out, a
  sibling branch failed);
- not_reached: no event names it (filled by the caller, which knows the definition).

A redrive (`ExecutionRedriven`) retires the entries that had not finished: the state is run
again, so its colour is the new run's, and the retired entries stay in its list.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from arcadeflow.history_events import ATTEMPT_EVENTS, EXECUTION_FAILURE_EVENTS, STATE_FAILURE_EVENTS

ITERATION_ENDS = {
    "MapIterationSucceeded": "succeeded",
    "MapIterationFailed": "failed",
    "MapIterationAborted": "aborted",
}
# Most telling first: a state with one running iteration is running, whatever the others did.
STATUS_PRECEDENCE = ("running", "failed", "caught", "aborted", "succeeded")


def details_of(event: dict[str, Any]) -> dict[str, Any]:
    """The event's `<type>EventDetails` (TaskFailed -> taskFailedEventDetails; every
    <Kind>StateEntered -> stateEnteredEventDetails), or {}."""
    kind = event.get("type", "")
    for shared in ("StateEntered", "StateExited"):
        if kind.endswith(shared):
            kind = shared
    return event.get(kind[:1].lower() + kind[1:] + "EventDetails") or {}


def _millis(later: datetime.datetime, earlier: datetime.datetime) -> int:
    return round((later - earlier).total_seconds() * 1000)


@dataclass
class StateEntry:
    """One time a state was entered: a loop or a Map iteration enters a state again."""

    state: str
    kind: str  # Task, Map, Parallel, Choice, Pass, Wait, Fail, Succeed
    entered_event_id: int
    entered: datetime.datetime
    input: str | None
    iteration: int | None = None
    exited: datetime.datetime | None = None
    output: str | None = None
    attempts: int = 0
    retries: int = 0
    error: str | None = None
    cause: str | None = None
    error_standing: bool = False
    aborted: bool = False
    # Unfinished when the execution was redriven: the redrive runs the state again.
    retired_by_redrive: bool = False

    def status(self, execution_running: bool) -> str:
        if self.exited is not None:
            return "caught" if self.error_standing else "succeeded"
        if self.error_standing:
            return "failed"
        if self.aborted or not execution_running:
            return "aborted"
        return "running"


@dataclass
class _Iterations:
    succeeded: int = 0
    failed: int = 0
    aborted: int = 0
    started: dict[int, datetime.datetime] = field(default_factory=dict)
    slowest_ms: int | None = None
    slowest_index: int | None = None


@dataclass
class ExecutionStates:
    """Every state the history names, in the order each was first entered."""

    entries: dict[str, list[StateEntry]]
    iterations: dict[str, _Iterations]
    started: datetime.datetime | None
    last_event: datetime.datetime | None
    running: bool
    redrive_count: int

    def summary(self, now: datetime.datetime | None = None) -> dict[str, dict[str, Any]]:
        """State name -> what the console shows for it (status, timing, attempts, error, I/O)."""
        out: dict[str, dict[str, Any]] = {}
        origin = self.started
        for name, entries in self.entries.items():
            live = [e for e in entries if not e.retired_by_redrive] or entries[-1:]
            statuses = {e.status(self.running) for e in live}
            status = next(s for s in STATUS_PRECEDENCE if s in statuses)
            # Timed from the run that counts: after a redrive, the state's new run.
            first, last = live[0], entries[-1]
            if all(e.exited for e in live):
                end: datetime.datetime | None = max(e.exited for e in live if e.exited)
            else:
                end = now if self.running and now else self.last_event
            erred = [e for e in entries if e.error or e.cause]
            row: dict[str, Any] = {
                "name": name,
                "status": status,
                "entries": len(entries),
                "startOffsetMs": _millis(first.entered, origin) if origin else 0,
                "durationMs": _millis(end, first.entered) if end else None,
                "attempts": sum(e.attempts for e in entries),
                "retries": sum(e.retries for e in entries),
                "error": erred[-1].error if erred else None,
                "cause": erred[-1].cause if erred else None,
                "input": last.input,
                "output": next((e.output for e in reversed(entries) if e.output is not None), None),
                "retiredByRedrive": sum(e.retired_by_redrive for e in entries),
            }
            counted = self.iterations.get(name)
            if counted is not None:
                row["iterations"] = {
                    "succeeded": counted.succeeded,
                    "failed": counted.failed,
                    "aborted": counted.aborted,
                    "started": len(counted.started),
                    "slowestMs": counted.slowest_ms,
                    "slowestIndex": counted.slowest_index,
                }
            out[name] = row
        return out


def _open_of_kind(
    open_entries: list[StateEntry], kind: str, preferred: StateEntry | None
) -> StateEntry | None:
    """The open entry of a state of this kind an event belongs to: the one its chain leads to
    when that is of the kind, else the latest opened."""
    if preferred is not None and preferred.kind == kind and preferred in open_entries:
        return preferred
    return next((e for e in reversed(open_entries) if e.kind == kind), None)


def _owner_kind(event_kind: str) -> str | None:
    """The kind of state an event of this type belongs to, when the type says it."""
    if event_kind.startswith("Map") and not event_kind.startswith("MapIteration"):
        return "Map"
    if event_kind.startswith("Parallel"):
        return "Parallel"
    if event_kind.startswith(("Task", "LambdaFunction", "Activity")):
        return "Task"
    return None


def read_states(events: list[dict[str, Any]], execution_status: str) -> ExecutionStates:
    """The states of an execution from its history events (as GetExecutionHistory returns them,
    oldest first) and its status (DescribeExecution's).

    moto's chains are not always right (a Map's MapStateFailed and MapStateExited name the last
    event of its failed iteration), so the chain is a preference, checked against what the event
    type says: an exit names its state, a Task/Map/Parallel event belongs to a state of that type.
    """
    by_id: dict[int, StateEntry] = {}
    owner: dict[int, int | None] = {}
    iteration_of: dict[int, int | None] = {}
    entries: dict[str, list[StateEntry]] = {}
    iterations: dict[str, _Iterations] = {}
    open_entries: list[StateEntry] = []
    redrives = 0
    started = events[0]["timestamp"] if events else None
    for event in sorted(events, key=lambda e: e["id"]):
        kind, event_id = event["type"], event["id"]
        previous = event.get("previousEventId")
        details = details_of(event)
        if kind == "MapIterationStarted":
            iteration_of[event_id] = details.get("index")
        else:
            iteration_of[event_id] = iteration_of.get(previous) if previous else None
        if kind.endswith("StateEntered"):
            entry = StateEntry(
                state=details.get("name", "?"),
                kind=kind.removesuffix("StateEntered"),
                entered_event_id=event_id,
                entered=event["timestamp"],
                input=details.get("input"),
                iteration=iteration_of[event_id],
            )
            # A Fail state fails whatever follows: its error is the execution's, when it reaches it.
            entry.error_standing = entry.kind == "Fail"
            by_id[event_id] = entry
            owner[event_id] = event_id
            entries.setdefault(entry.state, []).append(entry)
            open_entries.append(entry)
            continue
        owner_id = owner.get(previous) if previous else None
        owner[event_id] = owner_id
        chained = by_id.get(owner_id) if owner_id is not None else None
        if chained is not None and chained not in open_entries:
            chained = None
        if kind == "ExecutionRedriven":
            redrives += 1
            for unfinished in open_entries:
                unfinished.retired_by_redrive = True
            open_entries = []
            continue
        if kind.endswith("StateExited"):
            name = details.get("name")
            exiting = (
                chained
                if chained is not None and chained.state == name
                else next((e for e in open_entries if e.state == name), None)
            )
            if exiting is not None:
                exiting.exited = event["timestamp"]
                exiting.output = details.get("output")
                open_entries.remove(exiting)
            continue
        state_kind = _owner_kind(kind)
        if state_kind is not None:
            current = _open_of_kind(open_entries, state_kind, chained)
        else:
            current = chained or (open_entries[-1] if open_entries else None)
        if current is None:
            pass
        elif kind.endswith("StateAborted"):
            current.aborted = True
        elif kind in ATTEMPT_EVENTS:
            current.attempts += 1
            if current.error_standing:
                current.retries += 1
                current.error_standing = False
        elif kind in STATE_FAILURE_EVENTS or kind in EXECUTION_FAILURE_EVENTS:
            if details.get("error") or details.get("cause"):
                current.error = details.get("error", current.error)
                current.cause = details.get("cause", current.cause)
            # A stopped execution aborts its open state; it did not fail there.
            if kind == "ExecutionAborted":
                current.aborted = True
            else:
                current.error_standing = True
        if kind in ITERATION_ENDS or kind == "MapIterationStarted":
            counted = iterations.setdefault(details.get("name", "?"), _Iterations())
            index = details.get("index", -1)
            if kind == "MapIterationStarted":
                counted.started[index] = event["timestamp"]
            else:
                setattr(counted, ITERATION_ENDS[kind], getattr(counted, ITERATION_ENDS[kind]) + 1)
                began = counted.started.get(index)
                if began is not None:
                    took = _millis(event["timestamp"], began)
                    if counted.slowest_ms is None or took > counted.slowest_ms:
                        counted.slowest_ms, counted.slowest_index = took, index
    return ExecutionStates(
        entries=entries,
        iterations=iterations,
        started=started,
        last_event=events[-1]["timestamp"] if events else None,
        running=execution_status in ("RUNNING", "PENDING_REDRIVE"),
        redrive_count=redrives,
    )
