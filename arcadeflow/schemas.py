"""JSON Schemas of every API body, generated from the pydantic models in functions/.

`write()` refreshes schemas/; tests/unit/test_schemas.py regenerates and compares, so a model
and its checked-in schema cannot disagree. Later flows add their models to SCHEMA_MODELS.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from arcadeflow.deployment import REPO_ROOT, Deployment
from functions.duels import models as duels
from functions.social.models import FollowRequest, PresenceUpdate, ProfileUpdate, ScoreSubmission
from functions.status.models import StatusPost

SCHEMA_DIR = REPO_ROOT / "schemas"

# file name -> model; the name says which request it is.
SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "follow_request.schema.json": FollowRequest,
    "profile_update.schema.json": ProfileUpdate,
    "score_submission.schema.json": ScoreSubmission,
    "presence_update.schema.json": PresenceUpdate,
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
    "status_post.schema.json": StatusPost,
    # infra/deployment.json itself, so editors validate the one description as it is written.
    "deployment.schema.json": Deployment,
}


def generate() -> dict[str, dict]:
    """File name -> JSON Schema (as validated: the shape a client must send)."""
    out: dict[str, dict] = {}
    for file_name, model in SCHEMA_MODELS.items():
        schema = model.model_json_schema(by_alias=True, mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = file_name
        out[file_name] = schema
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
    write()
