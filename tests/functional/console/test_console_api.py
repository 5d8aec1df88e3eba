"""The console's JSON API against a real embedded AWS: what the page shows comes from these."""

from __future__ import annotations

import json
import uuid

from tests.functional.console.conftest import Console

# Every status a state can have, in one execution without a Lambda: a Map whose last iteration
# fails (caught by the Map's Catch; one iteration at a time, so none is cut short by it), a
# Parallel of a Wait and a Pass, then a Choice to a Fail state, leaving the Succeed state unreached.
MIXED = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "IsBad",
                "States": {
                    "IsBad": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}],
                        "Default": "Good",
                    },
                    "Bad": {"Type": "Fail", "Error": "BadItem", "Cause": "item 2 is bad"},
                    "Good": {"Type": "Pass", "End": True},
                },
            },
            "ResultPath": "$.fan",
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.fanError", "Next": "Both"}],
            "Next": "Both",
        },
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Pause", "States": {"Pause": {"Type": "Wait", "Seconds": 0, "End": True}}},
                {"StartAt": "Note", "States": {"Note": {"Type": "Pass", "End": True}}},
            ],
            "ResultPath": None,
            "Next": "IsLucky",
        },
        "IsLucky": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.lucky", "BooleanEquals": True, "Next": "Celebrate"}],
            "Default": "Boom",
        },
        "Celebrate": {"Type": "Succeed"},
        "Boom": {"Type": "Fail", "Error": "Unlucky", "Cause": "not lucky this time"},
    },
}
HOLD = {
    "StartAt": "Hold",
    "States": {
        "Hold": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}
QUICK = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


def test_one_execution_colours_every_state_by_what_its_history_says(console: Console):
    machine = console.machine(MIXED)
    arn = console.start(machine, {"items": [1, 3, 2], "lucky": False})
    assert console.finished(arn)["status"] == "FAILED"

    status, answer = console.get("execution", arn=arn)

    assert status == 200
    assert answer["execution"]["status"] == "FAILED" and answer["execution"]["error"] == "Unlucky"
    assert answer["definition"] == MIXED
    states = answer["states"]
    assert {name: row["status"] for name, row in states.items()} == {
        "Fan": "caught",
        "IsBad": "succeeded",
        "Bad": "failed",
        "Good": "succeeded",
        "Both": "succeeded",
        "Pause": "succeeded",
        "Note": "succeeded",
        "IsLucky": "succeeded",
        "Celebrate": "not_reached",
        "Boom": "failed",
    }
    assert states["Fan"]["iterations"] | {"slowestMs": None, "slowestIndex": None} == {
        "succeeded": 2,
        "failed": 1,
        "aborted": 0,
        "started": 3,
        "slowestMs": None,
        "slowestIndex": None,
    }
    assert (states["IsBad"]["entries"], states["Good"]["entries"], states["Bad"]["entries"]) == (3, 2, 1)
    # The Fail state's error and cause: the execution's for Boom, the definition's for Bad.
    assert (states["Boom"]["error"], states["Boom"]["cause"]) == ("Unlucky", "not lucky this time")
    assert (states["Bad"]["error"], states["Bad"]["cause"]) == ("BadItem", "item 2 is bad")
    assert json.loads(states["Fan"]["output"])["fanError"]["Error"] == "BadItem"
    assert json.loads(states["IsLucky"]["input"])["lucky"] is False
    assert states["Celebrate"]["type"] == "Succeed" and states["Celebrate"]["entries"] == 0
    # Timings: offsets from the execution's start, in the order the states ran.
    assert (
        0
        <= states["Fan"]["startOffsetMs"]
        <= states["Both"]["startOffsetMs"]
        <= states["Boom"]["startOffsetMs"]
    )
    assert all(states[n]["durationMs"] >= 0 for n in ("Fan", "Both", "Pause"))
    # The event view is the history as GetExecutionHistory gives it.
    history = console.sfn.get_execution_history(executionArn=arn)["events"]
    assert [e["type"] for e in answer["events"]] == [e["type"] for e in history]
    assert answer["events"][-1]["type"] == "ExecutionFailed"


def test_a_running_state_is_running_until_stopped_from_the_console_then_aborted(console: Console):
    machine = console.machine(HOLD)
    arn = console.start(machine, {"wait": 120})
    console.entered(arn, "Hold")

    _, running = console.get("execution", arn=arn)
    assert running["execution"]["status"] == "RUNNING"
    assert (running["states"]["Hold"]["status"], running["states"]["Done"]["status"]) == (
        "running",
        "not_reached",
    )

    status, stopped = console.post("stop", {"executionArn": arn})
    assert status == 200 and stopped["stopDate"]
    # Aborted when the stop answers, as on AWS: nothing to wait for.
    described = console.sfn.describe_execution(executionArn=arn)
    assert (described["status"], described["error"]) == ("ABORTED", "Console.Stopped")
    _, after = console.get("execution", arn=arn)
    assert after["states"]["Hold"]["status"] == "aborted"


def test_machines_are_listed_with_their_executions_counted_by_status(console: Console):
    machine = console.machine(MIXED, prefix="counted")
    for lucky in (True, True, False):
        console.finished(console.start(machine, {"items": [1], "lucky": lucky}))

    status, answer = console.get("machines")

    assert status == 200
    row = next(m for m in answer["stateMachines"] if m["stateMachineArn"] == machine)
    assert row["counts"]["SUCCEEDED"] == 2 and row["counts"]["FAILED"] == 1 and row["counts"]["RUNNING"] == 0
    assert row["total"] == 3 and row["type"] == "STANDARD"
    names = [m["name"] for m in answer["stateMachines"]]
    assert names == sorted(names)


def test_executions_are_filtered_newest_first_and_paged_without_gaps_or_repeats(console: Console):
    machine = console.machine(MIXED, prefix="paged")
    other = console.machine(QUICK, prefix="other")
    started = []
    for i in range(5):
        started.append(console.start(machine, {"items": [], "lucky": i % 2 == 0}, name=f"run-{i}"))
        console.finished(started[-1])
    console.finished(console.start(other, {}))

    seen: list[str] = []
    cursor = None
    while True:
        query = {"machine": machine, "limit": "2", **({"cursor": cursor} if cursor else {})}
        status, page = console.get("executions", **query)
        assert status == 200 and len(page["executions"]) <= 2
        seen += [row["executionArn"] for row in page["executions"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == list(reversed(started))
    assert all(row["machineName"].startswith("paged-") for row in page["executions"])

    _, failed = console.get("executions", machine=machine, status="FAILED")
    assert [row["name"] for row in failed["executions"]] == ["run-3", "run-1"]
    # By name as well as by ARN; all machines when none is given.
    name = machine.rsplit(":", 1)[-1]
    assert console.get("executions", machine=name, status="FAILED")[1] == failed
    _, everything = console.get("executions", limit="500")
    assert set(started) <= {row["executionArn"] for row in everything["executions"]}
    dates = [row["startDate"] for row in everything["executions"]]
    assert dates == sorted(dates, reverse=True)
    # Time: nothing started in the future, everything since the first run.
    first = console.sfn.describe_execution(executionArn=started[0])["startDate"]
    since_first = console.get("executions", machine=machine, since=str(int(first.timestamp() * 1000)))[1]
    assert len(since_first["executions"]) == 5
    assert console.get("executions", machine=machine, since="2999-01-01T00:00:00Z")[1]["executions"] == []
    assert (
        console.get("executions", machine=machine, until=first.isoformat())[1]["executions"][-1]["name"]
        == "run-0"
    )


def test_bad_queries_are_refused_with_the_one_error_shape(console: Console):
    for query, code in [
        ({"status": "BROKEN"}, "invalid_query"),
        ({"limit": "0"}, "invalid_query"),
        ({"limit": "many"}, "invalid_query"),
        ({"since": "yesterday"}, "invalid_query"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"machine": "no-such-machine"}, "StateMachineDoesNotExist"),
    ]:
        status, answer = console.get("executions", **query)
        assert status in (400, 404) and answer["error"]["code"] == code, (query, answer)
    missing = "arn:aws:states:us-east-1:123456789012:execution:nothing:here"
    status, answer = console.get("execution", arn=missing)
    assert status == 404 and answer["error"]["code"] == "ExecutionDoesNotExist"
    assert console.get("execution")[1]["error"]["code"] == "invalid_query"
    assert console.get("nothing")[0] == 404


def test_replay_starts_a_new_execution_with_the_original_input_and_a_new_name(console: Console):
    machine = console.machine(MIXED, prefix="replayed")
    data = {"items": [1, 2], "lucky": False, "marker": uuid.uuid4().hex}
    original = console.start(machine, data, name="original")
    console.finished(original)

    first = console.post("replay", {"executionArn": original})[1]
    second = console.post("replay", {"executionArn": original})[1]

    assert (first["name"], second["name"]) == ("original-replay-1", "original-replay-2")
    for replayed in (first, second):
        described = console.finished(replayed["executionArn"])
        assert json.loads(described["input"]) == data and described["stateMachineArn"] == machine
    running = console.start(console.machine(HOLD), {"wait": 120})
    status, refused = console.post("replay", {"executionArn": running})
    assert status == 409 and refused["error"]["code"] == "execution_running"
    console.post("stop", {"executionArn": running})


def test_redriving_several_reports_each_execution_on_its_own(console: Console):
    machine = console.machine(QUICK, prefix="redriven")
    succeeded = console.start(machine, {})
    console.finished(succeeded)
    missing = machine.replace(":stateMachine:", ":execution:") + ":missing"

    status, answer = console.post("redrive", {"executionArns": [succeeded, missing, succeeded]})

    assert status == 200
    results = {r["executionArn"]: r for r in answer["results"]}
    assert len(answer["results"]) == 2, "a repeated ARN is redriven once"
    assert results[succeeded]["redriven"] is False
    assert results[succeeded]["error"]["code"] == "ExecutionNotRedrivable"
    assert results[missing]["redriven"] is False
    assert results[missing]["error"]["code"] == "ExecutionDoesNotExist"


def test_actions_take_only_a_json_body_naming_what_to_act_on(console: Console):
    for path, body in [
        ("redrive", {}),
        ("redrive", {"executionArns": []}),
        ("redrive", {"executionArns": [1]}),
        ("replay", {}),
        ("stop", {"executionArn": ""}),
        ("stop", [1]),
    ]:
        status, answer = console.post(path, body)
        assert status == 400 and answer["error"]["code"] == "invalid_body", (path, body)
    response = console.http.post("/console/api/stop", data='{"executionArn": "x"}', content_type="text/plain")
    assert response.status_code == 415
    response = console.http.post("/console/api/stop", data="{not json", content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "malformed_body"
    response = console.http.get("/console/api/stop")
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert console.http.post("/console/api/machines", json={}).status_code == 405


def test_the_console_answers_only_a_loopback_host_and_serves_its_page(console: Console):
    foreign = console.http.get("/console/api/machines", headers={"Host": "evil.example:8000"})
    assert foreign.status_code == 403 and foreign.get_json()["error"]["code"] == "not_loopback"
    assert console.http.get("/console/", headers={"Host": "rebound.example"}).status_code == 403
    assert console.http.get("/console/api/machines", headers={"Host": "127.0.0.1:8000"}).status_code == 200

    redirect = console.http.get("/console")
    assert redirect.status_code == 308 and redirect.headers["Location"].endswith("/console/")
    page = console.http.get("/console/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b'src="console.js"' in page.data
    for script in ("console.js", "graph.js"):
        served = console.http.get(f"/console/{script}")
        assert served.status_code == 200 and served.mimetype == "text/javascript"
    assert console.http.get("/console/../api.py").status_code == 404
    assert console.http.get("/elsewhere").status_code == 418, "other paths are not the console's"


def test_the_description_refuses_a_route_or_a_page_under_console():
    import pytest
    from pydantic import ValidationError

    from arcadeflow import deployment

    raw = json.loads(deployment.DEFAULT_DESCRIPTION.read_text())
    routed = json.loads(json.dumps(raw))
    routed["httpApi"]["routes"]["GET /console/things"] = {"function": next(iter(raw["functions"]))}
    with pytest.raises(ValidationError, match="the runtime answers /console itself"):
        deployment.Deployment.model_validate(routed)
    paged = json.loads(json.dumps(raw))
    paged["localPages"] = {"/console": "tools/play"}
    with pytest.raises(ValidationError, match="the runtime serves 'console' itself"):
        deployment.Deployment.model_validate(paged)
