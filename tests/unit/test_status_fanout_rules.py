"""Pure rules of the status fan-out: batching, paging, pacing, backoff, sizes, cursors, ids."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcadeflow.aws import capacity
from functions.shared.dynamo import to_item
from functions.shared.exceptions import InvalidCursor
from functions.status import cursors, fanout, publishing
from functions.status.errors import InvalidIdempotencyKey


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@given(st.lists(st.integers(), max_size=200), st.integers(min_value=1, max_value=30))
def test_chunks_keep_every_value_in_order_within_the_size(values, size):
    parts = list(fanout.chunks(values, size))
    assert [v for part in parts for v in part] == values
    assert all(1 <= len(part) <= size for part in parts)


@given(st.lists(st.text(min_size=1, max_size=128), min_size=1, max_size=3000))
def test_a_page_of_ids_stays_within_its_byte_limit(ids):
    page = fanout.page_within_bytes(ids, max_bytes=8 * 1024)
    assert page == ids[: len(page)] and page
    assert len(json.dumps(page)) <= 8 * 1024 or len(page) == 1


@given(st.integers(min_value=0, max_value=30), st.floats(min_value=0, max_value=1))
def test_full_jitter_backoff_stays_under_the_exponential_cap(attempt, draw):
    delay = fanout.full_jitter_delay(attempt, base=0.05, cap=2.0, rng=lambda: draw)
    assert 0 <= delay <= min(2.0, 0.05 * 2**attempt)


def test_a_pacer_spends_at_most_its_rate_counting_from_its_start():
    clock = FakeClock()
    pacer = fanout.Pacer(20.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(8):
        pacer.acquire(25)
        starts.append(clock.now - 100.0)
    # 25 units at 20 a second: the k-th batch may start once (k+1)*25 units are earned.
    assert starts == pytest.approx([1.25 * (k + 1) for k in range(8)])


def test_a_pacer_does_not_sleep_for_time_already_spent_working():
    clock = FakeClock()
    pacer = fanout.Pacer(100.0, clock=clock, sleep=clock.sleep)
    clock.now += 5.0  # the writer was busy longer than its budget asks
    assert pacer.delay_for(25) == 0.0


def test_an_unpaced_writer_never_waits():
    assert fanout.Pacer(None).delay_for(10_000) == 0.0


def test_budget_is_shared_equally_by_the_writers():
    assert fanout.worker_rate(100, 5) == 20.0
    with pytest.raises(ValueError):
        fanout.worker_rate(0, 5)


def test_tally_adds_a_pages_batch_results_to_the_totals():
    totals = {"followers": 200, "written": 100, "deadLettered": 0, "pages": 1}
    out = fanout.tally(totals, [{"written": 100, "deadLettered": 0}, {"written": 0, "deadLettered": 100}])
    assert out == {"followers": 200, "written": 200, "deadLettered": 100, "pages": 1}


STATUS = {
    "statusId": "abc",
    "post": "p" * 600,
    "postedAt": "2026-01-01T00:00:00.000000Z",
    "timestamp": "2026-01-01T00:00:00.000000Z#abc",
    "author": {"userId": "alice", "screenName": "Alice", "avatar": None},
}


def test_a_feed_item_is_keyed_by_follower_and_post_time_then_status():
    item = fanout.listing_item("bob", STATUS)
    assert (item["userAlias"], item["timestamp"], item["statusId"]) == ("bob", STATUS["timestamp"], "abc")
    assert item["author"] == {"userId": "alice", "screenName": "Alice"}
    assert fanout.listing_item("bob", STATUS) == item  # a replay writes the very same item


@given(st.text(max_size=2000), st.integers(min_value=-(10**12), max_value=10**12))
def test_the_writer_and_the_capacity_emulator_agree_on_item_size(text, number):
    item = {**fanout.listing_item("bob", {**STATUS, "post": text or "x"}), "count": number}
    assert fanout.item_size(item) == capacity.item_size(to_item(item))
    assert fanout.write_units(item) == capacity.write_units(to_item(item))


def test_one_wcu_per_started_kilobyte():
    assert fanout.write_units({"k": "x" * 1000}) == 1
    assert fanout.write_units({"k": "x" * 1023}) == 1
    assert fanout.write_units({"k": "x" * 1024}) == 2


KEY = b"k" * 32


def test_a_cursor_continues_where_its_page_ended():
    cursor = cursors.issue(KEY, "feed:bob", "bob", "2026-01-01T00:00:00.000000Z#abc")
    assert cursors.position_of(KEY, cursor, "feed:bob", "bob") == "2026-01-01T00:00:00.000000Z#abc"


@pytest.mark.parametrize(
    ("listing", "reader", "key"),
    [
        ("feed:carol", "bob", KEY),
        ("story:bob", "bob", KEY),
        ("feed:bob", "carol", KEY),
        ("feed:bob", "bob", b"x"),
    ],
)
def test_a_cursor_for_another_listing_reader_or_key_is_refused(listing, reader, key):
    cursor = cursors.issue(KEY, "feed:bob", "bob", "2026#abc")
    with pytest.raises(InvalidCursor):
        cursors.position_of(key, cursor, listing, reader)


@given(st.text(max_size=300))
def test_anything_that_is_not_an_issued_cursor_is_refused(text):
    with pytest.raises(InvalidCursor):
        cursors.position_of(KEY, text, "feed:bob", "bob")


def test_an_edited_cursor_is_refused():
    body, signature = cursors.issue(KEY, "feed:bob", "bob", "2026#abc").split(".")
    forged = cursors._b64(json.dumps({"l": "feed:bob", "r": "bob", "p": "2099"}).encode())
    with pytest.raises(InvalidCursor):
        cursors.position_of(KEY, f"{forged}.{signature}", "feed:bob", "bob")


def test_a_retried_post_gets_the_same_status_id_and_execution_name():
    first = publishing.status_id_for("alice", "key-1")
    assert publishing.status_id_for("alice", "key-1") == first
    assert publishing.status_id_for("bob", "key-1") != first
    assert publishing.execution_name(first) == f"status-{first}"
    assert publishing.status_id_for("alice", None) != publishing.status_id_for("alice", None)
    with pytest.raises(InvalidIdempotencyKey):
        publishing.status_id_for("alice", "spaces are not allowed")
