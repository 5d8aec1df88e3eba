"""VR sessions over HTTP on the real `arcadeflow up`, as a headset's client would use them: start a
session, send its interaction events in batches, end it through API Gateway's own
StepFunctions-StartExecution integration (no Lambda in between), follow the end through its
status route, read the rewards, sessions and events back, and get the rewardGranted and
vrSessionEnded frames on a WebSocket connection. Every bad input is refused with a clear error
and changes nothing; expired sessions and events never appear, before or after the reaper."""

from __future__ import annotations

import asyncio
import datetime
import json
import threading
import time
import uuid
from typing import Any

import pytest
import requests

from arcadeflow.auth import LocalIssuer
from functions.shared.dynamo import from_item
from tests.support.stack import RunningStack, wait_for
from tools.duel_client import DuelClient

pytestmark = pytest.mark.e2e

END_ROUTE = "POST /vr/sessions/{sessionId}/end"
MAPPED_NAME = "${request.path.sessionId}_${context.authorizer.claims.sub}"
MAPPED_INPUT = '{"sessionId":"${request.path.sessionId}","playerId":"${context.authorizer.claims.sub}"}'
SHORT_RETENTION_SECONDS = 3


# --- a client as a headset holds one ----------------------------------------------------------


class Player:
    def __init__(self, stack: RunningStack, prefix: str):
        self.stack = stack
        # Short enough that <32-hex sessionId>_<userId> stays within a name's 80 characters.
        self.user_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.token = LocalIssuer(stack.state_dir, issuer=stack.issuer_url).mint(self.user_id, prefix.title())
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, body: Any = None, raw: bytes | None = None, **params: Any):
        headers = dict(self.headers)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        return requests.request(
            method, f"{self.stack.http_url}{path}", data=data, headers=headers, params=params, timeout=30
        )

    def start(self) -> str:
        reply = self.call("POST", "/vr/sessions", {})
        assert reply.status_code == 201, reply.text
        return reply.json()["sessionId"]

    def send(self, session_id: str, events: list[dict[str, Any]], **extra: Any) -> requests.Response:
        return self.call("POST", f"/vr/sessions/{session_id}/events", {"events": events, **extra})

    def end(self, session_id: str) -> requests.Response:
        return self.call("POST", f"/vr/sessions/{session_id}/end")

    def end_status(self, session_id: str) -> requests.Response:
        return self.call("GET", f"/vr/sessions/{session_id}/end")

    def finished_end(self, session_id: str, timeout: float = 60) -> requests.Response:
        """The status route once the end's execution is no longer RUNNING."""

        def done() -> list[requests.Response]:
            reply = self.end_status(session_id)
            running = reply.status_code == 200 and reply.json()["status"] == "RUNNING"
            # In a list: a 4xx Response is falsy, and wait_for waits for a truthy value.
            return [] if running or _code(reply) == "end_not_started" else [reply]

        return wait_for(done, timeout=timeout, interval=0.2, message=f"the end of {session_id}")[0]

    def session(self, session_id: str) -> requests.Response:
        return self.call("GET", f"/vr/sessions/{session_id}")

    def all_events(self, session_id: str, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Every event of the session through the paginated route; and how many pages it took."""
        items: list[dict[str, Any]] = []
        cursor, pages = None, 0
        while True:
            params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            reply = self.call("GET", f"/vr/sessions/{session_id}/events", **params)
            assert reply.status_code == 200, reply.text
            page = reply.json()
            assert len(page["items"]) <= limit
            items += page["items"]
            pages += 1
            cursor = page.get("nextCursor")
            if not cursor:
                return items, pages

    def rewards(self, player_id: str = "me") -> list[str]:
        reply = self.call("GET", f"/vr/players/{player_id}/rewards")
        assert reply.status_code == 200, reply.text
        return sorted(r["rewardId"] for r in reply.json()["items"])

    def session_ids(self, limit: int = 100) -> list[str]:
        """Every session of the caller, newest first, through the paginated route."""
        ids: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            reply = self.call("GET", "/vr/players/me/sessions", **params)
            assert reply.status_code == 200, reply.text
            ids += [s["sessionId"] for s in reply.json()["items"]]
            cursor = reply.json().get("nextCursor")
            if not cursor:
                return ids


def _code(reply: requests.Response) -> str | None:
    try:
        return reply.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


FIRST_EVENT_AT = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


def events(count: int, event_type: str = "gaze", first: int = 0) -> list[dict[str, Any]]:
    """`count` events numbered from `first` (data.n), two in each millisecond: the stored key's
    tie-breaker must keep both."""
    return [
        {
            "eventType": event_type,
            "timestamp": (FIRST_EVENT_AT + datetime.timedelta(milliseconds=(first + n) // 2)).isoformat(),
            "data": {"n": first + n, "hand": "left"},
        }
        for n in range(count)
    ]


def objectives(count: int, first: int = 10_000) -> list[dict[str, Any]]:
    return events(count, "objective_completed", first)


def table_items(stack: RunningStack, logical: str, key: str, value: str) -> list[dict[str, Any]]:
    """The raw items of one partition, whatever their ttl (what the reaper has not deleted yet)."""
    ddb = stack.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in ddb.get_paginator("query").paginate(
        TableName=stack.endpoints()["tables"][logical],
        KeyConditionExpression="#k = :v",
        ExpressionAttributeNames={"#k": key},
        ExpressionAttributeValues={":v": {"S": value}},
        ConsistentRead=True,
    ):
        items += [from_item(i) or {} for i in page["Items"]]
    return items


def execution(stack: RunningStack, session_id: str, player_id: str) -> dict[str, Any]:
    arn = stack.endpoints()["stateMachines"]["vr_session_end"]
    execution_arn = arn.replace(":stateMachine:", ":execution:") + f":{session_id}_{player_id}"
    return stack.client("stepfunctions").describe_execution(executionArn=execution_arn)


def executions_named(stack: RunningStack, name: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    arn = stack.endpoints()["stateMachines"]["vr_session_end"]
    found = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
        found += [e for e in page["executions"] if e["name"] == name]
    return found


def ws_url(stack: RunningStack) -> str:
    return stack.endpoints()["websocket"]


# --- the whole story --------------------------------------------------------------------------


@pytest.mark.needs("start_execution_integration")  # through the end route
def test_a_session_from_start_to_rewards_over_http_and_websocket(stack):
    alice, watcher = Player(stack, "alice"), Player(stack, "watcher")

    async def story() -> tuple[list[dict[str, Any]], str]:
        headset = await DuelClient.connect(ws_url(stack), alice.token, alice.user_id)
        second_tab = await DuelClient.connect(ws_url(stack), alice.token, alice.user_id)
        try:
            started = alice.call("POST", "/vr/sessions", {})
            assert started.status_code == 201, started.text
            body = started.json()
            session_id = body["sessionId"]
            assert len(session_id) == 32 and int(session_id, 16) >= 0 and session_id == session_id.lower()
            assert (body["playerId"], body["status"]) == (alice.user_id, "open")
            assert alice.session(session_id).json()["eventCount"] == 0

            # Three batches: 100 + 100 + 3 objectives and 2 more events.
            for batch in (events(100), events(100, first=100), objectives(3) + events(2, first=200)):
                reply = alice.send(session_id, batch)
                assert reply.status_code == 200, reply.text
                assert reply.json() == {"sessionId": session_id, "accepted": len(batch)}
            assert alice.session(session_id).json()["eventCount"] == 205

            ended = alice.end(session_id)
            assert ended.status_code == 200, ended.text
            answer = ended.json()
            assert set(answer) == {"executionArn", "startDate"}
            assert answer["executionArn"].endswith(f":{session_id}_{alice.user_id}")

            closing = await headset.frame("vrSessionEnded", timeout=60, sessionId=session_id)
            granted = [f for f in headset.frames("rewardGranted") if f["sessionId"] == session_id]
            await second_tab.frame("vrSessionEnded", timeout=30, sessionId=session_id)
            # Every reward newly granted, each once, before the closing frame, on every tab.
            arrivals = [r.frame.get("type") for r in headset.received]
            assert arrivals.index("vrSessionEnded") > max(
                i for i, t in enumerate(arrivals) if t == "rewardGranted"
            )
            assert sorted(f["rewardId"] for f in second_tab.frames("rewardGranted")) == sorted(
                f["rewardId"] for f in granted
            )
            assert all(f["title"] for f in granted)
            assert sorted(closing["rewards"]) == sorted(f["rewardId"] for f in granted)
            return granted, session_id
        finally:
            await asyncio.gather(headset.close(), second_tab.close(), return_exceptions=True)

    granted, session_id = asyncio.run(story())
    earned = sorted(f["rewardId"] for f in granted)
    # A first session with three objectives (functions/vr/reward_catalog.json): the first
    # objective, the ended session, three in one session; not yet ten in all or five sessions.
    assert earned == ["first_objective_complete", "objective_hat_trick", "session_complete"]

    status = alice.finished_end(session_id).json()
    assert (status["sessionId"], status["status"]) == (session_id, "SUCCEEDED")
    assert sorted(status["rewards"]) == earned
    assert status["executionArn"].endswith(f":{session_id}_{alice.user_id}")

    # The execution was started by API Gateway with the mapped name and input.
    described = execution(stack, session_id, alice.user_id)
    assert described["name"] == f"{session_id}_{alice.user_id}"
    assert json.loads(described["input"]) == {"sessionId": session_id, "playerId": alice.user_id}
    assert sorted(json.loads(described["output"])["rewards"]) == earned

    session = alice.session(session_id).json()
    assert (session["status"], session["eventCount"], sorted(session["rewards"])) == ("ended", 205, earned)
    assert session["endTime"] and session["startedAt"] <= session["endTime"]

    # Rewards are public: anyone signed in reads them; "me" is the caller.
    assert alice.rewards() == earned == watcher.rewards(alice.user_id)
    listed = alice.call("GET", "/vr/players/me/rewards").json()
    assert listed["playerId"] == alice.user_id
    assert all(r["sessionId"] == session_id and r["grantedAt"] and r["title"] for r in listed["items"])

    # The events come back in pages, every one once, in timestamp order, the two that share a
    # millisecond both kept.
    read, pages = alice.all_events(session_id, limit=60)
    assert pages == 4
    numbers = [e["data"]["n"] for e in read]
    assert sorted(numbers) == sorted([*range(202), *range(10_000, 10_003)])
    assert [e["timestamp"] for e in read] == sorted(e["timestamp"] for e in read)


@pytest.mark.needs("start_execution_integration")  # through the end route
def test_each_reward_is_granted_once_ever_and_cumulative_ones_when_their_count_is_reached(stack):
    """Five sessions of three objectives each: the per-session rewards come with the first only,
    ten objectives in all with the fourth (3+3+3+3), five sessions ended with the fifth; a
    session's frames announce only what it newly granted."""
    mia = Player(stack, "mia")

    async def sessions() -> list[tuple[list[str], list[str]]]:
        headset = await DuelClient.connect(ws_url(stack), mia.token, mia.user_id)
        told: list[tuple[list[str], list[str]]] = []
        try:
            for n in range(5):
                session_id = mia.start()
                assert mia.send(session_id, objectives(3, first=10 * n) + events(5)).status_code == 200
                assert mia.end(session_id).status_code == 200
                closing = await headset.frame("vrSessionEnded", timeout=60, sessionId=session_id)
                frames = [f["rewardId"] for f in headset.frames("rewardGranted", sessionId=session_id)]
                told.append((sorted(closing["rewards"]), sorted(frames)))
                assert mia.finished_end(session_id).json()["rewards"] == closing["rewards"]
        finally:
            await headset.close()
        return told

    told = asyncio.run(sessions())

    assert told == [
        (["first_objective_complete", "objective_hat_trick", "session_complete"],) * 2,
        ([], []),
        ([], []),
        (["objective_veteran"], ["objective_veteran"]),
        (["regular_visitor"], ["regular_visitor"]),
    ]
    held = table_items(stack, "player_rewards", "playerId", mia.user_id)
    assert sorted(r["rewardId"] for r in held) == [
        "first_objective_complete",
        "objective_hat_trick",
        "objective_veteran",
        "regular_visitor",
        "session_complete",
    ]
    assert mia.rewards() == sorted(r["rewardId"] for r in held)


def test_sessions_are_listed_newest_first_in_pages_and_only_to_their_player(stack):
    bob, carol = Player(stack, "bob"), Player(stack, "carol")
    started = [bob.start() for _ in range(5)]

    first = bob.call("GET", "/vr/players/me/sessions", limit=2).json()
    assert [s["sessionId"] for s in first["items"]] == started[::-1][:2]
    assert all(s["playerId"] == bob.user_id and s["status"] == "open" for s in first["items"])
    assert bob.session_ids(limit=2) == started[::-1]
    by_id = bob.call("GET", f"/vr/players/{bob.user_id}/sessions").json()
    assert [s["sessionId"] for s in by_id["items"]] == started[::-1]

    refused = carol.call("GET", f"/vr/players/{bob.user_id}/sessions")
    assert refused.status_code == 403
    assert _code(refused) == "forbidden"
    assert carol.session_ids() == []


# --- the end route: API Gateway starts the execution itself -----------------------------------


@pytest.mark.needs("start_execution_integration")  # through the end route
def test_the_end_route_is_a_step_functions_integration_with_no_lambda_in_between(stack):
    apigw = stack.client("apigatewayv2")
    api = next(a for a in apigw.get_apis()["Items"] if a["ProtocolType"] == "HTTP")
    routes = {r["RouteKey"]: r for r in apigw.get_routes(ApiId=api["ApiId"])["Items"]}
    integration = apigw.get_integration(
        ApiId=api["ApiId"], IntegrationId=routes[END_ROUTE]["Target"].split("/", 1)[1]
    )

    assert routes[END_ROUTE]["AuthorizationType"] == "JWT"
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationSubtype"] == "StepFunctions-StartExecution"
    assert "IntegrationUri" not in integration or ":lambda:" not in integration["IntegrationUri"]
    assert integration["RequestParameters"] == {
        "StateMachineArn": stack.endpoints()["stateMachines"]["vr_session_end"],
        "Name": MAPPED_NAME,
        "Input": MAPPED_INPUT,
    }
    # Every other VR route is a Lambda proxy: the end is the one API Gateway starts by itself.
    others = [k for k in routes if k.startswith(("GET /vr", "POST /vr")) and k != END_ROUTE]
    assert len(others) >= 6
    for key in others:
        other = apigw.get_integration(ApiId=api["ApiId"], IntegrationId=routes[key]["Target"].split("/")[1])
        assert "IntegrationSubtype" not in other or not other["IntegrationSubtype"], key


@pytest.mark.needs("start_execution_integration")  # through the end route
def test_a_repeated_end_answers_the_same_execution_while_it_runs_and_already_exists_after(stack):
    dana = Player(stack, "dana")
    session_id = dana.start()
    assert dana.send(session_id, objectives(2) + events(98)).status_code == 200

    # Two taps of the end button, at once: one execution, both told its ARN.
    answers: list[requests.Response] = []
    taps = [threading.Thread(target=lambda: answers.append(dana.end(session_id))) for _ in range(2)]
    for tap in taps:
        tap.start()
    for tap in taps:
        tap.join()
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].json()["executionArn"] == answers[1].json()["executionArn"]

    assert dana.finished_end(session_id).json()["status"] == "SUCCEEDED"
    after = dana.end(session_id)
    assert after.status_code == 400
    assert after.json()["__type"] == "ExecutionAlreadyExists"
    assert after.json()["message"]
    assert len(executions_named(stack, f"{session_id}_{dana.user_id}")) == 1
    rewards = dana.rewards()
    assert rewards.count("session_complete") == 1 and len(rewards) == len(set(rewards))


