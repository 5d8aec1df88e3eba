"""The arcadeflow CLI knows no product: `up`'s function flags come from the description's
settings, the product's commands from entry points, state machine names from the description."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest
from pydantic import ValidationError

from arcadeflow import deployment
from arcadeflow.cli import build_parser, cmd_up
from arcadeflow.commands import CommandError
from arcadeflow.commands.executions import resolve_state_machine
from tests.support.stack import REPO_ROOT


def _raw() -> dict:
    return json.loads(deployment.DEFAULT_DESCRIPTION.read_text())


def _up(*argv: str):
    return build_parser().parse_args(["up", *argv])


def test_each_setting_of_the_description_is_a_flag_of_up_that_overrides_its_variable():
    args = _up("--invite-timeout", "3", "--session-duration", "2", "--presence-ttl", "5")
    assert args.environment_overrides == {
        "INVITE_TIMEOUT_SECONDS": "3",
        "SESSION_DURATION_SECONDS": "2",
        "PRESENCE_TTL_SECONDS": "5",
    }
    assert _up("--feed-write-budget", "200").environment_overrides == {"FEED_WRITE_BUDGET_WCU": "200"}
    assert _up().environment_overrides == {}


def test_set_overrides_any_variable_a_function_declares_and_checks_a_settings_type():
    args = _up("--set", "FANOUT_CONCURRENCY=2", "--set", "INVITE_TIMEOUT_SECONDS=7")
    assert args.environment_overrides == {"FANOUT_CONCURRENCY": "2", "INVITE_TIMEOUT_SECONDS": "7"}
    # The later of a setting's flag and --set wins, as with any repeated option.
    assert _up("--invite-timeout", "3", "--set", "INVITE_TIMEOUT_SECONDS=9").environment_overrides == {
        "INVITE_TIMEOUT_SECONDS": "9"
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "NO_SUCH_VARIABLE=1"], "no function declares NO_SUCH_VARIABLE"),
        (["--set", "USERS_TABLE=x"], "no function declares USERS_TABLE"),  # derived, not settable
        (["--set", "INVITE_TIMEOUT_SECONDS"], "expected VARIABLE=VALUE"),
        (["--set", "INVITE_TIMEOUT_SECONDS=soon"], "INVITE_TIMEOUT_SECONDS: expected an integer, got 'soon'"),
        (["--invite-timeout", "0"], "argument --invite-timeout: must be at least 1, got 0"),
    ],
)
def test_up_refuses_an_unknown_variable_or_a_bad_value_with_a_clear_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        _up(*argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_up_help_lists_the_settings_with_their_defaults_from_the_functions_environment(capsys):
    with pytest.raises(SystemExit):
        _up("--help")
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--invite-timeout POSITIVE_INT seconds an invitee has to answer a duel invite" in help_text
    assert "(sets INVITE_TIMEOUT_SECONDS; default 60)" in help_text
    assert "(sets SESSION_DURATION_SECONDS; default 600)" in help_text


def test_a_setting_clashing_with_an_option_of_up_fails_up_only(monkeypatch):
    raw = _raw()
    raw["settings"]["http-port"] = {"variable": "INVITE_TIMEOUT_SECONDS", "type": "positive_int"}
    del raw["settings"]["invite-timeout"]
    clashing = deployment.Deployment.model_validate(raw)
    monkeypatch.setattr(deployment, "load", lambda *_: clashing)
    assert build_parser().parse_args(["token", "alice"]).user_id == "alice"
    with pytest.raises(CommandError, match="setting http-port: --http-port is an option of up itself"):
        cmd_up(_up())


def test_a_setting_must_override_a_variable_some_function_declares():
    raw = _raw()
    raw["settings"]["ghost"] = {"variable": "GHOST_SECONDS", "type": "positive_int"}
    with pytest.raises(ValidationError, match="setting ghost: no function declares GHOST_SECONDS"):
        deployment.Deployment.model_validate(raw)


def test_a_settings_default_must_be_of_its_type():
    raw = _raw()
    raw["functions"]["ws_actions"]["environment"]["INVITE_TIMEOUT_SECONDS"] = "a minute"
    with pytest.raises(ValidationError, match="setting invite-timeout: function ws_actions's default"):
        deployment.Deployment.model_validate(raw)


def test_two_settings_may_not_set_the_same_variable():
    raw = _raw()
    raw["settings"]["answer-window"] = {"variable": "INVITE_TIMEOUT_SECONDS"}
    with pytest.raises(ValidationError, match="both set INVITE_TIMEOUT_SECONDS"):
        deployment.Deployment.model_validate(raw)


def test_the_product_commands_come_from_entry_points():
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert {"demo", "populate", "redrive-fanout"} <= set(commands)
    populate = commands["populate"].parse_args(["--users", "5", "--state-dir", "/tmp/s"])
    assert (populate.users, populate.celebrity, str(populate.state_dir)) == (5, "testUser1", "/tmp/s")


def test_building_the_parser_imports_no_product_code():
    probe = (
        "import sys; from arcadeflow.cli import build_parser, cmd_up; build_parser(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'functions' or m.startswith('tools.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    # tools.commands only registers subparsers; what a command runs is imported when it runs.
    assert out.stdout.strip() == "['tools.commands']"


class _StateMachines:
    def __init__(self, *names: str):
        self.names = names

    def list_state_machines(self):
        return {
            "stateMachines": [
                {"name": n, "stateMachineArn": f"arn:aws:states:us-east-1:1:stateMachine:{n}"}
                for n in self.names
            ]
        }


def test_a_flow_name_resolves_to_its_machine_through_the_descriptions_name(tmp_path):
    raw = _raw()
    raw["name"] = "mygame"
    (tmp_path / "deployment.json").write_text(json.dumps(raw))
    sfn = _StateMachines("mygame-duel-invite", "arcadeflow-duel-session")
    arn = resolve_state_machine(sfn, "duel_invite", tmp_path / "deployment.json")
    assert arn.endswith(":stateMachine:mygame-duel-invite")
    # Another deployment's name is not this one's machine; the exact physical name still is.
    with pytest.raises(CommandError, match="no state machine named 'duel_session'"):
        resolve_state_machine(sfn, "duel_session", tmp_path / "deployment.json")
    assert resolve_state_machine(sfn, "arcadeflow-duel-session").endswith("arcadeflow-duel-session")
    assert resolve_state_machine(sfn, "duel_session").endswith("arcadeflow-duel-session")
