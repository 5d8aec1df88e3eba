"""Helpers of the matchmaking flow tests: real WebSocket players against a running stack."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from functions.shared.dynamo import from_item
from tests.flows.duel_support import token, unique, ws_url
from tools.duel_client import DuelClient

# DuelClient stamps frames with time.monotonic(); the server's records carry wall-clock ms.
_WALL_OFFSET = time.time() - time.monotonic()


def wall_ms(monotonic: float) -> float:
    return (monotonic + _WALL_OFFSET) * 1000


def arrived_ms(client: DuelClient, frame_type: str) -> list[float]:
    """Wall-clock ms at which each frame of that type reached the client."""
    return [wall_ms(r.at) for r in client.received if r.frame.get("type") == frame_type]


async def player(stack, prefix: str) -> DuelClient:
    name = unique(prefix)
    return await DuelClient.connect(ws_url(stack), token(stack, name), name)


async def tab(stack, of: DuelClient) -> DuelClient:
    """Another connection (a second browser tab) of the same player."""
    return await DuelClient.connect(ws_url(stack), token(stack, of.name), of.name)


async def crowd(stack, prefix: str, count: int) -> list[DuelClient]:
    return list(await asyncio.gather(*(player(stack, f"{prefix}{n}") for n in range(count))))


def ticket(stack, user_id: str) -> dict[str, Any] | None:
    return _get(stack, "queue_tickets", {"userId": user_id})


def game(stack, game_id: str) -> dict[str, Any] | None:
    return _get(stack, "games", {"gameId": game_id})


def presence(stack, user_id: str) -> dict[str, Any] | None:
    return _get(stack, "presence", {"userId": user_id})


def _get(stack, table: str, key: dict[str, str]) -> dict[str, Any] | None:
    name = stack.endpoints()["tables"][table]
    out = stack.client("dynamodb").get_item(
        TableName=name, Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True
    )
    return from_item(out.get("Item"))


def games_of(stack, user_ids: set[str]) -> list[dict[str, Any]]:
    """Every game one of these players is in (a scan: tests only)."""
    name = stack.endpoints()["tables"]["games"]
    pages = stack.client("dynamodb").get_paginator("scan").paginate(TableName=name, ConsistentRead=True)
    found = [from_item(i) or {} for page in pages for i in page["Items"]]
    return [g for g in found if g["playerX"] in user_ids or g["playerO"] in user_ids]


async def paired(*clients: DuelClient, timeout: float = 30.0) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(c.frame("paired", timeout=timeout) for c in clients)))


async def play(mover: DuelClient, opponent: DuelClient, game_id: str, cell: int) -> dict[str, Any]:
    """A move that must land: the opponent sees it."""
    await mover.send(action="move", gameId=game_id, cell=cell)
    return await opponent.frame("move", gameId=game_id, cell=cell)


async def quiet(stack, seconds: float = 1.0) -> None:
    """Lets the streams' consumers (queue updates, disconnects) catch up."""
    await asyncio.sleep(seconds)


async def pairings_settled(stack, timeout: float = 300.0, waiting_at_most: int | None = None) -> None:
    """Waits until no queue_pairing execution is RUNNING: every frame a pairing pushed is on
    the sockets, so a test can count frames without guessing how long a second one would take.
    With `waiting_at_most`, also until no more tickets wait than that: joins whose stream records
    the queue's consumer has not read yet start pairings later, so "none running" alone can be a
    pause between two of them on a loaded machine."""
    arn = stack.endpoints()["stateMachines"]["queue_pairing"]
    sfn = stack.client("stepfunctions")
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        running = await asyncio.to_thread(
            sfn.list_executions, stateMachineArn=arn, statusFilter="RUNNING", maxResults=1
        )
        queue_settled = waiting_at_most is None or (
            len(await asyncio.to_thread(waiting_tickets, stack)) <= waiting_at_most
        )
        if not running["executions"] and queue_settled:
            await asyncio.sleep(0.2)  # let the players' readers take what is already on the sockets
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"queue_pairing executions still RUNNING after {timeout}s")
        await asyncio.sleep(0.2)


def failed_pairings(stack) -> list[dict[str, Any]]:
    arn = stack.endpoints()["stateMachines"]["queue_pairing"]
    pages = (
        stack.client("stepfunctions")
        .get_paginator("list_executions")
        .paginate(stateMachineArn=arn, statusFilter="FAILED")
    )
    return [e for page in pages for e in page["executions"]]


def waiting_tickets(stack) -> list[dict[str, Any]]:
    name = stack.endpoints()["tables"]["queue_tickets"]
    out = stack.client("dynamodb").query(
        TableName=name,
        IndexName="WaitingByJoin",
        KeyConditionExpression="waitingShard = :w",
        ExpressionAttributeValues={":w": {"S": "waiting"}},
    )
    return [from_item(i) or {} for i in out["Items"]]


async def eventually(check, what: str, timeout: float = 30.0) -> None:
    """Polls `check()` on the event loop (where the players' readers append frames)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)
