"""An execution's history as a timeline of states, the way a person reads it.

Step Functions histories are flat lists of events, interleaved when a Map or a Parallel runs
work concurrently. Every event names the one before it in its own thread of work
(`previousEventId`), on AWS, on LocalStack and in the embedded interpreter alike; following those
links puts each event under the state it belongs to, whatever the interleaving. Only the history
itself is read (GetExecutionHistory), so the timeline needs no definition and no private API.

A state's status is what happened to it in this execution:
  succeeded  exited normally (possibly after retries)
  caught     its last attempt failed and a Catch moved the flow on
  failed     it failed and the execution failed with it (a Fail state, or an uncaught error)
  aborted / timed out   the execution was stopped or timed out while it ran
  running    entered, not yet exited, and the execution still runs
A redrive (ExecutionRedriven) starts a new stretch of the timeline: the states of the first run
keep the status they ended with, the re-entered ones get their own rows.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from arcadeflow.history_events import ATTEMPT_EVENTS, EXECUTION_FAILURE_EVENTS, STATE_FAILURE_EVENTS

_EXECUTION_ENDS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}
_UNEXITED_STATUS = {"FAILED": "failed", "TIMED_OUT": "timed out", "ABORTED": "aborted"}


def event_details(event: dict[str, Any]) -> dict[str, Any]:
    """The one `...EventDetails` member of an event ({} when it has none)."""
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


@dataclass
class MapIteration:
    index: int
    started: datetime.datetime | None  # None: never started (its Map ended first)
    ended: datetime.datetime | None = None
    status: str = "running"


@dataclass
class StateRun:
    """One entry into a state: a row of the timeline."""

    name: str
    type: str
    entered: datetime.datetime
    parent: StateRun | None
    exited: datetime.datetime | None = None
    status: str = "running"
    attempts: int = 0
    error: str | None = None
    cause: str | None = None
    input: Any = None
    output: Any = None
    last_attempt_failed: bool = False
    children: list[StateRun] = field(default_factory=list)
    iterations: dict[int, MapIteration] = field(default_factory=dict)
    map_length: int | None = None  # items of a Map, from its MapStateStarted


@dataclass
class Timeline:
    started: datetime.datetime | None
    states: list[StateRun]  # top-level runs, in the order they were entered
    redrives: list[tuple[int, datetime.datetime]]  # (redriveCount, when)
    status: str  # of the execution as the history tells it: RUNNING until an end event
    error: str | None = None
    cause: str | None = None


def _parse_json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def build_timeline(history: list[dict[str, Any]]) -> Timeline:
    by_id: dict[int, dict[str, Any]] = {}
    # The state run each event belongs to (None: the execution itself).
    owner: dict[int, StateRun | None] = {}
    run_of_entry: dict[int, StateRun] = {}
    top: list[StateRun] = []
    all_runs: list[StateRun] = []
    redrives: list[tuple[int, datetime.datetime]] = []
    status, error, cause = "RUNNING", None, None
    # When each stretch of the execution ended (a redrive opens a new stretch).
    stretch_ends: list[tuple[datetime.datetime, str]] = []

    for event in history:
        event_id, kind, details = int(event["id"]), event["type"], event_details(event)
        by_id[event_id] = event
        previous = by_id.get(int(event.get("previousEventId") or 0))
        if previous is None or previous["type"] == "ExecutionRedriven":
            frame: StateRun | None = None
        elif previous["type"].endswith("StateExited"):
            # After a state exits, the next event happens beside it, in its parent.
            exited = owner.get(int(previous["id"]))
            frame = exited.parent if exited else None
        else:
            frame = owner.get(int(previous["id"]))

        if kind.endswith("StateEntered"):
            run = StateRun(
                name=details.get("name", "?"),
                type=kind[: -len("StateEntered")] or "State",
                entered=event["timestamp"],
                parent=frame,
                input=_parse_json(details.get("input")),
            )
            (frame.children if frame else top).append(run)
            all_runs.append(run)
            run_of_entry[event_id] = run
            owner[event_id] = run
            continue
        if kind.endswith("StateExited"):
            # The run that exits is the innermost open run of this thread named so.
            run_or_none = frame if frame is not None and frame.name == details.get("name") else None
            if run_or_none is None:
                run_or_none = _open_run_named(all_runs, details.get("name"))
            owner[event_id] = run_or_none
            if run_or_none is not None:
                run_or_none.exited = event["timestamp"]
                run_or_none.output = _parse_json(details.get("output"))
                run_or_none.status = "caught" if run_or_none.last_attempt_failed else "succeeded"
            continue
        if kind.startswith(("MapIteration", "MapState")):
            # Follows whatever the iteration did last (a TaskFailed, say): it is the Map's event.
            frame = _enclosing(frame, "Map")
        elif kind.startswith("ParallelState"):
            frame = _enclosing(frame, "Parallel")
        owner[event_id] = frame

        if kind == "ExecutionRedriven":
            redrives.append((int(details.get("redriveCount", len(redrives) + 1)), event["timestamp"]))
            status, error, cause = "RUNNING", None, None
            continue
        if kind in _EXECUTION_ENDS:
            status = _EXECUTION_ENDS[kind]
            stretch_ends.append((event["timestamp"], status))
            if kind != "ExecutionSucceeded":
                error, cause = details.get("error"), details.get("cause")
        if frame is None:
            continue
        if kind in ATTEMPT_EVENTS:
            frame.attempts += 1
            frame.last_attempt_failed = False
        elif kind in STATE_FAILURE_EVENTS or kind in EXECUTION_FAILURE_EVENTS:
            frame.last_attempt_failed = True
            frame.error = details.get("error") or frame.error
            frame.cause = details.get("cause") or frame.cause
        elif kind.endswith("Succeeded") and kind.startswith(("Task", "LambdaFunction", "Activity")):
            frame.last_attempt_failed = False
        elif kind == "MapStateStarted" and "length" in details:
            frame.map_length = int(details["length"])
        elif kind == "MapIterationStarted":
            index = int(details.get("index", len(frame.iterations)))
            frame.iterations[index] = MapIteration(index=index, started=event["timestamp"])
        elif kind in ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"):
            index = int(details.get("index", -1))
            iteration = frame.iterations.get(index)
            if iteration is not None:
                iteration.ended = event["timestamp"]
                # The embedded interpreter lets iterations run on after their Map failed the
                # execution; AWS aborts them, and a redrive runs them again: they did not count.
                late = status != "RUNNING"
                iteration.status = "aborted" if late else kind[len("MapIteration") :].lower()

    for run in all_runs:
        if run.exited is None:
            run.status = _unexited_status(run, stretch_ends)
        if run.status != "running":
            # Iterations a failing Map cut short end with no event of their own.
            for iteration in run.iterations.values():
                if iteration.status == "running":
                    iteration.status = "aborted"
        if run.status in ("failed", "aborted", "timed out") and run.map_length is not None:
            # Items whose iteration never started before the Map ended count as cut short too.
            for index in range(run.map_length):
                if index not in run.iterations:
                    run.iterations[index] = MapIteration(index=index, started=None, status="aborted")
    started = history[0]["timestamp"] if history else None
    return Timeline(started, top, redrives, status, error, cause)


def _enclosing(run: StateRun | None, state_type: str) -> StateRun | None:
    while run is not None and run.type != state_type:
        run = run.parent
    return run


def _open_run_named(runs: list[StateRun], name: str | None) -> StateRun | None:
    for run in reversed(runs):
        if run.exited is None and run.name == name:
            return run
    return None


def _unexited_status(run: StateRun, stretch_ends: list[tuple[datetime.datetime, str]]) -> str:
    """A run that never exited ended with the stretch of the execution it was part of."""
    for ended, status in stretch_ends:
        if ended >= run.entered:
            return _UNEXITED_STATUS.get(status, "failed")
    return "running"


def _seconds(start: datetime.datetime | None, end: datetime.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def iteration_summary(run: StateRun) -> dict[str, Any] | None:
    if not run.iterations and run.type != "Map":
        return None
    counts = {"succeeded": 0, "failed": 0, "aborted": 0, "running": 0}
    for iteration in run.iterations.values():
        counts[iteration.status] = counts.get(iteration.status, 0) + 1
    durations = [
        (iteration.ended - iteration.started, iteration)
        for iteration in run.iterations.values()
        if iteration.ended is not None
        and iteration.started is not None
        and iteration.status in ("succeeded", "failed")
    ]
    slowest = max(durations, key=lambda pair: pair[0])[1] if durations else None
    failed_inner = next((c for c in run.children if c.status in ("failed", "caught") and c.error), None)
    return {
        "count": len(run.iterations),
        **counts,
        "slowest": None
        if slowest is None
        else {"index": slowest.index, "durationSeconds": _seconds(slowest.started, slowest.ended)},
        "firstError": None
        if failed_inner is None
        else {"state": failed_inner.name, "error": failed_inner.error, "cause": failed_inner.cause},
    }


def _trimmed(value: Any, limit: int | None) -> Any:
    if limit is None or value is None:
        return value
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_as_dict(run: StateRun, start: datetime.datetime, verbose: bool, limit: int | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": run.name,
        "type": run.type,
        "status": run.status,
        "startOffsetSeconds": _seconds(start, run.entered),
        "durationSeconds": _seconds(run.entered, run.exited),
        "attempts": run.attempts,
        "retries": max(run.attempts - 1, 0),
        "error": run.error,
        "cause": run.cause,
    }
    summary = iteration_summary(run)
    if summary is not None:
        row["iterations"] = summary
    elif run.children:
        row["states"] = [run_as_dict(child, start, verbose, limit) for child in run.children]
    if verbose:
        row["input"] = _trimmed(run.input, limit)
        row["output"] = _trimmed(run.output, limit)
    return row


def timeline_as_dict(timeline: Timeline, verbose: bool = False, limit: int | None = None) -> dict[str, Any]:
    """The timeline for tools (`arcadeflow trace --json`): rows and redrives in entry order."""
    start = timeline.started or datetime.datetime.now(datetime.UTC)
    entries: list[tuple[datetime.datetime, dict[str, Any]]] = [
        (run.entered, {"kind": "state", **run_as_dict(run, start, verbose, limit)}) for run in timeline.states
    ]
    entries += [
        (when, {"kind": "redrive", "redriveCount": count, "startOffsetSeconds": _seconds(start, when)})
        for count, when in timeline.redrives
    ]
    # A redrive sorts before the states it re-enters at the same instant.
    entries.sort(key=lambda pair: (pair[0], pair[1]["kind"] != "redrive"))
    return {
        "status": timeline.status,
        "error": timeline.error,
        "cause": timeline.cause,
        "redriveCount": len(timeline.redrives),
        "timeline": [entry for _, entry in entries],
    }


def readable_cause(cause: str | None) -> str:
    """A Lambda error's cause is its JSON answer with a stack trace: its errorMessage is the news."""
    if not cause:
        return ""
    parsed = _parse_json(cause)
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        return parsed["errorMessage"]
    return cause


