"""The peer benchmark (benchmarks/peer_ministack.py) measured at tiny sizes against the embedded
AWS alone, so that the script cannot rot unnoticed: every figure is measured, each from as many
calls as it says, its answers checked, and the side-by-side table holds one row per figure and
statistic. Both "engines" here are the same embedded AWS process (EmbeddedAwsProcess: the
patches, interceptors and Lambda runner `arcadeflow up` starts, without a deployment): MiniStack
is not started by the suite. No timing is asserted; only that the figures are consistent."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks.peer_ministack import (
    EMBEDDED,
    MINISTACK,
    Row,
    Sizes,
    rows,
    run_rounds,
    summary,
)
from benchmarks.peer_ministack import render as render_table
from tests.functional.branches.conftest import EmbeddedAwsProcess

TINY = Sizes(
    puts=6,
    gets=7,
    updates=8,
    query_pages=2,
    batch_items=60,
    invokes=3,
    executions=2,
    poll_seconds=0.01,
    warmup=1,
)
# Requests each figure is made of at TINY: BatchWriteItem sends 25 items a request, and its 4 writers
# share the 60 items 15 each (one request apiece).
EXPECTED_FIGURES = [
    ("DynamoDB", "PutItem x6, sequential", 6),
    ("DynamoDB", "GetItem x7, sequential", 7),
    ("DynamoDB", "UpdateItem x8 with a condition", 8),
    ("DynamoDB", "Query page of 100 items x2", 2),
    ("DynamoDB", "BatchWriteItem 60 items, 1 writer", 3),
    ("DynamoDB", "BatchWriteItem 60 items, 4 writers", 4),
    ("Lambda", "Invoke, cold (first after CreateFunction)", 1),
    ("Lambda", "Invoke x3, warm", 3),
    ("Step Functions", "STANDARD execution x2, three Pass states, start to SUCCEEDED", 2),
    ("Step Functions", "STANDARD execution x2, one Lambda Task, start to SUCCEEDED", 2),
]


@pytest.fixture(scope="module")
def two_rounds(tmp_path_factory: pytest.TempPathFactory):
    aws = EmbeddedAwsProcess(tmp_path_factory.mktemp("peer-benchmark"))
    starts: list[str] = []

    def engine(name: str):
        @contextmanager
        def start(work_dir: Path) -> Iterator[str]:
            starts.append(name)
            yield aws.url

        return start

    try:
        results = run_rounds(
            {EMBEDDED: engine(EMBEDDED), MINISTACK: engine(MINISTACK)},
            TINY,
            rounds=2,
            work_dir=tmp_path_factory.mktemp("peer-work"),
            log=lambda text: None,
        )
    finally:
        aws.stop()
    return results, starts


def test_each_round_measures_both_engines_in_alternating_order(two_rounds):
    results, starts = two_rounds
    assert starts == [EMBEDDED, MINISTACK, MINISTACK, EMBEDDED]
    assert [(r.round, r.engine, r.order) for r in results] == [
        (1, EMBEDDED, 0),
        (1, MINISTACK, 1),
        (2, MINISTACK, 0),
        (2, EMBEDDED, 1),
    ]


def test_every_figure_is_measured_from_the_calls_it_names(two_rounds):
    results, _ = two_rounds
    for result in results:
        assert [(f.group, f.name, f.calls) for f in result.figures] == EXPECTED_FIGURES
        for fig in result.figures:
            assert 0 < fig.p50_ms <= fig.p99_ms, fig
            # No single call outlasts all the calls of its figure together.
            assert fig.p99_ms <= fig.wall_s * 1000 * 1.001, fig


def test_the_table_has_a_row_per_figure_and_statistic_with_each_rounds_values(two_rounds):
    results, _ = two_rounds
    table = rows(results)
    # The engines' start, then wall, p50 and p99 of each figure; the cold invoke is one call.
    assert len(table) == 1 + 3 * (len(EXPECTED_FIGURES) - 1) + 1
    assert table[0].figure == "start until it answers"
    cold = next(row for row in table if row.figure.startswith("Invoke, cold"))
    assert cold.unit == "ms"
    put_p50 = next(row for row in table if row.figure == "PutItem x6, sequential, p50")
    # In the order measured: round 1's figure, then round 2's.
    assert put_p50.embedded == [results[0].figures[0].p50_ms, results[3].figures[0].p50_ms]
    assert put_p50.peer == [results[1].figures[0].p50_ms, results[2].figures[0].p50_ms]
    for row in table:
        assert len(row.embedded) == len(row.peer) == 2
        assert math.isfinite(row.ratio) and row.ratio > 0
        assert (row.holds is None) == (row.group == "Engine")

    rendered = render_table(table).splitlines()
    assert len(rendered) == 2 + len(table)
    assert all(line.count("|") == 9 for line in rendered)
    assert summary(table).startswith("targets held: ")
    assert f"of {len(table) - 1}" in summary(table)


@pytest.mark.parametrize(
    ("target", "embedded", "peer", "holds"),
    [
        (">= 1", [10.0, 12.0], [10.0, 12.0], True),  # as fast: at least as fast
        (">= 1", [10.0, 12.0], [9.0, 11.0], False),
        ("> 1", [10.0, 12.0], [10.0, 12.0], False),  # as fast: the lead is gone
        ("> 1", [10.0, 12.0], [30.0, 40.0], True),
        ("", [1.0], [2.0], None),
    ],
)
def test_a_target_holds_on_the_ratio_of_the_medians(target, embedded, peer, holds):
    row = Row("DynamoDB", "PutItem, p50", "ms", embedded, peer, target)
    assert row.holds is holds
