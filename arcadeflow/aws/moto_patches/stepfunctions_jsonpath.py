"""JSONPath in moto's Step Functions interpreter, where it departs from AWS.

moto answers a path that goes through an array index and on to a field (`$[1].page`,
`$.branches[0].status`) with a one-element list instead of the value (its fix for
getmoto/moto#7825 wraps any match whose parent was reached by index). AWS returns the value,
and a Parallel state's ResultSelector needs exactly that to pick its branches' outputs. Paths
made only of `.field` and `[n]` steps (one definite location) now return the value; anything
with wildcards, slices, filters or `..` keeps moto's handling.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

DEFINITE_PATH = re.compile(r"^\$(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*$")


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.utils import json_path

    original = json_path.extract_json

    def extract_json(path: str, data: Any) -> Any:
        if DEFINITE_PATH.match(path):
            matches = json_path.parse(path).find(data)
            if len(matches) == 1:
                return matches[0].value
        return original(path, data)

    patcher.replace(json_path, "extract_json", extract_json)
    # The interpreter's modules imported the function by name: each keeps its own reference.
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "extract_json", None) is original:
            patcher.replace(module, "extract_json", extract_json)


PATCH = MotoPatch(
    name="stepfunctions_jsonpath_definite_paths",
    fixes="a path through an array index to a field ($[1].page) answers a one-element list, not the value",
    upstream=None,  # not reported upstream; a side effect of the fix for getmoto/moto#7825
    moto_versions=("5.2.5",),
    targets=(
        "moto.stepfunctions.parser.asl.utils.json_path.extract_json",
        "moto.stepfunctions.parser.asl.utils.json_path.parse",
    ),
    kind="fix",
    apply=apply,
    signatures={"moto.stepfunctions.parser.asl.utils.json_path.extract_json": ("path", "data")},
)