@pytest.mark.authorization("POST /vr/sessions/{sessionId}/end")
@pytest.mark.needs("start_execution_integration")  # through the end route
def test_an_end_of_someone_elses_session_fails_fast_and_changes_nothing_of_theirs(stack):
    owner, intruder = Player(stack, "owner"), Player(stack, "intruder")
    session_id = owner.start()
    assert owner.send(session_id, objectives(1) + events(4)).status_code == 200
    before = table_items(stack, "player_sessions", "playerId", owner.user_id)

    started = intruder.end(session_id)
    assert started.status_code == 200, started.text  # API Gateway starts it; the flow refuses
    assert started.json()["executionArn"].endswith(f":{session_id}_{intruder.user_id}")
    status = intruder.finished_end(session_id)
    assert status.status_code == 404
    assert _code(status) == "session_not_found"
    failed = execution(stack, session_id, intruder.user_id)
    assert failed["status"] == "FAILED"
    assert failed["error"] == "SessionNotFound"

    # Nothing of the owner's changed; the intruder can neither read nor write it.
    assert table_items(stack, "player_sessions", "playerId", owner.user_id) == before
    assert owner.session(session_id).json()["status"] == "open"
    for reply in (
        intruder.send(session_id, events(1)),
        intruder.session(session_id),
        intruder.call("GET", f"/vr/sessions/{session_id}/events"),
    ):
        assert reply.status_code == 404, reply.text
        assert _code(reply) == "session_not_found"
    assert intruder.rewards() == []
    assert owner.session(session_id).json()["eventCount"] == 5

    # The owner's own end is untouched by the intruder's failed one.
    assert owner.end(session_id).status_code == 200
    assert owner.finished_end(session_id).json()["status"] == "SUCCEEDED"
    assert "first_objective_complete" in owner.rewards()


