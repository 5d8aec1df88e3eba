"""vr_session_end on the real `arcadeflow up`: players start sessions and send events over HTTP,
the end is started through the stack's Step Functions API with the name and input API Gateway's
StartExecution mapping gives (<sessionId>_<sub>, {"sessionId", "playerId"}; the route itself is
covered by tests/e2e), and the frames arrive over real WebSocket connections.

A session with events grants exactly the earned rewards; a replay, a run after a task failed in
the middle and two concurrent ends grant nothing twice and lose no event; with a short
--vr-retention the reaper removes sessions and events but never rewards, and reads hide them
from the moment they expire, before the reaper runs."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests

from arcadeflow.auth import LocalIssuer
from functions.shared.dynamo import from_item, from_items
from tests.flows.duel_support import unique, ws_url
from tests.functional.answers import check_against
from tests.support.stack import RunningStack, wait_for
from tools.duel_client import DuelClient

pytestmark = pytest.mark.e2e

PAGE_SIZE = 50  # the end's pages, small so that a few hundred events take several turns of the loop
RETENTION_SECONDS = 8
HAT_TRICK = ["first_objective_complete", "session_complete", "objective_hat_trick"]


@pytest.fixture(scope="module")
def vr_stack(tmp_path_factory):
    running = RunningStack(
        tmp_path_factory.mktemp("arcadeflow-vr"),
        ["--ttl-interval", "1", "--set", f"VR_EVENTS_PAGE_SIZE={PAGE_SIZE}"],
    )
    yield running
    running.stop()


@cache
def _issuer(state_dir: Path) -> LocalIssuer:
    return LocalIssuer(state_dir)


class Player:
    def __init__(self, stack: RunningStack, user_id: str) -> None:
        self.stack, self.user_id = stack, user_id
        self.token = _issuer(stack.state_dir).mint(user_id, user_id.title())

    def call(self, method: str, path: str, body: Any = None, **query: str) -> requests.Response:
        return requests.request(
            method,
            f"{self.stack.http_url}{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            json=body,
            params=query,
            timeout=30,
        )

    def start(self) -> str:
        reply = self.call("POST", "/vr/sessions", {})
        assert reply.status_code == 201, reply.text
        return reply.json()["sessionId"]

    def send(self, session_id: str, events: list[dict[str, Any]], **extra: Any) -> requests.Response:
        return self.call("POST", f"/vr/sessions/{session_id}/events", {"events": events, **extra})

    def rewards(self) -> list[str]:
        return [
            r["rewardId"] for r in self.call("GET", f"/vr/players/{self.user_id}/rewards").json()["items"]
        ]

    async def tab(self) -> DuelClient:
        return await DuelClient.connect(ws_url(self.stack), self.token, self.user_id)


def event(n: int, kind: str = "objective_completed") -> dict[str, Any]:
    return {
        "eventType": kind,
        "timestamp": f"2026-12-01T20:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
        "data": {"n": n},
    }


def send_all(player: Player, session_id: str, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 100):
        reply = player.send(session_id, events[start : start + 100])
        assert reply.status_code == 200, reply.text


# --- the end, as the route starts it --------------------------------------------------------------


def machine_arn(stack: RunningStack) -> str:
    return stack.endpoints()["stateMachines"]["vr_session_end"]


def start_end(stack: RunningStack, session_id: str, player_id: str, suffix: str = "") -> str:
    """StartExecution as API Gateway's mapping makes it (a replay adds a suffix to the name)."""
    return stack.client("stepfunctions").start_execution(
        stateMachineArn=machine_arn(stack),
        name=f"{session_id}_{player_id}{suffix}",
        input=json.dumps({"sessionId": session_id, "playerId": player_id}),
    )["executionArn"]


