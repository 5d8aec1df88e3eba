"""PUT /presence (every 30 s from clients), GET /presence/online, GET /presence/following.

Who is online is read from the OnlineByExpiry index (onlineShard, expiresAt): a record is online
while expiresAt is in the future, so the query's key condition itself leaves out expired records
that TTL has not deleted yet. Writes are spread over PRESENCE_ONLINE_SHARDS index partitions
(a single "online" partition would cap presence refreshes at one partition's write rate); a
listing queries every shard and merges.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import clock, config
from functions.shared.http import create_app, parse_body, parse_query, respond
from functions.shared.models import PageQuery
from functions.shared.pagination import decode_cursor, encode_cursor
from functions.social import domain, wiring
from functions.social.models import PresenceUpdate
from functions.social.repositories import PresenceRepository
from functions.social.responses import OnlineEntry, OnlinePage, PresenceUpdated

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())
app = create_app(logger)


@app.put("/presence")
@tracer.capture_method
def update_presence():
    user = wiring.register_caller(app)
    update = parse_body(app, PresenceUpdate)
    domain.require_game_for_status(update.status, update.game_id)
    now = clock.now()
    record = domain.presence_record(
        user,
        update.status.value,
        update.game_id,
        update.context,
        clock.iso(now),
        clock.epoch_seconds(now),
        wiring.presence_ttl_seconds(),
        wiring.online_shards(),
    )
    wiring.presence().put(record)
    metrics.add_metric(name="PresenceUpdated", unit=MetricUnit.Count, value=1)
    view = domain.presence_view(record, clock.epoch_seconds(now))
    return respond(HTTPStatus.OK, PresenceUpdated.model_validate({**view, "expiresAt": record["expiresAt"]}))


@app.get("/presence/online")
@tracer.capture_method
def list_online():
    wiring.register_caller(app)
    query = parse_query(app, PageQuery)
    before = None
    if query.cursor:
        position = decode_cursor(query.cursor, {"expiresAt": int, "userId": str})
        before = (int(position["expiresAt"]), str(position["userId"]))
    now_epoch = clock.epoch_seconds(clock.now())
    repository = wiring.presence()
    candidates: list[dict[str, Any]] = []
    for shard in domain.all_online_shards(wiring.online_shards()):
        candidates += _shard_candidates(repository, shard, now_epoch, before, query.limit + 1)
    page, resume = domain.online_page(candidates, query.limit, before)
    listing = OnlinePage(
        items=[OnlineEntry.model_validate(domain.online_entry(record)) for record in page],
        next_cursor=encode_cursor({"expiresAt": resume[0], "userId": resume[1]}) if resume else None,
    )
    return respond(HTTPStatus.OK, listing)


def _shard_candidates(
    repository: PresenceRepository, shard: str, now_epoch: int, before: tuple[int, str] | None, wanted: int
) -> list[dict[str, Any]]:
    """The shard's first `wanted` records after `before` in listing order, plus every record
    tied with the last of them on expiresAt (the index does not order ties by userId)."""
    taken: list[dict[str, Any]] = []
    for record in repository.online_in_shard(shard, now_epoch, before[0] if before else None):
        if before is not None and domain.online_order(record) >= before:
            continue
        if len(taken) >= wanted and int(record["expiresAt"]) < int(taken[-1]["expiresAt"]):
            break
        taken.append(record)
    return taken


@app.get("/presence/following")
@tracer.capture_method
def list_following_online():
    caller = wiring.register_caller(app)
    query = parse_query(app, PageQuery)
    start = None
    if query.cursor:
        start = decode_cursor(
            query.cursor, {"userId": str, "targetUserId": str}, {"userId": caller["userId"]}
        )
    edges, last = wiring.follows().following(caller["userId"], query.limit, start)
    records = wiring.presence().get_many([edge["targetUserId"] for edge in edges])
    now_epoch = clock.epoch_seconds(clock.now())
    online = []
    for edge in edges:
        record = records.get(edge["targetUserId"])
        if domain.is_online(record, now_epoch):
            assert record is not None
            online.append(OnlineEntry.model_validate(domain.online_entry(record)))
    # A page examines `limit` of the people followed and lists those online, so it can hold
    # fewer than `limit` entries (even none) and still have a nextCursor.
    return respond(HTTPStatus.OK, OnlinePage(items=online, next_cursor=encode_cursor(last) if last else None))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
