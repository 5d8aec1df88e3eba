"""The WebSocket events' models accept what a second engine sends without the fields no handler
reads: MiniStack 1.5.33's $disconnect has no headers (docs/ministack/websocket-disconnect-headers.md)
and its messages no messageDirection (docs/ministack/websocket-message-direction.md). The
identity the handlers do read stays required."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.parser import parse
from pydantic import ValidationError

from functions.duels.events import DisconnectEvent
from functions.duels.events import MessageEvent as DuelMessageEvent
from functions.matchmaking.events import MessageEvent as MatchmakingMessageEvent


def _context(event_type: str, route_key: str, **authorizer: str) -> dict:
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": "x",
        "requestTime": "02/Dec/2026:19:00:00 +0000",
        "stage": "live",
        "connectedAt": 1796238952000,
        "requestTimeEpoch": 1796238952000,
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "test"},
        "requestId": "r-1",
        "domainName": "a1.execute-api.localhost",
        "connectionId": "c-1",
        "apiId": "a1",
        "authorizer": authorizer,
    }


def test_a_disconnect_without_headers_parses_and_names_its_user():
    context = {**_context("DISCONNECT", "$disconnect", userId="alice", screenName="Alice")}
    context.update(disconnectStatusCode=1000, disconnectReason="")
    event = parse(event={"requestContext": context, "isBase64Encoded": False}, model=DisconnectEvent)
    assert event.request_context.authorizer.user_id == "alice"
    assert event.headers == {} and event.multi_value_headers == {}


@pytest.mark.parametrize("model", [DuelMessageEvent, MatchmakingMessageEvent])
def test_a_message_without_message_direction_parses_as_in(model):
    context = _context("MESSAGE", "joinQueue", userId="alice")
    context["messageId"] = "m-1"
    event = parse(event={"requestContext": context, "body": "{}", "isBase64Encoded": False}, model=model)
    assert event.request_context.message_direction == "IN"
    assert event.request_context.authorizer.user_id == "alice"


@pytest.mark.parametrize("model", [DuelMessageEvent, MatchmakingMessageEvent])
def test_a_message_without_a_user_is_still_refused(model):
    context = _context("MESSAGE", "joinQueue")
    context["messageId"] = "m-1"
    with pytest.raises(ValidationError):
        parse(event={"requestContext": context, "body": "{}", "isBase64Encoded": False}, model=model)
