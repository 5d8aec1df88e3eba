"""A REMOVE made by the TTL reaper carries the service identity, as DynamoDB's TTL does.

moto has no TTL at all (arcadeflow/aws/ttl.py deletes expired items), so its stream records
never say who deleted an item. On AWS a TTL deletion's REMOVE carries
`userIdentity: {type: Service, principalId: dynamodb.amazonaws.com}`, which stream consumers
use to tell an expiry from a user's delete. Deletions made inside `ttl_deletion()` get it.
"""

from __future__ import annotations

import threading
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_ttl_context = threading.local()
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


class ttl_deletion:  # noqa: N801 - used as a context manager, reads as a phrase
    def __enter__(self) -> None:
        _ttl_context.active = True

    def __exit__(self, *exc: object) -> None:
        _ttl_context.active = False


def apply(patcher: Patcher) -> None:
    from moto.dynamodb.models import table as table_module

    original_init = table_module.StreamRecord.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if getattr(_ttl_context, "active", False) and self.record["eventName"] == "REMOVE":
            self.record["userIdentity"] = dict(TTL_IDENTITY)

    patcher.replace(table_module.StreamRecord, "__init__", init)


PATCH = MotoPatch(
    name="dynamodb_ttl_stream_identity",
    fixes="moto has no TTL: a REMOVE on the stream never carries the TTL service's userIdentity",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=("moto.dynamodb.models.table.StreamRecord.__init__",),
    kind="fix",
    apply=apply,
)
