"""The matchmaking handlers in-process against moto: joins, the pairing task, moves, the queue
updates and the disconnects, each with its deployed environment. Frames are read from the
in-memory Management API, records from the tables."""

from __future__ import annotations

import pytest

from functions.matchmaking import repositories
from functions.matchmaking.errors import PairingConflict
from tests.support.lambda_events import FakeLambdaContext

GAME_MOVES_TO_X_WIN = (0, 3, 1, 4, 2)


def join(world, time_machine, user: str, **frame) -> str:
    """A connected player who joins the queue 1 ms after the previous one; returns the connection."""
    connection = world.connect(user)
    time_machine.advance(0.001)
    world.send(user, connection, {"action": "joinQueue", **frame})
    return connection


def ticket(world, user: str):
    return world.item("queue_tickets", userId=user)


def of_type(world, connection: str, frame_type: str) -> list[dict]:
    return [f for f in world.frames(connection) if f["type"] == frame_type]


# --- joining -------------------------------------------------------------------------------


def test_a_join_writes_one_waiting_ticket_answers_every_tab_and_starts_the_pairing(world, time_machine):
    first_tab = world.connect("ann")
    second_tab = world.connect("ann")
    world.send("ann", first_tab, {"action": "joinQueue", "username": "Ann the Bold"})
    record = ticket(world, "ann")
    assert (record["status"], record["waitingShard"], record["screenName"]) == (
        "waiting",
        "waiting",
        "Ann the Bold",
    )
    assert record["expireAt"] > time_machine.now().timestamp()
    assert (
        world.frames(first_tab)
        == world.frames(second_tab)
        == [{"type": "queued", "position": 1, "waiting": 1}]
    )
    assert world.pairing_inputs() == [{"userId": "ann", "reason": "joinQueue"}]
    presence = world.item("presence", userId="ann")
    assert (presence["status"], presence["screenName"]) == ("matchmaking", "Ann the Bold")
    assert presence["onlineShard"].startswith("online#")


def test_a_second_join_changes_nothing_and_says_so(world, time_machine):
    connection = join(world, time_machine, "ann")
    before = ticket(world, "ann")
    time_machine.advance(5)
    world.send("ann", connection, {"action": "joinQueue"})
    world.send("ann", connection, {"action": "requeue"})
    assert ticket(world, "ann") == before
    assert [f["code"] for f in of_type(world, connection, "error")] == ["already_queued", "already_queued"]
    assert len(world.pairing_inputs()) == 1


def test_positions_count_those_who_joined_earlier(world, time_machine):
    join(world, time_machine, "ann")
    join(world, time_machine, "bob")
    third = join(world, time_machine, "cid")
    assert of_type(world, third, "queued") == [{"type": "queued", "position": 3, "waiting": 3}]


def test_an_expired_ticket_is_no_ticket(world, time_machine):
    """TTL deletes late: a stored ticket past its expireAt neither blocks a join nor is paired."""
    connection = world.connect("ann")
    world.put_ticket(
        "ann", status="playing", gameId="g-old", expireAt=int(time_machine.now().timestamp()) - 1
    )
    world.send("ann", connection, {"action": "joinQueue"})
    assert ticket(world, "ann")["status"] == "waiting"
    world.put_ticket(
        "bob",
        status="waiting",
        waitingShard="waiting",
        joinKey="0",
        expireAt=int(time_machine.now().timestamp()),
    )
    world.connect("bob")
    assert world.pair()["pairs"] == []


def test_leaving_deletes_the_ticket_and_a_second_leave_is_refused(world, time_machine):
    connection = join(world, time_machine, "ann")
    world.send("ann", connection, {"action": "leaveQueue"})
    assert ticket(world, "ann") is None
    world.send("ann", connection, {"action": "leaveQueue"})
    assert [f["type"] for f in world.frames(connection)] == ["queued", "queueLeft", "error"]
    assert world.frames(connection)[-1]["code"] == "not_queued"
    assert world.item("presence", userId="ann")["status"] == "home"


