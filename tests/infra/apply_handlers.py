"""A handler for the apply test's fixture description (infra/tests/fixtures/embedded_apply.deployment.json).

It runs in the embedded Lambda runner, configured by what `terraform apply` created: its table
name comes from the SCORES_TABLE variable Terraform set, as a real handler's would.
"""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal
from typing import Any

import boto3


def record_score(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = json.loads(event["body"]) if isinstance(event.get("body"), str) else event
    table = boto3.resource("dynamodb").Table(os.environ["SCORES_TABLE"])
    table.put_item(
        Item={
            "userId": body["userId"],
            "gameId": body["gameId"],
            "bestScore": Decimal(str(body["score"])),
            "expiresAt": int(time.time()) + 3600,
        }
    )
    return {"statusCode": 200, "recorded": body["userId"], "body": json.dumps({"recorded": body["userId"]})}


def ws_connect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """$connect: the authorizer already decided; accept the handshake."""
    return {"statusCode": 200}


def ws_echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Route `echo`: answers the sender over @connections with who the authorizer said it is.

    The callback URL comes from the event (https://{domainName}/{stage} on AWS): Terraform's
    WEBSOCKET_CALLBACK_URL names AWS's host, which the embedded AWS does not serve.
    """
    request = event["requestContext"]
    scheme = "http" if request["domainName"].startswith("127.0.0.1") else "https"
    client = boto3.client(
        "apigatewaymanagementapi", endpoint_url=f"{scheme}://{request['domainName']}/{request['stage']}"
    )
    frame = {
        "type": "echo",
        "said": json.loads(event.get("body") or "{}").get("say"),
        "userId": (request.get("authorizer") or {}).get("userId"),
        "stage": request["stage"],
    }
    client.post_to_connection(ConnectionId=request["connectionId"], Data=json.dumps(frame).encode())
    return {"statusCode": 200}
