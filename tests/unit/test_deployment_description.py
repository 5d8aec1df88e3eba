"""The deployment description loads, and rejects what would deploy something broken."""

from __future__ import annotations

import json

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
