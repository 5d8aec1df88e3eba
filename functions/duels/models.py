"""WebSocket frames of the duels API and the inputs of the duel flows' tasks.

Client -> server frames are a discriminated union on `action`; server -> client frames one on
`type`. Both are strict (exact JSON types, no unknown fields) and their JSON Schemas are checked
in under schemas/ (tools/schemas.py generates them; a test compares).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from functions.shared.models import UserId

# The largest frame a client may send. API Gateway itself takes frames up to 32 KB; every
# duels frame fits in a few hundred bytes, so anything near the API's limit is a client bug.
MAX_FRAME_BYTES = 4096

# inviteId / sessionId: UUIDs made here; anything else cannot name one.
FlowId = Annotated[
    str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --- client -> server ------------------------------------------------------------------------


class InviteAction(_Frame):
    """Invite a user to a duel. They must be online; one pending invite per inviter and invitee."""

    action: Literal["invite"]
    to: UserId


class RespondAction(_Frame):
    """Answer an invite addressed to you, within its answer window."""

    action: Literal["respond"]
    invite_id: FlowId = Field(alias="inviteId")
    accept: bool


class StopAction(_Frame):
    """End a running session you play in."""

    action: Literal["stop"]
    session_id: FlowId = Field(alias="sessionId")


class ListSessionsAction(_Frame):
    """List your active sessions (answered with a `sessions` frame)."""

    action: Literal["sessions"]


class PingAction(_Frame):
    """Round trip through the API (answered with `pong`, echoing `id`)."""

    action: Literal["ping"]
    id: Annotated[str, StringConstraints(max_length=64)] | None = None


ClientFrame = Annotated[
    InviteAction | RespondAction | StopAction | ListSessionsAction | PingAction,
    Field(discriminator="action"),
]
CLIENT_FRAME = TypeAdapter(ClientFrame)
ACTIONS = ("invite", "respond", "stop", "sessions", "ping")


# --- server -> client ------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class InviteSentFrame(_Out):
    """To the inviter: the invite is on its way."""

    type: Literal["invite_sent"] = "invite_sent"
    invite_id: str = Field(alias="inviteId")
    to: str
    expires_at: str = Field(alias="expiresAt")


class InviteFrame(_Out):
    """To every connection of the invitee."""

    type: Literal["invite"] = "invite"
    invite_id: str = Field(alias="inviteId")
    from_: str = Field(alias="from")
    expires_at: str = Field(alias="expiresAt")


class RejectedFrame(_Out):
    type: Literal["rejected"] = "rejected"
    invite_id: str = Field(alias="inviteId")


class NoResponseFrame(_Out):
    type: Literal["no_response"] = "no_response"
    invite_id: str = Field(alias="inviteId")


class StartFrame(_Out):
    """Both players start their timers at startAt (UTC ISO 8601)."""

    type: Literal["start"] = "start"
    session_id: str = Field(alias="sessionId")
    invite_id: str = Field(alias="inviteId")
    players: list[str]
    start_at: str = Field(alias="startAt")
    duration_seconds: int = Field(alias="durationSeconds")


class TimeoutFrame(_Out):
    type: Literal["timeout"] = "timeout"
    session_id: str = Field(alias="sessionId")


class StopFrame(_Out):
    type: Literal["stop"] = "stop"
    session_id: str = Field(alias="sessionId")
    by: str


class SessionSummary(_Out):
    session_id: str = Field(alias="sessionId")
    opponent: str
    start_at: str = Field(alias="startAt")
    duration_seconds: int = Field(alias="durationSeconds")
    ends_at: str = Field(alias="endsAt")


class SessionsFrame(_Out):
    type: Literal["sessions"] = "sessions"
    sessions: list[SessionSummary]


class PongFrame(_Out):
    type: Literal["pong"] = "pong"
    id: str | None = None


class PresenceFrame(_Out):
    """To the connected followers of a user whose presence changed."""

    type: Literal["presence"] = "presence"
    user_id: str = Field(alias="userId")
    status: str
    game_id: str | None = Field(default=None, alias="gameId")
    context: str | None = None


class ErrorFrame(_Out):
    """To a refused frame's sender (nothing changed), or session_failed to both players."""

    type: Literal["error"] = "error"
    code: str
    message: str


ServerFrame = Annotated[
    InviteSentFrame
    | InviteFrame
    | RejectedFrame
    | NoResponseFrame
    | StartFrame
    | TimeoutFrame
    | StopFrame
    | SessionsFrame
    | PongFrame
    | PresenceFrame
    | ErrorFrame,
    Field(discriminator="type"),
]
SERVER_FRAME = TypeAdapter(ServerFrame)


