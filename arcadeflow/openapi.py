"""The OpenAPI 3.1 document of the HTTP API, built from the deployment description.

It knows no product: each route's request body and answers are the JSON Schema files under
schemas/ that the description names (`requestSchema`, and `responses`: status -> file, null for
no body). A response schema is put once under components.schemas, named after its file, and
referenced from every answer that uses it. The definitions a schema file carries ($defs) move
to components.schemas too, so every $ref resolves against this document, as OpenAPI tools
resolve them; two files defining the same name differently is an error here, not a wrong doc.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from arcadeflow.deployment import REPO_ROOT, Deployment, HttpRoute

SCHEMA_SUFFIX = ".schema.json"
# What API Gateway's StepFunctions-StartExecution integration answers (Step Functions' own
# answer, passed through): generic, so a startExecution route that declares no responses is
# documented with these (tools/schemas.py writes their files).
ERROR_FILE = "http_error.schema.json"
GATEWAY_MESSAGE_FILE = "http_gateway_message.schema.json"
START_EXECUTION_RESPONSES = {
    "200": "http_start_execution.schema.json",
    "400": "http_aws_error.schema.json",
}


class StartExecutionAnswer(BaseModel):
    """The execution a startExecution route started (or, for a repeated name and input while it
    runs, the running one)."""

    model_config = ConfigDict(extra="forbid")

    execution_arn: str = Field(alias="executionArn", description="its status: DescribeExecution")
    start_date: float = Field(
        alias="startDate", description="seconds since the epoch, as Step Functions answers"
    )


class AwsErrorAnswer(BaseModel):
    """Step Functions refused the start, e.g. ExecutionAlreadyExists (the name was used by an
    execution that has closed, or runs with another input), InvalidName, InvalidExecutionInput."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(alias="__type", description="the Step Functions error code")
    message: str


class GatewayMessage(BaseModel):
    """What API Gateway answers itself, before or instead of the route's target: {"message":
    "Unauthorized"} (401), "Request Entity Too Large" (413), "Too Many Requests" (429),
    "Internal Server Error" (500), "Service Unavailable" (503)."""

    model_config = ConfigDict(extra="forbid")

    message: str


