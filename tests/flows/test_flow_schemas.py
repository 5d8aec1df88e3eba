"""Every state machine's executions, as they really run, match the JSON Schemas of their input
and output under schemas/ (sfn_<machine>_input / _output, generated from the flows' models): an
ASL change that reshapes what a flow starts or ends with fails here, not in a client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.flows.conftest import SESSION_DURATION_SECONDS, SESSION_LEAD_SECONDS
from tests.flows.duel_support import close_all, invited, players, started
from tests.functional.answers import check_against
from tests.support.fanout import finished, start_fanout, status_for
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e


def _execution(stack: RunningStack, machine: str, name: str) -> dict[str, Any]:
    machine_arn = stack.endpoints()["stateMachines"][machine]
    arn = machine_arn.replace(":stateMachine:", ":execution:") + ":" + name
    return finished(stack, arn, timeout=60)


def _check(machine: str, execution: dict[str, Any]) -> dict[str, Any]:
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    check_against(f"sfn_{machine}_input.schema.json", json.loads(execution["input"]), f"{machine} input")
    output = json.loads(execution["output"])
    check_against(f"sfn_{machine}_output.schema.json", output, f"{machine} output")
    return output


@pytest.mark.needs("task_timeout_path")  # the session ends on its own: timeout
def test_duel_executions_match_their_input_and_output_schemas(duel_stack):
    async def scenario():
        alice, bob, carol, dave = await players(duel_stack, "alice", "bob", "carol", "dave")
        start, _ = await started(alice, bob)
        _, invitation = await invited(carol, dave)
        await dave.send(action="respond", inviteId=invitation["inviteId"], accept=False)
        await carol.frame("rejected")
        await alice.next("timeout", timeout=SESSION_LEAD_SECONDS + SESSION_DURATION_SECONDS + 10)
        await close_all(alice, bob, carol, dave)
        return start, invitation["inviteId"]

    start, rejected_invite = asyncio.run(scenario())

    accepted = _check("duel_invite", _execution(duel_stack, "duel_invite", start["inviteId"]))
    assert accepted["session"]["executionArn"].endswith(start["sessionId"])
    session = _check("duel_session", _execution(duel_stack, "duel_session", start["sessionId"]))
    assert session["outcome"]["session"]["endReason"] == {"S": "timeout"}
    rejected = _check("duel_invite", _execution(duel_stack, "duel_invite", rejected_invite))
    assert rejected["decision"]["invite"]["status"] == {"S": "rejected"}


def test_a_fanout_execution_matches_its_input_and_output_schemas(duel_stack):
    status = status_for("nobody-follows-me")
    output = _check("status_fanout", finished(duel_stack, start_fanout(duel_stack, status)))
    assert (output["statusId"], output["followers"]) == (status["statusId"], 0)
