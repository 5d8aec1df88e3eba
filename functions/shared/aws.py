"""AWS clients, made once per execution environment, for every flow. Plain boto3:
AWS_ENDPOINT_URL, when set, points them at the embedded AWS.

The low-level client is used (not the resource API) because clients are thread-safe.
Retries are botocore's standard mode (exponential backoff with jitter, throttling included);
connects give up after 2 s so a task fails and the ASL Retry takes over instead of hanging.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from functions.shared import config

_STANDARD = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10)
# The feed writer paces itself and backs off on throttling on its own (functions/status):
# its client retries once, for transport errors, so the two backoffs do not multiply.
_SELF_PACED = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2, read_timeout=10)


@cache
def dynamodb() -> Any:
    return boto3.client("dynamodb", config=_STANDARD)


@cache
def self_paced_dynamodb() -> Any:
    """DynamoDB for a writer that does its own backoff on throttling."""
    return boto3.client("dynamodb", config=_SELF_PACED)


@cache
def stepfunctions() -> Any:
    return boto3.client("stepfunctions", config=_STANDARD)


@cache
def sqs() -> Any:
    return boto3.client("sqs", config=_STANDARD)


@cache
def management_api() -> Any:
    """API Gateway's @connections API of the WebSocket API, at WEBSOCKET_CALLBACK_URL (the
    deployment gives it to functions that push), as it must be on AWS too
    (https://{api-id}.execute-api.{region}.amazonaws.com/{stage})."""
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url=config.required("WEBSOCKET_CALLBACK_URL"), config=_STANDARD
    )


_FACTORIES = (dynamodb, self_paced_dynamodb, stepfunctions, sqs, management_api)


def reset() -> None:
    """Forget cached clients (functional tests start a fresh mocked AWS per test)."""
    for factory in _FACTORIES:
        factory.cache_clear()
