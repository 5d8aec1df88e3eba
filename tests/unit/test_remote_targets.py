"""`arcadeflow deploy` to another engine, and the e2e targets' table of what each engine lacks."""

from __future__ import annotations

import ast
import json
import urllib.request
from pathlib import Path

import jwt
import pytest

from arcadeflow.auth import AUDIENCE, JWKS_PATH
from arcadeflow.cli import main
from arcadeflow.remote import OPENID_CONFIGURATION_PATH, JwksServer, RemoteAws, execute_api_urls
from tests.support.targets import MISSING, TARGETS

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_execute_api_urls_use_the_path_form_locally_and_the_api_host_on_aws():
    local = RemoteAws("http://127.0.0.1:4599", "us-east-1")
    assert execute_api_urls("ministack", local, "ab12cd34", "$default") == (
        "http://127.0.0.1:4599/_aws/execute-api/ab12cd34",
        "ws://127.0.0.1:4599/_aws/execute-api/ab12cd34",
    )
    assert execute_api_urls("ministack", local, "ab12cd34", "live")[1].endswith("/ab12cd34/live")
    aws = RemoteAws(None, "eu-west-1", "prod")
    assert execute_api_urls("aws", aws, "ab12cd34", "live") == (
        "https://ab12cd34.execute-api.eu-west-1.amazonaws.com/live",
        "wss://ab12cd34.execute-api.eu-west-1.amazonaws.com/live",
    )


def test_deploy_to_aws_without_an_issuer_points_to_terraform_and_deploys_nothing(tmp_path, capsys):
    assert main(["deploy", "--target", "aws", "--profile", "nobody", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--jwt-issuer" in err and "terraform apply" in err
    assert not (tmp_path / "endpoints.json").exists()


def test_destroy_refuses_the_outputs_of_a_running_arcadeflow_up(tmp_path, capsys):
    (tmp_path / "endpoints.json").write_text(json.dumps({"http": "http://127.0.0.1:8000"}))
    assert main(["destroy", "--state-dir", str(tmp_path)]) == 2
    assert "stop it instead" in capsys.readouterr().err
    assert (tmp_path / "endpoints.json").exists()


def test_the_jwks_server_publishes_the_key_that_verifies_tokens_naming_its_url(tmp_path):
    server = JwksServer(tmp_path, port=0).start()
    try:
        token = server.issuer.mint("ann", "Ann")
        with urllib.request.urlopen(server.url + OPENID_CONFIGURATION_PATH, timeout=5) as answer:
            discovery = json.loads(answer.read())
        assert discovery == {"issuer": server.url, "jwks_uri": server.url + JWKS_PATH}
        key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token).key
        claims = jwt.decode(token, key, algorithms=["RS256"], audience=AUDIENCE, issuer=server.url)
        assert claims["sub"] == "ann"
    finally:
        server.stop()


def test_arcadeflow_token_signs_for_the_issuer_a_deployment_recorded(tmp_path, capsys):
    (tmp_path / "endpoints.json").write_text(
        json.dumps({"target": "ministack", "jwtIssuer": "http://127.0.0.1:9"})
    )
    assert main(["token", "ann", "--state-dir", str(tmp_path)]) == 0
    token = capsys.readouterr().out.strip()
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == "http://127.0.0.1:9"


def _needed_capabilities() -> set[str]:
    """Every capability a test of the e2e and flows tiers names in needs(...)."""
    names = set()
    for path in [*REPO_ROOT.glob("tests/e2e/*.py"), *REPO_ROOT.glob("tests/flows/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "needs"
            ):
                names.update(arg.value for arg in node.args if isinstance(arg, ast.Constant))
    return names


@pytest.mark.parametrize("target", [t for t in TARGETS if t != "embedded"])
def test_every_capability_a_test_needs_is_known_to_every_target(target):
    # A misspelt capability would never be missing anywhere, so its test would run (and fail
    # obscurely) where it cannot pass; every name must be one the table decides on.
    known = set().union(*(set(missing) for missing in MISSING.values()))
    assert _needed_capabilities() <= known
    assert set(MISSING["embedded"]) == set()
    assert {"embedded_runtime", "fault_switch", "local_routes"} <= set(MISSING[target])
