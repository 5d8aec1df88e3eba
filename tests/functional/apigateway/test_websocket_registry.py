"""The WebSocket emulator's reading of the API Gateway v2 registry (moto, in-process).

The deployer creates the WebSocket API there as Terraform does; the emulator serves whatever API
is there. Here both halves meet without a running stack: what the deployer wrote is what the
emulator reads (routes -> function ARNs, the $connect authorizer and its identity sources, stage).
"""

from __future__ import annotations

from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from arcadeflow.apigateway.websocket_api import WebSocketApiEmulator
from arcadeflow.deployer import ACCOUNT_ID, create_websocket_api
from arcadeflow.deployment import ResourceRefs, load

REGION = "us-east-1"


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield SimpleNamespace(region=REGION, client=lambda service: boto3.client(service, region_name=REGION))


def _function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


def test_the_emulator_serves_what_the_deployer_created(registry) -> None:
    resolved = load().resolved()
    refs = ResourceRefs(function_arns={f: _function_arn(fn.name) for f, fn in resolved.functions.items()})
    api_id = create_websocket_api(resolved, registry, refs)

    emulator = WebSocketApiEmulator(load(), registry, port=0)
    served = emulator.current_api()
    assert served is not None and served.api_id == api_id
    assert served.stages == frozenset({"local"})
    assert served.selection_path == ["action"]
    expected = {
        key: _function_arn(resolved.functions[route.function].name)
        for key, route in resolved.web_socket_api.routes.items()
    }
    assert served.routes == expected
    assert served.authorizer is not None
    assert served.authorizer.function_arn == _function_arn("arcadeflow-ws-authorizer")
    assert served.authorizer.identity_source == ["route.request.querystring.token"]
    # Route selection follows the registry's routes: a known action, else $default.
    assert emulator.select_route(served, '{"action": "invite", "to": "bob"}') == "invite"
    assert emulator.select_route(served, '{"action": "$connect"}') == "$default"
    assert emulator.select_route(served, '{"action": "dance"}') == "$default"


def test_an_api_created_by_someone_else_is_served_too(registry) -> None:
    # As `terraform apply` would: another name, its own stage, an invoke-ARN integration, and
    # no authorizer (anyone may connect, as on AWS).
    apigw = registry.client("apigatewayv2")
    api_id = apigw.create_api(
        Name="tfapply-websocket", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.kind"
    )["ApiId"]
    target = apigw.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{_function_arn('tfapply-echo')}/invocations",
    )["IntegrationId"]
    apigw.create_route(ApiId=api_id, RouteKey="echo", Target=f"integrations/{target}")
    apigw.create_stage(ApiId=api_id, StageName="test")

    served = WebSocketApiEmulator(load(), registry, port=0).current_api()
    assert served is not None
    assert served.routes == {"echo": _function_arn("tfapply-echo")}
    assert served.authorizer is None and served.stages == frozenset({"test"})
    assert WebSocketApiEmulator.select_route(served, '{"kind": "echo"}') == "echo"


def test_no_websocket_api_means_nothing_to_serve(registry) -> None:
    registry.client("apigatewayv2").create_api(Name="arcadeflow-http", ProtocolType="HTTP")
    assert WebSocketApiEmulator(load(), registry, port=0).current_api() is None
