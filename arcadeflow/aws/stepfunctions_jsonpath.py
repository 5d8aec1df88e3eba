"""JSONPath in moto 5.2.5's Step Functions interpreter, where it departs from AWS.

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

DEFINITE_PATH = re.compile(r"^\$(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*$")


def install() -> None:
    from moto.stepfunctions.parser.asl.utils import json_path

    original = json_path.extract_json
    if getattr(original, "_arcadeflow", False):
        return

    def extract_json(path: str, data: Any) -> Any:
        if DEFINITE_PATH.match(path):
            matches = json_path.parse(path).find(data)
            if len(matches) == 1:
                return matches[0].value
        return original(path, data)

    extract_json._arcadeflow = True  # type: ignore[attr-defined]
    json_path.extract_json = extract_json
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "extract_json", None) is original:
            module.extract_json = extract_json  # type: ignore[attr-defined]
