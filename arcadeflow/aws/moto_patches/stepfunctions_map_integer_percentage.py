"""`ToleratedFailurePercentage` may be written as an integer, as on AWS.

moto's grammar takes the percentage only as a decimal number: `"ToleratedFailurePercentage": 50`
is refused at CreateStateMachine with a parser error, where AWS accepts it (developer guide,
"Setting failure thresholds for Distributed Map states"). The definition is handed to moto's
parser with the percentage written as a decimal. (The threshold itself: patch
stepfunctions_map_tolerated_failures.)
"""

from __future__ import annotations

import json
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_PARSER = "moto.stepfunctions.parser.asl.parse.asl_parser.AmazonStateLanguageParser"
_PERCENTAGE = "ToleratedFailurePercentage"


def _with_decimal_percentages(node: Any) -> tuple[Any, bool]:
    """The definition with every integer ToleratedFailurePercentage written as a decimal."""
    changed = False
    if isinstance(node, dict):
        rewritten = {}
        for key, value in node.items():
            if key == _PERCENTAGE and isinstance(value, int) and not isinstance(value, bool):
                rewritten[key], changed = float(value), True
                continue
            rewritten[key], inner = _with_decimal_percentages(value)
            changed = changed or inner
        return rewritten, changed
    if isinstance(node, list):
        items = [_with_decimal_percentages(item) for item in node]
        return [item for item, _ in items], any(inner for _, inner in items)
    return node, False


def decimal_percentages(definition: str) -> str:
    if _PERCENTAGE not in definition:
        return definition
    try:
        parsed = json.loads(definition)
    except ValueError:
        return definition  # moto's parser reports what is wrong with it
    rewritten, changed = _with_decimal_percentages(parsed)
    return json.dumps(rewritten) if changed else definition


def apply_integer_percentages(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    original_parse = AmazonStateLanguageParser.parse

    def parse(definition: str) -> Any:
        return original_parse(decimal_percentages(definition))

    patcher.replace(AmazonStateLanguageParser, "parse", staticmethod(parse))


INTEGER_PERCENTAGES = MotoPatch(
    name="stepfunctions_map_integer_percentage",
    fixes="an integer ToleratedFailurePercentage (50) is refused at CreateStateMachine with a parser error",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_PARSER}.parse",),
    kind="fix",
    apply=apply_integer_percentages,
    signatures={f"{_PARSER}.parse": ("definition",)},
)
