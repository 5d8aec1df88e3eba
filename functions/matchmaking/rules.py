"""The rules of the queue and of tic-tac-toe, with no AWS in sight: pure functions over plain values.

A board is a string of nine cells, row by row, each "." (free), "X" or "O". X is the player who
waited longer and moves first. Times are epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.matchmaking.errors import (
    CellTaken,
    GameOver,
    NotInGame,
    NotYourTurn,
    UnknownGame,
)
from functions.matchmaking.models import ACTIONS, CLIENT_FRAME, MAX_FRAME_BYTES, ClientFrame
from functions.shared.exceptions import InvalidFrame
from functions.shared.frames import parse_client_frame

EMPTY_BOARD = "." * 9
FREE = "."
LINES = (
    (0, 1, 2), (3, 4, 5), (6, 7, 8),  # rows
    (0, 3, 6), (1, 4, 7), (2, 5, 8),  # columns
    (0, 4, 8), (2, 4, 6),  # diagonals
)  # fmt: skip

# Ticket states: one ticket per player, so "waiting" and "playing" exclude each other.
WAITING, PLAYING = "waiting", "playing"
# Game states.
ACTIVE, WON, DRAWN, ABANDONED = "active", "won", "draw", "abandoned"
# The one partition of the sparse index of waiting tickets (only waiting tickets carry it).
WAITING_SHARD = "waiting"


# --- frames ---------------------------------------------------------------------------------


def parse_frame(body: str | None, is_base64: bool = False) -> ClientFrame:
    """A client frame, or the client error that says exactly what is wrong with it."""
    return parse_client_frame(
        body, is_base64, actions=ACTIONS, adapter=CLIENT_FRAME, max_bytes=MAX_FRAME_BYTES
    )


# --- the queue ------------------------------------------------------------------------------


def join_key(joined_at_ms: int, tie_breaker: str) -> str:
    """The sort key of a waiting ticket: join time first (fixed width, so strings sort as
    numbers), then a random tie-breaker so two joins in the same millisecond still have an order."""
    return f"{joined_at_ms:015d}#{tie_breaker}"


def markers(
    first: Mapping[str, Any], second: Mapping[str, Any]
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(X, O) of two waiting tickets: X is the one who waited longer (the smaller join key)."""
    if str(first["joinKey"]) <= str(second["joinKey"]):
        return first, second
    return second, first


def is_live(record: Mapping[str, Any] | None, now_ms: int) -> bool:
    """TTL deletes late: an item past its expireAt (epoch seconds) is gone whether or not it is
    still stored."""
    return record is not None and int(record.get("expireAt", 0)) * 1000 > now_ms


# --- the game -------------------------------------------------------------------------------


def new_game(
    game_id: str, x: Mapping[str, Any], o: Mapping[str, Any], now_ms: int, lifetime_seconds: int
) -> dict[str, Any]:
    return {
        "gameId": game_id,
        "playerX": x["userId"],
        "playerO": o["userId"],
        "nameX": x.get("screenName") or x["userId"],
        "nameO": o.get("screenName") or o["userId"],
        "board": EMPTY_BOARD,
        "turn": "X",
        "status": ACTIVE,
        "moveCount": 0,
        "createdAtMs": now_ms,
        "expireAt": now_ms // 1000 + lifetime_seconds,
    }


def marker_of(game: Mapping[str, Any], user_id: str) -> str | None:
    if game["playerX"] == user_id:
        return "X"
    if game["playerO"] == user_id:
        return "O"
    return None


def player_of(game: Mapping[str, Any], marker: str) -> str:
    return str(game["playerX"] if marker == "X" else game["playerO"])


def opponent_of(game: Mapping[str, Any], user_id: str) -> str:
    return str(game["playerO"] if game["playerX"] == user_id else game["playerX"])


def winner_marker(board: str) -> str | None:
    for a, b, c in LINES:
        if board[a] != FREE and board[a] == board[b] == board[c]:
            return board[a]
    return None


def is_full(board: str) -> bool:
    return FREE not in board


def check_move(game: Mapping[str, Any] | None, user_id: str, cell: int, now_ms: int) -> str:
    """The mover's marker if `user_id` may play `cell` now, else the client error saying why
    (checked in the order a player would want to hear it)."""
    if not is_live(game, now_ms):
        raise UnknownGame("no such game")
    assert game is not None
    marker = marker_of(game, user_id)
    if marker is None:
        raise NotInGame("this is not your game")
    if game["status"] != ACTIVE:
        raise GameOver(f"this game is over ({game['status']})")
    if game["turn"] != marker:
        raise NotYourTurn("it is your opponent's turn")
    if not 0 <= cell <= 8:
        raise InvalidFrame("cells are 0-8, row by row")
    if game["board"][cell] != FREE:
        raise CellTaken(f"cell {cell} is taken")
    return marker


def play(board: str, cell: int, marker: str) -> str:
    return board[:cell] + marker + board[cell + 1 :]


def outcome(board: str) -> tuple[str, str | None]:
    """(game status, winning marker) after a move: active, won (with its marker) or draw."""
    winner = winner_marker(board)
    if winner is not None:
        return WON, winner
    if is_full(board):
        return DRAWN, None
    return ACTIVE, None


def next_turn(marker: str) -> str:
    return "O" if marker == "X" else "X"


def queue_positions(waiting_in_order: list[str]) -> dict[str, int]:
    """userId -> position (1 = next to be paired) of the waiting players, oldest first."""
    return {user_id: index for index, user_id in enumerate(waiting_in_order, start=1)}
