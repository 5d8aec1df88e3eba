"""The fault switch's dropped WebSocket connections: the client sees the network go (no close
frame: 1006), the emulator runs $disconnect as API Gateway does (the connection record goes), and
pushes to the connection answer 410 from then on."""

from __future__ import annotations

import asyncio
import json

import pytest
from botocore.exceptions import ClientError

from arcadeflow.faults import FaultSwitchUnavailable, all_faults, clear_faults, drop_connection
from tests.e2e.test_websocket_api import _connection_ids, _management, _ws
from tests.support.stack import wait_for
from tools.duel_client import DuelClient

# Every test here sets a fault through the embedded runtime's fault switch.
pytestmark = [pytest.mark.e2e, pytest.mark.needs("fault_switch")]


@pytest.fixture(autouse=True)
def no_faults_left(stack):
    yield
    clear_faults(stack.aws_url)


def _gone(management, connection_id: str) -> str:
    with pytest.raises(ClientError) as gone:
        management.post_to_connection(ConnectionId=connection_id, Data=b'{"type":"late"}')
    return gone.value.response["Error"]["Code"]


def test_a_dropped_connection_closes_without_a_close_frame_and_runs_disconnect(stack):
    management, user = _management(stack), "wsdrop-now"

    async def scenario() -> str:
        client = await DuelClient.connect(_ws(stack), stack.token(user), user)
        (connection_id,) = await asyncio.to_thread(_connection_ids, stack, user)
        answer = await asyncio.to_thread(drop_connection, stack.aws_url, user_id=user)
        assert answer == {"dropped": [connection_id]}
        await asyncio.wait_for(client.websocket.wait_closed(), 10)
        # No close frame reached the client: the closure is abnormal, as a lost network's is.
        assert client.websocket.close_code == 1006
        assert client.websocket.protocol.close_rcvd is None
        await asyncio.to_thread(wait_for, lambda: not _connection_ids(stack, user), 10, 0.1, "$disconnect")
        return connection_id

    connection_id = asyncio.run(scenario())
    assert _gone(management, connection_id) == "GoneException"


def test_a_drop_on_the_nth_push_delivers_the_pushes_before_it_and_none_from_it(stack):
    management, user = _management(stack), "wsdrop-push"

    async def scenario() -> None:
        client = await DuelClient.connect(_ws(stack), stack.token(user), user)
        (connection_id,) = await asyncio.to_thread(_connection_ids, stack, user)
        await asyncio.to_thread(drop_connection, stack.aws_url, connection_id=connection_id, on_push=2)

        await asyncio.to_thread(
            management.post_to_connection, ConnectionId=connection_id, Data=json.dumps({"type": "first"})
        )
        assert await client.frame("first") == {"type": "first"}
        assert await asyncio.to_thread(_gone, management, connection_id) == "GoneException"

        await asyncio.wait_for(client.websocket.wait_closed(), 10)
        assert client.websocket.close_code == 1006
        assert [r.frame["type"] for r in client.received] == ["first"]
        await asyncio.to_thread(wait_for, lambda: not _connection_ids(stack, user), 10, 0.1, "$disconnect")
        [rule] = (await asyncio.to_thread(all_faults, stack.aws_url))["websocket"]
        assert (rule["pushes"], rule["dropped"]) == (2, [connection_id])

    asyncio.run(scenario())


def test_dropping_a_connection_that_is_not_open_is_refused_by_name(stack):
    with pytest.raises(FaultSwitchUnavailable, match="404.*no open WebSocket connection of principal nobody"):
        drop_connection(stack.aws_url, user_id="nobody")
    with pytest.raises(FaultSwitchUnavailable, match="400.*'connectionId' or 'userId'"):
        drop_connection(stack.aws_url)
