"""Which tests prove that each route and action lets the caller act only on what is theirs.

Every HTTP route and WebSocket route of infra/deployment.json is either covered by at least one
test marked `@pytest.mark.authorization("<target>", ...)` (another user's token on my session,
game, invite, cursor... gets the documented refusal and changes nothing) or declared in PUBLIC
below with the reason any signed-in caller may use it on anyone's data. A target is the route
key as the description writes it: "POST /vr/sessions/{sessionId}/end" for HTTP, "WS invite" for
a WebSocket route. tests/unit/test_authorization_coverage.py collects the markers of the whole
suite (the marked tests must exist and be collected) and fails naming every target left bare.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import functions
from arcadeflow.deployment import Deployment

MARKER = "authorization"
# Where the collector plugin (this module, loaded with -p) writes {nodeid: [targets]}.
REPORT_VARIABLE = "ARCADEFLOW_AUTHORIZATION_REPORT"
WS_PREFIX = "WS "

# Target -> why any signed-in caller may use it on anyone's data (no target is "theirs").
PUBLIC: dict[str, str] = {
    "GET /users/{id}": "a profile (screen name, avatar, presence, best scores) is public to every player",
    "GET /games/{gameId}/leaderboard": "a game's leaderboard is public to every player",
    "GET /presence/online": "who is online is public to every player: it is how duels find opponents",
    "GET /vr/players/{playerId}/rewards": "reward flags are public, like achievements",
    "WS $default": "answers an unknown action with an error frame; it reads and writes nothing",
    "WS ping": "answers the caller's own connection with pong; it names no target",
}


def frame_actions() -> set[str]:
    """Every action a flow's frame models accept (`ACTIONS` of functions/<flow>/models.py): an
    action with no route of its own reaches $default's function and must be covered too."""
    found: set[str] = set()
    for package in pkgutil.iter_modules(functions.__path__):
        try:
            models = importlib.import_module(f"functions.{package.name}.models")
        except ModuleNotFoundError:
            continue
        found |= set(getattr(models, "ACTIONS", ()))
    return found


def targets(deployment: Deployment) -> list[str]:
    """Every route and action of the description, and every action of the frame models, as
    markers name them."""
    described = list(deployment.http_api.routes)
    described += [f"{WS_PREFIX}{key}" for key in deployment.web_socket_api.routes]
    described += sorted(
        f"{WS_PREFIX}{a}" for a in frame_actions() if a not in deployment.web_socket_api.routes
    )
    return described


def problems(
    described: Iterable[str], marked: Mapping[str, Iterable[str]], public: Mapping[str, str]
) -> list[str]:
    """What is wrong with the coverage: uncovered targets, markers or declarations naming
    targets the description does not have, declarations without a reason."""
    described = list(described)
    known = set(described)
    covered: set[str] = set()
    found: list[str] = []
    for nodeid, named in sorted(marked.items()):
        named = list(named)
        if not named:
            found.append(f"{nodeid} is marked authorization but names no route or action")
        for target in named:
            if target not in known:
                found.append(f"{nodeid} names {target!r}, which is no route or action of the description")
            covered.add(target)
    for target, reason in public.items():
        if target not in known:
            found.append(f"PUBLIC declares {target!r}, which is no route or action of the description")
        if not reason.strip():
            found.append(f"PUBLIC declares {target!r} without a reason")
    for target in described:
        if target not in covered and target not in public:
            found.append(f"{target} has no authorization test (mark one with @pytest.mark.authorization)")
    return found


# --- the collector: `python -m pytest --collect-only -p tests.support.authorization` ----------


def pytest_collection_finish(session: Any) -> None:
    report = os.environ.get(REPORT_VARIABLE)
    if not report:
        return
    marked: dict[str, list[str]] = {}
    for item in session.items:
        for mark in item.iter_markers(MARKER):
            marked.setdefault(item.nodeid, []).extend(str(a) for a in mark.args)
    Path(report).write_text(json.dumps(marked, indent=1, sort_keys=True))
