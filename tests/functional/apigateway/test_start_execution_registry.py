"""Direct StartExecution routes between the deployer, the API Gateway v2 registry (moto,
in-process) and the HTTP emulator: each route's integration carries its own request parameters
(the emulator evaluates what the registry holds, never the description), and the OpenAPI
document describes what such a route answers."""

from __future__ import annotations

import json
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from arcadeflow.apigateway.http_api import routes_of
from arcadeflow.deployer import ACCOUNT_ID, create_http_api
from arcadeflow.deployment import REPO_ROOT, ResourceRefs, load
from arcadeflow.openapi import build_openapi

REGION = "us-east-1"
FIXTURE = REPO_ROOT / "tests" / "e2e" / "fixtures" / "start_execution_routes.deployment.json"
MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:startroutes-hold-then-echo"


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield SimpleNamespace(region=REGION, client=lambda service: boto3.client(service, region_name=REGION))


def test_each_mapping_gets_its_integration_and_the_emulator_reads_it_from_the_registry(registry) -> None:
    resolved = load(FIXTURE).resolved()
    api_id = create_http_api(
        resolved, registry, ResourceRefs(state_machine_arns={"hold_then_echo": MACHINE_ARN})
    )

    from moto.apigatewayv2.models import apigatewayv2_backends

    api = apigatewayv2_backends[ACCOUNT_ID][REGION].apis[api_id]
    served = {route.key: route.start_execution for route in routes_of(api)}
    assert served["POST /games/{gameId}/end"] == {
        "StateMachineArn": MACHINE_ARN,
        "Name": "${request.path.gameId}_${context.authorizer.claims.sub}",
        "Input": resolved.http_api.routes["POST /games/{gameId}/end"].request_parameters["Input"],
    }
    assert served["POST /games/{gameId}/replay"] == {
        "StateMachineArn": MACHINE_ARN,
        "Name": "replay-${request.path.gameId}",
        "Input": "$request.body",  # the default, kept beside a mapped Name
    }
    assert served["POST /flows"] == {"StateMachineArn": MACHINE_ARN, "Input": "$request.body"}
    # Three mappings of one machine: three integrations, as Terraform makes one per route.
    targets = {route.route_key: route.target for route in api.routes.values()}
    assert len(set(targets.values())) == 3


def test_two_routes_with_one_mapping_share_an_integration(registry, tmp_path) -> None:
    raw = json.loads(FIXTURE.read_text())
    routes = raw["httpApi"]["routes"]
    routes["POST /flows/{gameId}/replay"] = dict(routes["POST /games/{gameId}/replay"])
    description = tmp_path / "shared.deployment.json"
    description.write_text(json.dumps(raw))
    resolved = load(description).resolved()
    api_id = create_http_api(
        resolved, registry, ResourceRefs(state_machine_arns={"hold_then_echo": MACHINE_ARN})
    )
    apigw = registry.client("apigatewayv2")
    targets = {r["RouteKey"]: r["Target"] for r in apigw.get_routes(ApiId=api_id)["Items"]}
    assert targets["POST /flows/{gameId}/replay"] == targets["POST /games/{gameId}/replay"]
    assert targets["POST /games/{gameId}/end"] != targets["POST /games/{gameId}/replay"]


def test_openapi_documents_a_start_route_its_path_parameter_and_both_answers() -> None:
    document = build_openapi(load(FIXTURE), server_url="http://127.0.0.1:1")
    operation = document["paths"]["/games/{gameId}/end"]["post"]
    assert operation["parameters"] == [
        # An empty segment matches no route, so a path parameter is never empty.
        {"name": "gameId", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
    ]
    answers = operation["responses"]
    assert answers["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/http_start_execution"
    }
    assert answers["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/http_aws_error"
    }
    assert document["components"]["schemas"]["http_start_execution"]["required"] == [
        "executionArn",
        "startDate",
    ]
    assert document["components"]["schemas"]["http_aws_error"]["required"] == ["__type", "message"]
    integration = operation["x-amazon-apigateway-integration"]
    assert integration["integrationSubtype"] == "StepFunctions-StartExecution"
    assert (
        integration["requestParameters"]["Name"] == "${request.path.gameId}_${context.authorizer.claims.sub}"
    )


def test_the_emulator_maps_stage_variables_headers_queries_trace_header_and_region(
    registry, tmp_path
) -> None:
    """The emulator evaluates the integration as the registry holds it: here one changed after
    deployment (a stage variable, a TraceHeader, a Region), which the description never said."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from arcadeflow.apigateway.http_api import HttpApiEmulator
    from arcadeflow.auth import LocalIssuer

    sfn = registry.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="startroutes-hold-then-echo",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/x",
    )["stateMachineArn"]
    d = load(FIXTURE)
    api_id = create_http_api(
        d.resolved(), registry, ResourceRefs(state_machine_arns={"hold_then_echo": machine})
    )
    apigw = registry.client("apigatewayv2")
    apigw.delete_stage(ApiId=api_id, StageName="$default")
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True, StageVariables={"env": "staging"})
    route = next(r for r in apigw.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "POST /flows")
    apigw.update_integration(
        ApiId=api_id,
        IntegrationId=route["Target"].removeprefix("integrations/"),
        RequestParameters={
            "StateMachineArn": machine,
            "Name": "${stageVariables.env}-${request.querystring.n}",
            "Input": '{"env":"$stageVariables.env","who":"${context.authorizer.claims.sub}",'
            '"via":"$request.header.x-via","route":"$context.routeKey","body":$request.body}',
            "TraceHeader": "Root=1-${request.querystring.n}",
            "Region": REGION,
        },
    )
    issuer = LocalIssuer(tmp_path)
    aws = SimpleNamespace(region=REGION, client=registry.client, endpoint_url=None, runner=None)
    emulator = HttpApiEmulator(d, aws, issuer, port=0)
    emulator.ready.set()
    environ = EnvironBuilder(
        method="POST",
        path="/flows",
        query_string="n=7",
        data=json.dumps({"hold": 0}),
        headers={"Authorization": f"Bearer {issuer.mint('alice', 'Alice')}", "X-Via": "test"},
    ).get_environ()
    answer = emulator.handle(Request(environ))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    started = json.loads(answer.get_data())
    assert started["executionArn"].endswith(":startroutes-hold-then-echo:staging-7")
    described = sfn.describe_execution(executionArn=started["executionArn"])
    assert json.loads(described["input"]) == {
        "env": "staging",
        "who": "alice",
        "via": "test",
        "route": "POST /flows",
        "body": {"hold": 0},
    }
