"""The deployment description loads, and rejects what would deploy something broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from arcadeflow import deployment
from arcadeflow.asl import MissingPlaceholder, render_definition


def _raw() -> dict:
    return json.loads(deployment.DEFAULT_DESCRIPTION.read_text())


def test_the_checked_in_description_is_valid():
    dep = deployment.load()
    assert dep.name == "arcadeflow"
    assert dep.physical_name("user_game_stats") == "arcadeflow-user-game-stats"


def test_a_route_to_an_unknown_function_is_rejected():
    raw = _raw()
    raw["httpApi"]["routes"]["GET /nowhere"] = {"function": "no_such_function"}
    with pytest.raises(ValidationError, match="unknown function no_such_function"):
        deployment.Deployment.model_validate(raw)


def test_a_function_may_only_name_declared_tables():
    raw = _raw()
    first = next(iter(raw["functions"]))
    raw["functions"][first]["tables"]["ghost"] = "read"
    with pytest.raises(ValidationError, match="unknown table ghost"):
        deployment.Deployment.model_validate(raw)


def test_function_environment_names_only_declared_resources():
    dep = deployment.load()
    refs = deployment.ResourceRefs(
        tables={t: f"phys-{t}" for t in dep.tables},
        queue_urls={q: f"url-{q}" for q in dep.all_queues()},
        state_machine_arns={s: f"arn-{s}" for s in dep.state_machines},
    )
    for name, fn in dep.functions.items():
        env = dep.function_environment(name, refs)
        tables = {k for k in env if k.endswith("_TABLE")}
        assert tables == {f"{t.upper()}_TABLE" for t in fn.tables}, name


def test_template_with_an_unknown_placeholder_fails_to_render(tmp_path, monkeypatch):
    monkeypatch.setattr("arcadeflow.asl.REPO_ROOT", tmp_path)
    (tmp_path / "x.asl.json").write_text('{"StartAt": "A", "Comment": "${missing_table}"}')
    with pytest.raises(MissingPlaceholder, match="missing_table"):
        render_definition("x.asl.json", {"users_table": "t"})
    assert json.loads(render_definition("x.asl.json", {"missing_table": "t"}))["Comment"] == "t"


def test_the_description_matches_its_checked_in_json_schema():
    import jsonschema

    schema = json.loads((deployment.REPO_ROOT / "schemas" / "deployment.schema.json").read_text())
    jsonschema.validate(_raw(), schema)
    broken = _raw()
    broken["tables"]["users"]["stream"] = "EVERYTHING"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


# --- the resolved description: what Terraform reads -------------------------------------------


def test_the_checked_in_resolved_description_is_up_to_date():
    # Terraform reads infra/deployment.resolved.json; a description edited without regenerating
    # it would deploy the old description on AWS and the new one locally.
    expected = deployment.load().resolved().to_json()
    actual = deployment.DEFAULT_RESOLVED.read_text()
    assert actual == expected, (
        "infra/deployment.resolved.json is out of date: run `python -m arcadeflow.deployment --write`"
        " and commit it"
    )
    assert json.loads(actual)["formatVersion"] == deployment.FORMAT_VERSION


def test_the_up_to_date_check_fails_when_a_name_derivation_changes(monkeypatch):
    monkeypatch.setattr(
        deployment.Deployment, "physical_name", lambda self, logical: f"{self.name}_{logical}"
    )
    assert deployment.load().resolved().to_json() != deployment.DEFAULT_RESOLVED.read_text()
    assert deployment.main(["--check"]) == 1


def test_check_command_accepts_the_checked_in_file():
    assert deployment.main(["--check"]) == 0


def test_resolved_file_fills_every_default_and_names_references():
    resolved = json.loads(deployment.DEFAULT_RESOLVED.read_text())
    ws_actions = resolved["functions"]["ws_actions"]
    assert ws_actions["name"] == "arcadeflow-ws-actions"
    assert ws_actions["timeoutSeconds"] == 10 and ws_actions["memoryMb"] == 256
    assert ws_actions["environmentRefs"]["INVITES_TABLE"] == {"ref": "table_name", "name": "invites"}
    assert ws_actions["environmentRefs"]["WEBSOCKET_CALLBACK_URL"] == {
        "ref": "deployment",
        "name": "websocket_callback_url",
    }
    assert ws_actions["environment"]["INVITE_TIMEOUT_SECONDS"] == "60"
    assert ws_actions["grants"]["stateMachinesStart"] == ["duel_invite"]
    assert ws_actions["grants"]["stateMachinesCallback"] == ["duel_invite", "duel_session"]
    # A queue that is a dead-letter queue by role has none of its own.
    assert resolved["queues"]["fanout_dead_letters"]["deadLetter"] is None
    assert resolved["secrets"]["feed_cursor_key"]["parameterName"] == "/arcadeflow/feed-cursor-key"
    assert resolved["eventSources"]["connections_to_presence_push"]["startingPosition"] == "LATEST"
    assert resolved["webSocketApi"]["authorizer"]["identitySources"] == ["route.request.querystring.token"]
    assert resolved["tables"]["feed"]["billingMode"] == "PROVISIONED"
    assert resolved["tables"]["users"]["billingMode"] == "PAY_PER_REQUEST"


def test_state_machine_grants_are_read_from_its_placeholders():
    machines = deployment.load().resolved().state_machines
    invite = machines["duel_invite"]
    assert set(invite.grants.functions) >= {"duel_notify_invitee", "duel_push"}
    # RecordExpiry updates the invite (a write), ReadInvite reads it: readwrite.
    assert invite.grants.tables == {"invites": "readwrite"}
    assert invite.grants.state_machines_start == ["duel_session"]
    assert machines["status_fanout"].grants.queues_send == ["fanout_dead_letters"]
    # Exactly the placeholders the ASL uses, each a typed reference.
    assert invite.template_variables["invites_table"] == deployment.Ref(ref="table_name", name="invites")
    assert all(p in (deployment.REPO_ROOT / invite.definition).read_text() for p in invite.template_variables)


def _with_asl(tmp_path, monkeypatch, states: dict) -> dict:
    """The checked-in description with duel_invite's ASL replaced by `states`."""
    repo = deployment.REPO_ROOT
    monkeypatch.setattr("arcadeflow.deployment.REPO_ROOT", tmp_path)
    monkeypatch.setattr("arcadeflow.asl.REPO_ROOT", tmp_path)
    (tmp_path / "schemas").mkdir()
    for schema in (repo / "schemas").glob("*.json"):
        (tmp_path / "schemas" / schema.name).write_text(schema.read_text())
    raw = _raw()
    for name, sm in raw["stateMachines"].items():
        source = repo / sm["definition"]
        target = tmp_path / sm["definition"]
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"StartAt": "A", "States": states}) if name == "duel_invite" else source.read_text()
        target.write_text(text)
    for folder in raw.get("localPages", {}).values():
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    return raw


