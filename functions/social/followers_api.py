"""POST /followers, DELETE /followers/{targetUserId}, GET /followers."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import clock, config
from functions.shared.exceptions import UserNotFound
from functions.shared.http import create_app, parse_body, parse_query, respond
from functions.shared.models import USER_ID
from functions.shared.pagination import decode_cursor, encode_cursor
from functions.social import domain, wiring
from functions.social.models import FollowListQuery, FollowRequest
from functions.social.responses import FollowEntry, FollowPage

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())
app = create_app(logger)


@app.post("/followers")
@tracer.capture_method
def follow():
    follower = wiring.register_caller(app)
    request = parse_body(app, FollowRequest)
    domain.ensure_can_follow(follower["userId"], request.target_user_id)
    target = wiring.users().get(request.target_user_id)
    if target is None:
        raise UserNotFound(f"user {request.target_user_id!r} does not exist")
    follows = wiring.follows()
    edge = domain.follow_edge(follower, target, clock.iso(clock.now()))
    if follows.add(edge):
        metrics.add_metric(name="FollowCreated", unit=MetricUnit.Count, value=1)
        logger.info("follow created", extra={"target_user_id": request.target_user_id})
        return respond(HTTPStatus.CREATED, FollowEntry.model_validate(domain.following_entry(edge)))
    # Already following: the same answer as the first time, nothing written.
    existing = follows.get(follower["userId"], request.target_user_id) or edge
    return respond(HTTPStatus.OK, FollowEntry.model_validate(domain.following_entry(existing)))


@app.delete("/followers/<target_user_id>")
@tracer.capture_method
def unfollow(target_user_id: str):
    follower = wiring.register_caller(app)
    target_user_id = wiring.path_value(USER_ID, target_user_id, "targetUserId")
    removed = wiring.follows().remove(follower["userId"], target_user_id)
    if removed:
        metrics.add_metric(name="FollowRemoved", unit=MetricUnit.Count, value=1)
    # 204 either way: unfollowing someone you do not follow leaves you not following them.
    return respond(HTTPStatus.NO_CONTENT, None)


@app.get("/followers")
@tracer.capture_method
def list_follows():
    caller = wiring.register_caller(app)
    query = parse_query(app, FollowListQuery)
    user_id = query.user_id or caller["userId"]
    if user_id != caller["userId"] and wiring.users().get(user_id) is None:
        raise UserNotFound(f"user {user_id!r} does not exist")
    follows = wiring.follows()
    if query.direction == "following":
        shape, partition = {"userId": str, "targetUserId": str}, {"userId": user_id}
        start = decode_cursor(query.cursor, shape, partition) if query.cursor else None
        edges, last = follows.following(user_id, query.limit, start)
        entries = [domain.following_entry(edge) for edge in edges]
    else:
        shape, partition = {"userId": str, "targetUserId": str}, {"targetUserId": user_id}
        start = decode_cursor(query.cursor, shape, partition) if query.cursor else None
        edges, last = follows.followers(user_id, query.limit, start)
        entries = [domain.follower_entry(edge) for edge in edges]
    page = FollowPage(
        user_id=user_id,
        direction=query.direction,
        items=[FollowEntry.model_validate(entry) for entry in entries],
        next_cursor=encode_cursor(last) if last else None,
    )
    return respond(HTTPStatus.OK, page)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
