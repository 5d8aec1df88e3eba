"""Every route and action of the description has a test proving it refuses someone else's
target, or is declared public with a reason (tests/support/authorization.py).

The markers are read from a real collection of the suite's functional, e2e and flows tiers, so a
marked test that was deleted, renamed away or fails to import no longer covers anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arcadeflow.deployment import load
from tests.support import authorization
from tests.support.authorization import PUBLIC, frame_actions, problems, targets

ROOT = Path(__file__).resolve().parents[2]
# The tiers where authorization tests live (unit tests have no handlers or stack to ask).
TIERS = ("tests/functional", "tests/e2e", "tests/flows")


@pytest.fixture(scope="module")
def marked(tmp_path_factory) -> dict[str, list[str]]:
    report = tmp_path_factory.mktemp("authorization") / "marked.json"
    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.support.authorization",
            *TIERS,
        ],
        cwd=ROOT,
        env={**os.environ, authorization.REPORT_VARIABLE: str(report)},
        capture_output=True,
        text=True,
        timeout=240,
    )
    # A tier that fails to collect would hide its markers: that is a failure, not less coverage.
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    found: dict[str, list[str]] = json.loads(report.read_text())
    return found


def test_every_route_and_action_has_an_authorization_test_or_is_declared_public(marked):
    described = targets(load())
    assert len(described) >= 30  # every HTTP route and WebSocket route, not an empty list
    found = problems(described, marked, PUBLIC)
    assert not found, "\n".join(found)


def test_the_check_names_a_bare_route_an_unknown_target_and_a_public_route_without_reason():
    described = ["GET /feed", "POST /followers", "WS invite", "GET /health-of-nothing"]
    marked = {"tests/functional/x.py::test_feed": ["GET /feed", "GET /fed"], "tests/x.py::test_none": []}
    found = problems(described, marked, {"WS invite": "  ", "GET /gone": "was public"})
    assert found == [
        "tests/functional/x.py::test_feed names 'GET /fed', which is no route or action of the description",
        "tests/x.py::test_none is marked authorization but names no route or action",
        "PUBLIC declares 'WS invite' without a reason",
        "PUBLIC declares 'GET /gone', which is no route or action of the description",
        "POST /followers has no authorization test (mark one with @pytest.mark.authorization)",
        "GET /health-of-nothing has no authorization test (mark one with @pytest.mark.authorization)",
    ]


def test_targets_are_every_http_route_and_websocket_route_of_the_description():
    deployment = load()
    described = targets(deployment)
    assert "POST /vr/sessions/{sessionId}/end" in described
    assert {"WS $connect", "WS $disconnect", "WS invite", "WS move"} <= set(described)
    assert len(described) >= len(deployment.http_api.routes) + len(deployment.web_socket_api.routes)


def test_every_action_of_the_frame_models_is_a_target():
    actions = frame_actions()
    assert {"invite", "respond", "stop", "sessions", "ping", "joinQueue", "leaveQueue", "move"} <= actions
    assert {f"WS {a}" for a in actions} <= set(targets(load()))
