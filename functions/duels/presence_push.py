"""Presence goes live: a user's connected followers get {type: "presence", userId, status,
gameId, context} when the user connects, disconnects, changes presence or their presence expires.

Two streams feed it: connections (a first tab opening says the user is online with their current
presence; the last tab closing, or its record expiring, says offline) and presence (a change
clients can see; refreshes that change nothing are not news). Followers come from the follows
table's FollowedBy index. Delivery is at least once: a failed record is reported alone and
redelivered, and two tabs closing together may both find the user gone, so a follower can get the
same status twice in a row, which a client treats as no change.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.duels import domain, wiring
from functions.duels.models import PresenceFrame, to_wire
from functions.shared import aws, clock, config
from functions.shared.dynamo import from_item, stream_images

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

FOLLOWED_BY_INDEX = "FollowedBy"


def _table_of(raw: dict[str, Any]) -> str:
    # arn:aws:dynamodb:region:account:table/<name>/stream/<label>
    return str(raw.get("eventSourceARN", "")).split(":table/", 1)[-1].split("/stream/", 1)[0]


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    raw = record.raw_event
    event_name = raw.get("eventName", "")
    old, new = stream_images(raw)
    now_epoch = clock.epoch_seconds(clock.now())
    if _table_of(raw) == config.table_name("connections"):
        change = _connection_change(event_name, old, new, now_epoch)
    else:
        change = domain.presence_change(event_name, old, new)
        if (
            change is not None
            and change[1] == domain.OFFLINE
            and wiring.connections().live(change[0], now_epoch)
        ):
            # The presence record expired but a tab is still open: online, with no details.
            change = (change[0], domain.ONLINE, None, None)
    if change is None:
        return
    user_id, status, game_id, context = change
    frame = PresenceFrame(userId=user_id, status=status, gameId=game_id, context=context)
    followers = _followers(user_id)
    if followers:
        delivery = wiring.pusher().to_users(followers, to_wire(frame))
        metrics.add_metric(name="PresencePushed", unit=MetricUnit.Count, value=delivery.delivered)


def _connection_change(
    event_name: str, old: dict[str, Any] | None, new: dict[str, Any] | None, now_epoch: int
) -> tuple[str, str, str | None, str | None] | None:
    live = None
    if event_name == "INSERT" and new is not None:
        user_id = str(new["userId"])
        live = wiring.connections().live(user_id, now_epoch)
        if [c for c in live if c != new["connectionId"]]:
            return None  # another tab was already open: followers already see this user online
        record = _presence_of(user_id)
        return (user_id, *domain.live_presence(record, now_epoch))
    if event_name == "REMOVE" and old is not None:
        user_id = str(old["userId"])
        if wiring.connections().live(user_id, now_epoch):
            return None  # still connected in another tab
        return user_id, domain.OFFLINE, None, None
    return None


def _presence_of(user_id: str) -> dict[str, Any] | None:
    out = aws.dynamodb().get_item(
        TableName=config.table_name("presence"), Key={"userId": {"S": user_id}}, ConsistentRead=True
    )
    return from_item(out.get("Item"))


def _followers(user_id: str) -> list[str]:
    request: dict[str, Any] = {
        "TableName": config.table_name("follows"),
        "IndexName": FOLLOWED_BY_INDEX,
        "KeyConditionExpression": "targetUserId = :user",
        "ExpressionAttributeValues": {":user": {"S": user_id}},
        "ProjectionExpression": "userId",
    }
    followers: list[str] = []
    while True:
        page = aws.dynamodb().query(**request)
        followers += [item["userId"]["S"] for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return followers
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
