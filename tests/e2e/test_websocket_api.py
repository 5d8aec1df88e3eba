"""The WebSocket API emulator behaves as API Gateway's does where arcadeflow relies on it:
the $connect authorizer Lambda (refusals, and its context on every route), the Management API on
the callback URL, 410 for a gone connection, the frame limit."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import jwt
import pytest
from botocore.exceptions import ClientError
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from arcadeflow.auth import AUDIENCE, ISSUER, LocalIssuer
from tests.support.jwt_keys import SigningKey
from tests.support.stack import wait_for
from tools.duel_client import DuelClient

pytestmark = pytest.mark.e2e


def _ws(stack) -> str:
    return stack.endpoints()["websocket"]


def _management(stack):
    import boto3

    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=stack.endpoints()["websocketCallback"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _connection_ids(stack, user_id: str) -> list[str]:
    out = stack.client("dynamodb").query(
        TableName=stack.endpoints()["tables"]["connections"],
        KeyConditionExpression="userId = :u",
        ExpressionAttributeValues={":u": {"S": user_id}},
    )
    return [i["connectionId"]["S"] for i in out["Items"]]


@pytest.mark.authorization("WS $connect")
@pytest.mark.parametrize(("query", "status"), [("", 401), ("?token=", 401), ("?token=not.a.jwt", 403)])
def test_connect_without_a_valid_token_is_refused(stack, query, status):
    async def attempt():
        with pytest.raises(InvalidStatus) as refused:
            await connect(_ws(stack) + query)
        return refused.value.response.status_code

    assert asyncio.run(attempt()) == status


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _claims(user_id: str, **overrides) -> dict:
    now = int(time.time())
    claims = {"sub": user_id, "name": user_id, "iss": ISSUER, "aud": AUDIENCE, "token_use": "id"}
    claims.update(iat=now, exp=now + 600)
    claims.update(overrides)
    return claims


def _stack_key(stack):
    # The key the running stack signs `arcadeflow token`s with (and publishes as its JWKS).
    return LocalIssuer(stack.state_dir)._private_key


REFUSED_TOKENS = {
    "expired": lambda stack, user: jwt.encode(
        _claims(user, iss=stack.issuer_url, exp=int(time.time()) - 120),
        _stack_key(stack),
        "RS256",
        {"kid": "local"},
    ),
    "other-audience": lambda stack, user: jwt.encode(
        _claims(user, iss=stack.issuer_url, aud="another-game"), _stack_key(stack), "RS256", {"kid": "local"}
    ),
    "forged-signature": lambda stack, user: SigningKey("local").sign(_claims(user, iss=stack.issuer_url)),
}


def _function_log(stack, function: str) -> str:
    """What the function `function` (its physical name) has logged: the embedded runtime's log
    file, or elsewhere its CloudWatch Logs group (none yet before its first invocation)."""
    if stack.endpoints().get("target") is None:  # `arcadeflow up`
        path = stack.state_dir / "logs" / f"{function}.log"
        return path.read_text() if path.exists() else ""
    logs = stack.client("logs")
    try:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=f"/aws/lambda/{function}")
        return "\n".join(event["message"] for page in pages for event in page["events"])
    except logs.exceptions.ResourceNotFoundException:
        return ""


@pytest.mark.parametrize("kind", sorted(REFUSED_TOKENS))
def test_a_refused_token_never_reaches_the_connect_lambda(stack, kind):
    user = _unique(f"refused-{kind}")
    token = REFUSED_TOKENS[kind](stack, user)
    refusals_before = _function_log(stack, "arcadeflow-ws-authorizer").count('"refused"')

    async def attempt():
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"{_ws(stack)}?token={token}")
        return refused.value.response.status_code

    assert asyncio.run(attempt()) == 403
    # The authorizer Lambda decided (its own log says so) ...
    wait_for(
        lambda: _function_log(stack, "arcadeflow-ws-authorizer").count('"refused"') > refusals_before,
        message="the authorizer's refusal in its log",
    )
    # ... and the $connect Lambda never ran: no connection was recorded for that user.
    assert _connection_ids(stack, user) == []
    assert user not in _function_log(stack, "arcadeflow-ws-connections")


def test_the_authorizers_context_reaches_every_route_of_the_connection(stack):
    alice, bob = _unique("ctx-alice"), _unique("ctx-bob")

    async def scenario():
        inviter = await DuelClient.connect(_ws(stack), stack.token(alice, "Alice Liddell"), alice)
        invitee = await DuelClient.connect(_ws(stack), stack.token(bob, "Bob"), bob)
        # $connect: ws_connections recorded the user and screen name the authorizer named.
        records = stack.client("dynamodb").query(
            TableName=stack.endpoints()["tables"]["connections"],
            KeyConditionExpression="userId = :u",
            ExpressionAttributeValues={":u": {"S": alice}},
        )["Items"]
        assert [r["screenName"]["S"] for r in records] == ["Alice Liddell"]
        # invite (a message route): ws_actions knows the sender without any token in the frame.
        await inviter.send(action="invite", to=bob)
        invite = await invitee.frame("invite")
        assert invite["from"] == alice
        # $disconnect: the same identity removes the record.
        await inviter.close()
        await asyncio.to_thread(
            wait_for, lambda: not _connection_ids(stack, alice), 10, 0.1, "record removed"
        )
        await invitee.close()

    asyncio.run(scenario())


@pytest.mark.needs("connection_management_api")
def test_management_api_posts_describes_and_deletes_a_connection(stack):
    management = _management(stack)

    async def scenario():
        client = await DuelClient.connect(_ws(stack), stack.token("wsapi-user"), "wsapi-user")
        (connection_id,) = await asyncio.to_thread(_connection_ids, stack, "wsapi-user")
        await asyncio.to_thread(
            management.post_to_connection, ConnectionId=connection_id, Data=b'{"type":"hi"}'
        )
        assert await client.frame("hi") == {"type": "hi"}
        info = await asyncio.to_thread(management.get_connection, ConnectionId=connection_id)
        assert info["Identity"]["SourceIp"] == "127.0.0.1" and info["ConnectedAt"] <= info["LastActiveAt"]
        await asyncio.to_thread(management.delete_connection, ConnectionId=connection_id)
        await asyncio.wait_for(client.websocket.wait_closed(), 5)
        # $disconnect ran: the record is gone, and the id now answers 410.
        await asyncio.to_thread(
            wait_for, lambda: not _connection_ids(stack, "wsapi-user"), 10, 0.1, "record removed"
        )
        return connection_id

    connection_id = asyncio.run(scenario())
    with pytest.raises(ClientError) as gone:
        management.post_to_connection(ConnectionId=connection_id, Data=b"late")
    assert gone.value.response["Error"]["Code"] == "GoneException"
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


@pytest.mark.needs("websocket_frame_checks")
def test_a_frame_over_api_gateways_32_kb_limit_closes_the_connection_with_1009(stack):
    async def scenario():
        client = await DuelClient.connect(_ws(stack), stack.token("wsapi-big"), "wsapi-big")
        await client.send_raw(json.dumps({"action": "ping", "id": "x" * (33 * 1024)}))
        await asyncio.wait_for(client.websocket.wait_closed(), 5)
        return client.websocket.close_code

    assert asyncio.run(scenario()) == 1009
