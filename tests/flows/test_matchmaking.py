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
    arrived_ms,
    crowd,
    eventually,
    failed_pairings,
    game,
    games_of,
    paired,
    pairings_settled,
    play,
    player,
    presence,
    quiet,
    tab,
    ticket,
    waiting_tickets,
)
from tests.functional.answers import check_against
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
        assert await play(alice, bob, game_id, 0) == {
            "type": "move",
            "gameId": game_id,
            "cell": 0,
            "marker": "X",
        }
        await play(bob, alice, game_id, 3)
        await play(alice, bob, game_id, 1)
        await play(bob, alice, game_id, 4)
        await play(alice, bob, game_id, 2)
        over_a, over_b = await alice.frame("gameOver"), await bob.frame("gameOver")
        assert (
            over_a == over_b == {"type": "gameOver", "gameId": game_id, "result": "win", "winner": alice.name}
        )
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


def fifo_violations(clients, tickets: dict[str, dict], paired_at: dict[str, float]) -> list[str]:
    """Pairs that overtook a player certainly waiting when they were read.

    Player P was certainly waiting while game G's two tickets were read if P's ticket was written
    before G's pairing task read the clock (P's `queued` arrived before G's pairedAtMs) and P's
    own pairing read the clock after G's transaction had committed (after G's `paired` arrived).
    Then FIFO says P joined later than both of G's players. Same host, same clock: no tolerance."""
    queued_at = {c.name: arrived_ms(c, "queued")[0] for c in clients}
    games: dict[str, list[str]] = {}
    for user, record in tickets.items():
        games.setdefault(record["gameId"], []).append(user)
    problems = []
    for game_id, players_of_g in games.items():
        read_at = tickets[players_of_g[0]]["pairedAtMs"]
        committed_by = max(paired_at[u] for u in players_of_g)
        newest_of_g = max(tickets[u]["joinKey"] for u in players_of_g)
        for user, record in tickets.items():
            if record["gameId"] == game_id:
                continue
            if (
                queued_at[user] < read_at
                and record["pairedAtMs"] > committed_by
                and record["joinKey"] < newest_of_g
            ):
                problems.append(
                    f"{user} (joined {record['joinKey']}) waited while {players_of_g} were paired"
                )
    return problems


async def sees_itself_alone(client) -> None:
    alone = {"type": "queueUpdate", "position": 1, "waiting": 1}
    await eventually(lambda: client.frames("queueUpdate")[-1:] == [alone], f"{client.name}'s last update")


def per_change_updates(clients, unpaired: list[str]) -> int:
    """How many queueUpdates one frame per change per waiting player would have sent: for each
    player, the joins and pairings of the others between its `queued` and its `paired`."""
    entered = {c.name: arrived_ms(c, "queued")[0] for c in clients}
    left = {c.name: arrived_ms(c, "paired")[0] for c in clients if c.name not in unpaired}
    total = 0
    for name, start in entered.items():
        end = left.get(name, float("inf"))
        total += sum(1 for other, at in entered.items() if other != name and start < at < end)
        total += sum(1 for other, at in left.items() if other != name and start < at < end)
    return total


# Rounds of concurrent joins; the odd one out of the third round waits and opens the fourth.
ROUNDS = (100, 100, 101, 99)


