"""status_fanout against a feed table with tiny emulated provisioned capacity (burst off).

The writers' budget (200 WCU) is set far above the table's capacity (20 WCU), so writes are
really throttled: every follower still gets the status exactly once. Then the table is scaled
down to 1 WCU so a batch cannot finish within its retries: it ends in the dead-letter queue,
the execution fails saying so, and a redrive after scaling back up completes it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from tests.support.fanout import feed_copies, finished, populate, start_fanout, status_for
from tests.support.stack import REPO_ROOT, RunningStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def throttled_stack(tmp_path_factory):
    running = RunningStack(
        tmp_path_factory.mktemp("arcadeflow-throttled"),
        ["--table-wcu", "feed=20", "--capacity-burst-seconds", "0", "--feed-write-budget", "200"],
    )
    yield running
    running.stop()


def _set_feed_wcu(stack: RunningStack, wcu: int) -> None:
    stack.client("dynamodb").update_table(
        TableName=stack.endpoints()["tables"]["feed"],
        ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": wcu},
    )


def _feed_write_retries(stack: RunningStack) -> int:
    log = stack.state_dir / "logs" / "arcadeflow-fanout-feed-batch.log"
    retries = 0
    for line in log.read_text().splitlines():
        if '"FeedWriteRetries"' in line and line.startswith("{"):
            value = json.loads(line).get("FeedWriteRetries", 0)  # EMF: a number or a list
            retries += sum(value) if isinstance(value, list) else value
    return retries


def test_throttled_writes_are_retried_until_every_follower_has_the_status_once(throttled_stack):
    celebrity = f"celeb-{uuid.uuid4().hex[:8]}"
    followers = populate(throttled_stack, 150, celebrity, prefix=f"t-{uuid.uuid4().hex[:6]}-")
    status = status_for(celebrity)

    execution = finished(throttled_stack, start_fanout(throttled_stack, status), timeout=150)

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    copies = feed_copies(throttled_stack, status["statusId"])
    assert set(copies) == set(followers)
    assert set(copies.values()) == {1}
    assert _feed_write_retries(throttled_stack) > 0  # the table really pushed back


def test_a_batch_that_keeps_failing_is_dead_lettered_then_redriven_to_completion(throttled_stack):
    celebrity = f"celeb-{uuid.uuid4().hex[:8]}"
    followers = populate(throttled_stack, 100, celebrity, prefix=f"d-{uuid.uuid4().hex[:6]}-")
    status = status_for(celebrity)
    _set_feed_wcu(throttled_stack, 1)  # 100 writes need 100 s: far beyond the batch's retries
    try:
        execution = finished(throttled_stack, start_fanout(throttled_stack, status), timeout=150)
    finally:
        _set_feed_wcu(throttled_stack, 20)

    assert execution["status"] == "FAILED"
    assert execution["error"] == "FeedBatchesDeadLettered"
    assert f"did not get status {status['statusId']}" in execution["cause"]
    sqs = throttled_stack.client("sqs")
    dlq = sqs.get_queue_url(QueueName="arcadeflow-fanout-dead-letters")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"
    assert len(feed_copies(throttled_stack, status["statusId"])) < len(followers)

    redrive = subprocess.run(
        [
            sys.executable,
            "-m",
            "arcadeflow.cli",
            "redrive-fanout",
            "--state-dir",
            str(throttled_stack.state_dir),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert redrive.returncode == 0, redrive.stderr
    assert json.loads(redrive.stdout) == {"batches": 1, "followers": 100, "failed": 0, "malformed": 0}
    copies = feed_copies(throttled_stack, status["statusId"])
    assert set(copies) == set(followers)
    assert set(copies.values()) == {1}
    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"