@pytest.mark.needs("start_execution_integration")  # through the end route
def test_an_end_of_an_already_ended_session_by_another_execution_is_refused_by_the_flow(stack):
    """The same player's second end under another name cannot come through the route (the name
    is fixed); started by hand with another name, the flow's first state refuses it."""
    erin = Player(stack, "erin")
    session_id = erin.start()
    assert erin.end(session_id).status_code == 200
    assert erin.finished_end(session_id).json()["status"] == "SUCCEEDED"
    rewards = erin.rewards()

    sfn = stack.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=stack.endpoints()["stateMachines"]["vr_session_end"],
        name=f"{session_id}_{erin.user_id}-again",
        input=json.dumps({"sessionId": session_id, "playerId": erin.user_id}),
    )["executionArn"]
    done = wait_for(
        lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
        timeout=60,
        message="the second end",
    )
    assert (done["status"], done["error"]) == ("FAILED", "SessionAlreadyEnded")
    assert erin.rewards() == rewards
    assert erin.session(session_id).json()["status"] == "ended"


@pytest.mark.needs("start_execution_integration")  # through the end route
def test_an_unknown_session_is_not_found_everywhere_and_a_bad_id_is_not_an_execution_name(stack):
    frank = Player(stack, "frank")
    unknown = uuid.uuid4().hex

    for reply in (
        frank.session(unknown),
        frank.send(unknown, events(1)),
        frank.call("GET", f"/vr/sessions/{unknown}/events"),
    ):
        assert reply.status_code == 404, reply.text
        assert _code(reply) == "session_not_found"
    never = frank.end_status(unknown)
    assert never.status_code == 404 and _code(never) == "end_not_started"

    assert frank.end(unknown).status_code == 200
    status = frank.finished_end(unknown)
    assert status.status_code == 404 and _code(status) == "session_not_found"
    assert status.json()["error"]["message"]
    assert execution(stack, unknown, frank.user_id)["error"] == "SessionNotFound"

    for bad in ("not~an~id", "a,b"):
        refused = frank.end(bad)
        assert refused.status_code == 400, refused.text
        assert refused.json()["__type"] == "InvalidName"
    assert frank.rewards() == []


