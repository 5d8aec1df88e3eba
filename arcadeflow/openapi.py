"""The OpenAPI 3.1 document of the HTTP API, built from the deployment description."""

from __future__ import annotations

import json
import re
from typing import Any

from arcadeflow.deployment import REPO_ROOT, Deployment


def build_openapi(deployment: Deployment, server_url: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route_key, route in deployment.http_api.routes.items():
        method, path = route_key.split(" ", 1)
        operation: dict[str, Any] = {
            "operationId": re.sub(r"[^A-Za-z0-9]+", "_", route_key).strip("_"),
            "summary": route.summary
            or (deployment.functions[route.function].description if route.function else "")
            or route_key,
            "responses": {
                "default": {
                    "description": 'JSON; errors are {"error": {"code", "message"}}',
                    "content": {"application/json": {}},
                }
            },
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
            schema = json.loads((REPO_ROOT / "schemas" / route.request_schema).read_text())
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
        if route.start_execution:
            operation["x-amazon-apigateway-integration"] = {
                "type": "aws_proxy",
                "integrationSubtype": "StepFunctions-StartExecution",
                "stateMachine": deployment.physical_name(route.start_execution),
            }
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{deployment.name} HTTP API", "version": "1"},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
        },
    }
