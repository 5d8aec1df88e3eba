"""Helpers of the duel flow tests: real WebSocket players against a running stack."""

from __future__ import annotations

import asyncio
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from arcadeflow.auth import LocalIssuer
from tools.duel_client import DuelClient


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def ws_url(stack) -> str:
    return str(stack.websocket_url)


@cache
def _issuer(state_dir: Path, issuer_url: str) -> LocalIssuer:
    # The key `arcadeflow token` signs with; minting in-process spares a subprocess per player.
    return LocalIssuer(state_dir, issuer=issuer_url)


def token(stack, user_id: str) -> str:
    return _issuer(stack.state_dir, stack.issuer_url).mint(user_id, user_id.title())


async def player(stack, user_id: str) -> DuelClient:
    return await DuelClient.connect(ws_url(stack), token(stack, user_id), user_id)


async def players(stack, *prefixes: str) -> list[DuelClient]:
    return list(await asyncio.gather(*(player(stack, unique(p)) for p in prefixes)))


async def invited(inviter: DuelClient, invitee: DuelClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """Inviter invites; returns (invite_sent to the inviter, invite to the invitee)."""
    await inviter.send(action="invite", to=invitee.name)
    sent = await inviter.frame("invite_sent")
    invitation = await invitee.frame("invite", inviteId=sent["inviteId"])
    return sent, invitation


async def started(inviter: DuelClient, invitee: DuelClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """A duel accepted; returns the start frames (inviter's, invitee's)."""
    _, invitation = await invited(inviter, invitee)
    await invitee.send(action="respond", inviteId=invitation["inviteId"], accept=True)
    first = await inviter.frame("start", inviteId=invitation["inviteId"])
    second = await invitee.frame("start", inviteId=invitation["inviteId"])
    return first, second


async def close_all(*clients: DuelClient) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def settled(stack, machine: str, name: str, timeout: float = 30.0) -> str:
    """Waits until the execution `name` of `machine` is no longer RUNNING; returns its status.

    Once a flow has ended, every frame it pushed has been written to the sockets, so a test can
    assert "exactly one outcome" without guessing how long a second one would take."""
    arn = stack.endpoints()["stateMachines"][machine].replace(":stateMachine:", ":execution:") + f":{name}"
    sfn = stack.client("stepfunctions")
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = (await asyncio.to_thread(sfn.describe_execution, executionArn=arn))["status"]
        if status != "RUNNING":
            await asyncio.sleep(0)  # let the players' readers take what is already on the sockets
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{machine} {name} still RUNNING after {timeout}s")
        await asyncio.sleep(0.05)


def item(stack, table: str, key: dict[str, str]) -> dict[str, Any] | None:
    from functions.shared.dynamo import from_item

    name = stack.endpoints()["tables"][table]
    out = stack.client("dynamodb").get_item(
        TableName=name, Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True
    )
    return from_item(out.get("Item"))


def invites_from(stack, user_id: str) -> list[dict[str, Any]]:
    from functions.shared.dynamo import from_item

    name = stack.endpoints()["tables"]["invites"]
    pages = (
        stack.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=name,
            FilterExpression="fromUserId = :u",
            ExpressionAttributeValues={":u": {"S": user_id}},
        )
    )
    return [from_item(i) for page in pages for i in page["Items"]]
