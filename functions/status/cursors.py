"""Opaque, tamper-evident page cursors for feeds and stories. Pure (no AWS).

A cursor is base64url(JSON) plus an HMAC-SHA256 over it, made with a key the client never
sees. It names the listing (whose feed or story) and the user it was issued to, so a cursor
that was edited, forged, or taken from another listing or another user is refused (400)
before anything is read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from functions.shared.exceptions import InvalidCursor

MAX_CURSOR_CHARS = 1024


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(key: bytes, listing: str, reader: str, position: str) -> str:
    """A cursor continuing `listing` after sort key `position`, good only for `reader`."""
    body = _b64(json.dumps({"l": listing, "r": reader, "p": position}, separators=(",", ":")).encode())
    return f"{body}.{_b64(hmac.new(key, body.encode(), hashlib.sha256).digest())}"


def position_of(key: bytes, cursor: str, listing: str, reader: str) -> str:
    """The sort key a cursor continues from; InvalidCursor if it is not one issued for this
    listing and this reader."""
    if len(cursor) > MAX_CURSOR_CHARS or cursor.count(".") != 1:
        raise InvalidCursor("cursor is not one this API issued")
    body, signature = cursor.split(".")
    expected = hmac.new(key, body.encode(), hashlib.sha256).digest()
    try:
        valid = hmac.compare_digest(_unb64(signature), expected)
        claims = json.loads(_unb64(body)) if valid else None
    except (binascii.Error, ValueError):
        valid, claims = False, None
    if not valid or not isinstance(claims, dict) or not isinstance(claims.get("p"), str):
        raise InvalidCursor("cursor is not one this API issued")
    if claims.get("l") != listing or claims.get("r") != reader:
        raise InvalidCursor("cursor belongs to a different listing")
    return claims["p"]