def test_an_asl_naming_an_undeclared_function_fails_at_load(tmp_path, monkeypatch):
    raw = _with_asl(
        tmp_path,
        monkeypatch,
        {"A": {"Type": "Task", "Resource": "${refund_player_function_arn}", "End": True}},
    )
    with pytest.raises(
        ValidationError, match=r"state machine duel_invite: .* uses \$\{refund_player_function_arn\}"
    ):
        deployment.Deployment.model_validate(raw)


def test_an_asl_naming_an_undeclared_table_fails_at_load(tmp_path, monkeypatch):
    raw = _with_asl(
        tmp_path,
        monkeypatch,
        {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "${refunds_table}", "Item": {}},
                "End": True,
            }
        },
    )
    with pytest.raises(ValidationError, match=r"state machine duel_invite: .* uses \$\{refunds_table\}"):
        deployment.Deployment.model_validate(raw)


def test_a_new_placeholder_of_a_declared_resource_is_granted(tmp_path, monkeypatch):
    # Using another declared table in a write task grants readwrite on it, with nothing to declare.
    raw = _with_asl(
        tmp_path,
        monkeypatch,
        {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": "${users_table}", "Key": {}},
                "Next": "B",
            },
            "B": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "C",
                        "States": {
                            "C": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::aws-sdk:dynamodb:deleteItem",
                                "Parameters": {"TableName": "${sessions_table}", "Key": {}},
                                "End": True,
                            }
                        },
                    }
                ],
                "End": True,
            },
        },
    )
    grants = deployment.Deployment.model_validate(raw).resolved().state_machines["duel_invite"].grants
    assert grants.tables == {"users": "read", "sessions": "readwrite"}
    assert grants.functions == [] and grants.state_machines_start == []


def test_the_apply_fixture_loads():
    # Terraform applies it in tests/infra/test_apply_embedded.py; the loader must accept it too.
    fixture = deployment.REPO_ROOT / "infra" / "tests" / "fixtures" / "embedded_apply.deployment.json"
    resolved = deployment.load(fixture).resolved()
    assert resolved.functions["record_score"].handler == "tests.infra.apply_handlers.record_score"
    assert resolved.state_machines["record_flow"].grants.tables == {"scores": "read"}


def test_a_handler_is_any_dotted_path_but_not_a_bare_name():
    raw = _raw()
    first = next(iter(raw["functions"]))
    raw["functions"][first]["handler"] = "tools.devtools.populate.handler"
    deployment.Deployment.model_validate(raw)
    raw["functions"][first]["handler"] = "handler"
    with pytest.raises(ValidationError, match="handler"):
        deployment.Deployment.model_validate(raw)


# --- dataFiles: product data files validated against their JSON Schema at every load ----------


def _catalog_schema() -> dict:
    """A catalog schema as tools.schemas generates them from pydantic (a discriminated union of rules)."""
    from typing import Annotated, Literal

    from pydantic import BaseModel, Field

    class EventRule(BaseModel):
        kind: Literal["event"]
        event_type: str = Field(alias="eventType")

    class CountRule(BaseModel):
        kind: Literal["count"]
        count: int = Field(ge=1)

    class Reward(BaseModel):
        id: str = Field(pattern=r"^[a-z_]+$")
        rule: Annotated[EventRule | CountRule, Field(discriminator="kind")]

    class Catalog(BaseModel):
        rewards: list[Reward]

    return Catalog.model_json_schema(by_alias=True)