# --- bad input: a clear error, nothing written ------------------------------------------------


def _event(**overrides: Any) -> dict[str, Any]:
    return {**events(1)[0], **overrides}


BAD_BATCHES: dict[str, tuple[Any, int, str]] = {
    "malformed json": (b'{"events": [', 400, "malformed_json"),
    "body a list": ([events(1)], 400, "invalid_request"),
    "events not a list": ({"events": "gaze"}, 400, "invalid_request"),
    "no events field": ({}, 400, "invalid_request"),
    "no events": ({"events": []}, 400, "invalid_request"),
    "101 events": ({"events": events(101)}, 400, "invalid_request"),
    "eventType missing": (
        {"events": [{k: v for k, v in _event().items() if k != "eventType"}]},
        400,
        "invalid_request",
    ),
    "eventType a number": ({"events": [_event(eventType=7)]}, 400, "invalid_request"),
    "eventType empty": ({"events": [_event(eventType="")]}, 400, "invalid_request"),
    "eventType of 65 chars": ({"events": [_event(eventType="x" * 65)]}, 400, "invalid_request"),
    "eventType with a space": ({"events": [_event(eventType="grab item")]}, 400, "invalid_request"),
    "timestamp without zone": ({"events": [_event(timestamp="2026-12-01T12:00:00")]}, 400, "invalid_request"),
    "timestamp not a date": ({"events": [_event(timestamp="yesterday")]}, 400, "invalid_request"),
    "timestamp a number": ({"events": [_event(timestamp=1764590400)]}, 400, "invalid_request"),
    "timestamp impossible": ({"events": [_event(timestamp="2026-13-45T12:00:00Z")]}, 400, "invalid_request"),
    "data a list": ({"events": [_event(data=[1, 2])]}, 400, "invalid_request"),
    "data a string": ({"events": [_event(data="left")]}, 400, "invalid_request"),
    "data over 4 KB": ({"events": [_event(data={"blob": "x" * 4100})]}, 400, "invalid_request"),
    "unknown event field": ({"events": [_event(extra=1)]}, 400, "invalid_request"),
    "unknown body field": ({"events": events(1), "sessionId": "x"}, 400, "invalid_request"),
    "batchId empty": ({"events": events(1), "batchId": ""}, 400, "invalid_request"),
    "batchId of 65 chars": ({"events": events(1), "batchId": "b" * 65}, 400, "invalid_request"),
    # 100 events of 3 KB each: every event within its bound, the body over 256 KB.
    "body over 256 KB": (
        {"events": [_event(data={"blob": "x" * 3000, "n": n}) for n in range(100)]},
        413,
        "payload_too_large",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_BATCHES))
