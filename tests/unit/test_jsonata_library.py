"""Importing the JSONata evaluator leaves the process's recursion limit as it was (jsonata-python
raises it to 10,000 on import, which broke the runtime's refusal of 2,000-deep JSON bodies)."""

from __future__ import annotations

import subprocess
import sys

from tests.support.stack import REPO_ROOT


def _limits_around(statement: str) -> list[int]:
    program = (
        f"import sys; before = sys.getrecursionlimit(); {statement}; print(before, sys.getrecursionlimit())"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [int(n) for n in out.split()]


def test_the_library_alone_raises_the_limit() -> None:
    before, after = _limits_around("import jsonata")
    assert after == 10000 != before  # if this fails, jsonata-python dropped the side effect


def test_the_runtimes_import_keeps_the_limit() -> None:
    before, after = _limits_around(
        "from arcadeflow.aws.jsonata_library import jsonata; jsonata().Jsonata('1 + 1').evaluate(None)"
    )
    assert after == before