# --- the pairing task ----------------------------------------------------------------------


def test_the_two_longest_waiting_are_paired_and_the_one_who_waited_longer_is_x(world, time_machine):
    ann, bob = join(world, time_machine, "ann", username="Ann"), join(world, time_machine, "bob")
    cid = join(world, time_machine, "cid")
    ann_tab = world.connect("ann")
    out = world.pair("cid")
    assert len(out["pairs"]) == 1 and out["waiting"] == 1
    (pairing,) = out["pairs"]
    assert (pairing["playerX"], pairing["playerO"]) == ("ann", "bob")
    game = world.item("games", gameId=pairing["gameId"])
    assert (game["status"], game["board"], game["turn"], game["nameX"]) == ("active", ".........", "X", "Ann")
    for user, marker in (("ann", "X"), ("bob", "O")):
        record = ticket(world, user)
        assert (record["status"], record["gameId"], record["marker"]) == (
            "playing",
            pairing["gameId"],
            marker,
        )
        assert "waitingShard" not in record  # out of the sparse index of waiting tickets
        assert world.item("presence", userId=user)["status"] == "playing"
        assert world.item("presence", userId=user)["gameId"] == pairing["gameId"]
    told = {
        "type": "paired",
        "gameId": pairing["gameId"],
        "opponent": "bob",
        "opponentName": "Bob",  # the authorizer's screen name: Bob gave no username
        "marker": "X",
    }
    assert of_type(world, ann, "paired") == of_type(world, ann_tab, "paired") == [told]
    assert of_type(world, bob, "paired") == [
        {
            "type": "paired",
            "gameId": pairing["gameId"],
            "opponent": "ann",
            "opponentName": "Ann",
            "marker": "O",
        }
    ]
    assert ticket(world, "cid")["status"] == "waiting" and of_type(world, cid, "paired") == []


def test_a_pairing_task_pairs_until_fewer_than_two_wait(world, time_machine):
    for user in ("u1", "u2", "u3", "u4", "u5"):
        join(world, time_machine, user)
    out = world.pair()
    assert [(p["playerX"], p["playerO"]) for p in out["pairs"]] == [("u1", "u2"), ("u3", "u4")]
    assert out["waiting"] == 1


def test_a_pairing_task_stops_at_its_pair_limit_with_two_still_waiting(world, time_machine, monkeypatch):
    for user in ("u1", "u2", "u3", "u4"):
        join(world, time_machine, user)
    handler = world.handler("matchmaking_pair")  # with its deployed environment, then:
    monkeypatch.setenv("PAIRS_PER_TASK", "1")
    result = handler({"userId": "u4", "reason": "joinQueue"}, FakeLambdaContext())
    assert (len(result["pairs"]), result["waiting"], result["pairLimitReached"]) == (1, 2, True)  # flow loops


def test_a_lost_race_raises_pairing_conflict_and_changes_nothing(world, time_machine, monkeypatch):
    join(world, time_machine, "ann")
    join(world, time_machine, "bob")
    read = repositories.TicketsRepository.waiting

    reads = []

    def read_then_lose_the_race(self, now_ms, limit=None):
        found = read(self, now_ms, limit)
        reads.append(found)
        if len(reads) == 2:  # the read the pairing acts on, under the lease
            # Between the read and the transaction, Bob leaves.
            self.leave("bob", now_ms)
        return found

    monkeypatch.setattr(repositories.TicketsRepository, "waiting", read_then_lose_the_race)
    with pytest.raises(PairingConflict):
        world.pair()
    assert ticket(world, "ann")["status"] == "waiting"
    assert world.scan("games") == []
    assert world.item("queue_tickets", userId="#pairing-lease") is None  # released on the way out


