"""JSON Schemas of every API body, generated from the pydantic models in functions/.

`write()` refreshes schemas/; tests/unit/test_schemas.py regenerates and compares, so a model
and its checked-in schema cannot disagree. Later flows add their models to SCHEMA_MODELS.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from arcadeflow.deployment import REPO_ROOT
from functions.social.models import FollowRequest, PresenceUpdate, ProfileUpdate, ScoreSubmission

SCHEMA_DIR = REPO_ROOT / "schemas"

# file name -> model; the name says which request it is.
SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "follow_request.schema.json": FollowRequest,
    "profile_update.schema.json": ProfileUpdate,
    "score_submission.schema.json": ScoreSubmission,
    "presence_update.schema.json": PresenceUpdate,
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
