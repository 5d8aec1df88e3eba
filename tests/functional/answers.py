"""Holds every answer a handler gives in a functional test to what the API says it answers: the
JSON Schema infra/deployment.json names for the route and status (schemas/http_*.schema.json,
the one OpenAPI serves). A handler whose body drifts from its schema fails the test that made it.
The same for the executions handlers start: their input against schemas/sfn_<machine>_input."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jsonschema
from referencing import Registry, Resource

from arcadeflow.deployment import REPO_ROOT, Deployment, load

SCHEMA_DIR = REPO_ROOT / "schemas"


@cache
def _deployment() -> Deployment:
    return load()


@cache
def _routes() -> list[tuple[str, re.Pattern[str], int, str]]:
    """(method, path pattern, literal segments, route key), most literal first."""
    out = []
    for key in _deployment().http_api.routes:
        method, template = key.split(" ", 1)
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        literals = sum(1 for part in template.split("/") if part and not part.startswith("{"))
        out.append((method, re.compile(f"^{pattern}$"), literals, key))
    return sorted(out, key=lambda route: -route[2])


# What a function answers for a request no route of its own matches.
UNROUTED = "http_error.schema.json"


def route_of(method: str, path: str) -> str | None:
    for route_method, pattern, _, key in _routes():
        if route_method == method and pattern.match(path):
            return key
    return None


@cache
def _schema(file_name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / file_name).read_text())


def check_answer(method: str, path: str, status: int, body: Any) -> None:
    """Raises AssertionError unless `body` is what the route declares for `status`."""
    route_key = route_of(method, path)
    if route_key is None:
        file_name: str | None = UNROUTED
    else:
        declared = _deployment().http_api.routes[route_key].responses
        key = str(status) if str(status) in declared else "default"
        assert key in declared, f"{method} {path} answered {status}, which its route does not declare"
        file_name = declared[key]
    if file_name is None:
        assert body in (None, ""), f"{method} {path} answered {status} with a body; it declares none"
        return
    check_against(file_name, body, f"{method} {path} {status}")


def check_execution_input(state_machine: str, execution_input: str) -> dict[str, Any]:
    """The input an execution was started with, once it matches schemas/sfn_<machine>_input."""
    document = json.loads(execution_input)
    check_against(f"sfn_{state_machine}_input.schema.json", document, f"{state_machine} input")
    return document


def check_against(file_name: str, document: Any, what: str) -> None:
    schema = _schema(file_name)
    registry = Registry().with_resource(file_name, Resource.from_contents(schema))
    try:
        jsonschema.Draft202012Validator(schema, registry=registry).validate(document)
    except jsonschema.ValidationError as error:
        raise AssertionError(f"{what} does not match schemas/{file_name}: {error.message}") from error
