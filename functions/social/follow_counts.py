"""Keeps followerCount / followingCount on users from the follows table's stream.

Exactly once per stream record: the counter updates and a marker keyed by the record's eventID
(on the idempotency table, expiring after the stream's 24 h retention) commit in one
TransactWriteItems. A redelivered record finds its marker and changes nothing; a crash before
the commit leaves nothing behind, so the redelivery counts it. (Powertools' idempotency
decorator saves its record in a separate write from the work it guards, which leaves a window
where a crash blocks or repeats the count; the transaction has no such window.)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from functions.shared import aws, clock, config
from functions.shared.dynamo import MalformedStreamRecord, error_code, stream_images, to_value
from functions.social import domain

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

# Longer than a stream record can live (24 h), so no redelivery outlives its marker.
MARKER_LIFETIME_SECONDS = 2 * 24 * 3600
MARKER_PREFIX = "follow_counts#"


class FollowCounters:
    def __init__(self, client: Any, users_table: str, idempotency_table: str) -> None:
        self._client = client
        self._users = users_table
        self._markers = idempotency_table

    def apply_once(self, event_id: str, changes: list[tuple[str, str, int]]) -> bool:
        """Apply the counter changes unless this event was applied before. True when applied."""
        per_user: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for user_id, counter, delta in changes:
            per_user[user_id][counter] += delta
        marker_id = MARKER_PREFIX + event_id
        expires = clock.epoch_seconds(clock.now()) + MARKER_LIFETIME_SECONDS
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._markers,
                    "Item": {
                        "id": {"S": marker_id},
                        "expiration": to_value(expires),
                        "status": {"S": "COMPLETED"},
                    },
                    "ConditionExpression": "attribute_not_exists(id)",
                }
            }
        ]
        for user_id, counters in per_user.items():
            names = {f"#c{n}": counter for n, counter in enumerate(counters)}
            values = {f":d{n}": to_value(delta) for n, delta in enumerate(counters.values())}
            items.append(
                {
                    "Update": {
                        "TableName": self._users,
                        "Key": {"userId": {"S": user_id}},
                        "UpdateExpression": "ADD " + ", ".join(f"#c{n} :d{n}" for n in range(len(counters))),
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                    }
                }
            )
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            if self._already_applied(marker_id):
                return False
            raise
        return True

    def _already_applied(self, marker_id: str) -> bool:
        response = self._client.get_item(
            TableName=self._markers, Key={"id": {"S": marker_id}}, ConsistentRead=True
        )
        return "Item" in response


def counters() -> FollowCounters:
    return FollowCounters(aws.dynamodb(), config.table_name("users"), config.table_name("idempotency"))


@tracer.capture_method
def count_follow_change(record: DynamoDBRecord) -> None:
    event_name = record.raw_event.get("eventName", "")
    old, new = stream_images(record.raw_event)
    if (event_name == "INSERT" and new is None) or (event_name == "REMOVE" and old is None):
        raise MalformedStreamRecord(f"{event_name} record {record.event_id} has no image to count from")
    changes = domain.count_changes(event_name, old, new)
    if not changes:
        return
    if counters().apply_once(record.event_id or "", changes):
        metrics.add_metric(name="FollowCountsApplied", unit=MetricUnit.Count, value=1)
    else:
        logger.info("stream record already counted", extra={"event_id": record.event_id})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=count_follow_change, processor=processor, context=context
    )
