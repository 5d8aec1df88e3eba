"""TTL for real: moto stores the TTL setting and never expires anything; this reaper does.

Every `interval` seconds it deletes the items of TTL-enabled tables whose TTL attribute (epoch
seconds) is in the past. Each deletion is conditional on the item still being expired, so an
item refreshed meanwhile survives, and it appears on the table's stream as a REMOVE by the
DynamoDB service principal, as TTL deletions do on AWS. Like AWS, it deletes late: readers must
filter on the expiry attribute themselves.

The same sweep trims every table's stream to its last 24 hours (`stream_retention_seconds`), as
DynamoDB Streams does, so a runtime left running does not keep every record it ever streamed.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from arcadeflow.aws.embedded import EmbeddedAws, dynamodb_backend
from arcadeflow.aws.moto_patches.dynamodb_atomic_writes import dynamodb_write_lock
from arcadeflow.aws.moto_patches.dynamodb_stream_retention import STREAM_RETENTION_SECONDS, trim_stream
from arcadeflow.aws.moto_patches.dynamodb_ttl_identity import ttl_deletion

log = logging.getLogger("arcadeflow.ttl")


class TtlReaper(threading.Thread):
    def __init__(
        self,
        aws: EmbeddedAws,
        interval_seconds: float = 5.0,
        stream_retention_seconds: float = STREAM_RETENTION_SECONDS,
    ):
        super().__init__(name="ttl-reaper", daemon=True)
        self.aws = aws
        self.interval_seconds = interval_seconds
        self.stream_retention_seconds = stream_retention_seconds
        self.stopped = threading.Event()
        self.deleted = 0
        self.trimmed = 0

    def run(self) -> None:
        while not self.stopped.wait(self.interval_seconds):
            try:
                self.sweep()
                self.trim_streams()
            except Exception:  # a sweep must never kill the reaper
                log.exception("TTL sweep failed")

    def trim_streams(self, now: float | None = None) -> int:
        """Drops stream records older than the retention from every table's stream."""
        now = time.time() if now is None else now
        # moto stamps records with naive UTC datetimes.
        horizon = datetime.fromtimestamp(now, UTC).replace(tzinfo=None) - timedelta(
            seconds=self.stream_retention_seconds
        )
        trimmed = 0
        for table in list(dynamodb_backend(self.aws.region).tables.values()):
            shard = getattr(table, "stream_shard", None)
            if shard is not None and shard.items:
                trimmed += trim_stream(shard, horizon)
        self.trimmed += trimmed
        return trimmed

    def sweep(self, now: float | None = None) -> int:
        from moto.dynamodb.exceptions import ConditionalCheckFailed

        now = time.time() if now is None else now
        backend = dynamodb_backend(self.aws.region)
        deleted = 0
        for table in list(backend.tables.values()):
            ttl = getattr(table, "ttl", None) or {}
            if ttl.get("TimeToLiveStatus") != "ENABLED":
                continue
            attribute = ttl["AttributeName"]
            # Not table.all_items(): moto sorts the whole table for it, every sweep.
            for item in _unsorted_items(table):
                value = item.attrs.get(attribute)
                # Items without the attribute, or with a non-number in it, never expire.
                if value is None or value.type != "N":
                    continue
                try:
                    expires = Decimal(value.value)
                except InvalidOperation:
                    continue
                if expires >= Decimal(str(now)):
                    continue
                key = {table.hash_key_attr: item.hash_key.to_json()}
                if table.range_key_attr:
                    key[table.range_key_attr] = item.range_key.to_json()
                try:
                    with dynamodb_write_lock, ttl_deletion():
                        backend.delete_item(
                            table.name,
                            key,
                            expression_attribute_names={"#ttl": attribute},
                            expression_attribute_values={":now": {"N": str(int(now))}},
                            condition_expression="#ttl < :now",
                        )
                    deleted += 1
                except ConditionalCheckFailed:
                    pass  # refreshed since we looked
        self.deleted += deleted
        return deleted

    def stop(self) -> None:
        self.stopped.set()


def _unsorted_items(table) -> list:
    partitions = list(table.items.values())
    if not table.range_key_attr:
        return partitions
    return [item for partition in partitions for item in list(partition.values())]
