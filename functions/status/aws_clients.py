"""AWS clients of the status functions beyond functions.shared.aws, made once per execution environment.

Plain boto3: AWS_ENDPOINT_URL, when set, points them at the embedded AWS. The feed writer does
its own backoff on throttling, so its client makes a single retry only for transport errors.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config


@cache
def feed_writer_dynamodb() -> Any:
    return boto3.client("dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 2}))


@cache
def sqs() -> Any:
    return boto3.client("sqs")


@cache
def stepfunctions() -> Any:
    return boto3.client("stepfunctions")


def reset() -> None:
    """Forget cached clients (functional tests start a fresh mocked AWS per test)."""
    for factory in (feed_writer_dynamodb, sqs, stepfunctions):
        factory.cache_clear()
