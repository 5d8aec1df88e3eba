"""The depth check every body and frame passes before it is parsed: it agrees with json.loads on
everything up to MAX_JSON_DEPTH, refuses anything deeper (however deep), and is not fooled by
brackets inside strings."""

from __future__ import annotations

import base64
import json
from http import HTTPStatus

import pytest
from aws_lambda_powertools import Logger
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from functions.shared import exceptions
from functions.shared.http import MAX_BODY_BYTES, create_app, json_response, parse_body
from functions.shared.json_limits import MAX_JSON_DEPTH, check_json_depth, json_depth_exceeds
from functions.shared.pagination import decode_cursor

# Strings full of what a naive scan would count: brackets, quotes, backslashes.
tricky_text = st.text(alphabet=st.sampled_from('[]{}"\\ab\u00e9\n'), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=30,
)


def depth_of(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


def nested(depth: int, inner: object = 1) -> object:
    value = inner
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


@given(json_values, st.integers(min_value=1, max_value=MAX_JSON_DEPTH))
def test_json_within_the_limit_passes_and_parses_as_json_loads_parses_it(value, extra):
    # Wrapping the value takes it close to the limit without passing it.
    wrapped = nested(max(0, min(extra, MAX_JSON_DEPTH - depth_of(value))), value)
    text = json.dumps(wrapped, ensure_ascii=False)
    assert depth_of(wrapped) <= MAX_JSON_DEPTH
    check_json_depth(text)
    check_json_depth(text.encode())
    assert json.loads(text) == wrapped


def wrapped_text(depth: int, inner: str) -> str:
    """`inner` inside `depth` alternating arrays and objects, built as text (json.dumps recurses)."""
    opening = "".join('{"a":' if level % 2 else "[" for level in range(depth))
    return opening + inner + "".join("}" if level % 2 else "]" for level in reversed(range(depth)))


@given(json_values, st.integers(min_value=1, max_value=3000))
def test_anything_deeper_than_the_limit_is_refused(value, extra):
    depth = MAX_JSON_DEPTH - depth_of(value) + extra
    text = wrapped_text(depth, json.dumps(value))
    if depth < 500:
        json.loads(text)  # valid JSON, only too deep for us
    with pytest.raises(ValueError, match=f"nested deeper than {MAX_JSON_DEPTH} levels"):
        check_json_depth(text)
    assert json_depth_exceeds(text.encode())


@given(st.text(alphabet=st.sampled_from('[{"\\'), min_size=MAX_JSON_DEPTH + 1, max_size=200))
def test_brackets_inside_a_string_do_not_count(inside):
    assert not json_depth_exceeds(json.dumps({"note": inside, "list": [inside]}))


def test_bytes_are_read_in_the_encoding_json_loads_would_read_them_in():
    # U+225B in UTF-16-LE is the bytes '[' '"': scanned as bytes it would open a fake string
    # that hides the brackets after it.
    deep = ("[" * 40 + '"\u225b"' + "]" * 40).encode("utf-16-le")
    assert json_depth_exceeds(deep)
    assert json.loads(deep) is not None  # json.loads reads it (it is 40 deep, below its limit)
    hidden = ('["\u225b' + "[" * 40 + '"]').encode("utf-16-le")
    assert not json_depth_exceeds(hidden, limit=1)
    assert not json_depth_exceeds(b"[\xff\xfe]", limit=1)


def test_the_limit_is_exact_and_escaped_quotes_do_not_end_a_string():
    assert not json_depth_exceeds("[" * 32 + "]" * 32)
    assert json_depth_exceeds("[" * 33 + "]" * 33)
    # The escaped quote keeps the scanner inside the string, so its brackets are text.
    assert not json_depth_exceeds('["\\"' + "[" * 40 + '"]', limit=1)
    assert json_depth_exceeds('["\\\\"' + ",[" * 2 + "]]]", limit=2)


REPORTED_BODY = '{"a":' * 2000 + "1" + "}" * 2000  # the 12 KB body of the issue


def test_the_reported_body_is_refused_where_json_loads_would_recurse_out():
    with pytest.raises(RecursionError):
        json.loads(REPORTED_BODY)
    assert json_depth_exceeds(REPORTED_BODY)
    assert len(REPORTED_BODY) < MAX_BODY_BYTES


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: object


def answer_to(body: str, is_base64: bool = False) -> dict:
    app = create_app(Logger(service="test"))

    @app.post("/notes")
    def _post():
        parse_body(app, Note)
        return json_response(HTTPStatus.OK, {"written": True})

    event = {
        "version": "2.0",
        "routeKey": "POST /notes",
        "rawPath": "/notes",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": "POST", "path": "/notes", "sourceIp": "127.0.0.1"},
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }
    return app.resolve(event, None)


def test_parse_body_answers_a_deep_body_with_invalid_body_400_naming_the_limit():
    answer = answer_to(REPORTED_BODY)
    assert answer["statusCode"] == HTTPStatus.BAD_REQUEST
    assert json.loads(answer["body"]) == {
        "error": {"code": "invalid_body", "message": "request body is nested deeper than 32 levels"}
    }
    # At the limit the same shape is parsed and reaches the handler.
    at_the_limit = json.dumps({"a": nested(MAX_JSON_DEPTH - 1)})
    assert answer_to(at_the_limit)["statusCode"] == HTTPStatus.OK


def test_a_body_that_is_not_utf8_is_malformed_json_not_a_500():
    # API Gateway passes such a body base64-encoded; decoding it to text fails.
    answer = answer_to(base64.b64encode(b"h\xe9\x0e\xff\xfeG").decode(), is_base64=True)
    assert answer["statusCode"] == HTTPStatus.BAD_REQUEST
    assert json.loads(answer["body"])["error"]["code"] == "malformed_json"


def test_a_deep_cursor_is_an_invalid_cursor_not_a_recursion_error():
    cursor = base64.urlsafe_b64encode(b"[" * 1500).decode()
    with pytest.raises(exceptions.InvalidCursor):
        decode_cursor(cursor, {"userId": str})
