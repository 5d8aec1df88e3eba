"""The OpenAPI document says, for every route, what it answers: a schema per success status and
the one error shape, all from the files the description names."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from arcadeflow.deployment import REPO_ROOT, load
from arcadeflow.openapi import build_openapi


def _operations(doc):
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_every_route_answers_with_a_declared_schema_and_the_error_shape():
    doc = build_openapi(load(), "http://127.0.0.1:8000")
    schemas = doc["components"]["schemas"]
    for route, operation in _operations(doc):
        responses = operation["responses"]
        successes = [status for status in responses if status.startswith("2")]
        assert successes, f"{route} declares no success answer"
        if "x-amazon-apigateway-integration" in operation:
            # API Gateway passes StartExecution's own refusal on (no Lambda shapes it).
            error = responses["400"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/http_aws_error"}, route
        else:
            error = responses["default"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/http_error"}, route
        for status in successes:
            content = responses[status].get("content")
            if status == "204":
                assert content is None, route
                continue
            name = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            checked_in = json.loads((REPO_ROOT / "schemas" / f"{name}.schema.json").read_text())
            assert set(schemas[name]["properties"]) == set(checked_in["properties"]), route
    assert schemas["http_error"]["properties"]["error"]["$ref"] == "#/components/schemas/ErrorDetail"
    assert set(schemas["ErrorDetail"]["required"]) == {"code", "message"}


def test_the_document_is_valid_openapi_and_every_ref_resolves_in_it():
    # The validator follows every $ref from the document's root, as OpenAPI tools do.
    validate(build_openapi(load(), "http://127.0.0.1:8000"))


def test_a_profile_answer_names_its_fields():
    doc = build_openapi(load(), "http://127.0.0.1:8000")
    answer = doc["paths"]["/users/{id}"]["get"]["responses"]["200"]
    name = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    profile = doc["components"]["schemas"][name]
    assert {"userId", "presence", "followerCount", "bestScores", "recentGames"} <= set(profile["required"])
