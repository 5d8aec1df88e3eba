"""Posting a status: the pure parts (ids, the status record, idempotency key rules)."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from functions.status.errors import InvalidIdempotencyKey
from functions.status.fanout import sort_key

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def status_id_for(author_id: str, idempotency_key: str | None) -> str:
    """A retried post (same author, same Idempotency-Key) gets the same statusId, hence the same
    story key and the same execution name; without a key every post is a new status."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    if not IDEMPOTENCY_KEY.match(idempotency_key):
        raise InvalidIdempotencyKey("Idempotency-Key must be 1-128 characters of A-Z a-z 0-9 _ . : -")
    return hashlib.sha256(f"{author_id}\n{idempotency_key}".encode()).hexdigest()[:32]


def execution_name(status_id: str) -> str:
    return f"status-{status_id}"


def status_record(status_id: str, post: str, posted_at: str, author: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusId": status_id,
        "post": post,
        "postedAt": posted_at,
        "timestamp": sort_key(posted_at, status_id),
        "author": {
            "userId": author["userId"],
            "screenName": author.get("screenName") or author["userId"],
            "avatar": author.get("avatar"),
        },
    }


def post_fingerprint(post: str) -> str:
    return hashlib.sha256(post.encode()).hexdigest()