def test_a_waiting_player_with_no_live_connection_is_never_paired(world, time_machine):
    ghost = join(world, time_machine, "ghost")
    world.disconnect("ghost", ghost)
    join(world, time_machine, "ann")
    join(world, time_machine, "bob")
    out = world.pair()
    assert [(p["playerX"], p["playerO"]) for p in out["pairs"]] == [("ann", "bob")]
    assert ticket(world, "ghost") is None


# --- moves ---------------------------------------------------------------------------------


def paired_game(world, time_machine) -> tuple[str, str, str, str]:
    """(gameId, X's connection, O's connection, X's second tab)"""
    x = join(world, time_machine, "xena")
    o = join(world, time_machine, "otto")
    x_tab = world.connect("xena")
    (pairing,) = world.pair()["pairs"]
    return pairing["gameId"], x, o, x_tab


def move(world, user: str, connection: str, game_id: str, cell) -> None:
    world.send(user, connection, {"action": "move", "gameId": game_id, "cell": cell})


def test_a_move_goes_to_the_opponent_and_the_movers_other_tabs(world, time_machine):
    game_id, x, o, x_tab = paired_game(world, time_machine)
    move(world, "xena", x, game_id, 4)
    relayed = {"type": "move", "gameId": game_id, "cell": 4, "marker": "X"}
    assert of_type(world, o, "move") == of_type(world, x_tab, "move") == [relayed]
    assert of_type(world, x, "move") == []  # the sender knows its own move
    game = world.item("games", gameId=game_id)
    assert (game["board"], game["turn"], game["moveCount"]) == ("....X....", "O", 1)


def test_a_win_ends_the_game_for_both_and_frees_them(world, time_machine):
    game_id, x, o, _ = paired_game(world, time_machine)
    for number, cell in enumerate(GAME_MOVES_TO_X_WIN):
        user, connection = ("xena", x) if number % 2 == 0 else ("otto", o)
        move(world, user, connection, game_id, cell)
    over = {"type": "gameOver", "gameId": game_id, "result": "win", "winner": "xena"}
    assert of_type(world, x, "gameOver") == of_type(world, o, "gameOver") == [over]
    game = world.item("games", gameId=game_id)
    assert (game["status"], game["winner"]) == ("won", "xena")
    assert ticket(world, "xena") is None and ticket(world, "otto") is None
    assert world.item("presence", userId="otto")["status"] == "home"
    move(world, "otto", o, game_id, 8)
    assert of_type(world, o, "error")[-1]["code"] == "game_over"


@pytest.mark.authorization("WS move")
@pytest.mark.parametrize(
    ("who", "cell", "code"),
    [
        ("otto", 0, "not_your_turn"),
        ("xena", 4, "cell_taken"),
        ("mallory", 0, "not_in_game"),
    ],
)
def test_a_refused_move_changes_nothing(world, time_machine, who, cell, code):
    game_id, x, o, _ = paired_game(world, time_machine)
    move(world, "xena", x, game_id, 4)
    move(world, "otto", o, game_id, 0)  # now X's turn, cells 4 and 0 taken
    if who == "otto":
        cell = 1  # not O's turn
    before = world.item("games", gameId=game_id)
    connection = {"xena": x, "otto": o}.get(who) or world.connect(who)
    count_o, count_x = len(world.frames(o)), len(world.frames(x))
    move(world, who, connection, game_id, cell)
    assert world.item("games", gameId=game_id) == before
    assert world.frames(connection)[-1]["code"] == code
    if who != "otto":
        assert len(world.frames(o)) == count_o
    if who != "xena":
        assert len(world.frames(x)) == count_x


