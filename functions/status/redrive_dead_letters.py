"""Writes dead-lettered feed batches again, once the cause is fixed (e.g. the feed table's
capacity raised). Invoked on demand: `arcadeflow redrive-fanout`, or `aws lambda invoke` on AWS.

A message is deleted only after its whole batch is written; a batch that fails again stays on
the queue for the next redrive. Writes rewrite the same keys, so redriving twice is harmless.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import ValidationError

from functions.shared import aws, config
from functions.status import settings
from functions.status.fanout import FeedWriteThrottled, Pacer
from functions.status.fanout_batch import write_feed_batch
from functions.status.models import DeadLetteredBatch, FeedBatch

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())

# Stop taking new messages when less than this much of the invocation is left.
RESERVE_MILLIS = 15_000


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    queue_url = config.required("FANOUT_DEAD_LETTERS_QUEUE_URL")
    sqs = aws.sqs()
    pacer = Pacer(float(settings.feed_write_budget_wcu()))
    outcome = {"batches": 0, "followers": 0, "failed": 0, "malformed": 0}
    while context.get_remaining_time_in_millis() > RESERVE_MILLIS:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            break
        for message in messages:
            try:
                dead = DeadLetteredBatch.model_validate_json(message["Body"])
            except ValidationError:
                # Not ours to fix by writing: keep it for a person to look at.
                outcome["malformed"] += 1
                logger.error("malformed dead letter left on the queue", extra={"body": message["Body"][:500]})
                continue
            batch = FeedBatch(status=dead.status, follower_ids=dead.follower_ids)
            try:
                result = write_feed_batch(batch, pacer)
            except (FeedWriteThrottled, ClientError) as exc:
                outcome["failed"] += 1
                logger.warning("batch failed again; left on the queue", extra={"error": str(exc)})
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            outcome["batches"] += 1
            outcome["followers"] += result["written"]
            logger.info(
                "dead-lettered batch written",
                extra={"status_id": dead.status.status_id, "followers": result["written"]},
            )
        if outcome["failed"] or outcome["malformed"]:
            break  # what failed is back on the queue after its visibility timeout; stop here
    metrics.add_metric(name="DeadLetteredBatchesRedriven", unit=MetricUnit.Count, value=outcome["batches"])
    return outcome
