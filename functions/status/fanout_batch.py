"""WriteFeedBatch: one Map item's followers get the status in their feeds, 25 writes a request,
paced to this writer's share of the feed table's write budget."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import aws, config
from functions.status import settings
from functions.status.fanout import Pacer, listing_item
from functions.status.models import FeedBatch
from functions.status.repositories import ListingWriter

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


def write_feed_batch(batch: FeedBatch, pacer: Pacer) -> dict:
    status = batch.status.model_dump(by_alias=True)
    items = [listing_item(follower, status) for follower in dict.fromkeys(batch.follower_ids)]
    writer = ListingWriter(
        aws.self_paced_dynamodb(),
        config.table_name("feed"),
        max_attempts=settings.feed_write_max_attempts(),
    )
    try:
        written = writer.write_all(items, pacer)
    finally:
        if writer.retried_requests:
            metrics.add_metric(name="FeedWriteRetries", unit=MetricUnit.Count, value=writer.retried_requests)
    metrics.add_metric(name="FeedItemsWritten", unit=MetricUnit.Count, value=written)
    return {"written": written, "deadLettered": 0}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FeedBatch)
def handler(batch: FeedBatch, context: LambdaContext) -> dict:
    return write_feed_batch(batch, Pacer(batch.write_rate))
