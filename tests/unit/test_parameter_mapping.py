"""API Gateway HTTP API parameter mapping (arcadeflow/apigateway/parameter_mapping.py): what a
StartExecution integration's Name and Input become for one request."""

from __future__ import annotations

import dataclasses
import json

import pytest

from arcadeflow.apigateway.parameter_mapping import (
    MappingError,
    RequestValues,
    evaluate,
    evaluate_all,
    parse,
)

REQUEST = RequestValues(
    body=json.dumps(
        {"note": "gg", "score": 3, "tags": ["a", "b"], "nested": {"k": [1, {"v": "x"}]}}
    ).encode(),
    path="/games/g1/end",
    path_parameters={"gameId": "g1"},
    query={"mode": ["fast", "ranked"], "Case": ["upper"]},
    headers={"x-trace": ["t-1"], "accept": ["a", "b"]},
    context={"requestId": "r-1", "routeKey": "POST /games/{gameId}/end", "stage": "$default"},
    claims={"sub": "alice", "name": "Alice"},
    stage_variables={"env": "dev"},
)


def test_the_interface_name_and_input_map_a_path_parameter_and_a_jwt_claim() -> None:
    name = "${request.path.gameId}_${context.authorizer.claims.sub}"
    execution_input = '{"gameId":"${request.path.gameId}","playerId":"${context.authorizer.claims.sub}"}'
    assert evaluate(name, REQUEST) == "g1_alice"
    assert json.loads(evaluate(execution_input, REQUEST)) == {"gameId": "g1", "playerId": "alice"}


def test_bare_and_braced_forms_read_the_same_values() -> None:
    for source, value in [
        ("request.body.note", "gg"),
        ("request.path.gameId", "g1"),
        ("request.path", "/games/g1/end"),
        ("request.querystring.Case", "upper"),
        ("request.header.X-Trace", "t-1"),  # header names are case-insensitive
        ("context.requestId", "r-1"),
        ("context.authorizer.claims.name", "Alice"),
        ("stageVariables.env", "dev"),
    ]:
        assert evaluate(f"${source}", REQUEST) == value, source
        assert evaluate(f"<${{{source}}}>", REQUEST) == f"<{value}>", source


def test_the_whole_body_is_passed_as_sent() -> None:
    assert evaluate("$request.body", REQUEST) == REQUEST.body.decode()


def test_a_body_json_path_yields_strings_as_is_and_anything_else_as_json() -> None:
    assert evaluate("$request.body.score", REQUEST) == "3"
    assert evaluate("$request.body.tags", REQUEST) == '["a","b"]'
    assert evaluate("$request.body.tags[1]", REQUEST) == "b"
    assert evaluate("$request.body.nested.k[1].v", REQUEST) == "x"
    # Substituted verbatim: a number lands in a JSON template as a number.
    assert json.loads(evaluate('{"score": ${request.body.score}}', REQUEST)) == {"score": 3}


def test_repeated_query_values_and_headers_are_joined_with_commas() -> None:
    assert evaluate("$request.querystring.mode", REQUEST) == "fast,ranked"
    assert evaluate("$request.header.accept", REQUEST) == "a,b"


def test_a_missing_value_is_empty_and_an_empty_parameter_is_left_out() -> None:
    assert (
        evaluate("id-${request.path.other}-${request.body.missing}-${stageVariables.none}", REQUEST)
        == "id---"
    )
    assert evaluate("$request.querystring.mode2", REQUEST) == ""
    assert evaluate("$request.body.tags[7]", REQUEST) == ""
    assert evaluate("$request.body.note", RequestValues(body=b"not json")) == ""
    mapped = evaluate_all({"Name": "${request.path.other}", "Input": "$request.body"}, RequestValues())
    assert mapped == {}  # no Name: Step Functions names it; no Input: it starts with {}


def test_text_is_substituted_verbatim_not_json_escaped() -> None:
    # As on API Gateway: a quote in a path parameter makes the Input template invalid JSON.
    quoted = RequestValues(path_parameters={"id": 'a"b'})
    text = evaluate('{"id":"${request.path.id}"}', quoted)
    assert text == '{"id":"a"b"}'
    with pytest.raises(ValueError):
        json.loads(text)


def test_a_body_path_reads_only_the_first_100_kb() -> None:
    body = json.dumps({"pad": "x" * 110_000, "late": "never"}).encode()
    assert evaluate("$request.body.late", RequestValues(body=body)) == ""
    assert evaluate("$request.body", RequestValues(body=body)) == body.decode()


def test_a_body_path_into_a_body_too_deep_to_parse_selects_nothing() -> None:
    # json.loads raises RecursionError past ~1,000 levels; that was a 500 from the emulator.
    deep = dataclasses.replace(REQUEST, body=b'{"a":' * 2000 + b"1" + b"}" * 2000)
    assert evaluate("$request.body.a", deep) == ""
    assert evaluate('{"id":"${request.body.a}"}', deep) == '{"id":""}'


def test_static_text_with_a_lone_dollar_stays_text() -> None:
    assert parse("price: $5") == ["price: $5"]
    assert evaluate("static", REQUEST) == "static"


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("${request.cookie.x}", "a request value is"),
        ("${request.body..name}", "recursive descent"),
        ("${request.body.items[?(@.a)]}", "recursive descent, filters"),
        ("${request.querystring}", "names one querystring"),
        ("${context.nothing}", "unknown context variable"),
        ("${context.authorizer.claims.}", "unknown context variable"),
        ("${stageVariables}", "a stage variable mapping"),
        ("${method.request.path.id}", "a mapping reads"),
    ],
)
def test_an_expression_api_gateway_would_refuse_is_refused_naming_it(expression: str, problem: str) -> None:
    with pytest.raises(MappingError, match=problem) as refused:
        parse(f"x{expression}y")
    assert str(refused.value).startswith("$")
