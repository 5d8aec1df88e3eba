"""POST /statuses: validate, write the status to the author's story, start its fan-out, 202.

The request never waits for the fan-out. The execution is named after the statusId, so a
retried post (same Idempotency-Key) finds its execution already started and fans out once.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from functions.shared import aws, clock, config
from functions.shared.dynamo import error_code
from functions.shared.http import create_app, parse_body, respond
from functions.shared.identity import caller_from_event
from functions.shared.users import UsersRepository
from functions.status import publishing
from functions.status.errors import IdempotencyKeyReused
from functions.status.fanout import listing_item
from functions.status.models import Status, StatusPost
from functions.status.repositories import ListingWriter, PostClaims
from functions.status.responses import StatusAccepted

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())
app = create_app(logger)


@app.post("/statuses")
@tracer.capture_method
def post_status():
    request = parse_body(app, StatusPost)
    author = UsersRepository(aws.dynamodb(), config.table_name("users")).register(
        caller_from_event(app.current_event.raw_event)
    )
    key = app.current_event.headers.get("idempotency-key")
    status_id = publishing.status_id_for(author["userId"], key)
    now = clock.now()
    posted_at = clock.iso(now)
    if key is not None:
        fingerprint = publishing.post_fingerprint(request.post)
        claim = PostClaims(aws.dynamodb(), config.table_name("idempotency")).claim(
            status_id, posted_at, fingerprint, clock.epoch_seconds(now)
        )
        if claim["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different post")
        posted_at = claim["postedAt"]
    status = Status.model_validate(publishing.status_record(status_id, request.post, posted_at, author))
    record = status.model_dump(by_alias=True, exclude_none=True)

    ListingWriter(aws.dynamodb(), config.table_name("story")).put(listing_item(author["userId"], record))
    execution_arn = _start_fanout(status_id, record)
    metrics.add_metric(name="StatusPosted", unit=MetricUnit.Count, value=1)
    accepted = StatusAccepted(
        status_id=status_id,
        posted_at=posted_at,
        timestamp=record["timestamp"],
        fanout_execution_arn=execution_arn,
    )
    return respond(HTTPStatus.ACCEPTED, accepted)


def _start_fanout(status_id: str, status: dict) -> str:
    state_machine_arn = config.required("STATUS_FANOUT_STATE_MACHINE_ARN")
    name = publishing.execution_name(status_id)
    try:
        return aws.stepfunctions().start_execution(
            stateMachineArn=state_machine_arn, name=name, input=_json({"status": status})
        )["executionArn"]
    except ClientError as exc:
        if error_code(exc) != "ExecutionAlreadyExists":
            raise
        logger.info("fan-out already started", extra={"status_id": status_id})
        return state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name


def _json(value: dict) -> str:
    return json.dumps(value, separators=(",", ":"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
