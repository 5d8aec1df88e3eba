"""DynamoDB streams keep 24 hours of records, as on AWS, so a long-running runtime stays bounded.

moto appends every stream record to its shard and never drops one: a runtime left up for days
grows by every write it ever took. DynamoDB Streams keeps a record for 24 hours; trim_stream()
drops the older ones from the shard's head and moves the shard's first sequence number past
them, so the sequence numbers of the records that remain do not change. A reader that asks for a
trimmed record gets TrimmedDataAccessException (moto asserts: a 500), as a GetRecords past the
trim horizon does on AWS. arcadeflow's pollers count the trimmed records (`trimmed_count`) to
keep their place (arcadeflow/aws/event_sources.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from arcadeflow.aws.moto_patches.dynamodb_atomic_writes import dynamodb_write_lock
from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

STREAM_RETENTION_SECONDS = 24 * 60 * 60


def trimmed_count(shard: Any) -> int:
    """How many records were ever dropped from the head of this shard."""
    return int(getattr(shard, "arcadeflow_trimmed", 0))


def trim_stream(shard: Any, older_than: datetime) -> int:
    """Drops the shard's records created before `older_than` (naive UTC, as moto stamps them)."""
    # Under the write lock: every write that appends to a shard holds it (the front serialises
    # DynamoDB writes), so no record is numbered while the head moves.
    with dynamodb_write_lock:
        count = 0
        for record in shard.items:
            if record.record["dynamodb"]["ApproximateCreationDateTime"] >= older_than:
                break
            count += 1
        if count:
            del shard.items[:count]
            shard.starting_sequence_number += count
            shard.arcadeflow_trimmed = trimmed_count(shard) + count
    return count


def apply_trimmed_reads(patcher: Patcher) -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.models.table import StreamShard

    original_get = StreamShard.get

    def get(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
        if start < self.starting_sequence_number:
            raise JsonRESTError(
                "TrimmedDataAccessException",
                f"sequence number {start} is beyond the trim horizon of shard {self.id}: "
                "stream records are kept for 24 hours",
            )
        return original_get(self, start, quantity)

    patcher.replace(StreamShard, "get", get)


PATCH = MotoPatch(
    name="dynamodb_stream_retention",
    fixes="stream records are kept forever; a read past a trim would assert (500)",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=("moto.dynamodb.models.table.StreamShard.get", "moto.dynamodb.models.table.StreamShard.add"),
    kind="fix",
    apply=apply_trimmed_reads,
    signatures={"moto.dynamodb.models.table.StreamShard.get": ("self", "start", "quantity")},
)
