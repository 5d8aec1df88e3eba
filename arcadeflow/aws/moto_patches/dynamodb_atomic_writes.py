"""DynamoDB writes one at a time, at the request seam: a condition and its write are atomic.

moto evaluates a condition and then writes with no lock, so two concurrent conditional writes
can both succeed. DynamoDB settles them atomically, and arcadeflow's flows rely on that (an
accept racing a timeout), so the embedded AWS's front serialises DynamoDB writes. An
interceptor, not a replacement of moto internals: it depends only on the wire.
"""

from __future__ import annotations

import threading
from typing import Any

from arcadeflow.aws.interceptor import Forward, Interceptor, Response
from arcadeflow.aws.moto_patches.registry import MotoPatch

DYNAMODB_WRITES = frozenset(
    f"DynamoDB_20120810.{action}"
    for action in (
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "ExecuteStatement",
        "BatchExecuteStatement",
        "ExecuteTransaction",
    )
)
# Also taken by the TTL reaper, which deletes straight on the backend.
dynamodb_write_lock = threading.Lock()


def serialise_writes(forward: Forward) -> Interceptor:
    def intercept(environ: dict[str, Any], body: bytes) -> Response | None:
        if environ.get("HTTP_X_AMZ_TARGET") not in DYNAMODB_WRITES:
            return None
        with dynamodb_write_lock:
            # forward() consumes moto's whole answer inside the lock: moto works lazily in some paths.
            return forward(environ, body)

    return intercept


PATCH = MotoPatch(
    name="dynamodb_atomic_conditional_writes",
    fixes="two concurrent conditional writes can both pass their condition",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=("moto.dynamodb.models.table.Table.put_item", "moto.dynamodb.models.DynamoDBBackend.update_item"),
    kind="interceptor",
    interceptor=serialise_writes,
)
