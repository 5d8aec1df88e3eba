"""status_fanout's branches, driven without a stack: pages read while the previous one is
written, the last page's results tallied, a batch that keeps failing dead-lettered (the execution
then fails naming how many followers it missed), throttling retried, no followers at all.
ReadFollowerPage answers scripted pages; each WriteFeedBatch is scripted by its first follower."""

from __future__ import annotations

import json
import uuid

import pytest

NO_TOTALS = {"followers": 0, "written": 0, "deadLettered": 0, "pages": 0}


@pytest.fixture(scope="module")
def flow(bench):
    return bench.state_machine("status_fanout")


def _page(batches: list[list[str]], cursor: str | None, totals: dict, finished: bool = False) -> dict:
    return {
        "return": {
            "cursor": cursor,
            "started": True,
            "finished": finished,
            "totals": totals,
            "batches": batches,
            "concurrency": 2,
            "writeRate": None,
        }
    }


def _written(count: int) -> dict:
    return {"return": {"written": count, "deadLettered": 0}}


def _post(author: str) -> dict:
    status_id = f"s-{uuid.uuid4().hex[:8]}"
    return {"status": {"statusId": status_id, "author": {"userId": author}, "post": "hello"}}


def _two_pages(bench, author: str, final_totals: dict) -> None:
    """Page 1: [f1, f2], [f3]; page 2: [f4]; then no cursor left (twice: the read that ends the
    loop, and the tally of page 2's results)."""
    after_page_2 = {"followers": 4, "written": 3, "deadLettered": 0, "pages": 2}
    bench.script(
        author,
        "fanout_followers_page",
        _page([["f1", "f2"], ["f3"]], "f3", {**NO_TOTALS, "followers": 3, "pages": 1}),
        _page([["f4"]], None, {"followers": 4, "written": 0, "deadLettered": 0, "pages": 2}),
        _page([], None, after_page_2, finished=True),
        _page([], None, final_totals, finished=True),
    )


def _page_reads(bench, author: str) -> list[dict]:
    return bench.calls(author, "fanout_followers_page")


def test_every_page_is_written_and_the_last_one_is_tallied(bench, flow):
    author = f"author-{uuid.uuid4().hex[:6]}"
    _two_pages(bench, author, {"followers": 4, "written": 4, "deadLettered": 0, "pages": 2})
    bench.script(author, "fanout_feed_batch/f1", _written(2))
    bench.script(author, "fanout_feed_batch/f3", _written(1))
    bench.script(author, "fanout_feed_batch/f4", _written(1))
    post = _post(author)
    execution = flow.run(post["status"]["statusId"], post)
    assert execution.status == "SUCCEEDED", execution.describe()
    assert execution.output == {
        "statusId": post["status"]["statusId"],
        "followers": 4,
        "written": 4,
        "pages": 2,
    }
    reads = _page_reads(bench, author)
    assert [r["cursor"] for r in reads] == [None, "f3", None, None]
    # Each read adds the batch results of the page written before it; the last read, page 2's.
    assert [r["batchResults"] for r in reads] == [
        [],
        [],
        [{"written": 2, "deadLettered": 0}, {"written": 1, "deadLettered": 0}],
        [{"written": 1, "deadLettered": 0}],
    ]
    batches = [b["followerIds"] for b in execution.task_inputs(bench.function_arn("fanout_feed_batch"))]
    assert sorted(batches) == [["f1", "f2"], ["f3"], ["f4"]]


def test_a_batch_that_keeps_failing_is_dead_lettered_and_the_execution_fails_naming_the_missed(bench, flow):
    author = f"author-{uuid.uuid4().hex[:6]}"
    _two_pages(bench, author, {"followers": 4, "written": 3, "deadLettered": 1, "pages": 2})
    bench.script(author, "fanout_feed_batch/f1", _written(2))
    bench.script(author, "fanout_feed_batch/f3", {"raise": "AccessDeniedException", "message": "feed table"})
    bench.script(author, "fanout_feed_batch/f4", _written(1))
    post = _post(author)
    status_id = post["status"]["statusId"]
    execution = flow.run(status_id, post)
    assert (execution.status, execution.error) == ("FAILED", "FeedBatchesDeadLettered"), execution.describe()
    assert execution.cause == (
        f"1 of 4 followers did not get status {status_id}: their batches are in the fan-out dead-letter queue"
    )
    assert len(bench.calls(author, "fanout_feed_batch/f3")) == 1  # not a transient error: no retry
    assert _page_reads(bench, author)[2]["batchResults"] == [
        {"written": 2, "deadLettered": 0},
        {"written": 0, "deadLettered": 1},
    ]
    messages = _dead_letters(bench, status_id)
    assert [(m["followerIds"], m["error"]) for m in messages] == [(["f3"], "AccessDeniedException")]
    assert messages[0]["executionId"].endswith(f":{status_id}")


def _dead_letters(bench, status_id: str) -> list[dict]:
    queue = bench.queue_url("fanout_dead_letters")
    found = []
    while True:
        received = bench.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not received:
            return found
        for message in received:
            body = json.loads(message["Body"])
            if body["status"]["statusId"] == status_id:
                found.append(body)
                bench.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


def test_a_throttled_batch_is_retried_and_nothing_is_dead_lettered(bench, flow):
    author = f"author-{uuid.uuid4().hex[:6]}"
    one_page = {"followers": 1, "written": 1, "deadLettered": 0, "pages": 1}
    bench.script(
        author,
        "fanout_followers_page",
        _page([["f1"]], None, {**NO_TOTALS, "followers": 1, "pages": 1}),
        _page([], None, {**one_page, "written": 0}, finished=True),
        _page([], None, one_page, finished=True),
    )
    bench.script(author, "fanout_feed_batch/f1", {"raise": "FeedWriteThrottled"}, _written(1))
    post = _post(author)
    execution = flow.run(post["status"]["statusId"], post)
    assert execution.status == "SUCCEEDED", execution.describe()
    assert len(bench.calls(author, "fanout_feed_batch/f1")) == 2
    assert _page_reads(bench, author)[2]["batchResults"] == [{"written": 1, "deadLettered": 0}]
    assert _dead_letters(bench, post["status"]["statusId"]) == []


def test_an_author_with_no_followers_is_done_after_the_first_read(bench, flow):
    author = f"author-{uuid.uuid4().hex[:6]}"
    bench.script(author, "fanout_followers_page", _page([], None, NO_TOTALS, finished=True))
    post = _post(author)
    execution = flow.run(post["status"]["statusId"], post)
    assert execution.status == "SUCCEEDED", execution.describe()
    assert execution.output == {
        "statusId": post["status"]["statusId"],
        "followers": 0,
        "written": 0,
        "pages": 0,
    }
    assert len(_page_reads(bench, author)) == 2  # the read, then the tally of nothing
    assert execution.task_inputs(bench.function_arn("fanout_feed_batch")) == []