def test_a_bad_batch_is_refused_with_a_clear_error_and_writes_nothing(stack, case):
    body, status, code = BAD_BATCHES[case]
    gina = Player(stack, "gina")
    session_id = gina.start()

    if isinstance(body, bytes):
        reply = gina.call("POST", f"/vr/sessions/{session_id}/events", raw=body)
    else:
        reply = gina.call("POST", f"/vr/sessions/{session_id}/events", body)

    assert reply.status_code == status, reply.text
    assert _code(reply) == code
    assert reply.json()["error"]["message"]
    assert gina.session(session_id).json()["eventCount"] == 0
    assert table_items(stack, "interaction_events", "sessionId", session_id) == []
    # The session is still open and takes a good batch afterwards.
    assert gina.send(session_id, events(1)).json()["accepted"] == 1


def test_a_batch_with_one_bad_event_among_good_ones_writes_none_of_them(stack):
    hugo = Player(stack, "hugo")
    session_id = hugo.start()
    batch = events(50) + [_event(timestamp="not-a-time")] + events(49, first=50)

    reply = hugo.send(session_id, batch)

    assert reply.status_code == 400 and _code(reply) == "invalid_request"
    assert table_items(stack, "interaction_events", "sessionId", session_id) == []


@pytest.mark.needs("start_execution_integration")  # through the end route
def test_events_after_the_end_are_refused_and_an_ended_session_keeps_its_count(stack):
    iris = Player(stack, "iris")
    session_id = iris.start()
    assert iris.send(session_id, events(10)).status_code == 200
    assert iris.end(session_id).status_code == 200

    # At once (while the end runs) and after it finished: refused, nothing added.
    during = iris.send(session_id, events(5, first=10))
    assert iris.finished_end(session_id).json()["status"] == "SUCCEEDED"
    after = iris.send(session_id, events(5, first=20))

    for reply in (during, after):
        assert reply.status_code == 409, reply.text
        assert _code(reply) == "session_closed"
    assert iris.session(session_id).json()["eventCount"] == 10
    assert len(table_items(stack, "interaction_events", "sessionId", session_id)) == 10


