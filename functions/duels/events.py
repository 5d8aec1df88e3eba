"""API Gateway WebSocket events as the duels handlers parse them: Powertools' models plus the
authorizer context, which API Gateway hands to every route of a connection."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from aws_lambda_powertools.utilities.parser.models.apigw_websocket import (
    APIGatewayWebSocketConnectEventRequestContext,
    APIGatewayWebSocketDisconnectEventRequestContext,
    APIGatewayWebSocketMessageEventRequestContext,
)
from pydantic import BaseModel, ConfigDict, Field


class ConnectionAuthorizer(BaseModel):
    """The $connect authorizer's context: who holds this connection."""

    model_config = ConfigDict(extra="ignore")

    user_id: str = Field(alias="userId", min_length=1)
    screen_name: str | None = Field(default=None, alias="screenName")


class _ConnectContext(APIGatewayWebSocketConnectEventRequestContext):
    authorizer: ConnectionAuthorizer
    # AWS always sends "IN"; MiniStack 1.5.33 omits it (docs/ministack/websocket-message-direction.md).
    # No handler reads it, so its absence must not refuse the connection.
    message_direction: Literal["IN"] = Field(default="IN", alias="messageDirection")


class _DisconnectContext(APIGatewayWebSocketDisconnectEventRequestContext):
    authorizer: ConnectionAuthorizer
    # AWS always sends "IN"; MiniStack 1.5.33 omits it (docs/ministack/websocket-message-direction.md).
    # No handler reads it, so its absence must not refuse the connection.
    message_direction: Literal["IN"] = Field(default="IN", alias="messageDirection")


class _MessageContext(APIGatewayWebSocketMessageEventRequestContext):
    authorizer: ConnectionAuthorizer
    # AWS always sends "IN"; MiniStack 1.5.33 omits it (docs/ministack/websocket-message-direction.md).
    # No handler reads it, so its absence must not refuse the connection.
    message_direction: Literal["IN", "OUT"] = Field(default="IN", alias="messageDirection")


class ConnectEvent(APIGatewayWebSocketConnectEventModel):
    request_context: _ConnectContext = Field(alias="requestContext")


class DisconnectEvent(APIGatewayWebSocketDisconnectEventModel):
    request_context: _DisconnectContext = Field(alias="requestContext")
    # AWS sends the headers of the connection; MiniStack 1.5.33 sends none on $disconnect
    # (docs/ministack/websocket-disconnect-headers.md). No handler reads them, so their absence must
    # not leave the connection's record behind.
    headers: dict[str, str] = Field(default_factory=dict, alias="headers")
    multi_value_headers: dict[str, list[str]] = Field(default_factory=dict, alias="multiValueHeaders")


class MessageEvent(APIGatewayWebSocketMessageEventModel):
    request_context: _MessageContext = Field(alias="requestContext")
    body: str | None = None
