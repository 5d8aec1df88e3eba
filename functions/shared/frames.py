"""Reading a client's WebSocket frame: the checks every flow's actions share, in one order, each
refusal a client error that says exactly what is wrong (and changes nothing)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from functions.shared.exceptions import FrameTooLarge, InvalidFrame, MalformedFrame, UnknownAction
from functions.shared.json_limits import MAX_JSON_DEPTH, json_depth_exceeds

Frame = TypeVar("Frame")


def parse_client_frame(
    body: str | None,
    is_base64: bool,
    *,
    actions: Sequence[str],
    adapter: TypeAdapter[Frame],
    max_bytes: int,
) -> Frame:
    """The frame as the flow's model (`adapter`, a union discriminated on `action`)."""
    raw: bytes
    if body is None:
        raise MalformedFrame("the frame is empty")
    if is_base64:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedFrame("the frame is not valid base64") from exc
    else:
        raw = body.encode("utf-8")
    if len(raw) > max_bytes:
        raise FrameTooLarge(f"frames are limited to {max_bytes} bytes; this one has {len(raw)}")
    # Before json.loads, which recurses once per level: 1,000 levels fit in a 4 KB frame and
    # raise RecursionError, which no handler maps to an error frame (the sender heard nothing).
    if json_depth_exceeds(raw):
        raise MalformedFrame(f"the frame is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data: Any = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedFrame("the frame is not valid JSON") from exc
    if not isinstance(data, dict):
        raise MalformedFrame("the frame must be a JSON object")
    action = data.get("action")
    if action not in actions:
        known = ", ".join(actions)
        raise UnknownAction(f"unknown action {str(action)[:40]!r}; known actions: {known}")
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise InvalidFrame(f"invalid {action} frame: {describe(exc)}") from exc


def describe(exc: ValidationError) -> str:
    """The first few problems of a frame, by field."""
    parts = []
    for error in exc.errors()[:5]:
        location = ".".join(str(p) for p in error["loc"][1:]) or "frame"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)
