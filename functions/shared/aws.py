"""AWS clients, made once per container. Plain boto3: AWS_ENDPOINT_URL, when set, points them elsewhere.

The low-level client is used (not the resource API) because clients are thread-safe.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3


@cache
def dynamodb() -> Any:
    return boto3.client("dynamodb")


def reset() -> None:
    """Forget cached clients (tests start a fresh mocked AWS per test)."""
    dynamodb.cache_clear()
