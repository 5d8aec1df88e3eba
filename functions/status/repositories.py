"""DynamoDB access of the status flow: follower pages, feed/story writes and pages. No rules here."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from functions.shared.dynamo import error_code, from_item, from_items, is_conditional_check_failure, to_item
from functions.status.fanout import (
    BATCH_WRITE_LIMIT,
    FeedWriteThrottled,
    Pacer,
    full_jitter_delay,
    write_units,
)

FOLLOWED_BY_INDEX = "FollowedBy"
THROTTLING_ERRORS = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)


class Followers:
    """Who follows an author, read a page at a time from the follows table's FollowedBy index."""

    def __init__(self, client: Any, table_name: str):
        self._client = client
        self._table = table_name

    def page(self, author_id: str, after: str | None, limit: int) -> tuple[list[str], bool]:
        """Up to `limit` follower ids after `after`, in id order, and whether more may follow."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": FOLLOWED_BY_INDEX,
            "KeyConditionExpression": "targetUserId = :author",
            "ExpressionAttributeValues": {":author": {"S": author_id}},
            "ProjectionExpression": "userId",
            "Limit": limit,
        }
        if after is not None:
            # The index's key and the table's key are the same two attributes.
            request["ExclusiveStartKey"] = {"targetUserId": {"S": author_id}, "userId": {"S": after}}
        response = self._client.query(**request)
        ids = [item["userId"]["S"] for item in response.get("Items", [])]
        return ids, "LastEvaluatedKey" in response


class ListingWriter:
    """Writes listing items (feed or story) 25 a request, paced, retrying what DynamoDB leaves
    unprocessed with exponential backoff and full jitter. Every write is a plain put of a key
    derived from the status, so repeating any of it rewrites the same items."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        max_attempts: int = 8,
        backoff_base: float = 0.05,
        backoff_cap: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._client = client
        self._table = table_name
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self.retried_requests = 0

    def put(self, item: Mapping[str, Any]) -> None:
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def write_all(self, items: Sequence[Mapping[str, Any]], pacer: Pacer) -> int:
        written = 0
        for start in range(0, len(items), BATCH_WRITE_LIMIT):
            batch = items[start : start + BATCH_WRITE_LIMIT]
            pacer.acquire(sum(write_units(item) for item in batch))
            self._write_batch([{"PutRequest": {"Item": to_item(item)}} for item in batch])
            written += len(batch)
        return written

    def _write_batch(self, requests: list[dict[str, Any]]) -> None:
        pending = requests
        for attempt in range(self._max_attempts):
            try:
                response = self._client.batch_write_item(RequestItems={self._table: pending})
                pending = (response.get("UnprocessedItems") or {}).get(self._table) or []
            except ClientError as exc:
                if error_code(exc) not in THROTTLING_ERRORS:
                    raise
            if not pending:
                return
            self.retried_requests += 1
            if attempt + 1 < self._max_attempts:
                self._sleep(full_jitter_delay(attempt, self._backoff_base, self._backoff_cap))
        raise FeedWriteThrottled(
            f"{len(pending)} of {len(requests)} writes to {self._table} still throttled "
            f"after {self._max_attempts} attempts"
        )


class Listings:
    """Reads a feed or a story newest first, a page at a time."""

    def __init__(self, client: Any, table_name: str):
        self._client = client
        self._table = table_name

    def page(self, owner: str, before: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Items of `owner` older than the sort key `before`, newest first, and the sort key to
        continue from (None at the end)."""
        values: dict[str, Any] = {":owner": {"S": owner}}
        condition = "userAlias = :owner"
        if before is not None:
            condition += " AND #timestamp < :before"
            values[":before"] = {"S": before}
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if before is not None:
            request["ExpressionAttributeNames"] = {"#timestamp": "timestamp"}
        response = self._client.query(**request)
        items = from_items(response.get("Items", []))
        last = response.get("LastEvaluatedKey")
        return items, (last["timestamp"]["S"] if last else None)

    def get(self, owner: str, timestamp: str) -> dict[str, Any] | None:
        item = self._client.get_item(
            TableName=self._table, Key={"userAlias": {"S": owner}, "timestamp": {"S": timestamp}}
        ).get("Item")
        return from_item(item) if item else None


class PostClaims:
    """Remembers, for 24 hours, when a status posted with an Idempotency-Key was first posted, so
    a retry reuses its time (hence its story and feed keys) instead of posting it again."""

    PREFIX = "status-post#"
    LIFETIME_SECONDS = 24 * 3600

    def __init__(self, client: Any, table_name: str):
        self._client = client
        self._table = table_name

    def claim(self, status_id: str, posted_at: str, fingerprint: str, now_epoch: int) -> dict[str, Any]:
        """The claim that stands: this one if it is the first, else the earlier one."""
        record = {
            "id": self.PREFIX + status_id,
            "postedAt": posted_at,
            "fingerprint": fingerprint,
            "expiration": now_epoch + self.LIFETIME_SECONDS,
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(record),
                # TTL deletes late: an expired claim counts as absent.
                ConditionExpression="attribute_not_exists(id) OR expiration < :now",
                ExpressionAttributeValues={":now": {"N": str(now_epoch)}},
            )
            return record
        except ClientError as exc:
            if not is_conditional_check_failure(exc):
                raise
        item = self._client.get_item(
            TableName=self._table, Key={"id": {"S": self.PREFIX + status_id}}, ConsistentRead=True
        ).get("Item")
        return from_item(item) or record
