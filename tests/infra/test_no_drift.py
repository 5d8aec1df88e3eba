"""No drift: Terraform declares exactly what the loader resolved from deployment.json.

The loader is the description's only interpreter; Terraform maps its resolved form onto modules.
This compares the two resource by resource — table requests (keys, indexes, billing, stream, TTL),
functions (handler, sizes, every environment variable), IAM grants, event sources, queues and
their dead-letter queues, rendered ASL, and routes — so a mapping slip in HCL, or a loader change
Terraform was not given, fails. It runs on the real description and on a fixture that uses every
feature the loader knows.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from arcadeflow import deployment
from arcadeflow.deployment import Deployment
from tests.infra.conftest import INFRA, TerraformTestRun
from tests.infra.drift import account_and_region, compare, expected_view, terraform_view

# terraform over the whole description takes 2-5 minutes on a loaded 2-core machine.
pytestmark = [pytest.mark.infra, pytest.mark.timeout(900)]

DESCRIPTIONS = {
    "description": INFRA / "deployment.json",
    "full_fixture": INFRA / "tests" / "fixtures" / "full.deployment.json",
}


def views(
    run: TerraformTestRun, name: str, d: Deployment | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    states = run.states()
    assert name in states, f"terraform test left no state for run {name!r}: {run.diagnostics()}"
    state = states[name]
    tf = terraform_view(state)
    d = d or deployment.load(DESCRIPTIONS[name])
    return expected_view(d.resolved(), tf, account_and_region(state), stage="prod"), tf


@pytest.mark.parametrize("name", sorted(DESCRIPTIONS))
def test_terraform_declares_exactly_what_the_embedded_deployer_derives(
    terraform_test_run: TerraformTestRun, name: str
) -> None:
    expected, actual = views(terraform_test_run, name)
    problems = compare(expected, actual)
    assert not problems, "Terraform and arcadeflow.deployment drifted apart:\n" + "\n".join(problems)


def test_the_description_run_compares_a_cors_configuration(terraform_test_run: TerraformTestRun) -> None:
    """The run sets cors_allowed_origins, so the comparison sees a configuration, not two empties."""
    expected, actual = views(terraform_test_run, "description")
    (cors,) = expected["http_cors"].values()
    assert cors["allow_origins"] == ["http://localhost:5173", "https://play.example.com"]
    assert cors["allow_headers"] and cors["allow_methods"] and cors["max_age"] == 300
    assert actual["http_cors"] == expected["http_cors"]


def test_fixture_covers_every_kind_of_resource(terraform_test_run: TerraformTestRun) -> None:
    expected, _ = views(terraform_test_run, "full_fixture")
    for kind in ("tables", "functions", "event_sources", "queues", "state_machines", "http_routes",
                 "websocket_routes", "websocket_authorization"):  # fmt: skip
        assert expected[kind], f"the fixture declares no {kind}, so drift there would go unseen"
    assert "startExecution" in {route[0] for route in expected["http_routes"].values()}
    # A route mapping its request onto StartExecution (Name and Input), and a describe grant.
    assert dict(expected["http_routes"]["POST /duels/{duelId}/end"][2])["Name"] == (
        "${request.path.duelId}_${context.authorizer.claims.sub}"
    )
    assert expected["function_grants"]["arcadeflow-status-api"][
        "arn:aws:states:us-east-1:123456789012:execution:arcadeflow-duel-invite:*"
    ] == {"states:DescribeExecution", "states:GetExecutionHistory"}
    # The fixture's authorizer takes the loader's default identity source.
    assert expected["websocket_authorization"]["$connect"] == (
        "REQUEST",
        "arcadeflow-duel-auth",
        ["route.request.querystring.token"],
    )
    assert {"JWT_ISSUER", "JWT_AUDIENCES", "JWT_JWKS_URL"} <= set(
        expected["functions"]["arcadeflow-duel-auth"]["environment"]
    )
    assert expected["function_grants"]["arcadeflow-duel-api"]["*"] == {
        "states:SendTaskFailure",
        "states:SendTaskHeartbeat",
        "states:SendTaskSuccess",
    }


def test_comparison_fails_when_the_python_side_changes(
    terraform_test_run: TerraformTestRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A different naming rule in the loader must show up as drift.
    monkeypatch.setattr(Deployment, "physical_name", lambda self, logical: f"{self.name}_{logical}")
    expected, actual = views(terraform_test_run, "full_fixture")
    problems = compare(expected, actual)
    assert any(p.startswith("tables arcadeflow_feeds") for p in problems), problems
    assert any(p.startswith("functions arcadeflow_duel_api") for p in problems), problems


def test_comparison_fails_when_the_terraform_side_changes(terraform_test_run: TerraformTestRun) -> None:
    expected, actual = views(terraform_test_run, "full_fixture")
    mutated = copy.deepcopy(actual)
    mutated["tables"]["arcadeflow-duels"]["ttl"] = None
    mutated["tables"]["arcadeflow-users"]["pitr"] = False
    del mutated["functions"]["arcadeflow-duel-api"]["environment"]["DUELS_TABLE"]
    mutated["http_routes"]["POST /duels"] = ("function", "arcadeflow-duel-api")
    mutated["function_grants"]["arcadeflow-duel-stream"][
        "arn:aws:dynamodb:us-east-1:123456789012:table/x"
    ] = {"*"}
    mutated["websocket_authorization"]["$connect"] = ("NONE",)
    del mutated["functions"]["arcadeflow-duel-auth"]["environment"]["JWT_JWKS_URL"]
    # A mapping Terraform dropped (the integration would start with the defaults), and a lost
    # describe grant.
    kind, machine, _ = mutated["http_routes"]["POST /duels/{duelId}/end"]
    mutated["http_routes"]["POST /duels/{duelId}/end"] = (
        kind,
        machine,
        expected["http_routes"]["POST /duels"][2],
    )
    del mutated["function_grants"]["arcadeflow-status-api"][
        "arn:aws:states:us-east-1:123456789012:execution:arcadeflow-duel-invite:*"
    ]
    problems = compare(expected, mutated)
    # One problem per mutated resource: nine of them.
    assert len(problems) == 9, problems


def test_comparison_fails_when_the_description_drops_the_authorizer(
    terraform_test_run: TerraformTestRun,
) -> None:
    # Terraform guarded $connect and gave the function its JWT settings; without an authorizer
    # in the description, the loader derives neither.
    d = deployment.load(DESCRIPTIONS["full_fixture"])
    d.web_socket_api.authorizer = None
    expected, actual = views(terraform_test_run, "full_fixture", d)
    problems = compare(expected, actual)
    assert any(p.startswith("websocket_authorization $connect") for p in problems), problems
    assert any(p.startswith("functions arcadeflow-duel-auth") for p in problems), problems


def test_comparison_fails_when_a_default_differs(terraform_test_run: TerraformTestRun) -> None:
    # fanout_writer sets its own timeout; status_api takes the loader's default (10 s).
    d = deployment.load(DESCRIPTIONS["full_fixture"])
    d.functions["status_api"].timeout_seconds = 11
    expected, actual = views(terraform_test_run, "full_fixture", d)
    assert compare(expected, actual) == [
        "functions arcadeflow-status-api:\n"
        f"  python    = {expected['functions']['arcadeflow-status-api']!r}\n"
        f"  terraform = {actual['functions']['arcadeflow-status-api']!r}"
    ]
