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


ERROR = {"$ref": "#/components/schemas/http_error"}
AWS_ERROR = {"$ref": "#/components/schemas/http_aws_error"}
GATEWAY = {"$ref": "#/components/schemas/http_gateway_message"}


def _schema_of(answer):
    return answer["content"]["application/json"]["schema"]


def _either(answer):
    schema = _schema_of(answer)
    return schema.get("anyOf", [schema])


def test_every_route_answers_with_a_declared_schema_and_the_error_shape():
    doc = build_openapi(load(), "http://127.0.0.1:8000")
    schemas = doc["components"]["schemas"]
    for route, operation in _operations(doc):
        responses = operation["responses"]
        # Every status is spelled out: a client (or Schemathesis) can tell an undocumented one.
        assert "default" not in responses, route
        successes = [status for status in responses if status.startswith("2")]
        assert successes, f"{route} declares no success answer"
        if "x-amazon-apigateway-integration" in operation:
            # API Gateway passes StartExecution's own refusal on (no Lambda shapes it).
            assert _schema_of(responses["400"]) == AWS_ERROR, route
            assert _either(responses["500"]) == [GATEWAY, AWS_ERROR], route
        else:
            for status in ("400", "404"):
                assert _schema_of(responses[status]) == ERROR, (route, status)
            # The function's internal_error, or API Gateway's own when the function fails.
            assert _either(responses["500"]) == [GATEWAY, ERROR], route
        for status in ("429", "503"):
            assert _either(responses[status]) == [GATEWAY], (route, status)
        if operation.get("security"):
            assert GATEWAY in _either(responses["401"]), route
        if "requestBody" in operation:
            # A route's own body limit, or API Gateway's 10 MB one.
            assert _either(responses["413"]) == [GATEWAY, ERROR], route
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


def test_route_specific_refusals_are_documented_where_the_domain_raises_them():
    doc = build_openapi(load(), "http://127.0.0.1:8000")
    assert _schema_of(doc["paths"]["/followers"]["post"]["responses"]["422"]) == ERROR  # cannot follow self
    assert "409" in doc["paths"]["/vr/sessions/{sessionId}/events"]["post"]["responses"]  # session ended
    assert "403" in doc["paths"]["/vr/players/{playerId}/sessions"]["get"]["responses"]  # not yours
    assert "422" not in doc["paths"]["/feed"]["get"]["responses"]


def test_query_parameters_carry_their_types_and_bounds_and_never_null():
    doc = build_openapi(load(), "http://127.0.0.1:8000")
    parameters = {p["name"]: p for p in doc["paths"]["/followers"]["get"]["parameters"]}
    limit = parameters["limit"]["schema"]
    assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 100)
    assert parameters["direction"]["schema"]["enum"] == ["following", "followers"]
    assert parameters["cursor"]["schema"]["type"] == "string"
    assert not parameters["cursor"]["required"]
    for _, operation in _operations(doc):
        for parameter in operation.get("parameters", []):
            assert "null" not in json.dumps(parameter["schema"]), parameter


def test_a_route_whose_body_may_be_left_out_says_so():
    doc = build_openapi(load(), "http://127.0.0.1:8000")
    assert doc["paths"]["/vr/sessions"]["post"]["requestBody"]["required"] is False
    assert doc["paths"]["/scores"]["post"]["requestBody"]["required"] is True


def test_the_document_is_valid_openapi_and_every_ref_resolves_in_it():
    # The validator follows every $ref from the document's root, as OpenAPI tools do.
    validate(build_openapi(load(), "http://127.0.0.1:8000"))


def test_a_profile_answer_names_its_fields():
    doc = build_openapi(load(), "http://127.0.0.1:8000")
    answer = doc["paths"]["/users/{id}"]["get"]["responses"]["200"]
    name = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    profile = doc["components"]["schemas"][name]
    assert {"userId", "presence", "followerCount", "bestScores", "recentGames"} <= set(profile["required"])


def test_the_idempotency_key_header_is_documented_with_the_pattern_the_code_enforces():
    from functions.status.publishing import IDEMPOTENCY_KEY

    doc = build_openapi(load(), "http://127.0.0.1:8000")
    headers = [p for p in doc["paths"]["/statuses"]["post"]["parameters"] if p["in"] == "header"]
    assert [h["name"] for h in headers] == ["Idempotency-Key"]
    assert headers[0]["schema"] == {"type": "string", "pattern": IDEMPOTENCY_KEY.pattern}