def test_a_move_that_loses_a_race_is_refused_from_what_was_recorded(world, time_machine, monkeypatch):
    game_id, x, o, _ = paired_game(world, time_machine)
    games = repositories.GamesRepository
    record = games.record_move

    def another_tab_moved_first(self, game, board, status, winner, now_ms):
        # X's other tab plays cell 0 between this move's read and its write.
        record(self, game, "X" + game["board"][1:], "active", None, now_ms)
        return record(self, game, board, status, winner, now_ms)

    monkeypatch.setattr(games, "record_move", another_tab_moved_first)
    move(world, "xena", x, game_id, 8)
    assert world.frames(x)[-1]["code"] == "not_your_turn"
    assert world.item("games", gameId=game_id)["board"] == "X........"


def test_joining_while_in_a_game_is_refused(world, time_machine):
    game_id, x, _, _ = paired_game(world, time_machine)
    before = ticket(world, "xena")
    world.send("xena", x, {"action": "joinQueue"})
    world.send("xena", x, {"action": "requeue"})
    world.send("xena", x, {"action": "leaveQueue"})
    assert [f["code"] for f in of_type(world, x, "error")] == [
        "already_in_game",
        "already_in_game",
        "not_queued",
    ]
    assert ticket(world, "xena") == before and before["gameId"] == game_id


# --- queue updates (the tickets stream) ------------------------------------------------------


def test_a_batch_of_changes_is_one_queue_update_per_waiting_player(world, time_machine):
    connections = {user: join(world, time_machine, user) for user in [f"p{n:02d}" for n in range(7)]}
    world.pair()  # p00-p01, p02-p03, p04-p05 paired; p06 waits
    join_late = join(world, time_machine, "late")
    records = world.stream_records("queue_tickets")
    assert len(records) >= 8 + 6  # 8 joins, 6 pairings (and presence has its own table)
    world.invoke("matchmaking_queue_updates", {"Records": records})
    assert of_type(world, connections["p06"], "queueUpdate") == [
        {"type": "queueUpdate", "position": 1, "waiting": 2}
    ]
    assert of_type(world, join_late, "queueUpdate") == [{"type": "queueUpdate", "position": 2, "waiting": 2}]
    assert of_type(world, connections["p00"], "queueUpdate") == []  # playing, not waiting


def test_changes_that_do_not_touch_the_waiting_queue_send_nothing(world, time_machine):
    game_id, x, o, _ = paired_game(world, time_machine)
    waiting = join(world, time_machine, "wendy")
    before = world.stream_records("queue_tickets")
    move(world, "xena", x, game_id, 0)
    for cell, (user, connection) in zip((3, 1, 4, 2), [("otto", o), ("xena", x)] * 2, strict=True):
        move(world, user, connection, game_id, cell)  # X wins: both tickets are deleted
    after = world.stream_records("queue_tickets")[len(before) :]
    assert [r["eventName"] for r in after] == ["REMOVE", "REMOVE"]
    world.invoke("matchmaking_queue_updates", {"Records": after})
    assert of_type(world, waiting, "queueUpdate") == []


def test_a_waiting_player_whose_every_connection_is_gone_leaves_the_queue(world, time_machine):
    connection = join(world, time_machine, "ann")
    world.api.open.discard(connection)  # API Gateway answers 410 for it
    world.client.update_item(  # old enough not to be still connecting
        TableName=world.names["connections"],
        Key={"userId": {"S": "ann"}, "connectionId": {"S": connection}},
        UpdateExpression="SET connectedAtMs = :old",
        ExpressionAttributeValues={":old": {"N": "0"}},
    )
    world.invoke("matchmaking_queue_updates", {"Records": world.stream_records("queue_tickets")})
    assert ticket(world, "ann") is None
    assert world.item("connections", userId="ann", connectionId=connection) is None


# --- disconnects (the connections stream) ----------------------------------------------------


def disconnect_records(world, count: int) -> list[dict]:
    return [r for r in world.stream_records("connections") if r["eventName"] == "REMOVE"][-count:]