def _read_schema(file_name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((REPO_ROOT / "schemas" / file_name).read_text())
    return schema


def _embedded(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """`schema` as it sits in the document: its $defs hoisted into `components`, its refs to them
    rewritten, and no $id or $schema (an $id would make its refs resolve against the file)."""
    for name, definition in schema.get("$defs", {}).items():
        hoisted = _embedded(definition, components)
        if components.setdefault(name, hoisted) != hoisted:
            raise ValueError(f"two schema files define {name!r} differently; rename one of the models")
    return _rewrite_refs({k: v for k, v in schema.items() if k not in ("$defs", "$id", "$schema")})


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {key: _rewrite_refs(value) for key, value in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
        return out
    if isinstance(node, list):
        return [_rewrite_refs(value) for value in node]
    return node


def _component_name(file_name: str) -> str:
    return file_name.removesuffix(SCHEMA_SUFFIX)


def _describe(status: str, schema: dict[str, Any] | None) -> str:
    if status.isdigit():
        return HTTPStatus(int(status)).phrase
    if schema and schema.get("description"):
        return str(schema["description"]).strip().splitlines()[0]
    return 'JSON; errors are {"error": {"code", "message"}}' if status == "default" else status


def _reference(file_name: str, components: dict[str, Any]) -> dict[str, Any]:
    name = _component_name(file_name)
    if name not in components:
        components[name] = _embedded(_read_schema(file_name), components)
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(status: str, files: list[str | None], components: dict[str, Any]) -> dict[str, Any]:
    """One documented answer: no body, one schema, or any of several (who answered decides)."""
    bodies = [f for f in files if f is not None]
    if not bodies:
        return {"description": _describe(status, None)}
    refs = [_reference(f, components) for f in dict.fromkeys(bodies)]
    schema = refs[0] if len(refs) == 1 else {"anyOf": refs}
    first = components[_component_name(bodies[0])]
    return {
        "description": _describe(status, first if len(refs) == 1 else None),
        "content": {"application/json": {"schema": schema}},
    }


def _error_answers(route: HttpRoute, error_file: str) -> dict[str, list[str | None]]:
    """Status -> possible bodies of every refusal `route` can answer, besides those it declares.

    API Gateway answers some itself ({"message": ...}): 401 from the JWT authorizer, 413 past its
    10 MB payload limit, 429 when it throttles, 500 when the function fails, 503 when it cannot
    reach it. A function answers in the API's error shape: 400 for a request it refuses, 404
    for what is not there, 413 past a route's own body limit, 500 for its own failure.
    """
    errors: dict[str, list[str | None]] = {
        "413": [GATEWAY_MESSAGE_FILE],
        "429": [GATEWAY_MESSAGE_FILE],
        "500": [GATEWAY_MESSAGE_FILE],
        "503": [GATEWAY_MESSAGE_FILE],
    }
    if route.auth:
        errors["401"] = [GATEWAY_MESSAGE_FILE]
    if route.start_execution:
        # Step Functions' refusals, passed on: ExecutionAlreadyExists, InvalidName, ...
        errors["400"] = [error_file]
        errors["500"].append(error_file)
        return errors
    errors["400"] = [error_file]
    errors["404"] = [error_file]
    errors["500"].append(error_file)
    if route.auth:
        errors["401"].append(error_file)
    if route.request_schema:
        errors["413"].append(error_file)
    return errors


def _responses(route: HttpRoute, components: dict[str, Any]) -> dict[str, Any]:
    declared = {**START_EXECUTION_RESPONSES, **route.responses} if route.start_execution else route.responses
    if not declared:
        return {"default": {"description": _describe("default", None), "content": {"application/json": {}}}}
    error_file = declared.get("default") or (
        START_EXECUTION_RESPONSES["400"] if route.start_execution else ERROR_FILE
    )
    answers: dict[str, list[str | None]] = {
        status: [file_name] for status, file_name in declared.items() if status != "default"
    }
    for status, files in _error_answers(route, error_file).items():
        answers[status] = [*answers.get(status, []), *files] if status in answers else files
    return {
        status: _answer(status, files, components)
        for status, files in sorted(answers.items(), key=lambda item: item[0])
    }


def _query_parameters(file_name: str, components: dict[str, Any]) -> list[dict[str, Any]]:
    """The query schema's properties as parameters. A query string carries no null: an
    optional value is one left out, so `X | None` is documented as X."""
    schema = _embedded(_read_schema(file_name), components)
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        options = [o for o in prop.pop("anyOf", []) if o != {"type": "null"}]
        if len(options) == 1:
            prop |= options[0]
        elif options:
            prop["anyOf"] = options
        if prop.get("default", "") is None:
            del prop["default"]
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            parameter["description"] = prop["description"]
        out.append(parameter)
    return out


def cors_extension(deployment: Deployment, origins: list[str]) -> dict[str, Any]:
    """API Gateway's x-amazon-apigateway-cors for an HTTP API (what importing this document
    would configure): the description's CORS configuration with these origins."""
    # The same fields as CreateApi's CorsConfiguration, spelt in camelCase.
    configuration = deployment.http_cors().cors_configuration(origins)
    return {key[0].lower() + key[1:]: value for key, value in configuration.items()}


def build_openapi(
    deployment: Deployment, server_url: str, cors_origins: list[str] | None = None
) -> dict[str, Any]:
    """`cors_origins`: the origins the served API allows (its CORS configuration is described
    only when it has one)."""
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {}
    for route_key, route in deployment.http_api.routes.items():
        method, path = route_key.split(" ", 1)
        operation: dict[str, Any] = {
            "operationId": re.sub(r"[^A-Za-z0-9]+", "_", route_key).strip("_"),
            "summary": route.summary
            or (deployment.functions[route.function].description if route.function else "")
            or route_key,
            "responses": _responses(route, components),
        }
        params = re.findall(r"\{([^}+]+)\+?\}", path)
        parameters = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            for p in params
        ]
        if route.query_schema:
            parameters += _query_parameters(route.query_schema, components)
        for header, header_schema in route.request_headers.items():
            described = (
                {"description": header_schema["description"]} if "description" in header_schema else {}
            )
            schema_only = {k: v for k, v in header_schema.items() if k != "description"}
            parameters.append(
                {"name": header, "in": "header", "required": False, "schema": schema_only, **described}
            )
        if parameters:
            operation["parameters"] = parameters
        if route.auth:
            operation["security"] = [{"bearerAuth": []}]
        if route.request_schema:
            schema = _embedded(_read_schema(route.request_schema), components)
            operation["requestBody"] = {
                "required": route.request_body_required,
                "content": {"application/json": {"schema": schema}},
            }
        if route.start_execution:
            operation["x-amazon-apigateway-integration"] = {
                "type": "aws_proxy",
                "integrationSubtype": "StepFunctions-StartExecution",
                "stateMachine": deployment.physical_name(route.start_execution),
                "requestParameters": {"Input": "$request.body", **route.request_parameters},
            }
        paths.setdefault(path, {})[method.lower()] = operation
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": f"{deployment.name} HTTP API", "version": "1"},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
    if cors_origins:
        # An extension, not OPTIONS operations: API Gateway answers preflights itself, no route
        # serves them, and a fuzzer must not take them for operations of the API.
        document["x-amazon-apigateway-cors"] = cors_extension(deployment, cors_origins)
    return document