def test_concurrent_joins_pair_everyone_once_in_join_order(stack):
    async def scenario():
        carried_over = None  # the odd player out of the previous round, still waiting
        everyone: list = []
        for number, count in enumerate(ROUNDS):
            clients = await crowd(stack, f"r{number}p", count)
            everyone += clients
            await asyncio.gather(*(c.send(action="joinQueue") for c in clients))
            await asyncio.gather(*(c.seen("queued", timeout=60) for c in clients))
            await pairings_settled(stack, waiting_at_most=1)  # any two waiting players get paired
            in_round = clients + ([carried_over] if carried_over else [])
            names = {c.name for c in in_round}
            frames = {c.name: c.frames("paired") for c in in_round}
            # Nobody paired twice (every tab hears its one game once), nobody left behind but
            # an odd player out.
            assert all(len(f) <= 1 for f in frames.values()), {n: f for n, f in frames.items() if len(f) > 1}
            unpaired = [n for n, f in frames.items() if not f]
            assert len(unpaired) == len(in_round) % 2, unpaired
            waiting = [t["userId"] for t in waiting_tickets(stack)]
            assert waiting == unpaired
            # Every paired player is in exactly one game, the one they were told about.
            games = games_of(stack, names)
            assert len(games) == len(in_round) // 2
            seats = [p for g in games for p in (g["playerX"], g["playerO"])]
            assert len(seats) == len(set(seats)) == len(in_round) - len(unpaired)
            by_id = {g["gameId"]: g for g in games}
            tickets = {n: ticket(stack, n) for n in names if n not in unpaired}
            for name, record in tickets.items():
                (told,) = frames[name]
                assert record["gameId"] == told["gameId"]
                seat = by_id[told["gameId"]]
                assert seat["playerX" if told["marker"] == "X" else "playerO"] == name
                # A join's own `matchmaking` presence never lands over the pairing's `playing`.
                seen = presence(stack, name)
                assert (seen["status"], seen["gameId"]) == ("playing", told["gameId"]), name
            # X waited longer, and no pair overtook a player who was waiting when it was read.
            for g in games:
                assert tickets[g["playerX"]]["joinKey"] < tickets[g["playerO"]]["joinKey"]
            paired_at = {c.name: arrived_ms(c, "paired")[0] for c in in_round if c.name not in unpaired}
            assert fifo_violations([c for c in in_round if c.name in tickets], tickets, paired_at) == []
            if carried_over is not None:
                # The carried-over player had waited a whole round longer than anyone: first, and X.
                first = min(games, key=lambda g: g["createdAtMs"])
                assert first["playerX"] == carried_over.name
            # queueUpdate is coalesced per stream batch: far fewer frames than one per change
            # per waiting player would send.
            updates = sum(len(c.frames("queueUpdate")) for c in in_round)
            per_change = per_change_updates(in_round, unpaired)
            assert updates * 3 <= per_change, f"{updates} queueUpdates; one per change would be {per_change}"
            carried_over = next((c for c in in_round if c.name in unpaired), None)
            if carried_over is not None:
                # The odd one out sees the queue as it ends up: alone, first.
                await sees_itself_alone(carried_over)
        assert carried_over is None
        assert failed_pairings(stack) == []
        await close_all(*everyone)

    asyncio.run(scenario())


def test_one_ticket_per_player_across_tabs_and_double_taps(stack):
    async def scenario():
        alice = await player(stack, "alice")
        second_tab = await tab(stack, alice)
        # A double tap: two joins at once from one tab, then one from the other tab.
        await asyncio.gather(alice.send(action="joinQueue"), alice.send(action="joinQueue"))
        refused = await alice.frame("error")
        assert refused["code"] == "already_queued"
        first = ticket(stack, alice.name)
        await second_tab.send(action="joinQueue")
        assert (await second_tab.frame("error"))["code"] == "already_queued"
        assert ticket(stack, alice.name) == first  # nothing changed
        # Every tab heard the one queued; only the sender heard each refusal.
        assert len(alice.frames("queued")) == len(second_tab.frames("queued")) == 1
        assert len(second_tab.frames("error")) == 1 and len(alice.frames("error")) == 1
        await second_tab.send(action="leaveQueue")
        await alice.frame("queueLeft")
        await second_tab.frame("queueLeft")
        assert ticket(stack, alice.name) is None
        assert presence(stack, alice.name)["status"] == "home"
        await alice.send(action="leaveQueue")
        assert (await alice.frame("error"))["code"] == "not_queued"
        await close_all(alice, second_tab)

    asyncio.run(scenario())


def test_bad_frames_are_refused_and_change_nothing(stack):
    async def scenario():
        x, o, outsider = await player(stack, "x"), await player(stack, "o"), await player(stack, "outsider")
        await x.send(action="joinQueue")
        await x.frame("queued")
        await o.send(action="joinQueue")
        told_x, _ = await paired(x, o)
        game_id = told_x["gameId"]
        await play(x, o, game_id, 4)
        before = game(stack, game_id)

        async def refused(client, code: str, raw: str | None = None, **frame) -> None:
            if raw is not None:
                await client.send_raw(raw)
            else:
                await client.send(**frame)
            error = await client.frame("error")
            assert error["code"] == code, error
            assert set(error) == {"type", "code", "message"}
            assert game(stack, game_id) == before, f"{code} changed the game"

        await refused(x, "not_your_turn", action="move", gameId=game_id, cell=0)
        await refused(o, "cell_taken", action="move", gameId=game_id, cell=4)
        await refused(outsider, "not_in_game", action="move", gameId=game_id, cell=0)
        await refused(o, "unknown_game", action="move", gameId="00000000-0000-4000-8000-000000000000", cell=0)
        await refused(o, "invalid_frame", action="move", gameId=game_id, cell=9)
        await refused(o, "invalid_frame", action="move", gameId=game_id, cell=-1)
        await refused(o, "invalid_frame", action="move", gameId=game_id, cell="1")
        await refused(o, "invalid_frame", action="move", gameId=game_id, cell=True)
        await refused(o, "invalid_frame", action="move", gameId=game_id)
        await refused(o, "invalid_frame", action="move", gameId="not-a-game", cell=1)
        await refused(o, "invalid_frame", action="move", gameId=game_id, cell=1, extra=1)
        await refused(o, "invalid_frame", action="joinQueue", username="")
        await refused(o, "invalid_frame", action="joinQueue", username="n" * 33)
        await refused(o, "frame_too_large", raw=json.dumps({"action": "move", "pad": "p" * 5000}))
        await refused(o, "malformed_frame", raw="{not json")
        await refused(o, "unknown_action", action="moove", gameId=game_id, cell=1)
        # In a game: neither a join nor a requeue.
        await refused(o, "already_in_game", action="joinQueue")
        await refused(x, "already_in_game", action="requeue")
        assert ticket(stack, x.name)["status"] == "playing"
        # No refused move was relayed: O saw X's one move, X saw none.
        assert [f["cell"] for f in o.frames("move")] == [4] and x.frames("move") == []
        # After the end: game_over.
        for mover, waiter, cell in ((o, x, 0), (x, o, 1), (o, x, 3), (x, o, 7)):
            await play(mover, waiter, game_id, cell)
        await x.frame("gameOver", gameId=game_id)
        before = game(stack, game_id)
        await refused(o, "game_over", action="move", gameId=game_id, cell=8)
        await close_all(x, o, outsider)

    asyncio.run(scenario())


