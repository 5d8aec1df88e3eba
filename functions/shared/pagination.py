"""Opaque cursors: a page's last key, base64url-encoded JSON. Pure (no AWS).

A cursor is checked against the key shape it must have and the values it must keep (the
partition being listed) before it reaches DynamoDB, so a forged or stale cursor is a clear
400, never a DynamoDB ValidationException or another user's page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

from functions.shared.exceptions import InvalidCursor
from functions.shared.json_limits import check_json_depth

MAX_CURSOR_CHARS = 2048

CursorValue = str | int


def encode_cursor(key: Mapping[str, CursorValue]) -> str:
    raw = json.dumps(dict(key), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(
    cursor: str,
    shape: Mapping[str, type],
    fixed: Mapping[str, CursorValue] | None = None,
) -> dict[str, CursorValue]:
    """The key in `cursor`, which must have exactly the attributes of `shape`, of those types,
    and equal `fixed` where given."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("cursor is too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        # A cursor is a flat key; a deep one would make json.loads recurse (RecursionError, a 500).
        check_json_depth(raw, limit=1)
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("cursor is not one this API issued") from exc
    if not isinstance(key, dict) or set(key) != set(shape):
        raise InvalidCursor("cursor is not one this API issued")
    for name, kind in shape.items():
        # bool is an int in Python; a cursor never carries one.
        if not isinstance(key[name], kind) or isinstance(key[name], bool):
            raise InvalidCursor("cursor is not one this API issued")
    for name, value in (fixed or {}).items():
        if key[name] != value:
            raise InvalidCursor("cursor belongs to a different listing")
    return key
