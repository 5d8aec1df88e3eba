"""`arcadeflow trace` from recorded histories (tests/unit/trace_histories/, recorded from the
embedded AWS by `python -m tests.unit.trace_histories.record`)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from arcadeflow.commands.executions import format_trace
from arcadeflow.commands.timeline import build_timeline, timeline_as_dict

HISTORIES = Path(__file__).parent / "trace_histories"


def _history(name: str) -> list[dict]:
    events = json.loads((HISTORIES / f"{name}.json").read_text())
    for event in events:
        event["timestamp"] = datetime.datetime.fromisoformat(event["timestamp"])
    return events


def _rows(name: str, **kwargs) -> dict[str, dict]:
    data = timeline_as_dict(build_timeline(_history(name)), **kwargs)
    return {entry["name"]: entry for entry in data["timeline"] if entry["kind"] == "state"}


def test_a_state_retried_twice_shows_three_attempts_and_succeeds():
    charge = _rows("failed_after_retries_and_map")["ChargeWallet"]
    assert (charge["status"], charge["attempts"], charge["retries"]) == ("succeeded", 3, 2)
    assert charge["error"] == "TransientGlitch"  # what the retries were about
    assert charge["startOffsetSeconds"] == 0.0
    # Two 1 s retry intervals lie inside the state's duration.
    assert charge["durationSeconds"] >= 2.0


def test_the_uncaught_failure_is_the_failed_state_with_its_error_and_cause():
    data = timeline_as_dict(build_timeline(_history("failed_after_retries_and_map")))
    assert data["status"] == "FAILED" and data["error"] == "InviteExpired"
    settle = _rows("failed_after_retries_and_map")["SettleInvite"]
    assert (settle["status"], settle["attempts"], settle["durationSeconds"]) == ("failed", 1, None)
    assert settle["error"] == "InviteExpired"
    assert "invite i-7 expired" in settle["cause"]
    statuses = {name: row["status"] for name, row in _rows("failed_after_retries_and_map").items()}
    assert statuses == {
        "ChargeWallet": "succeeded",
        "PrepareSleeps": "succeeded",
        "SleepEach": "succeeded",
        "CheckBoth": "succeeded",
        "SettleInvite": "failed",
    }


def test_rows_are_in_the_order_the_states_were_entered_with_growing_offsets():
    data = timeline_as_dict(build_timeline(_history("failed_after_retries_and_map")))
    names = [entry["name"] for entry in data["timeline"]]
    assert names == ["ChargeWallet", "PrepareSleeps", "SleepEach", "CheckBoth", "SettleInvite"]
    offsets = [entry["startOffsetSeconds"] for entry in data["timeline"]]
    assert offsets == sorted(offsets)


def test_map_iterations_are_summarised_with_the_slowest_even_when_interleaved():
    sleep_each = _rows("failed_after_retries_and_map")["SleepEach"]
    summary = sleep_each["iterations"]
    assert (summary["count"], summary["succeeded"], summary["failed"]) == (3, 3, 0)
    # Iteration 1 slept 0.4 s, the others not at all; their events interleave in the history.
    assert summary["slowest"]["index"] == 1
    assert "states" not in sleep_each  # iterations are summarised, not listed state by state


def test_parallel_branches_are_nested_under_their_parallel_state():
    check_both = _rows("failed_after_retries_and_map")["CheckBoth"]
    assert [(s["name"], s["status"]) for s in check_both["states"]] == [
        ("CheckLeft", "succeeded"),
        ("CheckRight", "succeeded"),
    ]


def test_a_failure_caught_inside_a_map_iteration_is_named_in_the_summary():
    data = timeline_as_dict(build_timeline(_history("map_with_a_caught_failure")))
    assert data["status"] == "SUCCEEDED"
    summary = _rows("map_with_a_caught_failure")["CheckInvites"]["iterations"]
    assert (summary["count"], summary["succeeded"], summary["failed"]) == (3, 3, 0)
    assert summary["firstError"]["state"] == "RefuseInvite"
    assert summary["firstError"]["error"] == "InviteExpired"


def test_a_caught_task_is_caught_not_succeeded():
    timeline = build_timeline(_history("map_with_a_caught_failure"))
    inner = {run.name: run.status for run in timeline.states[0].children}
    assert inner["RefuseInvite"] == "caught"
    assert inner["Refused"] == "succeeded"


def test_a_redrive_is_a_row_and_the_map_run_again_gets_its_own_row():
    data = timeline_as_dict(build_timeline(_history("redriven_map")))
    assert data["status"] == "SUCCEEDED" and data["error"] is None and data["redriveCount"] == 1
    rows = [(e["kind"], e.get("name"), e.get("status")) for e in data["timeline"]]
    assert rows == [
        ("state", "PrepareSleeps", "succeeded"),
        ("state", "SleepEach", "failed"),
        ("redrive", None, None),
        ("state", "SleepEach", "succeeded"),
    ]
    first, again = data["timeline"][1], data["timeline"][3]
    assert (first["iterations"]["succeeded"], first["iterations"]["failed"]) == (1, 1)
    assert first["error"] == "Arcadeflow.InjectedFault"
    # The redrive ran only the iterations that had not succeeded: 1 (failed), 2 and 3 (never started).
    assert (again["iterations"]["count"], again["iterations"]["succeeded"]) == (3, 3)
    assert data["timeline"][2]["startOffsetSeconds"] <= again["startOffsetSeconds"]


def test_the_text_of_a_redriven_execution_shows_the_redrive_between_the_runs():
    lines = format_trace(_history("redriven_map"))
    assert len(lines) == 4
    assert "SleepEach" in lines[1] and "error Arcadeflow.InjectedFault: the sleeper is gone" in lines[1]
    assert "── redriven (redrive 1) ──" in lines[2]
    assert "map: 3 iterations, 3 succeeded, 0 failed" in lines[3]


def test_a_state_still_running_is_running():
    history = _history("failed_after_retries_and_map")
    until_map = [e for e in history if e["id"] <= 31]  # the execution is inside SleepEach
    data = timeline_as_dict(build_timeline(until_map))
    assert data["status"] == "RUNNING"
    sleep_each = next(e for e in data["timeline"] if e["name"] == "SleepEach")
    assert sleep_each["status"] == "running"
    assert (sleep_each["iterations"]["succeeded"], sleep_each["iterations"]["running"]) == (1, 2)


def test_the_text_reads_at_a_glance():
    lines = format_trace(_history("failed_after_retries_and_map"))
    assert len(lines) == 7  # five states, two Parallel branches
    charge, _, sleep_each, _, left, _, settle = lines
    assert "ChargeWallet" in charge and "succeeded" in charge and "3 attempts (2 retries)" in charge
    assert "map: 3 iterations, 3 succeeded, 0 failed, slowest #1" in sleep_each
    assert left.split()[2] == "CheckLeft" and "    CheckLeft" in left  # indented under CheckBoth
    # The Lambda's errorMessage, not its JSON answer with the stack trace.
    assert settle.endswith("failed  error InviteExpired: invite i-7 expired")
    assert "stackTrace" not in "\n".join(lines)


def test_verbose_adds_trimmed_inputs_and_outputs_and_full_causes():
    lines = format_trace(_history("failed_after_retries_and_map"), verbose=True)
    text = "\n".join(lines)
    assert 'input: {"key":"k1","succeedOn":3,"inviteId":"i-7"}' in text
    assert "stackTrace" in text
    assert max(len(line) for line in lines if "put: " in line) < 700  # trimmed


@pytest.mark.parametrize("limit", [20, 60])
def test_json_trims_inputs_to_the_limit(limit):
    row = _rows("failed_after_retries_and_map", verbose=True, limit=limit)["PrepareSleeps"]
    assert len(row["output"]) <= limit and row["output"].endswith("…")
