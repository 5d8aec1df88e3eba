"""status_fanout under each fault, on the real `arcadeflow up`: every follower gets the status
exactly once, or the followers who did not are in the dead-letter queue and the execution says
how many (README "Status posts and their fan-out"); `redrive-fanout` then writes them, once.

- a batch writer fails with an error no Retry covers: its Catch dead-letters that batch, the
  other batches are written, the execution FAILS with FeedBatchesDeadLettered;
- a batch writer times out or its worker crashes (as a crashed sandbox, several at once):
  transient, retried; every feed is written as without it;
- the feed table throttles: the writer retries its unprocessed items; nothing dead-lettered.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support import faults
from tests.support.fanout import feed_copies, finished, populate, start_fanout, status_for
from tests.support.faults import ERROR_TYPE, once_each

pytestmark = pytest.mark.e2e

FOLLOWERS = 300  # three batches of 100, written concurrently by the Map


@pytest.fixture(autouse=True)
def no_faults_left(stack):
    faults.clear(stack)
    yield
    faults.clear(stack)


@pytest.fixture(scope="module")
def celebrity_with_followers(stack):
    celebrity = f"celeb-{uuid.uuid4().hex[:8]}"
    return celebrity, populate(stack, FOLLOWERS, celebrity, prefix=f"ff-{uuid.uuid4().hex[:6]}-")


@pytest.mark.parametrize(
    ("mode", "failing_calls"),
    [("error", [2]), ("timeout", [2]), ("crash", [2]), ("crash", [1, 2, 3])],
    ids=["error", "timeout", "crash", "crash-every-first-attempt"],
)
def test_a_fanout_whose_batch_writer_fails_writes_every_feed_once(
    stack, celebrity_with_followers, mode, failing_calls
):
    celebrity, followers = celebrity_with_followers
    status = status_for(celebrity)
    dead_before = faults.dead_letters(stack)
    faults.fail_function(stack, "fanout_feed_batch", failing_calls, mode)

    execution = finished(stack, start_fanout(stack, status))

    assert faults.lambda_fault(stack, "fanout_feed_batch")["failed"] == failing_calls
    arn = execution["executionArn"]
    assert ERROR_TYPE[mode] in faults.task_errors(stack, arn)
    if mode == "error":
        # One batch of 100 could not be written: it waits in the dead-letter queue, and the
        # execution says so; the other two were written.
        assert (execution["status"], execution["error"]) == ("FAILED", "FeedBatchesDeadLettered")
        assert f"did not get status {status['statusId']}" in execution["cause"]
        assert "100" in execution["cause"]
        assert len(feed_copies(stack, status["statusId"])) == FOLLOWERS - 100
        assert faults.dead_letters(stack) == dead_before + 1
        report = faults.redrive_fanout(stack)
        assert (report["failed"], report["malformed"]) == (0, 0)
        assert report["batches"] >= 1 and report["followers"] >= 100
        assert faults.dead_letters(stack) == 0
    else:
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        output = json.loads(execution["output"])
        assert (output["followers"], output["written"]) == (FOLLOWERS, FOLLOWERS)
        assert faults.dead_letters(stack) == dead_before
    once_each(feed_copies(stack, status["statusId"]), followers)


def test_a_fanout_into_a_throttling_feed_table_writes_every_feed_once(stack, celebrity_with_followers):
    celebrity, followers = celebrity_with_followers
    status = status_for(celebrity)
    dead_before = faults.dead_letters(stack)
    # Twelve BatchWriteItems of 25 in all: half of them answer as a throttled table does.
    faults.throttle_table(stack, "feed", [1, 2, 3, 4, 5, 6])

    execution = finished(stack, start_fanout(stack, status))

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    output = json.loads(execution["output"])
    assert (output["followers"], output["written"]) == (FOLLOWERS, FOLLOWERS)
    once_each(feed_copies(stack, status["statusId"]), followers)
    assert faults.dead_letters(stack) == dead_before
    assert faults.throttled_calls(stack, "feed") == 6
