"""The measuring functions of benchmarks/cost_growth.py and benchmarks/feed_pages.py, run at tiny
sizes against the shared stack: each table has its rows, and nothing was lost or misread on the
way (every follower's feed has the status, every page holds what the table holds). Correctness
only: the figures themselves are the benchmarks' to print."""

from __future__ import annotations

import math
import uuid

import pytest

from benchmarks.cost_growth import duel_table, fanout_table, measure_duel_growth, measure_fanout_growth
from benchmarks.feed_pages import measure_pages, pages_table


def _table_rows(table: str) -> list[list[str]]:
    """The body rows of a Markdown table (those after the |---| line)."""
    lines = [line for line in table.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


# The fan-out benchmark counts DynamoDB calls through the fault switch's counters.
@pytest.mark.needs("fault_switch")
def test_every_follower_gets_the_status_at_every_size_and_the_table_has_a_row_per_size(stack):
    sizes = [3, 130]  # one batch writer, two (100 followers a batch)
    result = measure_fanout_growth(stack, sizes, prefix=f"g{uuid.uuid4().hex[:8]}", timeout=180)

    assert result["seeding"]["follows"] == sum(sizes)
    rows = result["rows"]
    assert [row["followers"] for row in rows] == sizes
    for row in rows:
        assert row["status"] == "SUCCEEDED", row
        assert row["feedsWithStatus"] == row["followers"], row
        # A first page read, its batch writers, and the read that tallies the last page.
        assert row["lambdaInvocations"] >= 3, row
        assert row["feedWrites"] >= math.ceil(row["followers"] / 25), row
        assert row["followerQueries"] >= 1, row
        assert row["largestPayloadBytes"] > 0 and row["largestPayloadAt"], row
    assert rows[1]["events"] > rows[0]["events"]  # two Map iterations, not one

    table_rows = _table_rows(fanout_table(result))
    assert [cells[0] for cells in table_rows] == ["3", "130"]
    assert [cells[-1] for cells in table_rows] == ["3 of 3 (SUCCEEDED)", "130 of 130 (SUCCEEDED)"]


# The duel and page benchmarks address `arcadeflow up` itself: its WebSocket port and stage,
# and tokens of its own issuer (benchmarks/cost_growth.py, benchmarks/feed_pages.py).
@pytest.mark.needs("embedded_runtime")
def test_every_pair_of_every_concurrency_gets_each_frame_it_waits_for(stack):
    rows = measure_duel_growth(stack, [1, 3], rounds=2, warmup=0, prefix=f"g{uuid.uuid4().hex[:8]}")

    for row, pairs in zip(rows, (1, 3), strict=True):
        assert row["concurrency"] == pairs
        assert {name: len(values) for name, values in row["samples"].items()} == {
            "ping round trip": pairs * 2,
            "invite delivery": pairs * 2,
            "accept to start": pairs * 2,
        }
    assert [cells[:2] for cells in _table_rows(duel_table(rows))] == [["1", "2"], ["3", "6"]]


@pytest.mark.needs("embedded_runtime")
def test_every_page_of_the_feed_and_the_story_holds_what_the_table_holds(stack):
    result = measure_pages(
        stack, items=120, requests_each=2, limit=50, deep_item=60, prefix=f"g{uuid.uuid4().hex[:8]}"
    )

    for listing in ("feed", "story"):
        figures = result[listing]
        assert figures["items"] == 120
        assert figures["pages"] == 3  # 50 + 50 + 20
        assert figures["walkedInOrder"], listing
        assert figures["deepPageStartsAt"] == 50
        assert figures["pagesUnlikeRawQuery"] == 0, listing
        assert {kind: len(samples) for kind, samples in figures["seconds"].items()} == {
            "first http": 2,
            "first raw": 2,
            "deep http": 2,
            "deep raw": 2,
        }
    assert len(_table_rows(pages_table(result))) == 4
