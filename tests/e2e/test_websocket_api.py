"""The WebSocket API emulator behaves as API Gateway's does where arcadeflow relies on it:
token check on $connect, the Management API on the callback URL, 410 for a gone connection,
the frame limit."""

from __future__ import annotations

import asyncio
import json

import pytest
from botocore.exceptions import ClientError
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from arcadeflow.duel_client import DuelClient
from tests.support.stack import wait_for

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


@pytest.mark.parametrize(("query", "status"), [("", 401), ("?token=", 401), ("?token=not.a.jwt", 403)])
def test_connect_without_a_valid_token_is_refused(stack, query, status):
    async def attempt():
        with pytest.raises(InvalidStatus) as refused:
            await connect(_ws(stack) + query)
        return refused.value.response.status_code

    assert asyncio.run(attempt()) == status


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


def test_a_frame_over_api_gateways_32_kb_limit_closes_the_connection_with_1009(stack):
    async def scenario():
        client = await DuelClient.connect(_ws(stack), stack.token("wsapi-big"), "wsapi-big")
        await client.send_raw(json.dumps({"action": "ping", "id": "x" * (33 * 1024)}))
        await asyncio.wait_for(client.websocket.wait_closed(), 5)
        return client.websocket.close_code

    assert asyncio.run(scenario()) == 1009