GOOD_CATALOG = {
    "rewards": [
        {"id": "first_objective", "rule": {"kind": "event", "eventType": "objective_completed"}},
        {"id": "objective_veteran", "rule": {"kind": "count", "count": 3}},
    ]
}


def _with_data_file(tmp_path, monkeypatch, catalog) -> Path:
    """A minimal description in a tmp checkout with one data file; returns the description."""
    monkeypatch.setattr("arcadeflow.deployment.REPO_ROOT", tmp_path)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "catalog.schema.json").write_text(json.dumps(_catalog_schema()))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "catalog.json").write_text(
        json.dumps(catalog) if not isinstance(catalog, str) else catalog
    )
    description = tmp_path / "deployment.json"
    description.write_text(
        json.dumps(
            {
                "name": "datafiles",
                "tables": {},
                "functions": {},
                "httpApi": {"routes": {}},
                "webSocketApi": {},
                "dataFiles": {"catalog": {"path": "data/catalog.json", "schema": "catalog.schema.json"}},
            }
        )
    )
    return description


def test_a_valid_data_file_is_resolved_with_its_path_and_sha256(tmp_path, monkeypatch):
    import hashlib

    description = _with_data_file(tmp_path, monkeypatch, GOOD_CATALOG)
    resolved = deployment.load(description).resolved()
    digest = hashlib.sha256((tmp_path / "data" / "catalog.json").read_bytes()).hexdigest()
    assert resolved.model_dump(by_alias=True)["dataFiles"] == {
        "catalog": {"path": "data/catalog.json", "schema": "catalog.schema.json", "sha256": digest}
    }


def test_a_bad_data_file_fails_the_load_naming_the_entry_the_element_and_the_field(tmp_path, monkeypatch):
    bad = json.loads(json.dumps(GOOD_CATALOG))
    bad["rewards"][1]["rule"]["count"] = 0
    description = _with_data_file(tmp_path, monkeypatch, bad)
    with pytest.raises(ValidationError) as refused:
        deployment.load(description)
    assert (
        'dataFiles.catalog (data/catalog.json): rewards[1] (id "objective_veteran"): rule.count:'
        " 0 is less than the minimum of 1"
    ) in str(refused.value)


def test_every_problem_of_a_data_file_is_named(tmp_path, monkeypatch):
    bad = {"rewards": [{"id": "Bad Id", "rule": {"kind": "event"}}, {"rule": {"kind": "count", "count": 2}}]}
    description = _with_data_file(tmp_path, monkeypatch, bad)
    with pytest.raises(ValidationError) as refused:
        deployment.load(description)
    message = str(refused.value)
    assert "rewards[0] (id \"Bad Id\"): id: 'Bad Id' does not match '^[a-z_]+$'" in message
    assert "rewards[0] (id \"Bad Id\"): rule: 'eventType' is a required property" in message
    assert "rewards[1]: 'id' is a required property" in message


def test_a_data_file_that_is_not_json_or_missing_is_refused(tmp_path, monkeypatch):
    description = _with_data_file(tmp_path, monkeypatch, "{not json")
    with pytest.raises(ValidationError, match=r"dataFiles.catalog \(data/catalog.json\): not JSON"):
        deployment.load(description)
    (tmp_path / "data" / "catalog.json").unlink()
    with pytest.raises(ValidationError, match=r"dataFiles.catalog \(data/catalog.json\): no such file"):
        deployment.load(description)


def test_the_commands_refuse_a_bad_data_file_and_write_nothing(tmp_path, monkeypatch, capsys):
    bad = {"rewards": [{"id": "x", "rule": {"kind": "count", "count": 0}}]}
    description = _with_data_file(tmp_path, monkeypatch, bad)
    output = tmp_path / "out.resolved.json"
    assert deployment.main([str(description), "--output", str(output)]) == 1
    assert 'rewards[0] (id "x"): rule.count: 0 is less than the minimum of 1' in capsys.readouterr().out
    assert not output.exists()
    assert deployment.main([str(description), "--check", "--output", str(output)]) == 1


def test_packaging_refuses_a_description_with_a_bad_data_file(tmp_path, monkeypatch, capsys):
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "infra" / "package_functions.py"
    spec = importlib.util.spec_from_file_location("package_functions_under_test", script)
    assert spec and spec.loader
    package_functions = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(package_functions)
    description = _with_data_file(
        tmp_path, monkeypatch, {"rewards": [{"id": "x", "rule": {"kind": "count"}}]}
    )
    load = deployment.load
    monkeypatch.setattr(deployment, "load", lambda: load(description))
    output = tmp_path / "functions.zip"
    assert package_functions.main(["--output", str(output)]) == 1
    assert "rewards[0] (id \"x\"): rule: 'count' is a required property" in capsys.readouterr().err
    assert not output.exists()
