"""vr_session_end's branches, driven without a stack: the first state failing fast with
SessionNotFound / SessionAlreadyEnded (nothing else runs), a batch in flight waited for, a
transient task failure retried, the paging loop carrying its cursor and counts from page to
page, and a task failing for good releasing the session before the execution fails."""

from __future__ import annotations

import uuid

import pytest

RECORDED = {"return": {"endTime": "2026-12-01T22:00:00.000Z", "expiresAt": 1765000000}}
LAST_PAGE = {"return": {"cursor": None, "counts": {}, "eventCount": 0, "pages": 1, "finished": True}}
GRANTED = {"return": {"rewards": ["session_complete"]}}
PUSHED = {"return": {"delivered": 1}}
TASKS = ("vr_record_end", "vr_count_events", "vr_grant_rewards", "vr_push_frames", "vr_release_end")


@pytest.fixture(scope="module")
def flow(bench):
    return bench.state_machine("vr_session_end")


def _session(bench, **steps: list[dict]) -> tuple[str, dict]:
    """A session whose tasks answer as scripted (role -> steps, one per attempt; the last repeats)."""
    session_id = uuid.uuid4().hex
    scripts = {
        "vr_record_end": [RECORDED],
        "vr_count_events": [LAST_PAGE],
        "vr_grant_rewards": [GRANTED],
        "vr_push_frames": [PUSHED],
        "vr_release_end": [{"return": {"released": True}}],
        **steps,
    }
    for role, script in scripts.items():
        bench.script(session_id, role, *script)
    return session_id, {"sessionId": session_id, "playerId": "alice"}


def _calls(bench, session_id: str) -> dict[str, int]:
    return {role: len(bench.calls(session_id, role)) for role in TASKS}


@pytest.mark.parametrize(
    ("error", "cause_says"),
    [("SessionNotFound", "unknown, expired or someone else's"), ("SessionAlreadyEnded", "already ended")],
)
def test_a_refused_end_fails_fast_with_its_error_and_nothing_else_runs(bench, flow, error, cause_says):
    session_id, flow_input = _session(bench, vr_record_end=[{"raise": error, "message": "scripted refusal"}])
    execution = flow.run(f"{session_id}_alice", flow_input)
    assert (execution.status, execution.error) == ("FAILED", error), execution.describe()
    assert cause_says in (execution.cause or "")
    assert execution.states_entered() == ["RecordSessionEnd", execution.states_entered()[-1]]
    assert _calls(bench, session_id) == dict.fromkeys(TASKS, 0) | {"vr_record_end": 1}


def test_the_end_waits_for_a_batch_being_written(bench, flow):
    busy = {"raise": "SessionBusy", "message": "1 batch(es) of events being written"}
    session_id, flow_input = _session(bench, vr_record_end=[busy, busy, RECORDED])
    execution = flow.run(f"{session_id}_alice", flow_input)
    assert execution.status == "SUCCEEDED", execution.describe()
    assert _calls(bench, session_id)["vr_record_end"] == 3
    first = bench.calls(session_id, "vr_record_end")[0]
    assert first["sessionId"] == session_id and first["playerId"] == "alice"
    assert first["executionId"].endswith(f":{session_id}_alice")


def test_a_transient_task_failure_is_retried(bench, flow):
    session_id, flow_input = _session(
        bench, vr_count_events=[{"raise": "Lambda.ServiceException"}, LAST_PAGE]
    )
    execution = flow.run(f"{session_id}_alice", flow_input)
    assert execution.status == "SUCCEEDED", execution.describe()
    assert _calls(bench, session_id)["vr_count_events"] == 2
    assert execution.output == {"sessionId": session_id, "playerId": "alice", "rewards": ["session_complete"]}


def test_the_events_are_counted_a_page_at_a_time_carrying_cursor_and_counts(bench, flow):
    pages = [
        {
            "return": {
                "cursor": "k1",
                "counts": {"objective_completed": 1},
                "eventCount": 50,
                "pages": 1,
                "finished": False,
            }
        },
        {
            "return": {
                "cursor": "k2",
                "counts": {"objective_completed": 3},
                "eventCount": 100,
                "pages": 2,
                "finished": False,
            }
        },
        {
            "return": {
                "cursor": None,
                "counts": {"objective_completed": 4},
                "eventCount": 120,
                "pages": 3,
                "finished": True,
            }
        },
    ]
    session_id, flow_input = _session(bench, vr_count_events=pages)
    execution = flow.run(f"{session_id}_alice", flow_input)
    assert execution.status == "SUCCEEDED", execution.describe()
    reads = bench.calls(session_id, "vr_count_events")
    assert [(r["cursor"], r["counts"], r["eventCount"], r["pages"]) for r in reads] == [
        (None, {}, 0, 0),
        ("k1", {"objective_completed": 1}, 50, 1),
        ("k2", {"objective_completed": 3}, 100, 2),
    ]
    assert {r["expiresAt"] for r in reads} == {1765000000}
    grant = bench.wait_for_call(session_id, "vr_grant_rewards")
    assert (grant["counts"], grant["eventCount"]) == ({"objective_completed": 4}, 120)
    push = bench.wait_for_call(session_id, "vr_push_frames")
    assert push["rewards"] == ["session_complete"]
    assert push["dedupeKey"].endswith(f":{session_id}_alice/PushRewardFrames")


@pytest.mark.parametrize("failing", ["vr_count_events", "vr_grant_rewards"])
def test_a_task_failing_for_good_releases_the_session_and_fails_the_execution(bench, flow, failing):
    session_id, flow_input = _session(bench, **{failing: [{"raise": "KeyError", "message": "'eventType'"}]})
    execution = flow.run(f"{session_id}_alice", flow_input)
    assert (execution.status, execution.error) == ("FAILED", "SessionEndFailed"), execution.describe()
    calls = _calls(bench, session_id)
    assert (calls[failing], calls["vr_release_end"], calls["vr_push_frames"]) == (1, 1, 0)
    released = bench.wait_for_call(session_id, "vr_release_end")
    assert released["executionId"].endswith(f":{session_id}_alice")


def test_a_grant_that_lost_a_progress_transaction_race_is_retried(bench, flow):
    conflict = {"raise": "ProgressConflict", "message": "player alice: progress busy"}
    session_id, flow_input = _session(bench, vr_grant_rewards=[conflict, conflict, GRANTED])
    execution = flow.run(f"{session_id}_alice", flow_input)
    assert execution.status == "SUCCEEDED", execution.describe()
    calls = _calls(bench, session_id)
    assert (calls["vr_grant_rewards"], calls["vr_release_end"], calls["vr_push_frames"]) == (3, 0, 1)
