"""queue_pairing and the matchmaking routes end to end: real WebSocket players against
`arcadeflow up`, through join, pairing, a whole game, requeue, disconnects and every bad frame.

Every player is new per test, but all tests share one queue: a test that leaves a player
waiting would pair with the next test's first joiner, so each test ends with its queue empty.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.flows.duel_support import close_all
from tests.flows.matchmaking_support import (
    crowd,
    game,
    games_of,
    paired,
    play,
    player,
    presence,
    quiet,
    tab,
    ticket,
    wall_ms,
)
from tests.support.stack import RunningStack, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = RunningStack(tmp_path_factory.mktemp("arcadeflow-matchmaking"), ["--ttl-interval", "1"])
    yield running
    running.stop()


def test_two_players_are_paired_play_to_a_win_and_requeue(stack):
    async def scenario():
        alice, bob = await player(stack, "alice"), await player(stack, "bob")
        await alice.send(action="joinQueue", username="Alice A")
        assert await alice.frame("queued") == {"type": "queued", "position": 1, "waiting": 1}
        assert presence(stack, alice.name)["status"] == "matchmaking"
        await bob.send(action="joinQueue")
        queued_b = await bob.frame("queued")
        assert queued_b["position"] in (1, 2)  # 1 if the pairing already took Alice
        to_alice, to_bob = await paired(alice, bob)
        assert to_alice["gameId"] == to_bob["gameId"]
        game_id = to_alice["gameId"]
        # Alice waited longer: she is X and moves first.
        assert (to_alice["marker"], to_alice["opponent"]) == ("X", bob.name)
        assert (to_bob["marker"], to_bob["opponent"], to_bob["opponentName"]) == ("O", alice.name, "Alice A")
        assert presence(stack, alice.name)["status"] == "playing"
        assert presence(stack, bob.name)["gameId"] == game_id

        # X takes the top row.
        assert await play(alice, bob, game_id, 0) == {"type": "move", "gameId": game_id, "cell": 0, "marker": "X"}
        await play(bob, alice, game_id, 3)
        await play(alice, bob, game_id, 1)
        await play(bob, alice, game_id, 4)
        await play(alice, bob, game_id, 2)
        over_a, over_b = await alice.frame("gameOver"), await bob.frame("gameOver")
        assert over_a == over_b == {"type": "gameOver", "gameId": game_id, "result": "win", "winner": alice.name}
        recorded = game(stack, game_id)
        assert (recorded["status"], recorded["winner"], recorded["board"]) == ("won", alice.name, "XXXOO....")
        # After the end both are free: requeue pairs them again, in a new game.
        assert ticket(stack, alice.name) is None and ticket(stack, bob.name) is None
        await alice.send(action="requeue")
        await alice.frame("queued")
        await bob.send(action="requeue")
        again_a, again_b = await paired(alice, bob)
        assert again_a["gameId"] == again_b["gameId"] != game_id
        assert again_a["marker"] == "X"
        await finish(alice, bob, again_a["gameId"])
        await close_all(alice, bob)

    asyncio.run(scenario())


async def finish(x, o, game_id: str) -> None:
    """Plays a game to a draw (X O X / X O O / O X X), so both players leave it."""
    for mover, waiter, cell in (
        (x, o, 0), (o, x, 1), (x, o, 2), (o, x, 4), (x, o, 3),
        (o, x, 5), (x, o, 7), (o, x, 6), (x, o, 8),
    ):  # fmt: skip
        await play(mover, waiter, game_id, cell)
    assert (await x.frame("gameOver", gameId=game_id))["result"] == "draw"
    assert "winner" not in await o.frame("gameOver", gameId=game_id)


def test_a_draw_is_detected_by_the_server(stack):
    async def scenario():
        x, o = await player(stack, "x"), await player(stack, "o")
        await x.send(action="joinQueue")
        await x.frame("queued")
        await o.send(action="joinQueue")
        first, _ = await paired(x, o)
        await finish(x, o, first["gameId"])
        assert game(stack, first["gameId"])["status"] == "draw"
        await close_all(x, o)

    asyncio.run(scenario())
