"""WebSocket frames of matchmaking and the input/output of the queue_pairing flow.

Client -> server frames are a discriminated union on `action`; server -> client frames one on
`type`. Both are strict (exact JSON types, no unknown fields); tools/schemas.py writes their JSON
Schemas under schemas/ (ws_<action>.schema.json, ws_frame_<type>.schema.json).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from functions.shared.models import UserId

# Every matchmaking frame fits in a hundred bytes; the duels' limit is kept so the two families
# of frames refuse the same sizes.
MAX_FRAME_BYTES = 4096

# gameIds are UUIDs made by the pairing; anything else cannot name one.
GameId = Annotated[
    str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]
DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Marker = Literal["X", "O"]
Cell = Annotated[int, Field(ge=0, le=8)]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


# --- client -> server ------------------------------------------------------------------------


class JoinQueueAction(_Frame):
    """Wait for an opponent. One ticket per player: a second join changes nothing."""

    action: Literal["joinQueue"]
    username: DisplayName | None = None


class LeaveQueueAction(_Frame):
    action: Literal["leaveQueue"]


class MoveAction(_Frame):
    """Play a cell (0-8, row by row) of your game, on your turn."""

    action: Literal["move"]
    game_id: GameId = Field(alias="gameId")
    cell: Cell


class RequeueAction(_Frame):
    """Join the queue again after a game."""

    action: Literal["requeue"]
    username: DisplayName | None = None


ClientFrame = Annotated[
    JoinQueueAction | LeaveQueueAction | MoveAction | RequeueAction,
    Field(discriminator="action"),
]
CLIENT_FRAME = TypeAdapter(ClientFrame)
ACTIONS = ("joinQueue", "leaveQueue", "move", "requeue")


# --- server -> client ------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class QueuedFrame(_Out):
    """The answer to joinQueue/requeue; position 1 is the next to be paired."""

    type: Literal["queued"] = "queued"
    position: int
    waiting: int


class QueueLeftFrame(_Out):
    type: Literal["queueLeft"] = "queueLeft"


class QueueUpdateFrame(_Out):
    """To everyone waiting when the queue changed (one per player per batch of changes)."""

    type: Literal["queueUpdate"] = "queueUpdate"
    position: int
    waiting: int


class PairedFrame(_Out):
    """To both players, every tab. X waited longer and moves first."""

    type: Literal["paired"] = "paired"
    game_id: str = Field(alias="gameId")
    opponent: str = Field(description="the opponent's userId")
    opponent_name: str = Field(alias="opponentName", description="the opponent's display name")
    marker: Marker


class MoveFrame(_Out):
    """To the opponent and the mover's other tabs."""

    type: Literal["move"] = "move"
    game_id: str = Field(alias="gameId")
    cell: int
    marker: Marker


class GameOverFrame(_Out):
    type: Literal["gameOver"] = "gameOver"
    game_id: str = Field(alias="gameId")
    result: Literal["win", "draw"]
    # The winner's userId; absent on a draw.
    winner: str | None = Field(default=None, exclude_if=lambda value: value is None)


class OpponentLeftFrame(_Out):
    """To the remaining player when the other disconnects mid-game (recorded as abandoned)."""

    type: Literal["opponentLeft"] = "opponentLeft"
    game_id: str = Field(alias="gameId")


class ErrorFrame(_Out):
    """To a refused frame's sender: nothing changed."""

    type: Literal["error"] = "error"
    code: str
    message: str


ServerFrame = Annotated[
    QueuedFrame
    | QueueLeftFrame
    | QueueUpdateFrame
    | PairedFrame
    | MoveFrame
    | GameOverFrame
    | OpponentLeftFrame
    | ErrorFrame,
    Field(discriminator="type"),
]
SERVER_FRAME = TypeAdapter(ServerFrame)


def to_wire(frame: _Out) -> bytes:
    return frame.model_dump_json(by_alias=True).encode()


# --- the queue_pairing flow: input and output (schemas/sfn_queue_pairing_*.schema.json) ---------


class _Execution(BaseModel):
    # Exact: an execution started with a field the flow does not read is a wiring bug.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class QueuePairingInput(_Execution):
    """Started by every joinQueue and requeue; the joiner is named for tracing only: the flow
    pairs whoever has waited longest."""

    user_id: UserId = Field(alias="userId")
    reason: Literal["joinQueue", "requeue"]


class Pairing(_Execution):
    game_id: str = Field(alias="gameId")
    player_x: str = Field(alias="playerX")
    player_o: str = Field(alias="playerO")


class QueuePairingOutput(_Execution):
    """What one execution paired (often nothing: another execution got there first) and how many
    it left waiting (0 or 1 when it ended by itself)."""

    pairs: list[Pairing]
    waiting: int
    # True when the task stopped at PAIRS_PER_TASK with two or more still waiting: the flow
    # pairs again. Not when it handed over to the lease's holder, which pairs them.
    pair_limit_reached: bool = Field(alias="pairLimitReached")
