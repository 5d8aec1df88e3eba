"""Choice's StringMatches matches as AWS defines it: `*` is the only wildcard, `\\*` a literal
star, `\\\\` a literal backslash; every other character stands for itself.

moto matches with `fnmatch`, a shell pattern: `?` matches any character and `[abc]` a set (on
AWS both are literal), and a backslash escapes nothing, so `"a\\\\*b"` never matches `a*b`
(developer guide, "Choice workflow state": StringMatches).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_OPERATOR = (
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations"
    ".string_operators.StringMatches"
)


@lru_cache(maxsize=1024)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of a StringMatches pattern."""
    parts: list[str] = []
    escaped = False
    for character in pattern:
        if escaped:
            parts.append(re.escape(character))
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == "*":
            parts.append(".*")
        else:
            parts.append(re.escape(character))
    if escaped:  # a trailing lone backslash: taken literally
        parts.append(re.escape("\\"))
    return re.compile("".join(parts), re.DOTALL)


def matches(value: Any, pattern: Any) -> bool:
    return (
        isinstance(value, str)
        and isinstance(pattern, str)
        and pattern_regex(pattern).fullmatch(value) is not None
    )


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations import (
        string_operators,
    )

    patcher.replace(string_operators.StringMatches, "_compare", staticmethod(matches))


PATCH = MotoPatch(
    name="stepfunctions_string_matches",
    fixes="StringMatches treats ? and [..] as wildcards and knows no \\* escape (fnmatch), unlike AWS",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_OPERATOR}._compare", f"{_OPERATOR}.eval"),
    kind="fix",
    apply=apply,
    signatures={f"{_OPERATOR}._compare": ("variable", "comparison_value")},
)
