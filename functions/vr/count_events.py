"""CountSessionEvents: one page of the ended session's events. Moves each event's ttl to the
session's (end + retention), with batch writes that retry unprocessed items, and returns only
the counts of the event types the catalog uses and where the next page starts: the state
machine loops over pages, so no state ever holds the events themselves."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import clock, config
from functions.vr import rules, wiring
from functions.vr.catalog import catalog
from functions.vr.models import CountEventsTask

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=CountEventsTask)
def handler(task: CountEventsTask, context: LambdaContext) -> dict:
    events = wiring.events()
    page, next_key = events.page_after(task.session_id, task.cursor, wiring.events_page_size())
    # An event already past its ttl is gone for every reader (TTL deletes late); the end does
    # not bring it back. Only a session kept open longer than the retention has any.
    now = clock.epoch_seconds(clock.now())
    items = [item for item in page if int(item.get("ttl", 0)) > now]
    moved = [{**item, "ttl": task.expires_at} for item in items if int(item["ttl"]) != task.expires_at]
    retried = events.rewrite(moved)
    counts = rules.tally(task.counts, (i["eventType"] for i in items), catalog().counted_event_types())
    metrics.add_metric(name="VrEventsCounted", unit=MetricUnit.Count, value=len(items))
    if retried:
        logger.info("unprocessed event writes retried", extra={"requests": retried})
    return {
        "cursor": next_key,
        "counts": counts,
        "eventCount": task.event_count + len(items),
        "pages": task.pages + 1,
        "finished": next_key is None,
    }
