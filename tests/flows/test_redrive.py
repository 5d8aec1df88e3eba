"""Every flow of the product is safe to redrive, on the real `arcadeflow up`.

Each test makes one task in the middle of a flow fail once through the embedded runtime's test
fault switch (an error no Retry and no Catch covers, so the execution FAILS), redrives the
execution with the real boto3 RedriveExecution, and checks what a player would notice: nothing
lost (every follower's feed has the status, every reward, every end message) and nothing done
twice (no feed item twice, no reward twice, one end message per player, one game per player).
It also checks that the redrive resumed the same execution from the failed state: the states
before it ran once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from typing import Any

import pytest

from arcadeflow import deployment
from arcadeflow.faults import clear_faults, list_faults, set_fault
from tests.flows.duel_support import close_all, invited, item, players, settled, started, unique
from tests.flows.matchmaking_support import games_of, paired, pairings_settled, ticket
from tests.flows.matchmaking_support import player as queue_player
from tests.flows.test_vr_sessions import (
    HAT_TRICK,
    Player,
    event,
    send_all,
    session_item,
    start_end,
    table_items,
)
from tests.support.fanout import feed_copies, finished, populate, start_fanout, status_for
from tests.support.stack import RunningStack, wait_for

# Every test here sets a fault through the embedded runtime's fault switch.
pytestmark = [pytest.mark.e2e, pytest.mark.needs("fault_switch")]

INJECTED = "Arcadeflow.InjectedFault"  # matched by no Retry and no Catch of the product's ASL


@pytest.fixture(autouse=True)
def no_faults_left(stack):
    clear_faults(stack.aws_url)
    yield
    clear_faults(stack.aws_url)


def _fail_once(stack: RunningStack, function: str, on: int = 1) -> None:
    set_fault(
        stack.aws_url,
        deployment.load().physical_name(function),
        [on],
        INJECTED,
        f"{function} failed on purpose (test_redrive)",
    )


def _fault_fired(stack: RunningStack) -> list[int]:
    (fault,) = list_faults(stack.aws_url)
    return list(fault["failed"])


def _history(stack: RunningStack, execution_arn: str) -> list[dict[str, Any]]:
    pages = (
        stack.client("stepfunctions")
        .get_paginator("get_execution_history")
        .paginate(executionArn=execution_arn)
    )
    return [e for page in pages for e in page["events"]]


def _entered(events: list[dict[str, Any]]) -> Counter:
    return Counter(e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e)


def redrive_and_finish(stack: RunningStack, execution_arn: str, timeout: float = 120) -> dict[str, Any]:
    """RedriveExecution as boto3 calls it on AWS, then the execution once it has ended again."""
    sfn = stack.client("stepfunctions")
    answer = sfn.redrive_execution(executionArn=execution_arn, clientToken=uuid.uuid4().hex)
    assert "redriveDate" in answer

    def ended_after_redrive():
        described = sfn.describe_execution(executionArn=execution_arn)
        return (
            described if described.get("redriveCount", 0) >= 1 and described["status"] != "RUNNING" else None
        )

    return wait_for(
        ended_after_redrive, timeout=timeout, interval=0.2, message=f"{execution_arn} redriven to its end"
    )


def _assert_resumed_not_rerun(
    stack: RunningStack, execution_arn: str, failed_state: str, before: str
) -> None:
    events = _history(stack, execution_arn)
    assert [e["type"] for e in events].count("ExecutionRedriven") == 1
    entered = _entered(events)
    assert entered[failed_state] >= 2, entered  # the failed run and the redriven one
    assert entered[before] == 1, entered  # a state that had succeeded is not run again


async def _settle(*clients) -> None:
    """A ping round trip each: every frame pushed before it is read by then."""
    for client in clients:
        token = uuid.uuid4().hex
        await client.send(action="ping", id=token)
        await client.frame("pong", id=token)


def _kinds(client, *types: str) -> list[str]:
    return [f["type"] for f in client.frames() if f["type"] in types]


def _sm_execution(stack: RunningStack, machine: str, name: str) -> str:
    return stack.endpoints()["stateMachines"][machine].replace(":stateMachine:", ":execution:") + f":{name}"


# --- duel_invite ------------------------------------------------------------------------------------


def test_duel_invite_redriven_after_the_rejection_push_failed_tells_the_inviter_once(stack):
    async def scenario():
        alice, bob = await players(stack, "alice", "bob")
        try:
            _, invitation = await invited(alice, bob)
            _fail_once(stack, "duel_push")
            await bob.send(action="respond", inviteId=invitation["inviteId"], accept=False)
            assert await settled(stack, "duel_invite", invitation["inviteId"]) == "FAILED"
            await _settle(alice)
            assert _kinds(alice, "rejected") == []  # the push is what failed
            arn = _sm_execution(stack, "duel_invite", invitation["inviteId"])
            redriven = await asyncio.to_thread(redrive_and_finish, stack, arn)
            assert redriven["status"] == "SUCCEEDED", redriven.get("cause")
            await _settle(alice, bob)
            assert _kinds(alice, "invite_sent", "rejected", "no_response", "start") == [
                "invite_sent",
                "rejected",
            ]
            assert _kinds(bob, "invite", "rejected", "no_response", "start") == ["invite"]
            return arn, invitation["inviteId"]
        finally:
            await close_all(alice, bob)

    arn, invite_id = asyncio.run(scenario())
    assert _fault_fired(stack) == [1]
    assert item(stack, "invites", {"inviteId": invite_id})["status"] == "rejected"
    _assert_resumed_not_rerun(stack, arn, "PushNotification", before="NotifyInvitee")


# --- duel_session -----------------------------------------------------------------------------------


def test_duel_session_redriven_after_the_stop_push_failed_tells_both_players_once(stack):
    async def scenario():
        alice, bob = await players(stack, "alice", "bob")
        try:
            start, _ = await started(alice, bob)
            session_id = start["sessionId"]
            # The invite's flow is over (it pushes nothing on an accept): the fault is the session's.
            assert await settled(stack, "duel_invite", start["inviteId"]) == "SUCCEEDED"
            _fail_once(stack, "duel_push")
            await alice.send(action="stop", sessionId=session_id)
            assert await settled(stack, "duel_session", session_id) == "FAILED"
            await _settle(alice, bob)
            assert _kinds(alice, "stop") == _kinds(bob, "stop") == []
            arn = _sm_execution(stack, "duel_session", session_id)
            redriven = await asyncio.to_thread(redrive_and_finish, stack, arn)
            assert redriven["status"] == "SUCCEEDED", redriven.get("cause")
            await _settle(alice, bob)
            expected = {"type": "stop", "sessionId": session_id, "by": alice.name}
            for p in (alice, bob):
                ends = [f for f in p.frames() if f["type"] in ("stop", "timeout", "error")]
                assert ends == [expected], p.name
            return arn, session_id
        finally:
            await close_all(alice, bob)

    arn, session_id = asyncio.run(scenario())
    assert _fault_fired(stack) == [1]
    session = item(stack, "sessions", {"sessionId": session_id})
    assert (session["status"], session["endReason"]) == ("stopped", "stop")
    _assert_resumed_not_rerun(stack, arn, "PushNotification", before="OpenSession")


# --- status_fanout ----------------------------------------------------------------------------------

FANOUT_FOLLOWERS = 1_500  # two pages of ids: the second is read while the first is written


@pytest.fixture(scope="module")
def celebrity_with_followers(stack):
    celebrity = unique("celeb")
    return celebrity, populate(stack, FANOUT_FOLLOWERS, celebrity, prefix=f"{unique('fan')}-")


@pytest.mark.parametrize(
    ("failing_call", "failed_state"),
    [
        # Call 1 reads the first page; call 2 reads the next one inside WritePageReadNext, while
        # the first page's batches are being written.
        (2, "ReadNextFollowerPage"),
        # Call 4 adds the last page's batch results to the totals, after every feed was written.
        (4, "ReadFollowerPage"),
    ],
    ids=["while-writing", "after-writing"],
)
def test_status_fanout_redriven_after_a_follower_page_call_failed_writes_every_feed_once(
    stack, celebrity_with_followers, failing_call, failed_state
):
    celebrity, followers = celebrity_with_followers
    status = status_for(celebrity)
    _fail_once(stack, "fanout_followers_page", on=failing_call)

    arn = start_fanout(stack, status)
    failed = finished(stack, arn)
    assert (failed["status"], failed.get("error")) == ("FAILED", INJECTED)
    assert _fault_fired(stack) == [failing_call]

    redriven = redrive_and_finish(stack, arn)

    assert redriven["status"] == "SUCCEEDED", redriven.get("cause")
    output = json.loads(redriven["output"])
    # The totals the flow reports count every follower once, over both runs.
    assert (output["followers"], output["written"]) == (FANOUT_FOLLOWERS, FANOUT_FOLLOWERS)
    copies = feed_copies(stack, status["statusId"])
    assert set(copies) == set(followers)  # nothing lost
    assert set(copies.values()) == {1}  # nothing twice
    _assert_resumed_not_rerun(stack, arn, failed_state, before="PrepareFanout")


# --- queue_pairing ----------------------------------------------------------------------------------


def _pairings_of(stack: RunningStack, user_ids: set[str], status: str) -> list[str]:
    sfn = stack.client("stepfunctions")
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=stack.endpoints()["stateMachines"]["queue_pairing"], statusFilter=status
    )
    arns = [e["executionArn"] for page in pages for e in page["executions"]]
    return [
        arn
        for arn in arns
        if json.loads(sfn.describe_execution(executionArn=arn)["input"]).get("userId") in user_ids
    ]


def test_queue_pairings_redriven_after_both_failed_pair_the_players_in_one_game(stack):
    async def scenario():
        alice, bob = await queue_player(stack, "alice"), await queue_player(stack, "bob")
        names = {alice.name, bob.name}
        try:
            # Both joins' pairing executions fail at their first task: nobody is paired.
            set_fault(
                stack.aws_url,
                deployment.load().physical_name("matchmaking_pair"),
                [1, 2],
                INJECTED,
                "matchmaking_pair failed on purpose (test_redrive)",
            )
            await alice.send(action="joinQueue")
            await alice.frame("queued")
            await bob.send(action="joinQueue")
            await bob.frame("queued")
            await pairings_settled(stack)
            failed = _pairings_of(stack, names, "FAILED")
            assert len(failed) == 2
            assert ticket(stack, alice.name)["status"] == ticket(stack, bob.name)["status"] == "waiting"
            # Redriven together: each resumes at PairWaitingPlayers; one pairs them, the other finds
            # nobody left to pair.
            results = await asyncio.gather(
                *(asyncio.to_thread(redrive_and_finish, stack, arn) for arn in failed)
            )
            assert [r["status"] for r in results] == ["SUCCEEDED", "SUCCEEDED"], [
                r.get("cause") for r in results
            ]
            to_alice, to_bob = await paired(alice, bob)
            await _settle(alice, bob)
            assert len(alice.frames("paired")) == len(bob.frames("paired")) == 1
            assert to_alice["gameId"] == to_bob["gameId"]
            return names, to_alice["gameId"], failed
        finally:
            await close_all(alice, bob)

    names, game_id, failed = asyncio.run(scenario())
    assert _fault_fired(stack) == [1, 2]
    games = games_of(stack, names)
    assert [g["gameId"] for g in games] == [game_id]  # one game per player
    assert {games[0]["playerX"], games[0]["playerO"]} == names
    for arn in failed:
        assert [e["type"] for e in _history(stack, arn)].count("ExecutionRedriven") == 1


# --- vr_session_end ---------------------------------------------------------------------------------


def test_vr_session_end_redriven_after_the_reward_push_failed_grants_once_and_tells_once(stack):
    player = Player(stack, unique("vr-erin"))
    session_id = player.start()
    send_all(player, session_id, [event(1), event(2), event(3)])

    async def scenario():
        tab = await player.tab()
        try:
            _fail_once(stack, "vr_push_frames")
            arn = start_end(stack, session_id, player.user_id)
            failed = await asyncio.to_thread(finished, stack, arn)
            assert (failed["status"], failed.get("error")) == ("FAILED", INJECTED)
            # The rewards were granted before the push failed; nobody has been told yet.
            assert sorted(player.rewards()) == sorted(HAT_TRICK)
            await _settle(tab)
            assert _kinds(tab, "rewardGranted", "vrSessionEnded") == []
            redriven = await asyncio.to_thread(redrive_and_finish, stack, arn)
            assert redriven["status"] == "SUCCEEDED", redriven.get("cause")
            await _settle(tab)
            return arn, redriven, tab.frames()
        finally:
            await tab.close()

    arn, redriven, frames = asyncio.run(scenario())
    assert _fault_fired(stack) == [1]
    assert json.loads(redriven["output"])["rewards"] == HAT_TRICK
    told = [
        (f["type"], f.get("rewardId")) for f in frames if f["type"] in ("rewardGranted", "vrSessionEnded")
    ]
    assert told == [*(("rewardGranted", r) for r in HAT_TRICK), ("vrSessionEnded", None)]
    held = table_items(stack, "player_rewards", "playerId", player.user_id)
    assert sorted(r["rewardId"] for r in held) == sorted(HAT_TRICK)  # each once
    session = session_item(stack, player.user_id, session_id)
    assert (session["status"], session["eventCount"]) == ("ended", 3)
    progress = table_items(stack, "player_progress", "playerId", player.user_id)
    assert (progress[0]["sessionsEnded"], progress[0]["events:objective_completed"]) == (1, 3)
    _assert_resumed_not_rerun(stack, arn, "PushRewardFrames", before="GrantSessionRewards")
