"""`arcadeflow demo duel`: two simulated players play a duel through the real stack.

It starts the whole backend in-process (embedded AWS, API Gateway emulators, every function and
state machine of infra/deployment.json), connects alice and bob over the WebSocket API, and plays
invite -> accept -> start -> stop, printing each frame as it arrives; then it prints a readable
trace of the duel_invite and duel_session executions it caused.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from arcadeflow.commands.executions import execution_history, format_trace
from tools.duel_client import DuelClient


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Narrator:
    def __init__(self, out: TextIO):
        self.out = out
        self.started = time.monotonic()

    def say(self, who: str, arrow: str, what: Any) -> None:
        text = what if isinstance(what, str) else json.dumps(what)
        self.out.write(f"+{time.monotonic() - self.started:6.3f}s  {who:<5} {arrow} {text}\n")
        self.out.flush()

    def frame(self, client: DuelClient, frame: dict[str, Any]) -> None:
        self.say(client.name, "<-", frame)


async def play(ws_url: str, tokens: dict[str, str], out: TextIO, stop_after: float) -> dict[str, str]:
    narrator = _Narrator(out)
    alice = await DuelClient.connect(ws_url, tokens["alice"], "alice", on_frame=narrator.frame)
    bob = await DuelClient.connect(ws_url, tokens["bob"], "bob", on_frame=narrator.frame)
    narrator.say("alice", "--", f"connected to {ws_url}")
    narrator.say("bob", "--", f"connected to {ws_url}")

    frame: dict[str, Any] = {"action": "invite", "to": "bob"}
    narrator.say("alice", "->", frame)
    await alice.send(**frame)
    invitation = await bob.frame("invite")

    frame = {"action": "respond", "inviteId": invitation["inviteId"], "accept": True}
    narrator.say("bob", "->", frame)
    await bob.send(**frame)
    start = await alice.frame("start")
    await bob.frame("start")

    start_at = datetime.fromisoformat(start["startAt"].replace("Z", "+00:00")).timestamp()
    await asyncio.sleep(max(0.0, start_at - time.time()))
    narrator.say("--", "--", f"startAt reached: both timers run ({start['durationSeconds']} s)")
    await asyncio.sleep(stop_after)

    frame = {"action": "stop", "sessionId": start["sessionId"]}
    narrator.say("alice", "->", frame)
    await alice.send(**frame)
    await alice.frame("stop")
    await bob.frame("stop")
    await alice.close()
    await bob.close()
    return {"inviteId": invitation["inviteId"], "sessionId": start["sessionId"]}


def print_traces(sfn: Any, arns: list[str], out: TextIO) -> None:
    for arn in arns:
        # The session flow announces the stop and then finishes: let it.
        for _ in range(50):
            described = sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                break
            time.sleep(0.1)
        machine = described["stateMachineArn"].rsplit(":", 1)[-1]
        out.write(f"\n{machine}  {described['name']}  {described['status']}\n")
        for line in format_trace(execution_history(sfn, arn)):
            out.write(f"  {line}\n")


def main_demo_duel(args: Any) -> int:
    import logging

    from arcadeflow.stack import EmbeddedStack, StackOptions

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for chatty in ("werkzeug", "websockets", "moto", "arcadeflow"):
        logging.getLogger(chatty).setLevel(logging.ERROR)
    out = sys.stdout
    state_dir = Path(args.state_dir) if args.state_dir else Path(tempfile.mkdtemp(prefix="arcadeflow-demo-"))
    options = StackOptions(
        http_port=_free_port(),
        ws_port=_free_port(),
        aws_port=_free_port(),
        state_dir=state_dir,
        ttl_interval_seconds=5,
    )
    out.write("starting the embedded stack (every function and state machine of infra/deployment.json)...\n")
    out.flush()
    stack = EmbeddedStack(options)
    try:
        stack.start()
        tokens = {user: stack.issuer.mint(user, user.title()) for user in ("alice", "bob")}
        out.write(f"up: WebSocket API {stack.websocket_api.url}\n\n")  # type: ignore[union-attr]
        ids = asyncio.run(play(stack.websocket_api.url, tokens, out, args.play_seconds))  # type: ignore[union-attr]
        assert stack.refs is not None
        sfn = stack.aws.client("stepfunctions")
        region_account = stack.refs.state_machine_arns["duel_invite"].split(":stateMachine:")[0]
        invite_arn = (
            f"{region_account}:execution:{stack.deployment.physical_name('duel_invite')}:{ids['inviteId']}"
        )
        session_arn = (
            f"{region_account}:execution:{stack.deployment.physical_name('duel_session')}:{ids['sessionId']}"
        )
        print_traces(sfn, [invite_arn, session_arn], out)
    finally:
        stack.stop()
    return 0