def test_a_retried_batch_with_its_batch_id_is_written_once(stack):
    jack = Player(stack, "jack")
    session_id = jack.start()
    batch = objectives(2) + events(3)

    first = jack.send(session_id, batch, batchId="batch-1")
    again = jack.send(session_id, batch, batchId="batch-1")

    assert (first.status_code, again.status_code) == (200, 200)
    assert jack.session(session_id).json()["eventCount"] == 5
    assert len(table_items(stack, "interaction_events", "sessionId", session_id)) == 5


# --- expiry: reads filter before the reaper, and the reaper removes all but rewards -----------


@pytest.fixture(scope="module")
def unreaped_stack(tmp_path_factory):
    """Sessions and events expire 3 s after the end, and the reaper does not sweep for an hour:
    whatever the reads leave out, they filter themselves."""
    running = RunningStack(
        tmp_path_factory.mktemp("vr-unreaped"),
        ["--vr-retention", str(SHORT_RETENTION_SECONDS), "--ttl-interval", "3600"],
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def reaped_stack(tmp_path_factory):
    running = RunningStack(
        tmp_path_factory.mktemp("vr-reaped"),
        ["--vr-retention", str(SHORT_RETENTION_SECONDS), "--ttl-interval", "1"],
    )
    yield running
    running.stop()


def _ended_session(player: Player) -> str:
    session_id = player.start()
    assert player.send(session_id, objectives(1) + events(30)).status_code == 200
    assert player.end(session_id).status_code == 200
    assert player.finished_end(session_id).json()["status"] == "SUCCEEDED"
    return session_id


def _past(expires_at: float) -> bool:
    return time.time() > expires_at + 1


def test_expired_sessions_and_events_never_appear_though_the_reaper_has_not_run(unreaped_stack):
    stack = unreaped_stack
    kate = Player(stack, "kate")
    ended = _ended_session(kate)
    idle = kate.start()
    assert kate.send(idle, events(3)).status_code == 200  # never ended: expires after its last event
    rewards = kate.rewards()
    assert "first_objective_complete" in rewards

    stored = table_items(stack, "player_sessions", "playerId", kate.user_id)
    expires_at = max(float(s["ttl"]) for s in stored)
    assert all(
        float(e["ttl"]) <= expires_at for e in table_items(stack, "interaction_events", "sessionId", ended)
    )
    wait_for(lambda: _past(expires_at), timeout=3 * SHORT_RETENTION_SECONDS + 30, message="the ttl to pass")

    # Still in the tables (the reaper sleeps) ...
    assert len(table_items(stack, "player_sessions", "playerId", kate.user_id)) == 2
    assert len(table_items(stack, "interaction_events", "sessionId", ended)) == 31
    # ... but no read shows them, and an expired open session takes no more events.
    for session_id in (ended, idle):
        assert kate.session(session_id).status_code == 404
        events_read = kate.call("GET", f"/vr/sessions/{session_id}/events")
        assert events_read.status_code == 404 or events_read.json()["items"] == []
    assert kate.session_ids() == []
    late = kate.send(idle, events(1, first=3))
    assert late.status_code == 404 and _code(late) == "session_not_found"
    assert len(table_items(stack, "interaction_events", "sessionId", idle)) == 3
    assert kate.rewards() == rewards  # rewards never expire


def test_the_reaper_removes_expired_sessions_and_events_but_never_rewards(reaped_stack):
    stack = reaped_stack
    leo = Player(stack, "leo")
    session_id = _ended_session(leo)
    rewards = leo.rewards()
    assert {"first_objective_complete", "session_complete"} <= set(rewards)

    wait_for(
        lambda: (
            not table_items(stack, "player_sessions", "playerId", leo.user_id)
            and not table_items(stack, "interaction_events", "sessionId", session_id)
        ),
        timeout=3 * SHORT_RETENTION_SECONDS + 30,
        message="the reaper to delete the session and its events",
    )

    assert [r["rewardId"] for r in table_items(stack, "player_rewards", "playerId", leo.user_id)] == sorted(
        rewards
    )
    assert leo.rewards() == rewards
    assert leo.session(session_id).status_code == 404
    assert leo.session_ids() == []


# --- bad listings and a bad start --------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_a_listing_with_a_bad_limit_is_refused(stack, limit):
    nora = Player(stack, "nora")
    session_id = nora.start()

    for path in ("/vr/players/me/sessions", f"/vr/sessions/{session_id}/events"):
        reply = nora.call("GET", path, limit=limit)
        assert reply.status_code == 400, (path, reply.text)
        assert _code(reply) == "invalid_query"


@pytest.mark.authorization("GET /vr/players/{playerId}/sessions")
def test_a_tampered_or_someone_elses_cursor_is_refused(stack):
    olga, paul = Player(stack, "olga"), Player(stack, "paul")
    for _ in range(3):
        olga.start()
        paul.start()
    session_id = olga.start()
    assert olga.send(session_id, events(5)).status_code == 200
    sessions_cursor = olga.call("GET", "/vr/players/me/sessions", limit=2).json()["nextCursor"]
    events_cursor = olga.call("GET", f"/vr/sessions/{session_id}/events", limit=2).json()["nextCursor"]

    tampered = sessions_cursor[:-3] + ("AAA" if not sessions_cursor.endswith("AAA") else "BBB")
    for reply in (
        olga.call("GET", "/vr/players/me/sessions", cursor=tampered),
        olga.call("GET", "/vr/players/me/sessions", cursor="not-a-cursor"),
        paul.call("GET", "/vr/players/me/sessions", cursor=sessions_cursor),  # someone else's
        olga.call("GET", "/vr/players/me/sessions", cursor=events_cursor),  # another listing's
    ):
        assert reply.status_code == 400, reply.text
        assert _code(reply) == "invalid_cursor"


@pytest.mark.parametrize(
    ("raw", "code"),
    [(b"{not json", "malformed_json"), (b'{"mode": "arena"}', "invalid_request"), (b"[]", "invalid_request")],
)
def test_a_start_with_a_bad_body_is_refused_and_starts_nothing(stack, raw, code):
    quinn = Player(stack, "quinn")

    reply = quinn.call("POST", "/vr/sessions", raw=raw)

    assert reply.status_code == 400, reply.text
    assert _code(reply) == code
    assert quinn.session_ids() == []
