"""vr_session_end under each fault, on the real `arcadeflow up`: every earned reward is granted
once, the session ends once with its events counted once, and each of the player's tabs is told
once (`rewardGranted` per reward, then `vrSessionEnded`) (README "VR sessions").

- a counting or granting task fails with an error no Retry covers: its Catch releases the end
  (`SessionEndFailed`, the session left `ending`, nobody told); a replay finishes it, once;
- the reward push fails so: no Catch, the execution FAILS with the rewards recorded; a redrive
  tells the player, once;
- a task times out or its worker crashes: transient, retried; the end is as without it;
- player_rewards throttles the grants' conditional puts: the SDK retries; granted once;
- a tab's connection drops instead of taking a frame: the other tab is told everything once,
  and the session and its rewards are recorded (read with GET /vr/sessions/{id}).
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.flows.duel_support import unique
from tests.flows.test_vr_sessions import (
    HAT_TRICK,
    Player,
    event,
    finished,
    send_all,
    session_item,
    start_end,
    table_items,
)
from tests.support import faults
from tests.support.faults import ERROR_TYPE, INJECTED, LAMBDA_MODES, settle
from tests.support.stack import wait_for

pytestmark = pytest.mark.e2e

TOLD = [*(("rewardGranted", r) for r in HAT_TRICK), ("vrSessionEnded", None)]


@pytest.fixture(autouse=True)
def no_faults_left(stack):
    faults.clear(stack)
    yield
    faults.clear(stack)


def _told(tab) -> list[tuple[str, str | None]]:
    return [
        (f["type"], f.get("rewardId"))
        for f in tab.frames()
        if f["type"] in ("rewardGranted", "vrSessionEnded")
    ]


def _a_session_with_a_hat_trick(stack) -> tuple[Player, str]:
    player = Player(stack, unique("vr-fault"))
    session_id = player.start()
    send_all(player, session_id, [event(1), event(2), event(3)])
    return player, session_id


def _granted_once_and_ended(stack, player: Player, session_id: str) -> None:
    held = table_items(stack, "player_rewards", "playerId", player.user_id)
    assert sorted(r["rewardId"] for r in held) == sorted(HAT_TRICK)  # each once
    session = session_item(stack, player.user_id, session_id)
    assert (session["status"], session["eventCount"], sorted(session["rewards"])) == (
        "ended",
        3,
        sorted(HAT_TRICK),
    )
    (progress,) = table_items(stack, "player_progress", "playerId", player.user_id)
    assert (progress["sessionsEnded"], progress["events:objective_completed"]) == (1, 3)


@pytest.mark.parametrize("mode", LAMBDA_MODES)
@pytest.mark.parametrize("function", ["vr_count_events", "vr_grant_rewards"])
def test_an_end_whose_count_or_grant_fails_grants_every_reward_once(stack, function, mode):
    player, session_id = _a_session_with_a_hat_trick(stack)

    async def scenario():
        tab = await player.tab()
        try:
            faults.fail_function(stack, function, [1], mode)
            arn = start_end(stack, session_id, player.user_id)
            execution = await asyncio.to_thread(finished, stack, arn)
            if mode == "error":
                # Released: the session waits `ending`, nobody told; a replay (a new end) finishes it.
                assert (execution["status"], execution["error"]) == ("FAILED", "SessionEndFailed")
                assert INJECTED in faults.task_errors(stack, arn)  # the history names it
                assert session_item(stack, player.user_id, session_id)["status"] == "ending"
                await settle(tab)
                assert _told(tab) == []
                arn = start_end(stack, session_id, player.user_id, suffix="-replay-1")
                execution = await asyncio.to_thread(finished, stack, arn)
            assert execution["status"] == "SUCCEEDED", execution.get("cause")
            assert json.loads(execution["output"])["rewards"] == HAT_TRICK
            await settle(tab)
            assert _told(tab) == TOLD
            return arn
        finally:
            await tab.close()

    arn = asyncio.run(scenario())
    assert faults.lambda_fault(stack, function)["failed"] == [1]
    if mode != "error":
        assert ERROR_TYPE[mode] in faults.task_errors(stack, arn)
    _granted_once_and_ended(stack, player, session_id)


@pytest.mark.parametrize("mode", LAMBDA_MODES)
def test_an_end_whose_reward_push_fails_tells_the_player_once(stack, mode):
    player, session_id = _a_session_with_a_hat_trick(stack)

    async def scenario():
        tab = await player.tab()
        try:
            faults.fail_function(stack, "vr_push_frames", [1], mode)
            arn = start_end(stack, session_id, player.user_id)
            execution = await asyncio.to_thread(finished, stack, arn)
            if mode == "error":
                assert (execution["status"], execution["error"]) == ("FAILED", INJECTED)
                assert sorted(player.rewards()) == sorted(HAT_TRICK)  # recorded before the push
                await settle(tab)
                assert _told(tab) == []
                execution = await asyncio.to_thread(faults.redrive_and_finish, stack, arn)
            assert execution["status"] == "SUCCEEDED", execution.get("cause")
            await settle(tab)
            assert _told(tab) == TOLD
            return arn
        finally:
            await tab.close()

    arn = asyncio.run(scenario())
    assert faults.lambda_fault(stack, "vr_push_frames")["failed"] == [1]
    assert ERROR_TYPE[mode] in faults.task_errors(stack, arn)
    _granted_once_and_ended(stack, player, session_id)


def test_an_end_while_player_rewards_throttles_grants_every_reward_once(stack):
    player, session_id = _a_session_with_a_hat_trick(stack)

    async def scenario():
        tab = await player.tab()
        try:
            faults.throttle_table(stack, "player_rewards", [1, 2])  # the first grant's put, twice
            execution = await asyncio.to_thread(finished, stack, start_end(stack, session_id, player.user_id))
            assert execution["status"] == "SUCCEEDED", execution.get("cause")
            await settle(tab)
            assert _told(tab) == TOLD
        finally:
            await tab.close()

    asyncio.run(scenario())
    assert faults.throttled_calls(stack, "player_rewards") == 2
    _granted_once_and_ended(stack, player, session_id)


def test_a_tab_dropped_while_the_end_is_told_leaves_the_other_told_once(stack):
    player, session_id = _a_session_with_a_hat_trick(stack)

    async def scenario():
        lost = await player.tab()
        kept = None
        try:
            (lost_id,) = faults.connections_of(stack, player.user_id)  # recorded by $connect
            kept = await player.tab()
            faults.drop_connection(stack, connection_id=lost_id, on_push=1)
            execution = await asyncio.to_thread(finished, stack, start_end(stack, session_id, player.user_id))
            assert execution["status"] == "SUCCEEDED", execution.get("cause")
            await settle(kept)
            assert _told(kept) == TOLD
            assert _told(lost) == []  # its first frame dropped it instead
            await asyncio.to_thread(
                wait_for,
                lambda: lost_id not in faults.connections_of(stack, player.user_id),
                message="the dropped tab's connection forgotten",
            )
        finally:
            await asyncio.gather(*(t.close() for t in (lost, kept) if t), return_exceptions=True)

    asyncio.run(scenario())
    _granted_once_and_ended(stack, player, session_id)
    ended = player.call("GET", f"/vr/sessions/{session_id}").json()
    assert (ended["status"], sorted(ended["rewards"])) == ("ended", sorted(HAT_TRICK))