def test_the_last_connection_gone_takes_a_waiting_player_out(world, time_machine):
    first = join(world, time_machine, "ann")
    second = world.connect("ann")
    world.disconnect("ann", first)
    world.invoke("matchmaking_disconnects", {"Records": disconnect_records(world, 1)})
    assert ticket(world, "ann")["status"] == "waiting"  # a tab is still open
    world.disconnect("ann", second)
    world.invoke("matchmaking_disconnects", {"Records": disconnect_records(world, 1)})
    assert ticket(world, "ann") is None


def test_a_disconnect_mid_game_abandons_it_and_tells_the_opponent(world, time_machine):
    game_id, x, o, x_tab = paired_game(world, time_machine)
    world.disconnect("xena", x)
    world.disconnect("xena", x_tab)
    world.invoke("matchmaking_disconnects", {"Records": disconnect_records(world, 2)})
    assert of_type(world, o, "opponentLeft") == [{"type": "opponentLeft", "gameId": game_id}]
    game = world.item("games", gameId=game_id)
    assert (game["status"], game["abandonedBy"]) == ("abandoned", "xena")
    assert ticket(world, "xena") is None and ticket(world, "otto") is None
    # Redelivered, the batch changes nothing and tells nobody twice.
    world.invoke("matchmaking_disconnects", {"Records": disconnect_records(world, 2)})
    assert len(of_type(world, o, "opponentLeft")) == 1


def test_a_disconnect_after_the_game_ended_abandons_nothing(world, time_machine):
    game_id, x, o, x_tab = paired_game(world, time_machine)
    for number, cell in enumerate(GAME_MOVES_TO_X_WIN):
        user, connection = ("xena", x) if number % 2 == 0 else ("otto", o)
        move(world, user, connection, game_id, cell)
    world.disconnect("otto", o)
    world.invoke("matchmaking_disconnects", {"Records": disconnect_records(world, 1)})
    assert world.item("games", gameId=game_id)["status"] == "won"
    assert of_type(world, x, "opponentLeft") == []


def test_a_joins_matchmaking_presence_never_undoes_the_pairing_that_took_its_ticket(world, time_machine):
    """A join writes its ticket, then `matchmaking` presence; another join's pairing may take the
    ticket in between and write `playing`, which must stand. A stale `playing` does not."""
    world.use_function("matchmaking_actions")
    from functions.matchmaking import wiring

    presence = wiring.presence()
    joined_ms = int(time_machine.now().timestamp() * 1000)
    time_machine.advance(0.05)
    presence.put("ann", "Ann", "playing", "g-new", joined_ms + 50)  # the pairing, after the ticket
    assert not presence.put("ann", "Ann", "matchmaking", None, joined_ms, unless_playing_since_ms=joined_ms)
    assert world.item("presence", userId="ann")["status"] == "playing"
    time_machine.advance(10)
    later_ms = int(time_machine.now().timestamp() * 1000)
    assert presence.put("ann", "Ann", "matchmaking", None, later_ms, unless_playing_since_ms=later_ms)
    assert world.item("presence", userId="ann")["status"] == "matchmaking"


def test_an_execution_that_finds_the_pairing_lease_held_hands_over(world, time_machine):
    """Another execution is pairing: this one ends at once, pairs nothing, touches no ticket."""
    join(world, time_machine, "ann")
    join(world, time_machine, "bob")
    world.use_function("matchmaking_pair")
    from functions.matchmaking import wiring

    tickets = wiring.tickets()
    now_ms = int(time_machine.now().timestamp() * 1000)
    assert tickets.acquire_lease("the-other-execution", now_ms, 15)
    assert world.pair() == {"pairs": [], "waiting": 2, "pairLimitReached": False}
    assert ticket(world, "ann")["status"] == ticket(world, "bob")["status"] == "waiting"
    # A holder that died: its lease lapses, and the next execution pairs.
    time_machine.advance(16)
    assert len(world.pair()["pairs"]) == 1
    assert world.item("queue_tickets", userId="#pairing-lease") is None
