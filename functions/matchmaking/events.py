"""API Gateway WebSocket message events as matchmaking parses them: Powertools' model plus the
$connect authorizer's context, which API Gateway hands to every route of a connection."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.utilities.parser.models import APIGatewayWebSocketMessageEventModel
from aws_lambda_powertools.utilities.parser.models.apigw_websocket import (
    APIGatewayWebSocketMessageEventRequestContext,
)
from pydantic import BaseModel, ConfigDict, Field


class ConnectionAuthorizer(BaseModel):
    """Who holds this connection."""

    model_config = ConfigDict(extra="ignore")

    user_id: str = Field(alias="userId", min_length=1)
    screen_name: str | None = Field(default=None, alias="screenName")


class _MessageContext(APIGatewayWebSocketMessageEventRequestContext):
    authorizer: ConnectionAuthorizer
    # AWS always sends "IN"; MiniStack 1.5.33 omits it (docs/ministack/websocket-message-direction.md).
    # No handler reads it, so its absence must not refuse the frame.
    message_direction: Literal["IN", "OUT"] = Field(default="IN", alias="messageDirection")


class MessageEvent(APIGatewayWebSocketMessageEventModel):
    request_context: _MessageContext = Field(alias="requestContext")
    body: str | None = None
