"""A body nested 2,000 deep (12 KB of {"a":{"a":...}}) was a 500 internal_error on every JSON
route, and so was a body that is not UTF-8. Every route of the description that takes a body,
and the runtime's own JSON endpoints, now refuse them with a 4xx that says why, and write
nothing."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
import requests

from arcadeflow.deployment import load
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e

REPORTED_BODY = ('{"a":' * 2000 + "1" + "}" * 2000).encode()  # the 12 KB body
# Deep, yet small enough for the tightest route limit (POST /vr/sessions takes 1 KB).
COMPACT_DEEP_BODY = ("[" * 500 + "]" * 500).encode()
NOT_UTF8_BODY = b"h\xe9\x0e\xff\xfeG"
DEPTH_MESSAGE = "request body is nested deeper than 32 levels"

DESCRIPTION = load()
ROUTES_WITH_A_BODY = sorted(key for key, route in DESCRIPTION.http_api.routes.items() if route.request_schema)


def test_the_description_has_json_routes_to_try():
    # Guards the enumeration: an empty list would make the parametrised test vacuous.
    assert {"POST /followers", "PUT /presence", "POST /scores", "POST /statuses", "PUT /users/me"} <= set(
        ROUTES_WITH_A_BODY
    )


def _start_vr_session(stack: RunningStack, token: str) -> str:
    reply = requests.post(
        f"{stack.http_url}/vr/sessions", headers={"Authorization": f"Bearer {token}"}, json={}, timeout=30
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["sessionId"])


# A value each path parameter takes that reaches the body check (the caller's own session, not a
# 404); a route with a parameter missing here fails, so a new route cannot skip the test.
PATH_VALUES = {"sessionId": _start_vr_session}


def _path_of(route_key: str, stack: RunningStack, token: str) -> str:
    path = route_key.split(" ", 1)[1]
    for name in re.findall(r"\{([^}+]+)\+?\}", path):
        assert name in PATH_VALUES, f"{route_key}: no known value for path parameter {name!r}"
        path = path.replace("{" + name + "}", PATH_VALUES[name](stack, token))
    return path


def _everything_stored(stack: RunningStack) -> set[str]:
    """Every item of every table and every execution, as text: what a write would change."""
    dynamodb, sfn = stack.client("dynamodb"), stack.client("stepfunctions")
    seen: set[str] = set()
    for table in stack.endpoints()["tables"].values():
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            seen |= {f"{table} {json.dumps(item, sort_keys=True)}" for item in page["Items"]}
    for machine in sfn.list_state_machines()["stateMachines"]:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"]):
            seen |= {execution["executionArn"] for execution in page["executions"]}
    return seen


def _send(stack: RunningStack, method: str, path: str, token: str, body: bytes) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return requests.request(method, f"{stack.http_url}{path}", data=body, headers=headers, timeout=30)


@pytest.mark.parametrize("route_key", ROUTES_WITH_A_BODY)
def test_a_deeply_nested_body_is_a_400_that_says_so_and_writes_nothing(stack, route_key):
    user = f"deep-{uuid.uuid4().hex[:8]}"
    token = stack.token(user)
    method = route_key.split(" ", 1)[0]
    path = _path_of(route_key, stack, token)
    # A caller's first call creates their profile (functions/shared/users.py); that is not a
    # write of the refused body, so the caller has called once before the snapshot.
    seen = requests.get(
        f"{stack.http_url}/followers", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert seen.status_code == 200, seen.text
    before = _everything_stored(stack)

    compact = _send(stack, method, path, token, COMPACT_DEEP_BODY)
    assert compact.status_code == 400, compact.text
    assert compact.json() == {"error": {"code": "invalid_body", "message": DEPTH_MESSAGE}}
    # The reported body: refused for its depth, or for its size where the route takes less.
    reported = _send(stack, method, path, token, REPORTED_BODY)
    error: dict[str, Any] = reported.json()["error"]
    if reported.status_code == 413:
        assert error["code"] in {"body_too_large", "payload_too_large"}, reported.text
    else:
        assert (reported.status_code, error["code"], error["message"]) == (400, "invalid_body", DEPTH_MESSAGE)

    # Bytes that are not UTF-8 under a JSON Content-Type (found by Schemathesis: a 500).
    binary = _send(stack, method, path, token, NOT_UTF8_BODY)
    assert binary.status_code == 400, binary.text
    assert binary.json()["error"]["code"] == "malformed_json", binary.text

    assert _everything_stored(stack) - before == set(), f"{route_key} wrote something"


@pytest.mark.needs("local_routes")  # the console's and fault switch's endpoints of `arcadeflow up`
def test_the_runtimes_own_json_endpoints_refuse_a_deep_body_with_a_400(stack):
    before = _everything_stored(stack)
    headers = {"Content-Type": "application/json"}
    for path, body in [
        ("/console/api/redrive", REPORTED_BODY),
        ("/console/api/stop", REPORTED_BODY),
        ("/console/api/replay", REPORTED_BODY),
        ("/local/token", ("[" * 1500 + "]" * 1500).encode()),  # within its 4 KB limit
    ]:
        reply = requests.post(f"{stack.http_url}{path}", data=body, headers=headers, timeout=30)
        assert reply.status_code == 400, (path, reply.text)
        assert reply.json()["error"]["code"] == "invalid_body", (path, reply.text)
    assert _everything_stored(stack) - before == set()
