"""The WebSocket API's $connect authorizer (a Lambda REQUEST authorizer).

API Gateway calls it with the handshake's query string (identity source
`route.request.querystring.token`) and the `methodArn` of `$connect`. A genuine token gets a
policy allowing `execute-api:Invoke` on that ARN, with principalId = userId and the context
{userId, screenName[, avatar]} that API Gateway then hands to every route of the connection in
requestContext.authorizer. Any other token gets a Deny (the client sees 403). A request with no
token raises "Unauthorized" (401), though API Gateway itself answers 401 before calling us when
the identity source is missing. If the issuer's keys can't be fetched the invocation fails, and
the client sees 500: a valid player is not told they are refused because Cognito was slow.
"""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponseWebSocket,
    parse_api_gateway_arn,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.auth.exceptions import InvalidToken
from functions.auth.tokens import TokenVerifier
from functions.shared.exceptions import Unauthenticated
from functions.shared.identity import caller_from_claims

logger = Logger()

TOKEN_PARAMETER = "token"


class Unauthorized(Exception):
    """API Gateway answers 401 when an authorizer fails with exactly this message."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@cache
def verifier() -> TokenVerifier:
    # Module-level cache: one PyJWKClient, hence one JWKS fetch, per Lambda environment.
    return TokenVerifier.from_environment()


@logger.inject_lambda_context
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict:
    token = (event.query_string_parameters or {}).get(TOKEN_PARAMETER)
    if not token:
        raise Unauthorized()
    policy_for = APIGatewayAuthorizerResponseWebSocket.from_route_arn
    try:
        caller = caller_from_claims(verifier().verify(token))
    except (InvalidToken, Unauthenticated) as exc:
        logger.info("refused", extra={"reason": str(exc)})
        denied = policy_for(event.method_arn, principal_id="anonymous")
        denied.deny_all_routes()
        return denied.asdict()
    # API Gateway accepts only strings, numbers and booleans as context values.
    who = {"userId": caller.user_id, "screenName": caller.screen_name}
    if caller.avatar:
        who["avatar"] = caller.avatar
    allowed = policy_for(event.method_arn, principal_id=caller.user_id, context=who)
    # The route the ARN names ($connect): an authorizer on a WebSocket API guards only that one.
    allowed.allow_route(parse_api_gateway_arn(event.method_arn, is_websocket_authorizer=True).resource)
    logger.info("authorized", extra={"userId": caller.user_id})
    return allowed.asdict()
