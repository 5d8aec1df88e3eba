"""`arcadeflow populate` and `arcadeflow redrive-fanout`: product tooling for the status fan-out.

`populate` makes many users who all follow one celebrity, for the fan-out benchmark.

Users and follow edges have the shapes the social API writes (functions/social). Only what is
missing is written (looked up 100 keys a BatchGetItem, written 25 a BatchWriteItem with
unprocessed items retried), so running it twice changes nothing: no item, no stream record.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from botocore.config import Config
from tqdm import tqdm

from arcadeflow import deployment as deployment_module
from arcadeflow.commands import CommandError, running_stack_endpoints, stack_client

CREATED_AT = "2024-01-01T00:00:00.000000Z"  # fixed, so a second run writes identical items


def follower_ids(count: int, celebrity: str, prefix: str) -> list[str]:
    """`count` user ids `<prefix><n>` from n = 1 up, skipping the celebrity's own id."""
    out: list[str] = []
    n = 1
    while len(out) < count:
        user_id = f"{prefix}{n}"
        if user_id != celebrity:
            out.append(user_id)
        n += 1
    return out


def user_item(user_id: str) -> dict[str, Any]:
    return {
        "userId": {"S": user_id},
        "screenName": {"S": user_id},
        "createdAt": {"S": CREATED_AT},
        "updatedAt": {"S": CREATED_AT},
    }


def follow_item(follower: str, celebrity: str) -> dict[str, Any]:
    return {
        "userId": {"S": follower},
        "targetUserId": {"S": celebrity},
        "followerScreenName": {"S": follower},
        "targetScreenName": {"S": celebrity},
        "createdAt": {"S": CREATED_AT},
    }


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def missing_keys(client: Any, table: str, keys: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The keys among `keys` that have no item yet."""
    found: set[str] = set()
    names = sorted(keys[0]) if keys else []
    for chunk in _chunks(keys, 100):
        request: dict[str, Any] = {
            table: {
                "Keys": list(chunk),
                "ProjectionExpression": ", ".join(f"#k{i}" for i in range(len(names))),
            }
        }
        request[table]["ExpressionAttributeNames"] = {f"#k{i}": n for i, n in enumerate(names)}
        for attempt in range(10):
            response = client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table, []):
                found.add(json.dumps(item, sort_keys=True))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(0.05 * 2**attempt, 2.0))
    return [key for key in keys if json.dumps(key, sort_keys=True) not in found]


def write_items(
    client: Any, table: str, items: Sequence[dict[str, Any]], progress: Callable[[int], Any]
) -> None:
    for chunk in _chunks(items, 25):
        pending = [{"PutRequest": {"Item": item}} for item in chunk]
        for attempt in range(12):
            response = client.batch_write_item(RequestItems={table: pending})
            pending = (response.get("UnprocessedItems") or {}).get(table) or []
            if not pending:
                break
            time.sleep(min(0.05 * 2**attempt, 2.0))
        else:
            raise CommandError(f"{table}: writes still unprocessed after 12 attempts")
        progress(len(chunk))


def populate(
    client: Any, tables: dict[str, str], users: int, celebrity: str, prefix: str, show_progress: bool = True
) -> dict[str, int]:
    followers = follower_ids(users, celebrity, prefix)
    everyone = [celebrity, *followers]
    user_keys = [{"userId": {"S": u}} for u in everyone]
    follow_keys = [{"userId": {"S": f}, "targetUserId": {"S": celebrity}} for f in followers]
    new_users = {k["userId"]["S"] for k in missing_keys(client, tables["users"], user_keys)}
    new_follows = {k["userId"]["S"] for k in missing_keys(client, tables["follows"], follow_keys)}
    user_items = [user_item(u) for u in everyone if u in new_users]
    follow_items = [follow_item(f, celebrity) for f in followers if f in new_follows]
    with tqdm(
        total=len(user_items) + len(follow_items), unit="item", desc="populating", disable=not show_progress
    ) as bar:
        write_items(client, tables["users"], user_items, bar.update)
        write_items(client, tables["follows"], follow_items, bar.update)
    return {"usersCreated": len(user_items), "followsCreated": len(follow_items), "followers": len(followers)}


def main(args: Any) -> int:
    endpoints = running_stack_endpoints(args.state_dir)
    if args.users < 1:
        raise CommandError("--users must be at least 1")
    client = stack_client(endpoints, "dynamodb")
    deployment = deployment_module.load()
    tables = endpoints.get("tables") or {t: deployment.physical_name(t) for t in ("users", "follows")}
    outcome = populate(client, tables, args.users, args.celebrity, args.prefix, show_progress=not args.quiet)
    print(
        f"{outcome['followers']} users follow {args.celebrity}: "
        f"{outcome['usersCreated']} users and {outcome['followsCreated']} follows created"
    )
    return 0


def main_redrive(args: Any) -> int:
    """Invokes the fanout_redrive function on the running stack and prints what it did."""
    endpoints = running_stack_endpoints(args.state_dir)
    # fanout_redrive may run for its whole 900 s timeout.
    client = stack_client(endpoints, "lambda", config=Config(read_timeout=960))
    response = client.invoke(
        FunctionName=deployment_module.load().physical_name("fanout_redrive"), Payload=b"{}"
    )
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise CommandError(f"redrive failed: {payload}")
    print(json.dumps(payload))
    return 0 if not payload.get("failed") else 1