def _format_seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}s"


def format_timeline(data: dict[str, Any], verbose: bool = False) -> list[str]:
    """Text rows: offset, duration, state (indented under its Parallel), status, attempts, error."""
    lines: list[str] = []

    def row(entry: dict[str, Any], depth: int) -> None:
        offset = f"+{entry['startOffsetSeconds']:.3f}s"
        if entry["kind"] == "redrive":
            lines.append(f"{offset:>10}  {'':>9}  ── redriven (redrive {entry['redriveCount']}) ──")
            return
        name = "  " * depth + entry["name"]
        parts = [
            f"{offset:>10}",
            f"{_format_seconds(entry['durationSeconds']):>9}",
            f"{name:<30}",
            entry["status"],
        ]
        if entry["attempts"] > 1:
            parts.append(f"{entry['attempts']} attempts ({entry['retries']} retries)")
        summary = entry.get("iterations")
        if summary is not None:
            text = f"map: {summary['count']} iterations, {summary['succeeded']} succeeded"
            text += f", {summary['failed']} failed"
            text += f", {summary['aborted']} aborted" if summary["aborted"] else ""
            text += f", {summary['running']} running" if summary["running"] else ""
            if summary["slowest"]:
                slowest = summary["slowest"]
                text += f", slowest #{slowest['index']} {_format_seconds(slowest['durationSeconds'])}"
            parts.append(text)
            if summary["firstError"] and not entry["error"]:
                first = summary["firstError"]
                cause = _trimmed(readable_cause(first["cause"]), 160)
                parts.append(f"first error in {first['state']}: {first['error']}: {cause}")
        if entry["error"] and entry["status"] == "succeeded":
            parts.append(f"retried after {entry['error']}")
        elif entry["error"]:
            cause = entry["cause"] if verbose else _trimmed(readable_cause(entry["cause"]), 160)
            parts.append(f"error {entry['error']}: {cause}")
        lines.append("  ".join(parts).rstrip())
        if verbose:
            for key in ("input", "output"):
                if entry.get(key) is not None:
                    value = entry[key]
                    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
                    lines.append(f"{'':>22}{'  ' * depth}{key}: {text}")
        for child in entry.get("states", []):
            row({"kind": "state", **child}, depth + 1)

    for entry in data["timeline"]:
        row(entry, 0)
    return lines or ["(no events)"]
