"""status_fanout on the real `arcadeflow up` when the batch writer's sandbox crashes: a crashed
Lambda (Runtime.ExitError, its worker process SIGKILLed) is transient on AWS, so the batch is
retried with backoff, not dead-lettered, and every follower still gets the status exactly once."""

from __future__ import annotations

import json
import uuid

import pytest

from arcadeflow.faults import clear_faults, list_faults, set_fault
from tests.support.fanout import feed_copies, finished, history, populate, start_fanout, status_for

# Every test here sets a fault through the embedded runtime's fault switch.
pytestmark = [pytest.mark.e2e, pytest.mark.needs("fault_switch")]

FOLLOWERS = 3_000  # 30 batches of 100
BATCHES = FOLLOWERS // 100
# Invocations of the batch writer whose worker is killed: spread over the run, fewer than a
# batch's attempts (a batch is tried 4 times), so no batch can run out of them.
CRASHED_INVOCATIONS = [2, 9, 17]


@pytest.fixture(autouse=True)
def no_faults_left(stack):
    yield
    clear_faults(stack.aws_url)


def test_crashed_batch_writers_are_retried_and_every_follower_gets_the_status_once(stack):
    celebrity = f"celeb-{uuid.uuid4().hex[:8]}"
    followers = populate(stack, FOLLOWERS, celebrity, prefix=f"crash-{uuid.uuid4().hex[:6]}-")
    status = status_for(celebrity)
    set_fault(stack.aws_url, "fanout_feed_batch", fail_on=CRASHED_INVOCATIONS, mode="crash")

    execution = finished(stack, start_fanout(stack, status))

    # SUCCEEDED: no batch was dead-lettered (the flow fails naming them when one is).
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    output = json.loads(execution["output"])
    assert (output["followers"], output["written"]) == (FOLLOWERS, FOLLOWERS)
    copies = feed_copies(stack, status["statusId"])
    assert set(copies) == set(followers)  # nothing lost
    assert set(copies.values()) == {1}  # nothing twice
    [fault] = list_faults(stack.aws_url)
    assert fault["failed"] == CRASHED_INVOCATIONS  # the crashes really happened
    # The history shows each crash as a failed attempt of the task, and every batch succeeding.
    events = history(stack, execution["executionArn"])
    failed = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert [f["error"] for f in failed] == ["Runtime.ExitError"] * len(CRASHED_INVOCATIONS)
    assert all("Runtime exited with error: signal: killed" in f["cause"] for f in failed)
    written = [
        e
        for e in events
        if e["type"] == "TaskSucceeded"
        and json.loads(e["taskSucceededEventDetails"]["output"]).get("Payload", {}).get("written")
    ]
    assert len(written) == BATCHES
