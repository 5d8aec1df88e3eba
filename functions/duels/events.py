"""API Gateway WebSocket events as the duels handlers parse them: Powertools' models plus the
authorizer context, which API Gateway hands to every route of a connection."""

from __future__ import annotations

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


class _DisconnectContext(APIGatewayWebSocketDisconnectEventRequestContext):
    authorizer: ConnectionAuthorizer


class _MessageContext(APIGatewayWebSocketMessageEventRequestContext):
    authorizer: ConnectionAuthorizer


class ConnectEvent(APIGatewayWebSocketConnectEventModel):
    request_context: _ConnectContext = Field(alias="requestContext")


class DisconnectEvent(APIGatewayWebSocketDisconnectEventModel):
    request_context: _DisconnectContext = Field(alias="requestContext")


class MessageEvent(APIGatewayWebSocketMessageEventModel):
    request_context: _MessageContext = Field(alias="requestContext")
    body: str | None = None
