"""Records lastSeenAt on the user when TTL deletes their presence record (presence stream).

Only REMOVEs made by the TTL service count (userIdentity dynamodb.amazonaws.com); lastSeenAt is
the removed record's updatedAt, the last time the user was heard from, not the deletion time,
which can be days late. The write keeps the later of the stored and the new value, so a
redelivered record, or records arriving out of order, change nothing.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import config
from functions.shared.dynamo import MalformedStreamRecord, stream_images
from functions.social import wiring

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

TTL_PRINCIPAL = "dynamodb.amazonaws.com"


def removed_by_ttl(raw: dict) -> bool:
    identity = raw.get("userIdentity") or {}
    return (
        raw.get("eventName") == "REMOVE"
        and identity.get("type") == "Service"
        and identity.get("principalId") == TTL_PRINCIPAL
    )


@tracer.capture_method
def record_last_seen(record: DynamoDBRecord) -> None:
    raw = record.raw_event
    if not removed_by_ttl(raw):
        return
    old, _ = stream_images(raw)
    if old is None or "userId" not in old or "updatedAt" not in old:
        raise MalformedStreamRecord(f"TTL REMOVE {record.event_id} has no usable old image")
    if wiring.users().record_last_seen(old["userId"], old["updatedAt"]):
        metrics.add_metric(name="LastSeenRecorded", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_last_seen, processor=processor, context=context
    )
