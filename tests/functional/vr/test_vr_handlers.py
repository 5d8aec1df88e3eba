"""The VR handlers in-process against moto: sessions and batches of events (every bad input a
4xx that writes nothing, someone else's session never revealed), the end's tasks (exactly the
earned rewards, once ever; frames; retries and takeovers), and reads that filter expired items
before any reaper runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from functions.shared import aws
from functions.vr.errors import SessionAlreadyEnded, SessionBusy, SessionNotFound
from functions.vr.repositories import RewardsRepository, SessionsRepository
from tests.functional.vr.conftest import objective

RETENTION = 72 * 3600


def _nothing_written(world, session_id: str, before: dict) -> None:
    assert world.events_of(session_id) == []
    assert world.session_item(session_id) == before


# --- sessions and events ----------------------------------------------------------------------


def test_a_session_starts_open_and_expires_the_retention_after_its_start(world):
    reply = world.call("POST", "/vr/sessions", body={})
    assert reply.status == 201
    assert reply.body["playerId"] == "alice" and reply.body["status"] == "open"
    assert len(reply.body["sessionId"]) == 32 and int(reply.body["sessionId"], 16) >= 0
    item = world.session_item(reply.body["sessionId"])
    assert item["ttl"] == int(world.clock.now().timestamp()) + RETENTION
    assert world.call("POST", "/vr/sessions").status == 201  # no body at all is fine too


def test_events_are_stored_keyed_by_utc_milliseconds_and_each_batch_moves_the_session_ttl(world):
    session_id = world.start()
    world.clock.advance(60)
    events = [
        {
            "eventType": "objective_completed",
            "timestamp": "2026-12-01T21:00:00.5+01:00",
            "data": {"score": 1.5},
        },
        {"eventType": "look", "timestamp": "2026-12-01T20:00:00.500Z", "data": {}},
    ]
    reply = world.send(session_id, events)
    assert (reply.status, reply.body) == (200, {"sessionId": session_id, "accepted": 2})
    stored = world.events_of(session_id)
    # Same millisecond after normalisation: both kept, under distinct tie-breakers.
    assert [e["timestamp"][:25] for e in stored] == ["2026-12-01T20:00:00.500Z#"] * 2
    assert {e["eventType"] for e in stored} == {"objective_completed", "look"}
    assert {e["playerId"] for e in stored} == {"alice"}
    now = int(world.clock.now().timestamp())
    assert all(e["ttl"] == now + RETENTION for e in stored)
    session = world.session_item(session_id)
    assert (session["ttl"], session["eventCount"], session["writing"]) == (now + RETENTION, 2, {})
    page = world.call("GET", f"/vr/sessions/{session_id}/events").body
    assert sorted(e["data"].get("score", 0) for e in page["items"]) == [0, 1.5]


def test_a_retried_batch_with_a_batch_id_is_stored_and_counted_once(world):
    session_id = world.start()
    batch = [objective(1), objective(2)]
    assert world.send(session_id, batch, batchId="b-1").body["accepted"] == 2
    assert world.send(session_id, batch, batchId="b-1").body["accepted"] == 2
    assert len(world.events_of(session_id)) == 2
    assert world.session_item(session_id)["eventCount"] == 2
    assert world.send(session_id, batch, batchId="b-2").status == 200
    assert len(world.events_of(session_id)) == 4


def test_a_full_batch_of_one_hundred_events_is_accepted(world):
    session_id = world.start()
    events = [objective(i) for i in range(100)]
    assert world.send(session_id, events).body["accepted"] == 100
    assert len(world.events_of(session_id)) == 100


BIG = "x" * 4100


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ('{"events": [', 400, "malformed_json"),
        ("", 400, "malformed_json"),
        ("[1, 2]", 400, "invalid_request"),
        ('{"events": []}', 400, "invalid_request"),
        ({"events": [objective(i) for i in range(101)]}, 400, "invalid_request"),
        ({"events": [{**objective(), "eventType": "has space"}]}, 400, "invalid_request"),
        ({"events": [{**objective(), "eventType": "x" * 65}]}, 400, "invalid_request"),
        ({"events": [{**objective(), "eventType": ""}]}, 400, "invalid_request"),
        ({"events": [{**objective(), "timestamp": "2026-12-01T20:00:00"}]}, 400, "invalid_request"),
        ({"events": [{**objective(), "timestamp": "not a time at all"}]}, 400, "invalid_request"),
        ({"events": [{**objective(), "timestamp": 1733000000}]}, 400, "invalid_request"),
        ({"events": [{**objective(), "data": [1, 2]}]}, 400, "invalid_request"),
        ({"events": [{**objective(), "data": {"blob": BIG}}]}, 400, "invalid_request"),
        (
            {"events": [{**objective(), "data": {"n": 1e39 + 0.5, "m": 1.2345678901234567e300}}]},
            400,
            "invalid_request",
        ),
        ({"events": [{**objective(), "data": {"a": [{"": 1}]}}]}, 400, "invalid_request"),
        (
            {"events": [{**objective(), "data": {"deep": [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}}]},
            400,
            "invalid_request",
        ),
        ({"events": [{**objective(), "color": "red"}]}, 400, "invalid_request"),
        ({"events": [objective()], "batchId": "x" * 65}, 400, "invalid_request"),
        ({"events": [objective()], "extra": 1}, 400, "invalid_request"),
        ({"events": [objective(1), {**objective(2), "timestamp": "nope"}]}, 400, "invalid_request"),
        (
            {"events": [{**objective(i), "data": {"blob": "y" * 3000}} for i in range(90)]},
            413,
            "payload_too_large",
        ),
    ],
)
def test_a_bad_batch_is_refused_and_nothing_is_written(world, body, status, code):
    session_id = world.start()
    before = world.session_item(session_id)
    options = {"raw_body": body} if isinstance(body, str) else {"body": body}
    reply = world.call("POST", f"/vr/sessions/{session_id}/events", **options)
    assert (reply.status, reply.code) == (status, code), reply.body
    _nothing_written(world, session_id, before)


def test_a_refusal_names_the_bad_field(world):
    session_id = world.start()
    events = [objective(1), {**objective(2), "timestamp": "2026-12-01T20:00:00"}]
    reply = world.send(session_id, events)
    assert reply.body["error"]["details"][0]["field"] == "events.1.timestamp"


@pytest.mark.authorization(
    "POST /vr/sessions/{sessionId}/events",
    "GET /vr/sessions/{sessionId}",
    "GET /vr/sessions/{sessionId}/events",
    "GET /vr/players/{playerId}/sessions",
)
def test_someone_elses_unknown_or_malformed_session_is_not_found_and_nothing_is_written(world):
    session_id = world.start("bob")
    before = world.session_item(session_id, "bob")
    for path_id in (session_id, "0" * 32, "not-a-session", "A" * 32):
        reply = world.send(path_id, [objective()], user="alice")
        assert (reply.status, reply.code) == (404, "session_not_found"), path_id
        for read in (f"/vr/sessions/{path_id}", f"/vr/sessions/{path_id}/events"):
            assert world.call("GET", read, user="alice").code == "session_not_found"
    assert world.events_of(session_id) == []
    assert world.session_item(session_id, "bob") == before
    assert world.call("GET", "/vr/players/bob/sessions", user="alice").code == "forbidden"


def test_events_after_the_end_are_refused_with_409_and_nothing_is_written(world):
    session_id = world.start()
    world.send(session_id, [objective(1)])
    world.end(session_id)
    before = world.session_item(session_id)
    reply = world.send(session_id, [objective(2)])
    assert (reply.status, reply.code) == (409, "session_closed")
    assert len(world.events_of(session_id)) == 1
    assert world.session_item(session_id) == before


def test_events_racing_the_end_are_refused_once_the_end_is_recorded(world):
    session_id = world.start()
    world.invoke("vr_record_end", {"sessionId": session_id, "playerId": "alice", "executionId": "x:1"})
    reply = world.send(session_id, [objective(2)])
    assert (reply.status, reply.code) == (409, "session_closed")
    assert world.events_of(session_id) == []


def test_an_expired_session_takes_no_events_and_is_not_found(world):
    session_id = world.start()
    world.clock.advance(RETENTION + 1)
    reply = world.send(session_id, [objective()])
    assert (reply.status, reply.code) == (404, "session_not_found")
    assert world.events_of(session_id) == []


# --- the end ------------------------------------------------------------------------------------


def test_the_end_grants_exactly_the_earned_rewards_and_tells_every_tab(world):
    tabs = [world.connect("alice"), world.connect("alice")]
    session_id = world.start()
    world.send(session_id, [objective(i) for i in range(3)] + [objective(9, "look")])
    ended = world.end(session_id)
    earned = ["first_objective_complete", "session_complete", "objective_hat_trick"]
    assert ended["rewards"] == earned
    assert ended["tally"]["eventCount"] == 4 and ended["tally"]["counts"] == {"objective_completed": 3}
    assert ended["tally"]["pages"] >= 2  # pages of two: the loop turned
    session = world.session_item(session_id)
    assert (session["status"], session["rewards"], session["eventCount"]) == ("ended", earned, 4)
    expires = ended["end"]["expiresAt"]
    assert session["ttl"] == expires == int(world.clock.now().timestamp()) + RETENTION
    assert {e["ttl"] for e in world.events_of(session_id)} == {expires}
    held = {r["rewardId"]: r for r in world.scan("player_rewards")}
    assert set(held) == set(earned) and {r["sessionId"] for r in held.values()} == {session_id}
    for tab in tabs:
        frames = world.frames(tab)
        assert [f["type"] for f in frames] == ["rewardGranted"] * 3 + ["vrSessionEnded"]
        assert [f["rewardId"] for f in frames[:3]] == earned
        assert frames[0] == {
            "type": "rewardGranted",
            "rewardId": "first_objective_complete",
            "sessionId": session_id,
            "title": "First objective",
        }
        assert frames[-1] == {"type": "vrSessionEnded", "sessionId": session_id, "rewards": earned}
    view = world.call("GET", f"/vr/sessions/{session_id}").body
    assert (view["status"], view["rewards"], view["eventCount"]) == ("ended", earned, 4)
    assert view["endTime"] == ended["end"]["endTime"]


def test_a_reward_is_granted_once_ever_and_cumulative_rewards_when_their_count_is_reached(world):
    granted = []
    for objectives in (4, 4, 1, 0, 1):
        session_id = world.start()
        if objectives:
            world.send(session_id, [objective(i) for i in range(objectives)])
        granted.append(world.end(session_id)["rewards"])
    assert granted == [
        ["first_objective_complete", "session_complete", "objective_hat_trick"],
        [],
        [],
        [],
        # The fifth session reaches ten objectives and five sessions, over all five.
        ["objective_veteran", "regular_visitor"],
    ]
    progress = world.scan("player_progress")
    assert progress == [{"playerId": "alice", "sessionsEnded": 5, "events:objective_completed": 10}]
    rewards = world.call("GET", "/vr/players/alice/rewards", user="someone-else").body
    assert sorted(r["rewardId"] for r in rewards["items"]) == sorted(sum(granted, []))


def test_a_retried_grant_of_the_same_execution_counts_nothing_twice_and_reports_the_same(world):
    session_id = world.start()
    world.send(session_id, [objective(1)])
    ended = world.end(session_id, execution="first")
    execution_id = "arn:aws:states:us-east-1:123456789012:execution:arcadeflow-vr_session_end:first"
    again = world.invoke(
        "vr_grant_rewards",
        {
            "sessionId": session_id,
            "playerId": "alice",
            "executionId": execution_id,
            "counts": {"objective_completed": 1},
            "eventCount": 1,
        },
    )
    assert again["rewards"] == ended["rewards"] == ["first_objective_complete", "session_complete"]
    assert world.scan("player_progress")[0]["sessionsEnded"] == 1


def test_the_first_state_refuses_unknown_someone_elses_and_ended_sessions(world):
    session_id = world.start("bob")
    task = world.handler("vr_record_end")
    for player, session in (("alice", session_id), ("bob", "0" * 32), ("bob", "../etc")):
        with pytest.raises(SessionNotFound):
            world.invoke("vr_record_end", {"sessionId": session, "playerId": player, "executionId": "x:1"})
    assert task is not None
    world.end(session_id, user="bob")
    with pytest.raises(SessionAlreadyEnded):
        world.invoke("vr_record_end", {"sessionId": session_id, "playerId": "bob", "executionId": "x:2"})
    world.clock.advance(RETENTION + 1)
    with pytest.raises(SessionNotFound):
        world.invoke(
            "vr_record_end", {"sessionId": world.start("bob"), "playerId": "carol", "executionId": "x:3"}
        )


def test_the_first_state_is_idempotent_for_its_execution_and_refuses_a_second_live_end(world):
    session_id = world.start()
    first = world.invoke(
        "vr_record_end", {"sessionId": session_id, "playerId": "alice", "executionId": "x:1"}
    )
    world.clock.advance(5)
    again = world.invoke(
        "vr_record_end", {"sessionId": session_id, "playerId": "alice", "executionId": "x:1"}
    )
    assert again == first
    with pytest.raises(SessionAlreadyEnded):
        world.invoke("vr_record_end", {"sessionId": session_id, "playerId": "alice", "executionId": "x:2"})


def test_a_released_end_is_finished_by_the_next_execution_granting_nothing_twice(world):
    session_id = world.start()
    world.send(session_id, [objective(1)])
    end = {"sessionId": session_id, "playerId": "alice", "executionId": "x:failed"}
    world.invoke("vr_record_end", end)
    assert world.invoke("vr_release_end", end) == {"released": True}
    ended = world.end(session_id)
    assert ended["rewards"] == ["first_objective_complete", "session_complete"]
    assert world.session_item(session_id)["status"] == "ended"


def test_the_end_waits_for_a_batch_being_written_and_clears_one_whose_writer_died(world):
    session_id = world.start()
    now_ms = int(world.clock.now().timestamp() * 1000)
    world.client.update_item(
        TableName=world.names["player_sessions"],
        Key={"playerId": {"S": "alice"}, "sessionId": {"S": session_id}},
        UpdateExpression="SET writing.b1 = :lease",
        ExpressionAttributeValues={":lease": {"N": str(now_ms + 30_000)}},
    )
    end = {"sessionId": session_id, "playerId": "alice", "executionId": "x:1"}
    with pytest.raises(SessionBusy):
        world.invoke("vr_record_end", end)
    assert world.session_item(session_id)["status"] == "open"
    world.clock.advance(31)
    world.invoke("vr_record_end", end)
    session = world.session_item(session_id)
    assert (session["status"], session["writing"]) == ("ending", {})


# --- reads --------------------------------------------------------------------------------------


def test_sessions_are_listed_newest_first_in_pages(world):
    started = []
    for _ in range(5):
        started.append(world.start())
        world.clock.advance(1)
    world.start("bob")
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = world.call("GET", "/vr/players/me/sessions", query=query).body
        seen += [s["sessionId"] for s in page["items"]]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    assert seen == started[::-1]
    assert world.call("GET", "/vr/players/alice/sessions").body["items"][0]["sessionId"] == started[-1]
    bad = world.call("GET", "/vr/players/me/sessions", query={"cursor": "garbage"})
    assert (bad.status, bad.code) == (400, "invalid_cursor")
    assert world.call("GET", "/vr/players/me/sessions", query={"limit": "0"}).code == "invalid_query"


def test_events_are_listed_in_time_order_in_pages(world):
    session_id = world.start()
    world.send(session_id, [objective(i) for i in range(5)])
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = world.call("GET", f"/vr/sessions/{session_id}/events", query=query).body
        seen += [e["data"]["objective"] for e in page["items"]]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    assert seen == [0, 1, 2, 3, 4]
    other = world.start()
    foreign = world.call("GET", f"/vr/sessions/{session_id}/events", query={"limit": "2"}).body["nextCursor"]
    reply = world.call("GET", f"/vr/sessions/{other}/events", query={"cursor": foreign})
    assert (reply.status, reply.code) == (400, "invalid_cursor")


def test_expired_sessions_and_events_never_appear_though_not_yet_deleted_and_rewards_stay(world):
    session_id = world.start()
    world.send(session_id, [objective(1)])
    world.end(session_id)
    kept = world.start()
    world.clock.advance(RETENTION - 10)
    world.send(kept, [objective(2)])  # moves `kept` and its new event past the first's expiry
    world.clock.advance(11)
    assert world.session_item(session_id) is not None and world.events_of(session_id)  # not reaped
    assert world.call("GET", f"/vr/sessions/{session_id}").code == "session_not_found"
    assert world.call("GET", f"/vr/sessions/{session_id}/events").code == "session_not_found"
    listed = world.call("GET", "/vr/players/me/sessions").body["items"]
    assert [s["sessionId"] for s in listed] == [kept]
    assert [
        e["data"]["objective"] for e in world.call("GET", f"/vr/sessions/{kept}/events").body["items"]
    ] == [2]
    rewards = world.call("GET", "/vr/players/me/rewards").body
    assert [r["rewardId"] for r in rewards["items"]] == ["first_objective_complete", "session_complete"]
    assert rewards["playerId"] == "alice" and rewards["items"][0]["sessionId"] == session_id


def test_a_players_rewards_are_public_and_a_bad_player_id_is_refused(world):
    assert world.call("GET", "/vr/players/nobody/rewards").body == {"playerId": "nobody", "items": []}
    assert world.call("GET", "/vr/players/bad%23id/rewards").code == "invalid_request"


def test_a_grant_failing_after_its_puts_is_finished_by_the_next_end_granting_nothing_twice(
    world, monkeypatch
):
    tab = world.connect("alice")
    session_id = world.start()
    world.send(session_id, [objective(1)])
    failing = {"sessionId": session_id, "playerId": "alice", "executionId": "x:failing"}
    world.invoke("vr_record_end", failing)
    grant = {**failing, "counts": {"objective_completed": 1}, "eventCount": 1}
    finish = SessionsRepository.finish

    def lost_connection(self, *args, **kwargs):
        raise ConnectionError("DynamoDB went away before the session was recorded")

    monkeypatch.setattr(SessionsRepository, "finish", lost_connection)
    with pytest.raises(ConnectionError):
        world.invoke("vr_grant_rewards", grant)
    monkeypatch.setattr(SessionsRepository, "finish", finish)
    assert len(world.scan("player_rewards")) == 2  # granted before the failure
    world.invoke("vr_release_end", failing)  # what the ASL's catch does

    ended = world.end(session_id)
    # The next end records and announces what the failed one granted; nothing is granted twice.
    assert ended["rewards"] == ["first_objective_complete", "session_complete"]
    assert len(world.scan("player_rewards")) == 2
    assert world.scan("player_progress")[0]["sessionsEnded"] == 1
    assert [f.get("rewardId") for f in world.frames(tab)] == [
        "first_objective_complete",
        "session_complete",
        None,
    ]


# --- GET /vr/sessions/{id}/end: the end's execution, as DescribeExecution tells it ----------------


class FakeStepFunctions:
    """describe_execution answering what a test scripts per execution ARN."""

    def __init__(self) -> None:
        self.executions: dict[str, dict] = {}
        self.asked: list[str] = []

    def describe_execution(self, executionArn: str) -> dict:  # noqa: N803 - boto3's name
        self.asked.append(executionArn)
        if executionArn not in self.executions:
            error = {"Error": {"Code": "ExecutionDoesNotExist", "Message": "Execution Does Not Exist"}}
            raise ClientError(error, "DescribeExecution")
        return {"executionArn": executionArn, **self.executions[executionArn]}


@pytest.fixture
def described(world, monkeypatch):
    fake = FakeStepFunctions()
    monkeypatch.setattr(aws, "stepfunctions", lambda: fake)
    machine = world.state_machines["vr_session_end"]

    def script(session_id: str, player: str, status: str, **fields) -> str:
        arn = machine.replace(":stateMachine:", ":execution:") + f":{session_id}_{player}"
        fake.executions[arn] = {
            "status": status,
            "startDate": datetime(2026, 12, 1, 22, tzinfo=UTC),
            **fields,
        }
        return arn

    return script


@pytest.mark.authorization("GET /vr/sessions/{sessionId}/end")
def test_the_end_status_reads_the_execution_named_after_the_session_and_the_caller(world, described):
    session_id = world.start()
    assert world.call("GET", f"/vr/sessions/{session_id}/end").code == "end_not_started"
    arn = described(session_id, "alice", "RUNNING")
    running = world.call("GET", f"/vr/sessions/{session_id}/end").body
    assert running == {
        "sessionId": session_id,
        "executionArn": arn,
        "status": "RUNNING",
        "startDate": "2026-12-01T22:00:00.000000Z",
    }
    output = json.dumps({"sessionId": session_id, "playerId": "alice", "rewards": ["session_complete"]})
    described(
        session_id, "alice", "SUCCEEDED", stopDate=datetime(2026, 12, 1, 22, 0, 2, tzinfo=UTC), output=output
    )
    done = world.call("GET", f"/vr/sessions/{session_id}/end").body
    assert (done["status"], done["rewards"], done["stopDate"]) == (
        "SUCCEEDED",
        ["session_complete"],
        "2026-12-01T22:00:02.000000Z",
    )
    # Bob asking about Alice's session reads his own execution name: there is none.
    assert world.call("GET", f"/vr/sessions/{session_id}/end", user="bob").code == "end_not_started"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [("SessionNotFound", 404, "session_not_found"), ("SessionAlreadyEnded", 409, "session_closed")],
)
def test_a_refused_end_answers_the_flows_error_as_a_client_error(world, described, error, status, code):
    session_id = world.start()
    described(session_id, "alice", "FAILED", error=error, cause="the flow's clear cause")
    reply = world.call("GET", f"/vr/sessions/{session_id}/end")
    assert (reply.status, reply.code, reply.body["error"]["message"]) == (
        status,
        code,
        "the flow's clear cause",
    )


def test_another_failure_of_the_end_is_reported_with_its_error(world, described):
    session_id = world.start()
    described(session_id, "alice", "FAILED", error="SessionEndFailed", cause="a task failed")
    body = world.call("GET", f"/vr/sessions/{session_id}/end").body
    assert (body["status"], body["error"]) == (
        "FAILED",
        {"code": "SessionEndFailed", "message": "a task failed"},
    )
    assert "rewards" not in body


def test_the_end_does_not_bring_back_events_that_expired_while_the_session_stayed_open(world):
    session_id = world.start()
    world.send(session_id, [objective(1)])
    world.clock.advance(RETENTION - 10)
    world.send(session_id, [objective(2, "look")])  # the session lives on; the first event does not
    world.clock.advance(11)
    ended = world.end(session_id)
    assert (ended["tally"]["eventCount"], ended["tally"]["counts"]) == (1, {})
    assert ended["rewards"] == ["session_complete"]
    expired, kept = world.events_of(session_id)
    assert expired["ttl"] < int(world.clock.now().timestamp()) < kept["ttl"] == ended["end"]["expiresAt"]


def test_a_grant_racing_another_sessions_grant_is_decided_by_the_conditional_put(world, monkeypatch):
    """The second session read the player's rewards before the first one granted them (two ends
    at once): its conditional put finds them held and grants nothing."""
    first, second = world.start(), world.start()
    for session_id in (first, second):
        world.send(session_id, [objective(1)])
    assert world.end(first)["rewards"] == ["first_objective_complete", "session_complete"]
    monkeypatch.setattr(RewardsRepository, "of_player", lambda self, player_id: [])  # the stale read
    assert world.end(second)["rewards"] == []
    held = world.scan("player_rewards")
    assert sorted((r["rewardId"], r["sessionId"]) for r in held) == [
        ("first_objective_complete", first),
        ("session_complete", first),
    ]
