"""The queue table's stream -> queueUpdate {position, waiting} to everyone waiting.

Coalesced per batch: however many joins, leaves and pairings a batch holds, each waiting
player gets one frame for it, with the queue as it is when the batch is handled (1,000 joins in
batches of 100 make at most 10 frames per player, never one per change). A waiting player none
of whose connections takes the frame (none live, or every one 410) leaves the queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.matchmaking import rules, wiring
from functions.matchmaking.models import QueueUpdateFrame, to_wire
from functions.shared import clock, config
from functions.shared.dynamo import stream_images

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


def changes_waiting(record: dict[str, Any]) -> bool:
    """Did this change add a ticket to the waiting queue or take one out of it?"""
    old, new = stream_images(record)
    before = (old or {}).get("joinKey") if (old or {}).get("status") == rules.WAITING else None
    after = (new or {}).get("joinKey") if (new or {}).get("status") == rules.WAITING else None
    return before != after


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    records = event.get("Records") or []
    if not any(changes_waiting(record) for record in records):
        return {"batchItemFailures": []}
    tickets = wiring.tickets()
    now_ms = clock.now_ms()
    waiting = tickets.waiting(now_ms)
    positions = rules.queue_positions([t["userId"] for t in waiting])
    frames = {
        user: to_wire(QueueUpdateFrame(position=position, waiting=len(waiting)))
        for user, position in positions.items()
    }
    delivery = wiring.pusher().frames_to_users(frames)
    join_keys = {t["userId"]: t["joinKey"] for t in waiting}
    for user in delivery.unreachable:
        tickets.remove_waiting(user, join_keys[user], clock.now_ms())
    metrics.add_metric(name="QueueUpdatesSent", unit=MetricUnit.Count, value=delivery.delivered)
    logger.info(
        "queue update",
        extra={"waiting": len(waiting), "records": len(records), "unreachable": len(delivery.unreachable)},
    )
    return {"batchItemFailures": []}
