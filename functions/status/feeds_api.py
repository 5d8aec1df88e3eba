"""GET /feed (the caller's feed) and GET /users/{id}/story: newest first, opaque cursors."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from functions.shared import aws, config
from functions.shared.exceptions import InvalidRequest
from functions.shared.http import create_app, parse_query, respond
from functions.shared.identity import caller_from_event
from functions.shared.models import USER_ID, PageQuery
from functions.status import cursors
from functions.status.repositories import Listings
from functions.status.responses import Listing, ListingEntry

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())
app = create_app(logger)


def _cursor_key() -> bytes:
    # Kept in SSM (SecureString), cached for 5 minutes per execution environment.
    value = parameters.get_parameter(config.required("FEED_CURSOR_KEY_PARAMETER"), decrypt=True, max_age=300)
    return str(value).encode()


def _page(table: str, owner: str, listing: str) -> Listing:
    reader = caller_from_event(app.current_event.raw_event).user_id
    query = parse_query(app, PageQuery)
    key = _cursor_key()
    before = cursors.position_of(key, query.cursor, listing, reader) if query.cursor else None
    items, last = Listings(aws.dynamodb(), config.table_name(table)).page(owner, before, query.limit)
    entries = [
        ListingEntry.model_validate(
            {
                "statusId": item["statusId"],
                "post": item["post"],
                "postedAt": item["postedAt"],
                "author": item["author"],
            }
        )
        for item in items
    ]
    return Listing(
        user_id=owner,
        items=entries,
        next_cursor=cursors.issue(key, listing, reader, last) if last else None,
    )


@app.get("/feed")
@tracer.capture_method
def feed():
    reader = caller_from_event(app.current_event.raw_event).user_id
    return respond(HTTPStatus.OK, _page("feed", reader, f"feed:{reader}"))


@app.get("/users/<user_id>/story")
@tracer.capture_method
def story(user_id: str):
    try:
        owner = USER_ID.validate_python(user_id)
    except ValidationError as exc:
        raise InvalidRequest(f"userId {user_id[:140]!r} is not a valid user id") from exc
    return respond(HTTPStatus.OK, _page("story", owner, f"story:{owner}"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
