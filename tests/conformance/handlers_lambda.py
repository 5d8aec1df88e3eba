"""Lambda handlers of the lambda part's conformance templates (zipped with .function(files=...)).

result(event)    answers the value its event's "kind" names: bytes, a set, a datetime, None,
                 a str, a Decimal, or `size` bytes of text ("big")
where(event)     answers where it runs: its task root, its import path, the files beside it
"""

from __future__ import annotations

import datetime
import os
import sys
from decimal import Decimal
from typing import Any


def result(event: dict[str, Any], context: Any) -> Any:
    kind = event["kind"]
    if kind == "bytes":
        return b"raw"
    if kind == "set":
        return {1, 2}
    if kind == "datetime":
        return datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    if kind == "none":
        return None
    if kind == "str":
        return "plain text"
    if kind == "decimal":
        return {"whole": Decimal("3"), "part": Decimal("0.5")}
    if kind == "big":
        return {"text": "x" * int(event["size"])}
    raise ValueError(f"unknown kind {kind!r}")


def where(event: Any, context: Any) -> dict[str, Any]:
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    return {
        "cwd": os.getcwd(),
        "task_root": task_root,
        "path": sys.path[:3],
        "files": sorted(os.listdir(task_root)),
    }
