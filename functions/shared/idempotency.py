"""A flow task made idempotent on its `dedupeKey` (the execution and the state, set by the ASL),
so a retried attempt after a success (a Lambda retry, a redrive) returns the first answer and does
nothing twice, such as pushing a frame."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent,
)

# Made at import (the decorator needs it), when a test may not have set the variable yet; the
# deployment always sets it, and the default only keeps the import from failing.
_persistence = DynamoDBPersistenceLayer(table_name=os.environ.get("IDEMPOTENCY_TABLE", "idempotency"))
_config = IdempotencyConfig(event_key_jmespath="dedupeKey", expires_after_seconds=24 * 3600)


def idempotent_on_dedupe_key(handler: Callable[..., Any]) -> Callable[..., Any]:
    return idempotent(config=_config, persistence_store=_persistence)(handler)
