"""Events and a context as AWS Lambda hands them to a function, for calling handlers in-process."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from boto3.dynamodb.types import TypeSerializer

_serialize = TypeSerializer().serialize


@dataclass
class FakeLambdaContext:
    function_name: str = "arcadeflow-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:arcadeflow-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/arcadeflow-test"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def http_event(
    method: str,
    path: str,
    *,
    user: str | None = "alice",
    name: str | None = None,
    picture: str | None = None,
    body: Any = None,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
    route_key: str | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event after the JWT authorizer passed.

    `body` is sent as JSON; `raw_body` is sent exactly as given (for malformed input).
    """
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    claims: dict[str, str] = {}
    if user is not None:
        claims = {
            "sub": user,
            "name": name or user.capitalize(),
            "iss": "https://arcadeflow.local",
            "aud": "x",
        }
        if picture:
            claims["picture"] = picture
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"content-type": "application/json", "host": "api.arcadeflow.local"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "authorizer": {"jwt": {"claims": claims, "scopes": None}},
            "domainName": "api.arcadeflow.local",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key or f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if raw_body is not None:
        event["body"] = raw_body
    return event


def stream_record(
    event_name: str,
    keys: dict[str, Any],
    *,
    new_image: dict[str, Any] | None = None,
    old_image: dict[str, Any] | None = None,
    sequence_number: str,
    event_id: str | None = None,
    by_ttl: bool = False,
    table_arn: str = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2025-01-01T00:00:00.000",
) -> dict[str, Any]:
    """One DynamoDB Streams record as Lambda receives it; by_ttl marks a TTL deletion."""
    change: dict[str, Any] = {
        "Keys": {k: _serialize(v) for k, v in keys.items()},
        "SequenceNumber": sequence_number,
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "ApproximateCreationDateTime": time.time(),
    }
    if new_image is not None:
        change["NewImage"] = {k: _serialize(v) for k, v in new_image.items() if v is not None}
    if old_image is not None:
        change["OldImage"] = {k: _serialize(v) for k, v in old_image.items() if v is not None}
    record: dict[str, Any] = {
        "eventID": event_id or uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": change,
        "eventSourceARN": table_arn,
    }
    if by_ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record
