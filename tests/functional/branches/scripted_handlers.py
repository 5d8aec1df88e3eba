"""A Lambda handler that answers as a test scripts it, for the ASL-branch tests.

The test writes a script per case and role into SCRIPT_TABLE; each invocation records its event
and follows the step for its attempt (the last step repeats):

    {"return": {...}}               answer; a string value "$.a.b" is read from the event
    {"raise": "Name", "message": m} fail with an exception of that class name (the ASL error name;
                                    "Lambda.ServiceException" or "Sandbox.Timedout" stand for what
                                    the Lambda service would report)

The case is what the flow's payload names: sessionId, inviteId, userId (queue_pairing), the execution named in
dedupeKey (push), or the author (status fan-out). A fan-out batch also names its first follower,
so one batch can fail while the others are written.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3


def case_of(event: dict[str, Any]) -> str:
    for key in ("sessionId", "inviteId", "authorId", "userId"):
        if isinstance(event.get(key), str):
            return event[key]
    if isinstance(event.get("dedupeKey"), str):
        # States.Format('{}/{}', $$.Execution.Id, $$.State.Name): the execution's name.
        return event["dedupeKey"].rsplit("/", 1)[0].rsplit(":", 1)[1]
    return event["status"]["author"]["userId"]


def role_of(event: dict[str, Any]) -> str:
    role = os.environ["ROLE"]
    if event.get("followerIds"):
        return f"{role}/{event['followerIds'][0]}"
    return role


def _resolve(value: Any, event: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("$."):
        found: Any = event
        for part in value[2:].split("."):
            found = found[part]
        return found
    if isinstance(value, dict):
        return {k: _resolve(v, event) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, event) for v in value]
    return value


def handler(event: dict[str, Any], context: Any) -> Any:
    table = boto3.resource("dynamodb").Table(os.environ["SCRIPT_TABLE"])
    case, role = case_of(event), role_of(event)
    attempt = int(
        table.update_item(
            Key={"pk": f"calls#{case}", "sk": f"{role}#count"},
            UpdateExpression="ADD attempts :one",
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )["Attributes"]["attempts"]
    )
    table.put_item(Item={"pk": f"calls#{case}", "sk": f"{role}#{attempt:03d}", "event": json.dumps(event)})
    script = table.get_item(Key={"pk": f"script#{case}", "sk": role}, ConsistentRead=True).get("Item")
    if script is None:
        script = table.get_item(
            Key={"pk": f"script#{case}", "sk": os.environ["ROLE"]}, ConsistentRead=True
        ).get("Item")
    steps = json.loads(script["steps"]) if script else [{"return": {}}]
    step = steps[min(attempt, len(steps)) - 1]
    if "raise" in step:
        raise type(step["raise"], (Exception,), {})(step.get("message", f"scripted {step['raise']}"))
    return _resolve(step.get("return", {}), event)
