"""A handler that imports the local runtime: it works only where the checkout is on the path,
so the embedded runner must fail it at import, as Lambda would (its zip holds functions/ only)."""

from __future__ import annotations

import arcadeflow.auth  # noqa: F401 - the import under test


def handler(event, context):
    return {"imported": "arcadeflow"}
