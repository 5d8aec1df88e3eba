"""The rules of tic-tac-toe and of the queue (functions/matchmaking/rules.py): pure, no AWS."""

from __future__ import annotations

import json

import pytest

from functions.matchmaking import rules
from functions.matchmaking.errors import (
    CellTaken,
    GameOver,
    NotInGame,
    NotYourTurn,
    UnknownGame,
)
from functions.matchmaking.models import JoinQueueAction, MoveAction
from functions.shared.exceptions import FrameTooLarge, InvalidFrame, MalformedFrame, UnknownAction

NOW_MS = 1_800_000_000_000
GAME_ID = "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab"


def board_of(*cells: tuple[int, str]) -> str:
    board = rules.EMPTY_BOARD
    for cell, marker in cells:
        board = rules.play(board, cell, marker)
    return board


def a_game(**fields) -> dict:
    x = {"userId": "xena", "screenName": "Xena"}
    o = {"userId": "otto"}
    return {**rules.new_game(GAME_ID, x, o, NOW_MS, 3600), **fields}


@pytest.mark.parametrize("line", rules.LINES, ids=lambda line: "-".join(map(str, line)))
@pytest.mark.parametrize("marker", ["X", "O"])
def test_every_line_wins(line, marker):
    board = board_of(*((cell, marker) for cell in line))
    assert rules.outcome(board) == (rules.WON, marker)


def test_there_are_eight_lines_covering_every_cell():
    assert len(set(rules.LINES)) == 8
    assert {cell for line in rules.LINES for cell in line} == set(range(9))


def test_a_full_board_without_a_line_is_a_draw():
    board = "XOXXOOOXX"
    assert rules.winner_marker(board) is None
    assert rules.outcome(board) == (rules.DRAWN, None)


def test_a_win_on_the_last_cell_is_a_win_not_a_draw():
    board = "XOXOXOOXX"  # full, and X has the 0-4-8 diagonal
    assert rules.outcome(board) == (rules.WON, "X")


def test_an_open_board_without_a_line_goes_on():
    assert rules.outcome(board_of((4, "X"), (0, "O"))) == (rules.ACTIVE, None)


def test_two_in_a_line_of_different_markers_is_no_win():
    assert rules.winner_marker(board_of((0, "X"), (1, "X"), (2, "O"))) is None


def test_x_moves_first_and_turns_alternate():
    game = a_game()
    assert game["turn"] == "X" and game["board"] == rules.EMPTY_BOARD
    assert rules.check_move(game, "xena", 4, NOW_MS) == "X"
    with pytest.raises(NotYourTurn):
        rules.check_move(game, "otto", 4, NOW_MS)
    after = a_game(board=rules.play(game["board"], 4, "X"), turn=rules.next_turn("X"))
    assert rules.check_move(after, "otto", 0, NOW_MS) == "O"
    with pytest.raises(NotYourTurn):
        rules.check_move(after, "xena", 0, NOW_MS)
    assert rules.next_turn("O") == "X"


def test_a_taken_cell_is_refused():
    game = a_game(board=board_of((4, "X")), turn="O")
    with pytest.raises(CellTaken):
        rules.check_move(game, "otto", 4, NOW_MS)


def test_someone_elses_game_is_refused():
    with pytest.raises(NotInGame):
        rules.check_move(a_game(), "mallory", 0, NOW_MS)


@pytest.mark.parametrize("status", [rules.WON, rules.DRAWN, rules.ABANDONED])
def test_a_finished_game_takes_no_move(status):
    with pytest.raises(GameOver):
        rules.check_move(a_game(status=status), "xena", 0, NOW_MS)


def test_a_missing_or_expired_game_is_unknown():
    with pytest.raises(UnknownGame):
        rules.check_move(None, "xena", 0, NOW_MS)
    expired = a_game(expireAt=NOW_MS // 1000)  # TTL not yet applied: still stored
    with pytest.raises(UnknownGame):
        rules.check_move(expired, "xena", 0, NOW_MS)


def test_the_one_who_waited_longer_is_x_whatever_the_argument_order():
    older = {"userId": "a", "joinKey": rules.join_key(NOW_MS, "ffff")}
    newer = {"userId": "b", "joinKey": rules.join_key(NOW_MS + 1, "0000")}
    assert rules.markers(older, newer) == (older, newer)
    assert rules.markers(newer, older) == (older, newer)


def test_join_keys_sort_by_join_time_then_tie_breaker():
    keys = [
        rules.join_key(999, "b"),
        rules.join_key(1_000, "a"),
        rules.join_key(1_000, "b"),
        rules.join_key(10_000_000_000_000, "a"),
    ]
    assert sorted(keys) == keys  # as strings, the way the index sorts them
    assert rules.join_key(999, "z") < rules.join_key(1_000, "a")


def test_queue_positions_start_at_one_for_the_longest_waiting():
    assert rules.queue_positions(["a", "b", "c"]) == {"a": 1, "b": 2, "c": 3}


def test_frames_are_parsed_into_their_actions():
    assert rules.parse_frame(json.dumps({"action": "move", "gameId": GAME_ID, "cell": 8})) == MoveAction(
        action="move", gameId=GAME_ID, cell=8
    )
    assert rules.parse_frame('{"action":"joinQueue","username":"  Ann  "}') == JoinQueueAction(
        action="joinQueue", username="Ann"
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (None, MalformedFrame),
        ("{nope", MalformedFrame),
        ("[1]", MalformedFrame),
        ('{"action":"dance"}', UnknownAction),
        (json.dumps({"action": "move", "gameId": GAME_ID, "cell": 9}), InvalidFrame),
        (json.dumps({"action": "move", "gameId": GAME_ID, "cell": 1.0}), InvalidFrame),
        (json.dumps({"action": "move", "gameId": GAME_ID, "cell": True}), InvalidFrame),
        (json.dumps({"action": "move", "gameId": "g1", "cell": 1}), InvalidFrame),
        (json.dumps({"action": "leaveQueue", "now": 1}), InvalidFrame),
        (json.dumps({"action": "joinQueue", "username": "x" * 33}), InvalidFrame),
        (json.dumps({"action": "joinQueue", "pad": "x" * 5000}), FrameTooLarge),
    ],
)
def test_bad_frames_say_what_is_wrong(body, error):
    with pytest.raises(error):
        rules.parse_frame(body)
