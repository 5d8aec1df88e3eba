"""queue_pairing's branches, driven without a stack: a lost race retried with backoff until the
pairing lands, an odd player out who simply waits, a task that stopped at its pair limit
looping back, and a fault that fails the execution instead of being retried forever."""

from __future__ import annotations

import uuid

import pytest

PAIRS = [{"gameId": "g-1", "playerX": "alice", "playerO": "bob"}]


@pytest.fixture(scope="module")
def flow(bench):
    return bench.state_machine("queue_pairing")


def _joiner(bench, *steps: dict) -> tuple[str, dict]:
    """A joiner whose pairing task answers `steps`, one per attempt (the last repeats)."""
    user_id = f"joiner-{uuid.uuid4().hex[:8]}"
    bench.script(user_id, "matchmaking_pair", *steps)
    return user_id, {"userId": user_id, "reason": "joinQueue"}


def test_a_lost_race_is_retried_until_the_pairing_lands(bench, flow):
    user_id, flow_input = _joiner(
        bench,
        {"raise": "PairingConflict", "message": "bob was taken by another pairing"},
        {"raise": "PairingConflict", "message": "carol was taken by another pairing"},
        {"return": {"pairs": PAIRS, "waiting": 0, "pairLimitReached": False}},
    )
    execution = flow.run(user_id, flow_input)
    assert execution.status == "SUCCEEDED", execution.describe()
    assert execution.output == {"pairs": PAIRS, "waiting": 0, "pairLimitReached": False}
    # Three attempts of the one state (Retry, not a loop through other states), each with the input.
    assert bench.calls(user_id, "matchmaking_pair") == [flow_input] * 3
    assert execution.states_entered() == ["PairWaitingPlayers", "IsPairLimitReached", "QueueDrained"]


def test_an_odd_player_out_simply_waits(bench, flow):
    user_id, flow_input = _joiner(bench, {"return": {"pairs": [], "waiting": 1, "pairLimitReached": False}})
    execution = flow.run(user_id, flow_input)
    assert execution.status == "SUCCEEDED", execution.describe()
    assert execution.output == {"pairs": [], "waiting": 1, "pairLimitReached": False}
    assert len(bench.calls(user_id, "matchmaking_pair")) == 1


def test_a_task_that_handed_over_ends_even_with_two_waiting(bench, flow):
    """The lease's holder pairs them; looping here would only spin against the lease."""
    user_id, flow_input = _joiner(bench, {"return": {"pairs": [], "waiting": 2, "pairLimitReached": False}})
    execution = flow.run(user_id, flow_input)
    assert execution.status == "SUCCEEDED", execution.describe()
    assert len(bench.calls(user_id, "matchmaking_pair")) == 1


def test_a_task_that_stopped_at_its_pair_limit_pairs_again(bench, flow):
    user_id, flow_input = _joiner(
        bench,
        {"return": {"pairs": PAIRS, "waiting": 2, "pairLimitReached": True}},
        {"return": {"pairs": [], "waiting": 0, "pairLimitReached": False}},
    )
    execution = flow.run(user_id, flow_input)
    assert execution.status == "SUCCEEDED", execution.describe()
    assert len(bench.calls(user_id, "matchmaking_pair")) == 2
    assert execution.states_entered().count("PairWaitingPlayers") == 2


def test_a_transient_lambda_error_is_retried(bench, flow):
    user_id, flow_input = _joiner(
        bench,
        {"raise": "Lambda.ServiceException"},
        {"return": {"pairs": PAIRS, "waiting": 1, "pairLimitReached": False}},
    )
    execution = flow.run(user_id, flow_input)
    assert execution.status == "SUCCEEDED", execution.describe()
    assert len(bench.calls(user_id, "matchmaking_pair")) == 2


def test_a_fault_of_the_pairing_fails_the_execution_at_once(bench, flow):
    user_id, flow_input = _joiner(
        bench, {"raise": "MissingConfiguration", "message": "GAMES_TABLE is not set"}
    )
    execution = flow.run(user_id, flow_input)
    assert execution.status == "FAILED", execution.describe()
    assert execution.error == "MissingConfiguration"
    assert len(bench.calls(user_id, "matchmaking_pair")) == 1
