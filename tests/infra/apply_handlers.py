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