def test_a_disconnect_takes_a_waiting_player_out_of_the_queue(stack):
    async def scenario():
        ghost = await player(stack, "ghost")
        other_tab = await tab(stack, ghost)
        await ghost.send(action="joinQueue")
        await ghost.frame("queued")
        # One tab closing is not leaving: the other is still connected.
        await other_tab.close()
        # Nothing must happen here, and only a bound can show that; the last tab's close below
        # takes effect well within it.
        await quiet(stack, 2.0)
        assert ticket(stack, ghost.name)["status"] == "waiting"
        await ghost.close()
        # A polling bound, not a wait: 15 s once ran out on a fresh-clone run under load.
        await asyncio.to_thread(wait_for, lambda: ticket(stack, ghost.name) is None, 60)
        assert waiting_tickets(stack) == []
        # The next two joiners pair with each other, not with the ghost.
        a, b = await player(stack, "a"), await player(stack, "b")
        await a.send(action="joinQueue")
        await a.frame("queued")
        await b.send(action="joinQueue")
        told_a, told_b = await paired(a, b)
        assert told_a["opponent"] == b.name and told_b["opponent"] == a.name
        await finish(a, b, told_a["gameId"])
        await close_all(a, b)

    asyncio.run(scenario())


def test_a_disconnect_mid_game_abandons_it_and_tells_the_opponent(stack):
    async def scenario():
        x, o = await player(stack, "x"), await player(stack, "o")
        await x.send(action="joinQueue")
        await x.frame("queued")
        await o.send(action="joinQueue")
        told_x, _ = await paired(x, o)
        game_id = told_x["gameId"]
        await play(x, o, game_id, 0)
        await o.close()
        assert await x.frame("opponentLeft", timeout=15) == {"type": "opponentLeft", "gameId": game_id}
        recorded = game(stack, game_id)
        assert (recorded["status"], recorded["abandonedBy"]) == ("abandoned", o.name)
        assert ticket(stack, x.name) is None and ticket(stack, o.name) is None
        assert presence(stack, x.name)["status"] == "home"
        await x.send(action="move", gameId=game_id, cell=1)
        assert (await x.frame("error"))["code"] == "game_over"
        # The one who stayed can play again at once.
        await x.send(action="requeue")
        assert (await x.frame("queued"))["position"] == 1
        await x.send(action="leaveQueue")
        await x.frame("queueLeft")
        await close_all(x)

    asyncio.run(scenario())


def test_pairing_executions_match_their_input_and_output_schemas(stack):
    async def scenario():
        x, o, odd = await player(stack, "x"), await player(stack, "o"), await player(stack, "odd")
        for client in (x, o, odd):
            await client.send(action="requeue" if client is o else "joinQueue")
            await client.frame("queued")
        await paired(x, o)
        await pairings_settled(stack)
        await odd.send(action="leaveQueue")
        await odd.frame("queueLeft")
        await close_all(x, o, odd)
        return {x.name, o.name, odd.name}

    names = asyncio.run(scenario())
    sfn = stack.client("stepfunctions")
    arn = stack.endpoints()["stateMachines"]["queue_pairing"]
    checked = []
    succeeded = sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED", maxResults=1000)
    for listed in succeeded["executions"]:
        execution = sfn.describe_execution(executionArn=listed["executionArn"])
        flow_input = json.loads(execution["input"])
        if flow_input["userId"] not in names:
            continue
        check_against("sfn_queue_pairing_input.schema.json", flow_input, "queue_pairing input")
        output = json.loads(execution["output"])
        check_against("sfn_queue_pairing_output.schema.json", output, "queue_pairing output")
        checked.append(output)
    assert len(checked) == 3  # one per join, whoever's execution made the pair
    assert sum(len(out["pairs"]) for out in checked) == 1