def to_wire(frame: _Out) -> bytes:
    return frame.model_dump_json(by_alias=True).encode()


class _TaskInput(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


# --- executions of the flows: input and output (schemas/sfn_duel_*.schema.json) -----------------


class _Execution(BaseModel):
    # Exact: an execution started with a field the flow does not read is a wiring bug.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DuelInviteInput(_Execution):
    """The input of a duel_invite execution (the invite handler starts it)."""

    invite_id: str = Field(alias="inviteId")
    from_user_id: str = Field(alias="fromUserId")
    to_user_id: str = Field(alias="toUserId")
    answer_window_seconds: int = Field(alias="answerWindowSeconds", ge=1)
    session_duration_seconds: int = Field(alias="sessionDurationSeconds", ge=1)
    session_lead_seconds: int = Field(alias="sessionLeadSeconds", ge=0)


class Delivery(_Execution):
    """What a push task reports: connections that got the frame, connections found gone."""

    delivered: int
    gone: int = 0


class Notified(_Execution):
    delivery: Delivery


class Notification(_Execution):
    """What a Notify state chose for the flow's one push: who hears it, and the frame."""

    recipients: list[str] = Field(min_length=1)
    frame: dict[str, Any]


class InviteRecord(_Execution):
    """The invite as the flow read it back (a DynamoDB item: attribute -> typed value)."""

    invite: dict[str, dict[str, Any]]


class StartedSession(_Execution):
    execution_arn: str = Field(alias="executionArn")


class DuelInviteOutput(DuelInviteInput):
    """A succeeded duel_invite execution: its input, the answer (or why none came), the invite as
    recorded, and either the session it started or the players it told."""

    answer: dict[str, Any] | None = None
    timed_out: dict[str, Any] | None = Field(default=None, alias="timedOut")
    delivery_failed: dict[str, Any] | None = Field(default=None, alias="deliveryFailed")
    decision: InviteRecord
    session: StartedSession | None = None
    notification: Notification | None = None
    notified: Notified | None = None


class DuelSessionInput(_Execution):
    """The input of a duel_session execution (duel_invite's StartSession starts it)."""

    session_id: str = Field(alias="sessionId")
    invite_id: str = Field(alias="inviteId")
    user_a: str = Field(alias="userA")
    user_b: str = Field(alias="userB")
    duration_seconds: int = Field(alias="durationSeconds", ge=1)
    lead_seconds: int = Field(alias="leadSeconds", ge=0)
    # Step Functions links a child execution to its parent by this field.
    started_by: str | None = Field(default=None, alias="AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID")


class SessionTimes(_Execution):
    start_at: str = Field(alias="startAt")
    ends_at: str = Field(alias="endsAt")
    wait_seconds: int = Field(alias="waitSeconds")


class SessionRecord(_Execution):
    """The session as the flow read it back (a DynamoDB item: attribute -> typed value)."""

    session: dict[str, dict[str, Any]]


class DuelSessionOutput(DuelSessionInput):
    """A succeeded duel_session execution: its input, the session's times, how it ended as
    recorded, and the players it told."""

    session: SessionTimes
    stopped: dict[str, Any] | None = None
    timed_out: dict[str, Any] | None = Field(default=None, alias="timedOut")
    outcome: SessionRecord
    notification: Notification
    notified: Notified


# --- inputs of the flows' tasks ----------------------------------------------------------------


class NotifyInviteeInput(_TaskInput):
    task_token: str = Field(alias="taskToken", min_length=1)
    invite_id: str = Field(alias="inviteId")


class OpenSessionInput(_TaskInput):
    session_id: str = Field(alias="sessionId")
    invite_id: str = Field(alias="inviteId")
    user_a: str = Field(alias="userA")
    user_b: str = Field(alias="userB")
    duration_seconds: int = Field(alias="durationSeconds", ge=1)
    lead_seconds: int = Field(alias="leadSeconds", ge=0)


class AnnounceStartInput(_TaskInput):
    task_token: str = Field(alias="taskToken", min_length=1)
    session_id: str = Field(alias="sessionId")


class PushInput(_TaskInput):
    """Send one frame to every live connection of each recipient."""

    recipients: list[str] = Field(min_length=1, max_length=100)
    frame: ServerFrame
    # Same key on a retried attempt of the same state: the frame goes out once.
    dedupe_key: str = Field(alias="dedupeKey", min_length=1)
