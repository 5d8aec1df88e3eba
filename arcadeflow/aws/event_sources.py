"""Event source mappings for real: DynamoDB Streams and SQS delivered as Lambda delivers them.

moto stores mappings but delivers synchronously inside the write (through Docker). Here every
mapping, created by the deployer or by Terraform, gets a poller thread that:
- delivers batches asynchronously (a write returns before its record is processed),
- honours BatchSize, Enabled and ReportBatchItemFailures (partial batch responses),
- for streams: retries a failing batch in order with backoff, bisects it when
  BisectBatchOnFunctionError is set, and skips it after MaximumRetryAttempts;
- for SQS: deletes what succeeded and leaves failures to reappear after the visibility timeout,
  so the queue's redrive policy moves them to the dead-letter queue.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
import time
from typing import Any

from arcadeflow.aws.embedded import EmbeddedAws, dynamodb_backend, lambda_backend
from arcadeflow.aws.moto_patches.dynamodb_atomic_writes import dynamodb_write_lock
from arcadeflow.aws.moto_patches.dynamodb_stream_retention import trimmed_count

log = logging.getLogger("arcadeflow.event_sources")

IDLE_POLL_SECONDS = 0.05
DISCOVERY_SECONDS = 0.25
MAX_BACKOFF_SECONDS = 5.0


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return int(value.timestamp())
    raise TypeError(type(value).__name__)


class _Poller(threading.Thread):
    def __init__(self, aws: EmbeddedAws, esm: Any):
        super().__init__(name=f"esm-{esm.uuid[:8]}", daemon=True)
        self.aws = aws
        self.esm = esm
        self.stopped = threading.Event()
        self.delivered_batches = 0

    @property
    def reports_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in (self.esm.function_response_types or [])

    def invoke(self, records: list[dict[str, Any]]) -> tuple[bool, set[str]]:
        """(function succeeded, ids reported as failed by a partial batch response)."""
        payload = json.dumps({"Records": records}, default=_jsonable).encode()
        result = self.aws.runner.invoke(self.esm.function_arn, payload)
        self.delivered_batches += 1
        if not result.ok:
            return False, set()
        if not self.reports_item_failures:
            return True, set()
        body = result.json()
        failures = body.get("batchItemFailures") if isinstance(body, dict) else None
        return True, {f["itemIdentifier"] for f in failures or [] if f.get("itemIdentifier")}


class StreamPoller(_Poller):
    """One DynamoDB stream shard, read in order from a checkpoint, as Lambda reads it."""

    def __init__(self, aws: EmbeddedAws, esm: Any, resume: dict[tuple[str, str], int] | None = None):
        super().__init__(aws, esm)
        self.table_name = esm.event_source_arn.split(":table/", 1)[1].split("/stream/", 1)[0]
        # `position` counts records since the shard began, trimmed ones included
        # (moto_patches/dynamodb_stream_retention.py), so a trim does not move the poller's place.
        shard = self._shard()
        already = len(shard.items) + trimmed_count(shard) if shard else 0
        self.position = already if esm.starting_position == "LATEST" else 0
        # Where this consumer had read to before a restart (persistence.restore_stream_records).
        kept = (resume or {}).pop((self.table_name, esm.function_arn), None)
        if kept is not None:
            self.position = min(kept, already)

    def _shard(self) -> Any:
        table = dynamodb_backend(self.aws.region).tables.get(self.table_name)
        return getattr(table, "stream_shard", None) if table else None

    def _unread(self, shard: Any) -> int:
        return len(shard.items) + trimmed_count(shard) - self.position

    def _records(self, count: int) -> list[dict[str, Any]]:
        shard = self._shard()
        with dynamodb_write_lock:  # the head and the trimmed count move together under it
            trimmed = trimmed_count(shard)
            if self.position < trimmed:
                # Records older than the stream's 24 hours were trimmed before this mapping read
                # them: lost, as on AWS (the function never saw them); go on from the oldest kept.
                log.warning(
                    "%s: %d stream records of %s expired unread (24 hours)",
                    self.esm.function_name,
                    trimmed - self.position,
                    self.table_name,
                )
                self.position = trimmed
            items = shard.items[self.position - trimmed : self.position - trimmed + count]
        out = []
        for item in items:
            record = json.loads(json.dumps(item.to_json(), default=_jsonable))
            record["eventSourceARN"] = self.esm.event_source_arn
            out.append(record)
        return out

    def run(self) -> None:
        while not self.stopped.is_set():
            shard = self._shard()
            if shard is None or not self.esm.enabled or self._unread(shard) <= 0:
                time.sleep(IDLE_POLL_SECONDS)
                continue
            batch = self._records(int(self.esm.batch_size or 100))
            self.position += self._deliver(batch)

    def _deliver(self, batch: list[dict[str, Any]]) -> int:
        """Deliver until the batch is done or given up; returns how many records to advance."""
        max_retries = self.esm.max_retry_attempts
        max_retries = -1 if max_retries is None else int(max_retries)
        attempt = 0
        while not self.stopped.is_set():
            ok, failed_ids = self.invoke(batch)
            if ok and not failed_ids:
                return len(batch)
            if ok:
                # Checkpoint just before the first failed record; retry from there.
                # An unknown identifier fails the whole batch, as on AWS.
                failed_at = [i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed_ids]
                first_failed = min(failed_at, default=0)
                if first_failed > 0:
                    return first_failed
            elif self.esm.bisect_on_error and len(batch) > 1:
                half = len(batch) // 2
                done = self._deliver(batch[:half])
                if done < half:
                    return done
                return half + self._deliver(batch[half:])
            attempt += 1
            if max_retries >= 0 and attempt > max_retries:
                log.error(
                    "%s: giving up on %d stream records from %s after %d retries",
                    self.esm.function_name,
                    len(batch),
                    self.table_name,
                    max_retries,
                )
                return len(batch)
            time.sleep(min(0.1 * 2**attempt, MAX_BACKOFF_SECONDS))
        return 0


class QueuePoller(_Poller):
    """Long-polls one SQS queue and deletes only what the function processed."""

    def __init__(self, aws: EmbeddedAws, esm: Any):
        super().__init__(aws, esm)
        self.sqs = aws.client("sqs")
        arn_parts = esm.event_source_arn.split(":")
        self.queue_url = self.sqs.get_queue_url(QueueName=arn_parts[5])["QueueUrl"]

    def run(self) -> None:
        while not self.stopped.is_set():
            if not self.esm.enabled:
                time.sleep(IDLE_POLL_SECONDS)
                continue
            try:
                received = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=min(int(self.esm.batch_size or 10), 10),
                    WaitTimeSeconds=1,
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except Exception:  # the queue may be deleted under us
                log.exception("receive from %s failed", self.queue_url)
                time.sleep(1)
                continue
            if not received:
                continue
            records = [self._record(m) for m in received]
            ok, failed_ids = self.invoke(records)
            if not ok:
                continue  # all of them come back after the visibility timeout
            done = [m for m in received if m["MessageId"] not in failed_ids]
            for start in range(0, len(done), 10):
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done[start : start + 10])
                    ],
                )

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        }
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": attributes,
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.esm.event_source_arn,
            "awsRegion": self.aws.region,
        }


class EventSourceMappings(threading.Thread):
    """Finds mappings as they are created or deleted and keeps one poller per mapping."""

    def __init__(self, aws: EmbeddedAws):
        super().__init__(name="esm-discovery", daemon=True)
        self.aws = aws
        self.pollers: dict[str, _Poller] = {}
        self.stopped = threading.Event()
        # (table, function ARN) -> stream position to resume at, set from the state directory.
        self.resume: dict[tuple[str, str], int] = {}

    def run(self) -> None:
        while not self.stopped.wait(DISCOVERY_SECONDS):
            self.sync()

    def sync(self) -> None:
        mappings = {
            esm.uuid: esm for esm in lambda_backend(self.aws.region).list_event_source_mappings(None, None)
        }
        for uuid, gone in list(self.pollers.items()):
            if uuid not in mappings:
                gone.stopped.set()
                del self.pollers[uuid]
        for uuid, esm in mappings.items():
            if uuid in self.pollers:
                continue
            service = esm.event_source_arn.split(":")[2]
            try:
                poller: _Poller = (
                    StreamPoller(self.aws, esm, self.resume)
                    if service == "dynamodb"
                    else QueuePoller(self.aws, esm)
                )
            except Exception:
                log.exception("cannot poll %s", esm.event_source_arn)
                continue
            self.pollers[uuid] = poller
            poller.start()

    def stream_positions(self) -> dict[str, dict[str, int]]:
        """table -> {function ARN: records read}, for every stream consumer, including the ones
        restored from the state directory that no poller has claimed yet."""
        out: dict[str, dict[str, int]] = {}
        for (table, function_arn), position in list(self.resume.items()):
            out.setdefault(table, {})[function_arn] = position
        for poller in list(self.pollers.values()):
            if isinstance(poller, StreamPoller):
                out.setdefault(poller.table_name, {})[poller.esm.function_arn] = poller.position
        return out

    def stop(self) -> None:
        self.stopped.set()
        for poller in self.pollers.values():
            poller.stopped.set()
        # A stream batch being delivered finishes (and moves its poller's position) before the
        # state directory keeps the positions: a record delivered now is not delivered again.
        # (Queue pollers are not waited for: a message in flight is simply received again.)
        deadline = time.monotonic() + 10
        for poller in self.pollers.values():
            if isinstance(poller, StreamPoller) and poller.is_alive():
                poller.join(timeout=max(0.0, deadline - time.monotonic()))
