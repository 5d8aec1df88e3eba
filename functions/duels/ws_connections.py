"""$connect and $disconnect: keeps the connections table (userId, connectionId, expireAt).

The $connect authorizer has verified the token; its context names the user. A user may hold
several connections (tabs), each a record of its own. Followers hear about it from the
connections stream (presence_push), so the handshake does not wait for a fan-out.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.duels import wiring
from functions.duels.events import ConnectEvent, DisconnectEvent
from functions.shared import clock, config

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    event_type = (event.get("requestContext") or {}).get("eventType")
    if event_type == "CONNECT":
        connect = parse(event=event, model=ConnectEvent)
        who = connect.request_context.authorizer
        wiring.connections().add(
            who.user_id,
            connect.request_context.connection_id,
            who.screen_name or who.user_id,
            clock.now_ms(),
        )
        logger.append_keys(userId=who.user_id, connectionId=connect.request_context.connection_id)
        logger.info("connected")
        metrics.add_metric(name="Connected", unit=MetricUnit.Count, value=1)
        return {"statusCode": 200}
    if event_type == "DISCONNECT":
        disconnect = parse(event=event, model=DisconnectEvent)
        who = disconnect.request_context.authorizer
        wiring.connections().remove(who.user_id, disconnect.request_context.connection_id)
        logger.info(
            "disconnected",
            extra={
                "userId": who.user_id,
                "connectionId": disconnect.request_context.connection_id,
                "code": disconnect.request_context.disconnect_status_code,
            },
        )
        metrics.add_metric(name="Disconnected", unit=MetricUnit.Count, value=1)
        return {"statusCode": 200}
    raise ValueError(f"ws_connections handles CONNECT and DISCONNECT events, not {event_type!r}")
