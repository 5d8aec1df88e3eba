"""CORS between the deployer, the API Gateway v2 registry (moto, in-process) and the HTTP
emulator: the emulator serves the CorsConfiguration the registry holds (whoever set it, the
deployer or UpdateApi), answers preflights itself without a route, an authorizer or a function,
and puts the headers on every answer of the API, errors included.

Developer guide, "Configure CORS for HTTP APIs in API Gateway"."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from werkzeug.test import Client

from arcadeflow.apigateway.http_api import HttpApiEmulator
from arcadeflow.auth import LocalIssuer
from arcadeflow.aws.lambda_runner import InvocationResult
from arcadeflow.deployer import ACCOUNT_ID, create_http_api
from arcadeflow.deployment import ResourceRefs, load

REGION = "us-east-1"
GAME = "http://localhost:5173"
PAGES = "http://127.0.0.1:8000"


class RecordingRunner:
    """Stands in for the Lambda runner: records what API Gateway invoked, answers as told."""

    def __init__(self) -> None:
        self.invoked: list[str] = []
        self.answer = InvocationResult(payload=json.dumps({"statusCode": 200, "body": "{}"}).encode())

    def invoke(self, function_arn: str, payload: bytes) -> InvocationResult:
        self.invoked.append(function_arn)
        return self.answer


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def _serve(tmp_path: Path, cors_origins: list[str]) -> SimpleNamespace:
    """An HTTP emulator over the description's HTTP API, as the deployer creates it."""
    deployment = load()
    resolved = deployment.resolved()
    runner = RecordingRunner()
    aws = SimpleNamespace(
        region=REGION, client=lambda service: boto3.client(service, region_name=REGION), runner=runner
    )
    refs = ResourceRefs(
        function_arns={f: f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{f}" for f in resolved.functions},
        state_machine_arns={
            m: f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{m}" for m in resolved.state_machines
        },
    )
    api_id = create_http_api(resolved, aws, refs, cors_origins=cors_origins)
    issuer = LocalIssuer(tmp_path)
    emulator = HttpApiEmulator(deployment, aws, issuer, port=0)
    emulator.ready.set()
    return SimpleNamespace(
        client=Client(emulator._wsgi),
        runner=runner,
        api_id=api_id,
        apigw=aws.client("apigatewayv2"),
        token=issuer.mint("alice", "Alice"),
    )


@pytest.fixture
def served(registry, tmp_path) -> SimpleNamespace:
    """Two allowed origins: the local pages' and a game's front end on another port."""
    return _serve(tmp_path, [PAGES, GAME])


def _preflight(client: Client, path: str, origin: str = GAME, method: str = "POST") -> Any:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


def test_the_deployer_stores_the_description_cors_configuration(served) -> None:
    """What Terraform's cors_configuration makes of the same description (infra/modules/http_api)."""
    stored = served.apigw.get_api(ApiId=served.api_id)["CorsConfiguration"]
    assert stored["AllowOrigins"] == [PAGES, GAME]
    assert stored["AllowHeaders"] == ["authorization", "content-type"]
    assert stored["MaxAge"] == 300
    assert stored["AllowCredentials"] is False
    assert set(stored["AllowMethods"]) == {"GET", "POST", "PUT", "DELETE"}


def test_preflight_is_answered_without_a_route_authorizer_or_function(served) -> None:
    """ "API Gateway automatically sends a response to preflight OPTIONS requests, even if there
    isn't an OPTIONS route": no token is sent, the route needs one, and no function runs."""
    response = _preflight(served.client, "/scores")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == GAME
    assert response.headers["Access-Control-Allow-Headers"] == "authorization,content-type"
    assert "POST" in response.headers["Access-Control-Allow-Methods"].split(",")
    assert response.headers["Access-Control-Max-Age"] == "300"
    assert served.runner.invoked == []


def test_preflight_to_a_path_no_route_serves_is_answered_too(served) -> None:
    """ "whatever routes exist": the gateway answers before routing."""
    response = _preflight(served.client, "/no/such/route")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == GAME


def test_preflight_from_an_origin_not_allowed_carries_no_cors_headers(served) -> None:
    response = _preflight(served.client, "/scores", origin="http://localhost:9999")
    assert response.status_code == 204
    assert not [h for h, _ in response.headers.items() if h.lower().startswith("access-control-")]
    assert served.runner.invoked == []


def test_the_functions_answer_carries_the_headers_and_not_its_own(served) -> None:
    served.runner.answer = InvocationResult(
        payload=json.dumps(
            {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*"}, "body": '{"ok": true}'}
        ).encode()
    )
    response = served.client.get(
        "/users/bob", headers={"Origin": GAME, "Authorization": f"Bearer {served.token}"}
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == GAME
    assert response.headers.getlist("Access-Control-Allow-Origin") == [GAME]
    assert "Origin" in response.headers["Vary"]
    assert len(served.runner.invoked) == 1


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/users/bob", {}, 401),  # the JWT authorizer refuses: no token
        ("GET", "/no/such/route", {}, 404),
        ("PATCH", "/scores", {}, 404),  # a method no route serves
    ],
)
def test_api_gateways_own_errors_carry_the_headers(served, method, path, headers, status) -> None:
    """A browser reads an error's status and body only if the answer carries Allow-Origin."""
    response = served.client.open(path, method=method, headers={"Origin": GAME, **headers})
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == GAME
    assert served.runner.invoked == []


def test_a_failing_function_answers_500_with_the_headers(served) -> None:
    served.runner.answer = InvocationResult(payload=b'{"errorMessage": "boom"}', function_error="Unhandled")
    response = served.client.get(
        "/users/bob", headers={"Origin": GAME, "Authorization": f"Bearer {served.token}"}
    )
    assert response.status_code == 500
    assert response.json == {"message": "Internal Server Error"}
    assert response.headers["Access-Control-Allow-Origin"] == GAME


def test_update_api_changes_what_is_served_and_delete_removes_it(served) -> None:
    """API reference, UpdateApi and DeleteCorsConfiguration: the emulator reads the registry on
    every request, as a Terraform change of cors_allowed_origins takes effect on AWS."""
    served.apigw.update_api(
        ApiId=served.api_id,
        CorsConfiguration={"AllowOrigins": ["https://other.example"], "AllowMethods": ["GET"]},
    )
    assert "Access-Control-Allow-Origin" not in _preflight(served.client, "/scores").headers
    other = _preflight(served.client, "/scores", origin="https://other.example", method="GET")
    assert other.headers["Access-Control-Allow-Origin"] == "https://other.example"
    assert other.headers["Access-Control-Allow-Methods"] == "GET"

    served.apigw.delete_cors_configuration(ApiId=served.api_id)
    # No configuration: OPTIONS is routed like any method, and no route serves it.
    response = _preflight(served.client, "/scores", origin="https://other.example")
    assert response.status_code == 404
    assert "Access-Control-Allow-Origin" not in response.headers


def test_without_origins_the_api_has_no_cors_configuration_and_backend_headers_pass(
    registry, tmp_path
) -> None:
    """Terraform's default cors_allowed_origins = [] creates no cors_configuration; then what the
    function answers is the answer, its own CORS headers included."""
    bare = _serve(tmp_path, [])
    assert "CorsConfiguration" not in bare.apigw.get_api(ApiId=bare.api_id)
    assert _preflight(bare.client, "/scores").status_code == 404
    bare.runner.answer = InvocationResult(
        payload=json.dumps({"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*"}}).encode()
    )
    answer = bare.client.get("/users/bob", headers={"Origin": GAME, "Authorization": f"Bearer {bare.token}"})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-amazon-apigateway-cors" not in bare.client.get("/openapi.json").json


def test_the_runtimes_own_paths_are_never_opened_to_other_origins(served) -> None:
    """/local/token mints tokens: a preflight from an allowed origin must still not approve it
    (the CORS configuration is the API's, not the local runtime's)."""
    response = _preflight(served.client, "/local/token", origin=GAME)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.status_code == 405


def test_openapi_document_describes_the_served_cors_configuration(served) -> None:
    """x-amazon-apigateway-cors, API Gateway's OpenAPI extension for an HTTP API's CORS; no
    OPTIONS operations (no route serves them)."""
    document = served.client.get("/openapi.json").json
    assert document["x-amazon-apigateway-cors"]["allowOrigins"] == [PAGES, GAME]
    assert document["x-amazon-apigateway-cors"]["allowHeaders"] == ["authorization", "content-type"]
    assert not any("options" in operations for operations in document["paths"].values())
