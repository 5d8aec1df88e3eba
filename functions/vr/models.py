"""Models of the VR flow: HTTP bodies and answers, WebSocket frames, vr_session_end's input and
output, and its tasks' payloads. Bodies are strict (exact JSON types, no unknown fields);
tools/schemas.py writes their JSON Schemas under schemas/ (http_vr_*, ws_frame_*, sfn_vr_*)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic.alias_generators import to_camel

from functions.shared.responses import ResponseModel

MAX_EVENTS_PER_BATCH = 100
MAX_EVENT_DATA_BYTES = 4 * 1024
# 100 events of 4 KB of data and their envelopes fit; it bounds what one request can write.
MAX_EVENTS_BODY_BYTES = 256 * 1024

# uuid4().hex: 32 lowercase hex characters.
SessionId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
EventType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
BatchId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
SessionStatus = Literal["open", "ending", "ended"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, alias_generator=to_camel, populate_by_name=True)


# --- HTTP bodies -----------------------------------------------------------------------------------


class StartSessionRequest(_Strict):
    """POST /vr/sessions: an empty body or {}."""


class InteractionEventIn(_Strict):
    event_type: EventType
    # ISO 8601 with a zone; stored normalised to UTC with milliseconds.
    timestamp: Annotated[str, StringConstraints(min_length=10, max_length=40)]
    data: dict[str, Any] = Field(description="a JSON object, at most 4 KB as JSON")

    @field_validator("data")
    @classmethod
    def _data_within_bound(cls, data: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_EVENT_DATA_BYTES:
            raise ValueError(f"data is {size} bytes as JSON; the limit is {MAX_EVENT_DATA_BYTES}")
        return data


class EventBatch(_Strict):
    """POST /vr/sessions/{sessionId}/events"""

    events: list[InteractionEventIn] = Field(min_length=1, max_length=MAX_EVENTS_PER_BATCH)
    batch_id: BatchId | None = Field(
        default=None, description="names the batch: a retried batch with the same batchId is stored once"
    )


class PlayerPageQuery(BaseModel):
    """?limit=&cursor= of the VR listings."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = None


# --- HTTP answers ----------------------------------------------------------------------------------


class SessionStarted(ResponseModel):
    session_id: str
    player_id: str
    started_at: str
    status: Literal["open"]


class EventsAccepted(ResponseModel):
    session_id: str
    accepted: int


class SessionView(ResponseModel):
    session_id: str
    player_id: str
    status: SessionStatus
    started_at: str
    end_time: str | None = Field(default=None, exclude_if=lambda value: value is None)
    event_count: int
    rewards: list[str]


class SessionPage(ResponseModel):
    items: list[SessionView]
    next_cursor: str | None = Field(default=None, exclude_if=lambda value: value is None)


class EventView(ResponseModel):
    event_type: str
    timestamp: str
    data: dict[str, Any]


class EventPage(ResponseModel):
    items: list[EventView]
    next_cursor: str | None = Field(default=None, exclude_if=lambda value: value is None)


class RewardEntry(ResponseModel):
    reward_id: str
    title: str
    granted_at: str
    session_id: str


class PlayerRewards(ResponseModel):
    player_id: str
    items: list[RewardEntry]


class EndStarted(ResponseModel):
    """POST /vr/sessions/{sessionId}/end: StartExecution's own answer, which API Gateway passes on."""

    execution_arn: str
    start_date: float | str


class EndFailure(ResponseModel):
    code: str
    message: str


class SessionEndStatus(ResponseModel):
    """GET /vr/sessions/{sessionId}/end: the end execution as DescribeExecution tells it."""

    session_id: str
    execution_arn: str
    status: Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]
    start_date: str
    stop_date: str | None = Field(default=None, exclude_if=lambda value: value is None)
    rewards: list[str] | None = Field(default=None, exclude_if=lambda value: value is None)
    error: EndFailure | None = Field(default=None, exclude_if=lambda value: value is None)


# --- WebSocket frames (server -> client) -----------------------------------------------------------


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RewardGrantedFrame(_Frame):
    """A reward this session granted (once per reward per player, ever)."""

    type: Literal["rewardGranted"] = "rewardGranted"
    reward_id: str = Field(alias="rewardId")
    session_id: str = Field(alias="sessionId")
    title: str


class VrSessionEndedFrame(_Frame):
    """The session's end is recorded; `rewards` are those this session granted."""

    type: Literal["vrSessionEnded"] = "vrSessionEnded"
    session_id: str = Field(alias="sessionId")
    rewards: list[str]


def to_wire(frame: _Frame) -> bytes:
    return frame.model_dump_json(by_alias=True).encode()


# --- vr_session_end: the execution and its tasks ---------------------------------------------------


class VrSessionEndInput(_Strict):
    """What API Gateway's StartExecution mapping sends: the path's session, the token's subject."""

    session_id: str
    player_id: str


class VrSessionEndOutput(_Strict):
    session_id: str
    player_id: str
    rewards: list[str]


class RecordEndTask(_Strict):
    session_id: str
    player_id: str
    execution_id: str


class CountEventsTask(_Strict):
    session_id: str
    expires_at: int
    cursor: str | None = None
    counts: dict[str, int] = {}
    event_count: int = 0
    pages: int = 0


class GrantRewardsTask(_Strict):
    session_id: str
    player_id: str
    execution_id: str
    counts: dict[str, int]
    event_count: int


class PushFramesTask(_Strict):
    session_id: str
    player_id: str
    rewards: list[str]
    dedupe_key: str
