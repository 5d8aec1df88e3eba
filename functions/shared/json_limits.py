"""How deep a client's JSON may nest, checked before anything parses it.

json.loads (and pydantic's parser) recurse once per nesting level: a 12 KB body of 2,000 nested
objects raises RecursionError, which surfaced as a 500 on HTTP and a silent drop on WebSocket.
No body or frame of ours nests more than a handful of levels, so 32 is generous. The check is a
linear scan that counts brackets outside strings; it never recurses, whatever the input.
"""

from __future__ import annotations

import json
import re

MAX_JSON_DEPTH = 32

# Outside a string only brackets and a quote matter; inside one, only a quote or a backslash.
_OUTSIDE = re.compile(r'["\[\]{}]')
_INSIDE = re.compile(r'["\\]')


def json_depth_exceeds(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `text` opens more than `limit` arrays/objects inside one another.

    The scan agrees with a JSON parser about where strings start and end up to the point where
    the parser would refuse the text, so it never counts less depth than the parser would
    recurse; for text that is not JSON it may count more, which only refuses what is invalid.
    """
    if isinstance(text, bytes):
        # As json.loads reads bytes: UTF-8, or UTF-16/32 by their first bytes (where a '[' byte
        # can be half of another character). Undecodable bytes become U+FFFD, never a bracket.
        text = text.decode(json.detect_encoding(text), errors="replace")
    depth = 0
    position = 0
    end = len(text)
    while position < end:
        found = _OUTSIDE.search(text, position)
        if found is None:
            return False
        char = text[found.start()]
        position = found.start() + 1
        if char == '"':
            # Skip the string: up to the next quote that no backslash escapes.
            while True:
                stop = _INSIDE.search(text, position)
                if stop is None:
                    return False  # an unterminated string: the parser refuses it, no deeper
                position = stop.start() + 1
                if text[stop.start()] == "\\":
                    position += 1  # the escaped character, whatever it is
                    continue
                break
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def check_json_depth(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise ValueError when `text` nests deeper than `limit`; parse it only after this passes."""
    if json_depth_exceeds(text, limit):
        raise ValueError(f"JSON is nested deeper than {limit} levels")
