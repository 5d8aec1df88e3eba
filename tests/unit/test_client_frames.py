"""functions/shared/frames.py: every hostile frame a client can send becomes a client error with
a code (what the sender is told in an error frame), never an exception no handler maps."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.duels import domain
from functions.matchmaking import rules
from functions.shared.exceptions import ArcadeflowError, FrameTooLarge, InvalidFrame, MalformedFrame
from functions.shared.json_limits import MAX_JSON_DEPTH

FRAME_CODES = {"malformed_frame", "unknown_action", "invalid_frame", "frame_too_large"}


def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def test_the_deep_frame_of_the_issue_is_too_large_before_anything_parses_it():
    # 12 KB, 2,000 objects deep: what the issue's reporter sent.
    frame = '{"a":' * 2000 + "1" + "}" * 2000
    assert len(frame) > 10_000
    with pytest.raises(FrameTooLarge):
        domain.parse_frame(frame)


@pytest.mark.parametrize("parse", [domain.parse_frame, rules.parse_frame], ids=["duels", "matchmaking"])
def test_a_frame_nested_past_the_limit_within_the_size_limit_is_malformed(parse):
    # 1,500 levels fit in 4 KB and made json.loads raise RecursionError (no error frame at all).
    frame = '{"action":"ping","id":' + nested(1500) + "}"
    assert len(frame) < 4096
    with pytest.raises(MalformedFrame) as refused:
        parse(frame)
    assert refused.value.message == f"the frame is nested deeper than {MAX_JSON_DEPTH} levels"


def test_the_depth_limit_is_exact_and_counts_the_frame_object_itself():
    # The frame's own object is level 1, so the id may hold MAX_JSON_DEPTH - 1 levels.
    at_limit = '{"action":"ping","id":' + nested(MAX_JSON_DEPTH - 1) + "}"
    with pytest.raises(InvalidFrame):  # deep enough to be refused for its type, not its depth
        domain.parse_frame(at_limit)
    with pytest.raises(MalformedFrame):
        domain.parse_frame('{"action":"ping","id":' + nested(MAX_JSON_DEPTH) + "}")


def test_brackets_inside_strings_are_not_nesting():
    frame = json.dumps({"action": "ping", "id": "[{" * 28 + '\\"' + "]}" * 2})
    assert domain.parse_frame(frame).action == "ping"


def test_a_deep_base64_frame_is_malformed_too():
    encoded = base64.b64encode(nested(1500).encode()).decode()
    with pytest.raises(MalformedFrame):
        domain.parse_frame(encoded, is_base64=True)


# Around the limit, and around the parser's own recursion limit (~1,000), where it used to break.
@given(
    depth=st.integers(min_value=0, max_value=40) | st.integers(min_value=900, max_value=2000),
    opener=st.sampled_from(["[", '{"k":']),
)
def test_any_nesting_is_parsed_or_refused_with_a_frame_code(depth, opener):
    closer = "]" if opener == "[" else "}"
    frame = '{"action":"ping","id":' + opener * depth + '"x"' + closer * depth + "}"
    try:
        domain.parse_frame(frame)
    except ArcadeflowError as error:
        assert error.code in FRAME_CODES
