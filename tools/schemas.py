"""JSON Schemas of every API body, HTTP answer, WebSocket frame and state machine input/output,
generated from the pydantic models in functions/. Run `python -m tools.schemas` to refresh
schemas/; tests/unit/test_schemas.py regenerates and compares, so a model and its checked-in
schema cannot disagree. A new flow adds its models to the tables below.

It lives on the product side (tools/, not arcadeflow/): the runtime imports no product code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from arcadeflow.deployment import Deployment
from arcadeflow.openapi import AwsErrorAnswer, GatewayMessage, StartExecutionAnswer
from functions.duels import models as duels
from functions.matchmaking import models as matchmaking
from functions.shared.http import ErrorResponse
from functions.shared.models import PageQuery
from functions.social import responses as social_out
from functions.social.models import (
    FollowListQuery,
    FollowRequest,
    LeaderboardQuery,
    PresenceUpdate,
    ProfileUpdate,
    ScoreSubmission,
)
from functions.status import models as status
from functions.status import responses as status_out
from functions.vr import models as vr
from functions.vr.catalog import RewardCatalog

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = REPO_ROOT / "schemas"

Mode = Literal["validation", "serialization"]

# file name -> model; the name says which request it is. What clients send is described as
# validated (what they must send).
REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "follow_request.schema.json": FollowRequest,
    "profile_update.schema.json": ProfileUpdate,
    "score_submission.schema.json": ScoreSubmission,
    "presence_update.schema.json": PresenceUpdate,
    "status_post.schema.json": status.StatusPost,
    # Query strings of the HTTP routes that take one (the OpenAPI document's query parameters).
    "http_query_page.schema.json": PageQuery,
    "http_query_follow_list.schema.json": FollowListQuery,
    "http_query_leaderboard.schema.json": LeaderboardQuery,
    "http_query_vr_page.schema.json": vr.PlayerPageQuery,
    # WebSocket API: frames clients send (by action) and frames they receive (by type).
    "ws_invite.schema.json": duels.InviteAction,
    "ws_respond.schema.json": duels.RespondAction,
    "ws_stop.schema.json": duels.StopAction,
    "ws_sessions.schema.json": duels.ListSessionsAction,
    "ws_ping.schema.json": duels.PingAction,
    "ws_frame_invite_sent.schema.json": duels.InviteSentFrame,
    "ws_frame_invite.schema.json": duels.InviteFrame,
    "ws_frame_rejected.schema.json": duels.RejectedFrame,
    "ws_frame_no_response.schema.json": duels.NoResponseFrame,
    "ws_frame_start.schema.json": duels.StartFrame,
    "ws_frame_timeout.schema.json": duels.TimeoutFrame,
    "ws_frame_stop.schema.json": duels.StopFrame,
    "ws_frame_sessions.schema.json": duels.SessionsFrame,
    "ws_frame_pong.schema.json": duels.PongFrame,
    "ws_frame_presence.schema.json": duels.PresenceFrame,
    "ws_frame_error.schema.json": duels.ErrorFrame,
    # Matchmaking's frames (the error frame is the same shape as the duels' one above).
    "ws_join_queue.schema.json": matchmaking.JoinQueueAction,
    "ws_leave_queue.schema.json": matchmaking.LeaveQueueAction,
    "ws_move.schema.json": matchmaking.MoveAction,
    "ws_requeue.schema.json": matchmaking.RequeueAction,
    "ws_frame_queued.schema.json": matchmaking.QueuedFrame,
    "ws_frame_queue_left.schema.json": matchmaking.QueueLeftFrame,
    "ws_frame_queue_update.schema.json": matchmaking.QueueUpdateFrame,
    "ws_frame_paired.schema.json": matchmaking.PairedFrame,
    "ws_frame_move.schema.json": matchmaking.MoveFrame,
    "ws_frame_game_over.schema.json": matchmaking.GameOverFrame,
    "ws_frame_opponent_left.schema.json": matchmaking.OpponentLeftFrame,
    # Executions of the state machines, as they are started.
    "sfn_duel_invite_input.schema.json": duels.DuelInviteInput,
    "sfn_duel_session_input.schema.json": duels.DuelSessionInput,
    "sfn_status_fanout_input.schema.json": status.StatusFanoutInput,
    "sfn_queue_pairing_input.schema.json": matchmaking.QueuePairingInput,
    "sfn_vr_session_end_input.schema.json": vr.VrSessionEndInput,
    # VR sessions: the bodies of its routes, and the reward catalog (a data file of the product,
    # checked against this schema by the description's dataFiles).
    "vr_start_session.schema.json": vr.StartSessionRequest,
    "vr_event_batch.schema.json": vr.EventBatch,
    "vr_reward_catalog.schema.json": RewardCatalog,
    # infra/deployment.json itself, so editors validate the one description as it is written.
    "deployment.schema.json": Deployment,
}

# What the APIs and flows answer, described as serialised (what clients receive). The HTTP
# ones are referenced per route and status by infra/deployment.json's "responses".
RESPONSE_MODELS: dict[str, type[BaseModel]] = {
    "http_error.schema.json": ErrorResponse,
    "http_follow_entry.schema.json": social_out.FollowEntry,
    "http_follow_page.schema.json": social_out.FollowPage,
    "http_profile.schema.json": social_out.Profile,
    "http_user_profile.schema.json": social_out.UserProfile,
    "http_presence_updated.schema.json": social_out.PresenceUpdated,
    "http_online_page.schema.json": social_out.OnlinePage,
    "http_score_recorded.schema.json": social_out.ScoreRecorded,
    "http_leaderboard.schema.json": social_out.Leaderboard,
    "http_status_accepted.schema.json": status_out.StatusAccepted,
    "http_listing.schema.json": status_out.Listing,
    # What every startExecution route answers (API Gateway passes Step Functions' answer on).
    "http_start_execution.schema.json": StartExecutionAnswer,
    "http_aws_error.schema.json": AwsErrorAnswer,
    # What API Gateway itself answers before or instead of a function (401, 413, 500, 503).
    "http_gateway_message.schema.json": GatewayMessage,
    "http_vr_session_started.schema.json": vr.SessionStarted,
    "http_vr_events_accepted.schema.json": vr.EventsAccepted,
    "http_vr_session.schema.json": vr.SessionView,
    "http_vr_session_page.schema.json": vr.SessionPage,
    "http_vr_event_page.schema.json": vr.EventPage,
    "http_vr_session_end.schema.json": vr.SessionEndStatus,
    "http_vr_player_rewards.schema.json": vr.PlayerRewards,
    # The VR flow's WebSocket frames (pushed only: players send it nothing over the WebSocket).
    "ws_frame_reward_granted.schema.json": vr.RewardGrantedFrame,
    "ws_frame_vr_session_ended.schema.json": vr.VrSessionEndedFrame,
    # Executions of the state machines, as they succeed.
    "sfn_duel_invite_output.schema.json": duels.DuelInviteOutput,
    "sfn_duel_session_output.schema.json": duels.DuelSessionOutput,
    "sfn_status_fanout_output.schema.json": status.StatusFanoutOutput,
    "sfn_queue_pairing_output.schema.json": matchmaking.QueuePairingOutput,
    "sfn_vr_session_end_output.schema.json": vr.VrSessionEndOutput,
}


def schema_of(model: type[BaseModel], file_name: str, mode: Mode) -> dict:
    schema = model.model_json_schema(by_alias=True, mode=mode)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = file_name
    return schema


def generate() -> dict[str, dict]:
    """File name -> JSON Schema, for every file under schemas/."""
    out = {name: schema_of(model, name, "validation") for name, model in REQUEST_MODELS.items()}
    out |= {name: schema_of(model, name, "serialization") for name, model in RESPONSE_MODELS.items()}
    return out


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, schema in generate().items():
        path = directory / file_name
        path.write_text(render(schema))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(path.relative_to(REPO_ROOT))
