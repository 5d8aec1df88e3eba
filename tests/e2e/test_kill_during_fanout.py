"""`arcadeflow up` killed (SIGKILL) in the middle of a fan-out, then started again on the same
state directory: the execution comes back FAILED with the restart's error, nothing on disk is
corrupt, and a redrive writes every follower's feed item exactly once.

The feed table's writes are metered (20 WCU, no saved capacity; the writer's retry budget as the
capacity tests set it), so the 200-follower fan-out takes ~10 s and the kill lands while it
writes: some feed items are written, others are not.
"""

from __future__ import annotations

import signal
import sqlite3
import uuid

import pytest

from arcadeflow.aws.persistence import DATABASE_FILE, RESTARTED_ERROR
from tests.support.fanout import feed_copies, finished, populate, start_fanout, status_for
from tests.support.stack import RunningStack, wait_for

pytestmark = pytest.mark.e2e

FOLLOWERS = 200
METERED = [
    "--ttl-interval",
    "1",
    *("--table-wcu", "feed=20", "--capacity-burst-seconds", "0", "--feed-write-budget", "200"),
]


def test_a_fanout_killed_midway_is_failed_by_the_restart_and_redriven_to_every_follower_once(tmp_path):
    state_dir = tmp_path / "state"
    first = RunningStack(state_dir, METERED)
    try:
        celebrity = f"celeb{uuid.uuid4().hex[:6]}"
        followers = populate(first, FOLLOWERS, celebrity, prefix=f"{celebrity}-f")
        status = status_for(celebrity, "posted while the runtime was killed")
        arn = start_fanout(first, status)
        sfn = first.client("stepfunctions")
        # Midway: some feeds written, the execution still running.
        wait_for(
            lambda: 20 <= sum(feed_copies(first, status["statusId"]).values()) < FOLLOWERS,
            timeout=60,
            interval=0.2,
            message="the fan-out to be midway",
        )
        assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=20)
    finally:
        first.stop()
    db = sqlite3.connect(f"file:{state_dir / DATABASE_FILE}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",), "a kill never corrupts"
    finally:
        db.close()

    second = RunningStack(state_dir, METERED)
    try:
        (line,) = [line for line in second.log_path.read_text().splitlines() if "restored from" in line]
        assert "last stop NOT clean" in line
        sfn = second.client("stepfunctions")
        described = sfn.describe_execution(executionArn=arn)
        assert (described["status"], described["error"]) == ("FAILED", RESTARTED_ERROR), described
        sfn.redrive_execution(executionArn=arn, clientToken=str(uuid.uuid4()))
        redriven = finished(second, arn, timeout=180)
        assert (redriven["status"], redriven["redriveCount"]) == ("SUCCEEDED", 1), (
            redriven.get("error"),
            redriven.get("cause"),
        )
        copies = feed_copies(second, status["statusId"])
        assert set(copies) == set(followers), set(followers) - set(copies)
        assert set(copies.values()) == {1}, "a follower's feed holds the status more than once"
    finally:
        second.stop()
