"""The WebSocket emulator's routing of a client's message, in-process: whatever the body, it
reaches a route or the sender is told why, as API Gateway does; a message is never dropped."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

from arcadeflow.apigateway.websocket_api import ClientConnection, ServedApi, WebSocketApiEmulator
from arcadeflow.deployment import load

API = ServedApi(
    api_id="api1",
    stages=frozenset({"local"}),
    selection_path=["action"],
    routes={"$default": "arn:default", "ping": "arn:ping"},
    authorizer=None,
)


def test_a_body_the_selection_expression_cannot_read_goes_to_default():
    assert WebSocketApiEmulator.select_route(API, '{"action": "ping"}') == "ping"
    assert WebSocketApiEmulator.select_route(API, "{not json") == "$default"
    assert WebSocketApiEmulator.select_route(API, b'{"action": "ping"}') == "$default"
    # Nested past json.loads' recursion limit (RecursionError: no answer at all before).
    deep = '{"x":' + "[" * 2000 + "]" * 2000 + ', "action": "ping"}'
    assert WebSocketApiEmulator.select_route(API, deep) == "$default"


class RecordingSocket:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, data: str) -> None:
        self.sent.append(data)


def _client(socket: RecordingSocket) -> ClientConnection:
    client = ClientConnection(
        connection_id="conn1=", authorizer={}, source_ip="127.0.0.1", user_agent="", headers={}, query={}
    )
    client.websocket = socket  # type: ignore[assignment]
    client.open = True
    return client


def _emulator(runner: Any) -> WebSocketApiEmulator:
    emulator = WebSocketApiEmulator(load(), SimpleNamespace(region="us-east-1", runner=runner), port=0)
    emulator.current_api = lambda: API  # type: ignore[method-assign]
    return emulator


def test_a_failing_route_answers_internal_server_error():
    def invoke(function: str, payload: bytes) -> Any:
        return SimpleNamespace(ok=False, payload=b'{"errorType": "Boom"}')

    socket = RecordingSocket()
    asyncio.run(
        _emulator(SimpleNamespace(invoke=invoke))._route_message(_client(socket), '{"action": "ping"}')
    )
    assert [json.loads(m)["message"] for m in socket.sent] == ["Internal server error"]


def test_a_routing_failure_of_the_emulator_itself_still_answers_the_sender():
    emulator = _emulator(SimpleNamespace(invoke=lambda function, payload: None))

    def broken_registry() -> ServedApi:
        raise RuntimeError("the registry changed under us")

    emulator.current_api = broken_registry  # type: ignore[method-assign]
    socket = RecordingSocket()
    asyncio.run(emulator._route_message(_client(socket), '{"action": "ping"}'))
    answer = json.loads(socket.sent[0])
    assert answer["message"] == "Internal server error" and answer["connectionId"] == "conn1="
