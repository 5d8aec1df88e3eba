"""Handlers that exercise the embedded runtime itself (not product code).

They record what they saw into the table named by RECORD_TABLE (partition key "pk", sort key
"sk"), through plain boto3 and AWS_ENDPOINT_URL, as product handlers do.
"""

from __future__ import annotations

import json
import os
import time
import uuid

import boto3


class InviteExpired(Exception):
    """A domain error: its class name must reach ASL Catch as the error name."""


class TransientGlitch(Exception):
    pass


def _table():
    return boto3.resource("dynamodb").Table(os.environ["RECORD_TABLE"])


def show_environment(event, context):
    return {
        "function": context.function_name,
        "secret": os.environ.get("SECRET"),
        "other_secrets": sorted(k for k in os.environ if k.startswith("SECRET_")),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "event": event,
    }


def raise_domain_error(event, context):
    raise InviteExpired(f"invite {event.get('inviteId')} expired")


def sleep_seconds(event, context):
    time.sleep(float(event.get("seconds", 5)))
    return {"slept": event.get("seconds")}


def fail_until_attempt(event, context):
    """Fails with TransientGlitch until it has been called `succeedOn` times for this key."""
    table = _table()
    counter = table.update_item(
        Key={"pk": f"attempts#{event['key']}", "sk": "-"},
        UpdateExpression="ADD attempts :one",
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )["Attributes"]["attempts"]
    if counter < int(event["succeedOn"]):
        raise TransientGlitch(f"attempt {counter}")
    return {"attempts": int(counter)}


def record_stream_batch(event, context):
    """Records every stream record; reports records whose NewImage has fail=true as failed once."""
    table = _table()
    batch_id = uuid.uuid4().hex
    failures = []
    for record in event["Records"]:
        image = record["dynamodb"].get("NewImage") or record["dynamodb"].get("OldImage") or {}
        key = image.get("id", {}).get("S", "?")
        seen = table.update_item(
            Key={"pk": f"seen#{key}", "sk": record["eventName"]},
            UpdateExpression="ADD deliveries :one SET userIdentity = :who, batchSize = :n, batchId = :b",
            ExpressionAttributeValues={
                ":one": 1,
                ":who": json.dumps(record.get("userIdentity")),
                ":n": len(event["Records"]),
                ":b": batch_id,
            },
            ReturnValues="UPDATED_NEW",
        )["Attributes"]["deliveries"]
        if image.get("fail", {}).get("BOOL") and seen == 1:
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    time.sleep(float(os.environ.get("SLOW_SECONDS", "0")))
    return {"batchItemFailures": failures}


def record_queue_batch(event, context):
    """Records SQS messages; a body of "poison" always fails (so it reaches the DLQ)."""
    table = _table()
    failures = []
    for record in event["Records"]:
        if record["body"] == "poison":
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        table.update_item(
            Key={"pk": f"msg#{record['body']}", "sk": "-"},
            UpdateExpression="ADD deliveries :one",
            ExpressionAttributeValues={":one": 1},
        )
    return {"batchItemFailures": failures}


def try_imports(event, context):
    """Which of event["modules"] this function can import: "ok" or the exception it got."""
    import importlib

    outcome = {}
    for name in event["modules"]:
        try:
            importlib.import_module(name)
            outcome[name] = "ok"
        except Exception as exc:
            outcome[name] = f"{type(exc).__name__}: {exc}"
    return outcome
