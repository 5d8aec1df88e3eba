"""ReadFollowerPage: the next page of the author's followers, cut into Map items, and the totals
so far. The state machine calls it in a loop; only one page of ids is ever in flight, so the
flow's payloads stay small however many followers there are."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import aws, config
from functions.status import settings
from functions.status.fanout import chunks, page_within_bytes, tally, worker_rate
from functions.status.models import FollowerPageRequest
from functions.status.repositories import Followers

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FollowerPageRequest)
def handler(request: FollowerPageRequest, context: LambdaContext) -> dict:
    totals = tally(
        request.totals.model_dump(by_alias=True), [r.model_dump(by_alias=True) for r in request.batch_results]
    )
    concurrency = settings.fanout_concurrency()
    base = {
        "totals": totals,
        "concurrency": concurrency,
        "writeRate": worker_rate(settings.feed_write_budget_wcu(), concurrency),
    }
    if request.started and request.cursor is None:
        logger.info("fan-out finished", extra=totals)
        metrics.add_metric(name="FeedWritesDeadLettered", unit=MetricUnit.Count, value=totals["deadLettered"])
        return {**base, "batches": [], "cursor": None, "started": True, "finished": True}

    followers = Followers(aws.dynamodb(), config.table_name("follows"))
    ids, more = followers.page(request.author_id, request.cursor, settings.fanout_page_size())
    kept = page_within_bytes(ids)
    more = more or len(kept) < len(ids)
    totals["followers"] += len(kept)
    totals["pages"] += 1
    metrics.add_metric(name="FollowerPagesRead", unit=MetricUnit.Count, value=1)
    return {
        **base,
        "totals": totals,
        "batches": list(chunks(kept, settings.fanout_batch_size())),
        "cursor": kept[-1] if more and kept else None,
        "started": True,
        "finished": not kept,
    }
