"""Parallel: branch outputs in branch order, ResultPath and ResultSelector, a failing branch.

AWS: Step Functions developer guide, "Parallel workflow state"."""

from __future__ import annotations

from typing import Any


def branch(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"StartAt": states[0][0], "States": dict(states)}


def parallel(*branches: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "Both",
        "States": {"Both": {"Type": "Parallel", "Branches": list(branches), "End": True, **fields}},
    }


def test_parallel_output_is_the_branch_outputs_in_branch_order(aws):
    """Developer guide, "Parallel workflow state": the output is an array of each branch's
    output, in the order of Branches, whichever finishes first. The first branch waits, so it
    finishes last."""
    slow = branch(
        ("Hold", {"Type": "Wait", "Seconds": 1, "Next": "A"}),
        ("A", {"Type": "Pass", "Result": "a", "End": True}),
    )
    fast = branch(("B", {"Type": "Pass", "Result": "b", "End": True}))
    run = aws.run(parallel(slow, fast))
    assert (run.status, run.output) == ("SUCCEEDED", ["a", "b"])


def test_parallel_gives_every_branch_the_states_input(aws):
    # State names are unique across the whole machine, branches included (AWS refuses a repeat).
    first = branch(("First", {"Type": "Pass", "End": True}))
    second = branch(("Second", {"Type": "Pass", "End": True}))
    run = aws.run(parallel(first, second), {"x": 1})
    assert run.output == [{"x": 1}, {"x": 1}]


def test_parallel_result_path_and_result_selector_place_the_branches(aws):
    one = branch(("One", {"Type": "Pass", "Result": {"v": 1}, "End": True}))
    two = branch(("Two", {"Type": "Pass", "Result": {"v": 2}, "End": True}))
    run = aws.run(
        parallel(one, two, ResultSelector={"first.$": "$[0].v", "second.$": "$[1].v"}, ResultPath="$.both"),
        {"kept": True},
    )
    assert run.output == {"kept": True, "both": {"first": 1, "second": 2}}


def test_parallel_fails_with_a_branchs_error(aws):
    """Developer guide, "Parallel workflow state": if any branch fails, the whole Parallel state
    fails (with that branch's error)."""
    good = branch(("Good", {"Type": "Pass", "End": True}))
    bad = branch(("Bad", {"Type": "Fail", "Error": "Broken", "Cause": "a branch broke"}))
    run = aws.run(parallel(good, bad))
    assert (run.status, run.error, run.cause) == ("FAILED", "Broken", "a branch broke")
    assert "ParallelStateFailed" in [e["type"] for e in run.events]


def test_parallel_history_has_its_events(aws):
    run = aws.run(parallel(branch(("Only", {"Type": "Pass", "End": True}))))
    types = [e["type"] for e in run.events]
    assert types[:3] == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]
    assert types[-3:] == ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]
