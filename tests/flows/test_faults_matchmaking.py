"""Matchmaking (queue_pairing and the games) under each fault, on the real `arcadeflow up`:
every player is in exactly one game, told `paired` once, and told how it ended (`gameOver` or
`opponentLeft`) once (README "Matchmaking").

- the pairing task fails with an error no Retry covers: the pairing executions FAIL with the
  tickets still waiting (nobody paired, nobody told); redriven, one of them pairs the two;
- the pairing task times out or its worker crashes: transient, retried; paired as without it;
- the games table throttles a move: the SDK retries it; the game goes on to its end;
- a player's connection drops mid-game (at once, or instead of a push): the game is abandoned
  and the one who stayed told once, even when the disconnects consumer fails on that record.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.flows.duel_support import close_all
from tests.flows.matchmaking_support import game, games_of, paired, pairings_settled, play, player, ticket
from tests.support import faults
from tests.support.faults import ERROR_TYPE, LAMBDA_MODES, settle

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def no_faults_left(stack):
    faults.clear(stack)
    yield
    faults.clear(stack)


def _pairings_of(stack, user_ids: set[str]) -> list[dict]:
    sfn = stack.client("stepfunctions")
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=stack.endpoints()["stateMachines"]["queue_pairing"]
    )
    described = [
        sfn.describe_execution(executionArn=e["executionArn"]) for page in pages for e in page["executions"]
    ]
    return [d for d in described if json.loads(d["input"]).get("userId") in user_ids]


async def _queued_pair(stack):
    x, o = await player(stack, "x"), await player(stack, "o")
    await x.send(action="joinQueue")
    await x.frame("queued")
    await o.send(action="joinQueue")
    await o.frame("queued")
    return x, o


async def _win(x, o, game_id: str) -> None:
    """X takes the top row; both must be told once."""
    for mover, waiter, cell in ((x, o, 0), (o, x, 3), (x, o, 1), (o, x, 4), (x, o, 2)):
        await play(mover, waiter, game_id, cell)
    expected = {"type": "gameOver", "gameId": game_id, "result": "win", "winner": x.name}
    assert await x.frame("gameOver") == await o.frame("gameOver") == expected


@pytest.mark.parametrize("mode", LAMBDA_MODES)
def test_pairing_under_a_fault_puts_both_players_in_one_game_told_once(stack, mode):
    async def scenario():
        # The first attempt of both joins' pairing executions fails.
        faults.fail_function(stack, "matchmaking_pair", [1, 2], mode)
        x, o = await _queued_pair(stack)
        names = {x.name, o.name}
        try:
            await pairings_settled(stack)
            executions = _pairings_of(stack, names)
            if mode == "error":
                assert [e["status"] for e in executions] == ["FAILED", "FAILED"]
                assert ticket(stack, x.name)["status"] == ticket(stack, o.name)["status"] == "waiting"
                assert x.frames("paired") == o.frames("paired") == []
                redriven = await asyncio.gather(
                    *(
                        asyncio.to_thread(faults.redrive_and_finish, stack, e["executionArn"])
                        for e in executions
                    )
                )
                assert [r["status"] for r in redriven] == ["SUCCEEDED", "SUCCEEDED"]
            else:
                assert [e["status"] for e in executions] == ["SUCCEEDED", "SUCCEEDED"]
                errors = [err for e in executions for err in faults.task_errors(stack, e["executionArn"])]
                assert errors.count(ERROR_TYPE[mode]) == 2
            to_x, to_o = await paired(x, o)
            assert to_x["gameId"] == to_o["gameId"]
            if to_x["marker"] == "O":
                x, o = o, x  # whoever waited longer is X
            await _win(x, o, to_x["gameId"])
            await settle(x, o)
            for p in (x, o):
                assert len(p.frames("paired")) == len(p.frames("gameOver")) == 1, p.name
            return names, to_x["gameId"]
        finally:
            await close_all(x, o)

    names, game_id = asyncio.run(scenario())
    assert faults.lambda_fault(stack, "matchmaking_pair")["failed"] == [1, 2]
    assert [g["gameId"] for g in games_of(stack, names)] == [game_id]  # one game per player
    assert game(stack, game_id)["status"] == "won"


def test_a_game_whose_moves_are_throttled_goes_on_to_one_end(stack):
    async def scenario():
        x, o = await _queued_pair(stack)
        try:
            to_x, _ = await paired(x, o)
            if to_x["marker"] == "O":
                x, o = o, x
            faults.throttle_table(stack, "games", [1, 2])  # the first move's write, twice
            await _win(x, o, to_x["gameId"])
            await settle(x, o)
            for p in (x, o):
                assert len(p.frames("gameOver")) == 1, p.name
                assert p.frames("error") == [], p.name
            return to_x["gameId"]
        finally:
            await close_all(x, o)

    game_id = asyncio.run(scenario())
    assert (game(stack, game_id)["status"], game(stack, game_id)["board"]) == ("won", "XXXOO....")
    assert faults.throttled_calls(stack, "games") == 2


@pytest.mark.parametrize(
    ("drop", "consumer_fault"),
    [("now", None), ("on-push", None), ("now", "error"), ("now", "timeout"), ("now", "crash")],
    ids=[
        "dropped",
        "dropped-on-a-push",
        "dropped-consumer-error",
        "dropped-consumer-timeout",
        "dropped-consumer-crash",
    ],
)
def test_a_player_dropped_mid_game_abandons_it_and_the_other_is_told_once(stack, drop, consumer_fault):
    async def scenario():
        x, o = await _queued_pair(stack)
        try:
            to_x, _ = await paired(x, o)
            if to_x["marker"] == "O":
                x, o = o, x
            game_id = to_x["gameId"]
            if consumer_fault is not None:
                # The disconnects consumer fails on the record of o's connection going away;
                # the stream's retry must still abandon the game and tell x exactly once.
                faults.fail_function(stack, "matchmaking_disconnects", [1], consumer_fault)
            if drop == "now":
                await play(x, o, game_id, 0)
                faults.drop_connection(stack, user_id=o.name)
            else:
                faults.drop_connection(stack, user_id=o.name, on_push=1)
                await x.send(action="move", gameId=game_id, cell=0)  # its push to o drops o instead
            left = await x.frame("opponentLeft", timeout=30)
            assert left == {"type": "opponentLeft", "gameId": game_id}
            await faults_quiet(stack, o.name)
            await settle(x)
            assert len(x.frames("opponentLeft")) == 1
            assert x.frames("gameOver") == []
            return game_id, o.name, x.name
        finally:
            await close_all(x, o)

    game_id, dropped, stayed = asyncio.run(scenario())
    recorded = game(stack, game_id)
    assert (recorded["status"], recorded["abandonedBy"]) == ("abandoned", dropped)
    assert ticket(stack, stayed) is None and ticket(stack, dropped) is None
    if consumer_fault is not None:
        assert faults.lambda_fault(stack, "matchmaking_disconnects")["failed"] == [1]


async def faults_quiet(stack, user_id: str) -> None:
    """The dropped player's connection is forgotten: API Gateway ran $disconnect."""
    await asyncio.to_thread(faults.wait_for_no_connections, stack, user_id)
