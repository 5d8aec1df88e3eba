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

from arcadeflow.deployment import REPO_ROOT, Deployment

SCHEMA_SUFFIX = ".schema.json"
# What API Gateway's StepFunctions-StartExecution integration answers (Step Functions' own
# answer, passed through): generic, so a startExecution route that declares no responses is
# documented with these (tools/schemas.py writes their files).
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


def _responses(declared: dict[str, str | None], components: dict[str, Any]) -> dict[str, Any]:
    if not declared:
        return {"default": {"description": _describe("default", None), "content": {"application/json": {}}}}
    out: dict[str, Any] = {}
    for status, file_name in declared.items():
        if file_name is None:
            out[status] = {"description": _describe(status, None)}
            continue
        name = _component_name(file_name)
        if name not in components:
            components[name] = _embedded(_read_schema(file_name), components)
        schema = components[name]
        out[status] = {
            "description": _describe(status, schema),
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
        }
    return out


def build_openapi(deployment: Deployment, server_url: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {}
    for route_key, route in deployment.http_api.routes.items():
        method, path = route_key.split(" ", 1)
        operation: dict[str, Any] = {
            "operationId": re.sub(r"[^A-Za-z0-9]+", "_", route_key).strip("_"),
            "summary": route.summary
            or (deployment.functions[route.function].description if route.function else "")
            or route_key,
            "responses": _responses(
                (
                    {**START_EXECUTION_RESPONSES, **route.responses}
                    if route.start_execution
                    else route.responses
                ),
                components,
            ),
        }
        params = re.findall(r"\{([^}+]+)\+?\}", path)
        if params:
            operation["parameters"] = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params
            ]
        if route.auth:
            operation["security"] = [{"bearerAuth": []}]
            operation["responses"]["401"] = {"description": "missing, invalid or expired token"}
        if route.request_schema:
            schema = _embedded(_read_schema(route.request_schema), components)
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
        if route.start_execution:
            operation["x-amazon-apigateway-integration"] = {
                "type": "aws_proxy",
                "integrationSubtype": "StepFunctions-StartExecution",
                "stateMachine": deployment.physical_name(route.start_execution),
                "requestParameters": {"Input": "$request.body", **route.request_parameters},
            }
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{deployment.name} HTTP API", "version": "1"},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
