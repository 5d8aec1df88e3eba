"""Cursors, caller identity and error mapping: pure parts of functions/shared."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.shared import exceptions
from functions.shared.http import status_for
from functions.shared.identity import caller_from_event
from functions.shared.pagination import decode_cursor, encode_cursor

KEY_SHAPE = {"userId": str, "targetUserId": str}


@given(st.text(max_size=100), st.text(max_size=100))
def test_a_cursor_decodes_to_the_key_it_was_made_from(user_id, target):
    key = {"userId": user_id, "targetUserId": target}

    assert decode_cursor(encode_cursor(key), KEY_SHAPE) == key


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        encode_cursor({"userId": "a"}),
        encode_cursor({"userId": "a", "targetUserId": 3}),
        encode_cursor({"userId": "a", "targetUserId": "b", "extra": "c"}),
        "x" * 5000,
    ],
)
def test_cursors_not_issued_by_the_api_are_refused(cursor):
    with pytest.raises(exceptions.InvalidCursor):
        decode_cursor(cursor, KEY_SHAPE)


def test_a_cursor_from_another_listing_is_refused():
    cursor = encode_cursor({"userId": "alice", "targetUserId": "bob"})

    with pytest.raises(exceptions.InvalidCursor):
        decode_cursor(cursor, KEY_SHAPE, {"userId": "mallory"})


def test_a_boolean_is_not_a_number_in_a_cursor():
    with pytest.raises(exceptions.InvalidCursor):
        decode_cursor(encode_cursor({"expiresAt": True, "userId": "a"}), {"expiresAt": int, "userId": str})


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (exceptions.MalformedJson, HTTPStatus.BAD_REQUEST),
        (exceptions.InvalidCursor, HTTPStatus.BAD_REQUEST),
        (exceptions.BodyTooLarge, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
        (exceptions.UserNotFound, HTTPStatus.NOT_FOUND),
        (exceptions.CannotFollowSelf, HTTPStatus.UNPROCESSABLE_ENTITY),
        (exceptions.Unauthenticated, HTTPStatus.UNAUTHORIZED),
    ],
)
def test_errors_map_to_statuses_by_class(error, status):
    assert status_for(error("whatever the message says")) == status


def claims_event(claims):
    return {"requestContext": {"authorizer": {"jwt": {"claims": claims}}}}


def test_the_caller_is_the_tokens_subject_with_its_name_and_picture():
    caller = caller_from_event(claims_event({"sub": "u-1", "name": "Ada", "picture": "https://x/a.png"}))

    assert (caller.user_id, caller.screen_name, caller.avatar) == ("u-1", "Ada", "https://x/a.png")
    assert caller_from_event(claims_event({"sub": "u-2"})).screen_name == "u-2"


@pytest.mark.parametrize("event", [{}, claims_event({}), claims_event({"sub": "  "})])
def test_no_subject_means_unauthenticated(event):
    with pytest.raises(exceptions.Unauthenticated):
        caller_from_event(event)