def finished(stack: RunningStack, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    return wait_for(
        lambda: (d := sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING" and d,
        timeout=timeout,
        message=f"{execution_arn} to finish",
    )


def history(stack: RunningStack, execution_arn: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    events, kwargs = [], {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def table_items(stack: RunningStack, table: str, key: str, value: str) -> list[dict[str, Any]]:
    out = stack.client("dynamodb").query(
        TableName=stack.endpoints()["tables"][table],
        KeyConditionExpression="#k = :v",
        ExpressionAttributeNames={"#k": key},
        ExpressionAttributeValues={":v": {"S": value}},
        ConsistentRead=True,
    )
    return from_items(out["Items"])


def session_item(stack: RunningStack, player_id: str, session_id: str) -> dict[str, Any] | None:
    out = stack.client("dynamodb").get_item(
        TableName=stack.endpoints()["tables"]["player_sessions"],
        Key={"playerId": {"S": player_id}, "sessionId": {"S": session_id}},
        ConsistentRead=True,
    )
    return from_item(out.get("Item"))


async def settle(*tabs: DuelClient) -> None:
    """Once the execution has finished, every frame it pushed is on the sockets: let the readers
    take them (a round trip each) before counting."""
    for tab in tabs:
        await tab.send(action="ping", id="settle")
        await tab.frame("pong", id="settle")


# --- the flows ------------------------------------------------------------------------------------


def test_a_session_with_events_ends_granting_exactly_the_earned_rewards_and_every_tab_hears_it(vr_stack):
    player = Player(vr_stack, unique("vr-alice"))
    session_id = player.start()
    events = [event(i, "look") for i in range(200)] + [event(200 + i) for i in range(3)]
    send_all(player, session_id, events)

    async def scenario() -> tuple[dict[str, Any], list[list[dict[str, Any]]]]:
        tabs = [await player.tab(), await player.tab()]
        try:
            execution = finished(vr_stack, start_end(vr_stack, session_id, player.user_id))
            await tabs[0].frame("vrSessionEnded", sessionId=session_id)
            await settle(*tabs)
            return execution, [tab.frames() for tab in tabs]
        finally:
            await asyncio.gather(*(tab.close() for tab in tabs))

    execution, frames_by_tab = asyncio.run(scenario())
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    check_against("sfn_vr_session_end_input.schema.json", json.loads(execution["input"]), "input")
    check_against("sfn_vr_session_end_output.schema.json", json.loads(execution["output"]), "output")
    assert json.loads(execution["output"]) == {
        "sessionId": session_id,
        "playerId": player.user_id,
        "rewards": HAT_TRICK,
    }
    for frames in frames_by_tab:
        vr_frames = [f for f in frames if f["type"] in ("rewardGranted", "vrSessionEnded")]
        assert [(f["type"], f.get("rewardId")) for f in vr_frames] == [
            *(("rewardGranted", r) for r in HAT_TRICK),
            ("vrSessionEnded", None),
        ]
        assert vr_frames[-1] == {"type": "vrSessionEnded", "sessionId": session_id, "rewards": HAT_TRICK}
        for frame in vr_frames:
            schema = (
                "ws_frame_reward_granted" if frame["type"] == "rewardGranted" else "ws_frame_vr_session_ended"
            )
            check_against(f"{schema}.schema.json", frame, frame["type"])
    assert sorted(player.rewards()) == sorted(HAT_TRICK)
    session = player.call("GET", f"/vr/sessions/{session_id}").json()
    assert (session["status"], session["eventCount"], session["rewards"]) == ("ended", 203, HAT_TRICK)
    status = player.call("GET", f"/vr/sessions/{session_id}/end").json()
    assert (status["status"], status["rewards"]) == ("SUCCEEDED", HAT_TRICK)
    # Every event's ttl moved to the session's; the events were read 50 a page, never all at once.
    expires = session_item(vr_stack, player.user_id, session_id)["ttl"]
    assert {e["ttl"] for e in table_items(vr_stack, "interaction_events", "sessionId", session_id)} == {
        expires
    }
    steps = history(vr_stack, execution["executionArn"])
    entered = [e["stateEnteredEventDetails"]["name"] for e in steps if "stateEnteredEventDetails" in e]
    assert entered.count("CountSessionEvents") == 5  # 203 events: pages of 50, 50, 50, 50, 3
    largest = max(len(json.dumps(d)) for e in steps for k, d in e.items() if k.endswith("EventDetails"))
    assert largest < 4_000


def test_a_replayed_end_grants_nothing_twice_and_tells_nothing_again(vr_stack):
    player = Player(vr_stack, unique("vr-bob"))
    session_id = player.start()
    send_all(player, session_id, [event(1)])
    first = finished(vr_stack, start_end(vr_stack, session_id, player.user_id))
    assert first["status"] == "SUCCEEDED"

    async def replay() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        tab = await player.tab()
        try:
            execution = finished(vr_stack, start_end(vr_stack, session_id, player.user_id, "-replay-1"))
            await settle(tab)
            return execution, tab.frames()
        finally:
            await tab.close()

    replayed, frames = asyncio.run(replay())
    assert (replayed["status"], replayed["error"]) == ("FAILED", "SessionAlreadyEnded")
    assert [f for f in frames if f["type"] in ("rewardGranted", "vrSessionEnded")] == []
    held = table_items(vr_stack, "player_rewards", "playerId", player.user_id)
    assert sorted(r["rewardId"] for r in held) == ["first_objective_complete", "session_complete"]
    assert {r["sessionId"] for r in held} == {session_id}
    # The end the route started still reads as it finished.
    assert player.call("GET", f"/vr/sessions/{session_id}/end").json()["status"] == "SUCCEEDED"


def test_a_task_failing_in_the_middle_then_the_end_run_again_loses_nothing_and_grants_once(vr_stack):
    """The failed end run again as a new execution (what `arcadeflow replay` does), which the
    released session lets finish; RedriveExecution of the same execution: tests/flows/test_redrive.py."""
    player = Player(vr_stack, unique("vr-carol"))
    session_id = player.start()
    send_all(player, session_id, [event(i, "look") for i in range(110)] + [event(200), event(201)])
    # A malformed event on the third page: CountSessionEvents fails there (KeyError, not retried).
    table = vr_stack.endpoints()["tables"]["interaction_events"]
    dynamodb = vr_stack.client("dynamodb")
    broken_key = {"sessionId": {"S": session_id}, "timestamp": {"S": "2026-12-01T23:59:59.999Z#broken"}}
    dynamodb.put_item(TableName=table, Item={**broken_key, "ttl": {"N": str(int(time.time()) + 3600)}})

    failed = finished(vr_stack, start_end(vr_stack, session_id, player.user_id))
    assert (failed["status"], failed["error"]) == ("FAILED", "SessionEndFailed")
    assert session_item(vr_stack, player.user_id, session_id)["status"] == "ending"
    assert player.rewards() == []
    # Fixed: the event becomes an objective, so the run again must count it.
    dynamodb.update_item(
        TableName=table,
        Key=broken_key,
        UpdateExpression="SET eventType = :t, playerId = :p, #d = :d",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues={
            ":t": {"S": "objective_completed"},
            ":p": {"S": player.user_id},
            ":d": {"M": {}},
        },
    )

    again = finished(vr_stack, start_end(vr_stack, session_id, player.user_id, "-replay-1"))
    assert again["status"] == "SUCCEEDED", again.get("cause")
    assert json.loads(again["output"])["rewards"] == HAT_TRICK
    session = session_item(vr_stack, player.user_id, session_id)
    assert (session["status"], session["eventCount"]) == ("ended", 113)
    assert {e["ttl"] for e in table_items(vr_stack, "interaction_events", "sessionId", session_id)} == {
        session["ttl"]
    }
    assert sorted(player.rewards()) == sorted(HAT_TRICK)
    progress = table_items(vr_stack, "player_progress", "playerId", player.user_id)
    assert (progress[0]["sessionsEnded"], progress[0]["events:objective_completed"]) == (1, 3)


def test_two_concurrent_ends_of_one_session_grant_once(vr_stack):
    player = Player(vr_stack, unique("vr-dave"))
    session_id = player.start()
    send_all(player, session_id, [event(1)])
    arns: list[str] = []
    barrier = threading.Barrier(2)

    def end(suffix: str) -> None:
        barrier.wait()
        arns.append(start_end(vr_stack, session_id, player.user_id, suffix))

    threads = [threading.Thread(target=end, args=(s,)) for s in ("", "-concurrent")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sorted((d["status"], d.get("error")) for d in (finished(vr_stack, arn) for arn in arns))
    assert outcomes == [("FAILED", "SessionAlreadyEnded"), ("SUCCEEDED", None)]
    held = table_items(vr_stack, "player_rewards", "playerId", player.user_id)
    assert sorted(r["rewardId"] for r in held) == ["first_objective_complete", "session_complete"]
    assert table_items(vr_stack, "player_progress", "playerId", player.user_id)[0]["sessionsEnded"] == 1


def test_two_sessions_of_one_player_ending_at_once_grant_each_reward_once(vr_stack):
    player = Player(vr_stack, unique("vr-erin"))
    sessions = [player.start(), player.start()]
    for session_id in sessions:
        send_all(player, session_id, [event(1)])
    arns: list[str] = []
    barrier = threading.Barrier(2)

    def end(session_id: str) -> None:
        barrier.wait()
        arns.append(start_end(vr_stack, session_id, player.user_id))

    threads = [threading.Thread(target=end, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outputs = [finished(vr_stack, arn) for arn in arns]
    assert [o["status"] for o in outputs] == ["SUCCEEDED", "SUCCEEDED"]
    granted = sorted(r for o in outputs for r in json.loads(o["output"])["rewards"])
    assert granted == ["first_objective_complete", "session_complete"]
    held = table_items(vr_stack, "player_rewards", "playerId", player.user_id)
    assert sorted(r["rewardId"] for r in held) == granted
    assert table_items(vr_stack, "player_progress", "playerId", player.user_id)[0]["sessionsEnded"] == 2


def test_an_end_of_someone_elses_session_fails_fast_and_changes_nothing(vr_stack):
    owner, intruder = Player(vr_stack, unique("vr-owner")), Player(vr_stack, unique("vr-mallory"))
    session_id = owner.start()
    send_all(owner, session_id, [event(1)])
    # The mapping takes the playerId from the intruder's own token: the flow looks under it.
    refused = finished(vr_stack, start_end(vr_stack, session_id, intruder.user_id))
    assert (refused["status"], refused["error"]) == ("FAILED", "SessionNotFound")
    steps = history(vr_stack, refused["executionArn"])
    entered = [e["stateEnteredEventDetails"]["name"] for e in steps if "stateEnteredEventDetails" in e]
    assert entered == ["RecordSessionEnd", "RefuseUnknownSession"]
    status = intruder.call("GET", f"/vr/sessions/{session_id}/end")
    assert (status.status_code, status.json()["error"]["code"]) == (404, "session_not_found")
    assert "someone else's" in status.json()["error"]["message"]
    assert owner.call("GET", f"/vr/sessions/{session_id}").json()["status"] == "open"
    assert owner.call("GET", f"/vr/sessions/{session_id}/end").json()["error"]["code"] == "end_not_started"
    assert owner.send(session_id, [event(2)]).status_code == 200
    ended = finished(vr_stack, start_end(vr_stack, session_id, owner.user_id))
    assert ended["status"] == "SUCCEEDED"
    assert intruder.rewards() == [] and len(owner.rewards()) == 2


# --- expiry ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def expiring_stack(tmp_path_factory):
    running = RunningStack(
        tmp_path_factory.mktemp("arcadeflow-vr-expiry"),
        ["--ttl-interval", "1", "--vr-retention", str(RETENTION_SECONDS)],
    )
    yield running
    running.stop()


def _listed(player: Player, session_id: str) -> bool:
    items = player.call("GET", "/vr/players/me/sessions").json()["items"]
    return any(s["sessionId"] == session_id for s in items)


def test_expiry_hides_sessions_and_events_before_the_reaper_and_the_reaper_keeps_rewards(expiring_stack):
    stack = expiring_stack
    for _attempt in range(3):
        player = Player(stack, unique("vr-kate"))
        session_id = player.start()
        send_all(player, session_id, [event(1), event(2, "look")])
        execution = finished(stack, start_end(stack, session_id, player.user_id))
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        assert _listed(player, session_id)
        assert len(player.call("GET", f"/vr/sessions/{session_id}/events").json()["items"]) == 2
        expires = session_item(stack, player.user_id, session_id)["ttl"]
        # From the second the ttl names, reads hide the session; then it must still be stored
        # (the reaper sweeps every second), or this attempt saw nothing and another one runs.
        wait_for(lambda at=expires: time.time() >= at, timeout=RETENTION_SECONDS + 5, interval=0.02)
        hidden_session = player.call("GET", f"/vr/sessions/{session_id}").status_code
        hidden_events = player.call("GET", f"/vr/sessions/{session_id}/events").status_code
        still_listed = _listed(player, session_id)
        stored = session_item(stack, player.user_id, session_id) is not None
        events_stored = len(table_items(stack, "interaction_events", "sessionId", session_id))
        if stored and events_stored == 2:
            break
    else:
        pytest.fail("the reaper removed the session within every window; no read could be observed first")
    assert (hidden_session, hidden_events, still_listed) == (404, 404, False)
    # The reaper then removes the session and its events, never the rewards.
    wait_for(
        lambda: (
            session_item(stack, player.user_id, session_id) is None
            and not table_items(stack, "interaction_events", "sessionId", session_id)
        ),
        timeout=30,
        message="the reaper to remove the expired session and its events",
    )
    assert sorted(player.rewards()) == ["first_objective_complete", "session_complete"]
    assert len(table_items(stack, "player_rewards", "playerId", player.user_id)) == 2
