"""A direct StartExecution route over HTTP on the real `arcadeflow up`: API Gateway's
StepFunctions-StartExecution integration, no Lambda in between, with a Name/Input mapping that
reads a path parameter, the caller's JWT claim, a body field, a header and a query string.

The stack starts empty (`--no-deploy`) and the test deploys its own description
(tests/e2e/fixtures/start_execution_routes.deployment.json, a test machine that holds for
`hold` seconds and echoes its input): the emulator serves whatever HTTP API the registry holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import requests

from arcadeflow.deployer import deploy
from arcadeflow.deployment import REPO_ROOT, load
from tests.support.stack import RunningStack, wait_for

FIXTURE = REPO_ROOT / "tests" / "e2e" / "fixtures" / "start_execution_routes.deployment.json"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = RunningStack(tmp_path_factory.mktemp("start-routes"), ["--no-deploy"])
    try:
        deploy(load(FIXTURE), SimpleNamespace(region="us-east-1", client=running.client))
        yield running
    finally:
        running.stop()


def _post(
    stack: RunningStack, path: str, token: str | None, body: object = None, **kwargs
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers |= kwargs.pop("headers", {})
    data = body if isinstance(body, str | bytes) else json.dumps(body if body is not None else {})
    return requests.post(f"{stack.http_url}{path}", data=data, headers=headers, timeout=10, **kwargs)


def _closed(stack: RunningStack, execution_arn: str) -> dict:
    sfn = stack.client("stepfunctions")

    def described() -> dict | None:
        out = sfn.describe_execution(executionArn=execution_arn)
        return out if out["status"] != "RUNNING" else None

    return wait_for(described, timeout=30, message=f"{execution_arn} to close")


def test_the_route_starts_the_execution_with_the_mapped_name_and_input(stack: RunningStack) -> None:
    token = stack.token("alice")
    answer = _post(stack, "/games/g-1/end?mode=ranked", token, {"hold": 0}, headers={"X-Trace": "t-42"})
    assert answer.status_code == 200, answer.text
    started = answer.json()
    assert set(started) == {"executionArn", "startDate"}
    assert started["executionArn"].endswith(":execution:startroutes-hold-then-echo:g-1_alice")
    described = _closed(stack, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert described["name"] == "g-1_alice"
    expected = {"gameId": "g-1", "playerId": "alice", "hold": 0, "trace": "t-42", "mode": "ranked"}
    assert json.loads(described["input"]) == expected
    assert json.loads(described["output"]) == expected


def test_a_repeated_start_while_running_answers_the_same_execution_and_after_it_closed_refuses(
    stack: RunningStack,
) -> None:
    token = stack.token("bob")
    first = _post(stack, "/games/g-2/end", token, {"hold": 60})
    again = _post(stack, "/games/g-2/end", token, {"hold": 60})
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.json() == first.json()
    other_input = _post(stack, "/games/g-2/end", token, {"hold": 1})
    assert other_input.status_code == 400
    assert other_input.json()["__type"] == "ExecutionAlreadyExists"
    # Another caller ends the same game under their own name: a second execution.
    carol = _post(stack, "/games/g-2/end", stack.token("carol"), {"hold": 0})
    assert carol.status_code == 200 and carol.json()["executionArn"].endswith(":g-2_carol")

    # StopExecution is synchronous: the execution is closed when it answers.
    stack.client("stepfunctions").stop_execution(executionArn=first.json()["executionArn"])
    closed = _post(stack, "/games/g-2/end", token, {"hold": 60})
    assert closed.status_code == 400
    assert closed.json() == {
        "__type": "ExecutionAlreadyExists",
        "message": f"Execution Already Exists: '{first.json()['executionArn']}'",
    }


def test_a_path_parameter_that_makes_an_invalid_name_is_refused_and_starts_nothing(
    stack: RunningStack,
) -> None:
    token = stack.token("dave")
    for game_id in ("a:b", "a%20b", "x" * 80):
        answer = _post(stack, f"/games/{game_id}/end", token, {"hold": 0})
        assert answer.status_code == 400, (game_id, answer.text)
        assert answer.json()["__type"] == "InvalidName"
    listed = stack.client("stepfunctions").list_executions(
        stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:startroutes-hold-then-echo"
    )["executions"]
    assert not [e for e in listed if e["name"].endswith("_dave")]


def test_a_mapped_input_that_is_not_json_is_refused_by_step_functions(stack: RunningStack) -> None:
    # The body field is substituted verbatim: a string where the template expects a number
    # makes the input invalid JSON, as on API Gateway.
    answer = _post(stack, "/games/g-3/end", stack.token("erin"), {"hold": "soon"})
    assert answer.status_code == 400
    assert answer.json()["__type"] == "InvalidExecutionInput"


def test_the_default_mapping_passes_the_body_and_lets_step_functions_name_it(stack: RunningStack) -> None:
    token = stack.token("frank")
    first = _post(stack, "/flows", token, {"hold": 0, "say": "hi"})
    second = _post(stack, "/flows", token, {"hold": 0, "say": "hi"})
    assert first.status_code == second.status_code == 200
    assert first.json()["executionArn"] != second.json()["executionArn"]
    described = _closed(stack, first.json()["executionArn"])
    assert json.loads(described["input"]) == {"hold": 0, "say": "hi"}


def test_a_start_route_needs_a_token(stack: RunningStack) -> None:
    answer = _post(stack, "/games/g-4/end", None, {"hold": 0})
    assert answer.status_code == 401


def test_a_body_nested_too_deep_to_parse_is_refused_and_starts_nothing(stack: RunningStack) -> None:
    # 2,000 levels: json.loads raised RecursionError in the parameter mapping and in moto (500s).
    deep = '{"hold":' * 2000 + "0" + "}" * 2000
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:startroutes-hold-then-echo"
    sfn = stack.client("stepfunctions")
    before = len(sfn.list_executions(stateMachineArn=machine)["executions"])
    token = stack.token("gina")
    passed_on = _post(stack, "/flows", token, deep)  # Input is the whole body
    assert passed_on.status_code == 400, passed_on.text
    assert passed_on.json()["__type"] == "InvalidExecutionInput"
    selected = _post(stack, "/games/g-5/end", token, deep)  # Input reads $request.body.hold
    assert selected.status_code == 400, selected.text
    assert selected.json()["__type"] == "InvalidExecutionInput"
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == before
