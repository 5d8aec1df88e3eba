"""AWS clients and settings of the duels functions, made once per execution environment.

Plain boto3: AWS_ENDPOINT_URL, when set, points them at the embedded AWS. The Management API
client is pointed at WEBSOCKET_CALLBACK_URL (the deployment gives it to functions that push),
as it must be on AWS too (https://{api-id}.execute-api.{region}.amazonaws.com/{stage}).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10)


class MissingConfiguration(RuntimeError):
    """The deployment did not give this function a setting it needs: a wiring bug."""


def setting(variable: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise MissingConfiguration(f"{variable} is not set: check the function in infra/deployment.json")
    return value


def int_setting(variable: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(variable) or str(default)
    try:
        value = int(raw)
    except ValueError as exc:
        raise MissingConfiguration(f"{variable}={raw!r} is not an integer") from exc
    if value < minimum:
        raise MissingConfiguration(f"{variable}={value} is below {minimum}")
    return value


def table(logical: str) -> str:
    return setting(f"{logical.upper()}_TABLE")


@cache
def dynamodb() -> Any:
    return boto3.client("dynamodb", config=_CONFIG)


@cache
def stepfunctions() -> Any:
    return boto3.client("stepfunctions", config=_CONFIG)


@cache
def management_api() -> Any:
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url=setting("WEBSOCKET_CALLBACK_URL"), config=_CONFIG
    )


def reset() -> None:
    """Forget cached clients (functional tests start a fresh mocked AWS per test)."""
    for made in (dynamodb, stepfunctions, management_api):
        getattr(made, "cache_clear", lambda: None)()  # a test may have put a fake in its place
