"""Emulated provisioned write capacity for DynamoDB tables on the embedded AWS.

moto stores a table's ProvisionedThroughput and never enforces it. This interceptor meters the
writes of the tables it is given (`arcadeflow up --table-wcu feed=100`) the way DynamoDB does:

- a write costs 1 WCU per started KB of the item (DynamoDB's size rule: attribute names plus
  values); a DeleteItem or UpdateItem costs the size of the stored item, at least 1;
- each table has a token bucket refilled at its WCU per second. It holds one second of capacity
  plus `burst_seconds` of unused capacity (DynamoDB keeps up to 300 s; 0 makes the limit exact,
  which the benchmark uses to compare against the physical floor);
- PutItem/UpdateItem/DeleteItem beyond the bucket fail with ProvisionedThroughputExceededException
  (HTTP 400, AWS's JSON error shape); BatchWriteItem writes what fits, in request order, and
  returns the rest as UnprocessedItems, or fails whole with that exception when nothing fits;
- UpdateTable with a new WriteCapacityUnits changes the rate at once, so tests and operators
  can scale a table as they would on AWS.

Reads and TransactWriteItems are not metered.
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from arcadeflow.aws.interceptor import Forward, Response

DEFAULT_BURST_SECONDS = 300.0
_TARGET_PREFIX = "DynamoDB_20120810."
_THROTTLED_MESSAGE = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)


def attribute_value_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value in its JSON wire form."""
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        # Numbers take about one byte per two significant digits, plus one.
        digits = inner.lstrip("-").replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return math.ceil(len(inner) * 3 / 4)  # base64 on the wire
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(attribute_value_size({"N": n}) for n in inner)
    if kind == "BS":
        return sum(math.ceil(len(b) * 3 / 4) for b in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_value_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(attribute_value_size(v) + 1 for v in inner)
    return 0


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_value_size(value) for name, value in item.items())


def write_units(item: dict[str, Any] | None) -> int:
    """WCU of writing (or deleting) this item: one per started KB, at least one."""
    if not item:
        return 1
    return max(1, math.ceil(item_size(item) / 1024))


class TokenBucket:
    """Write capacity of one table: `rate` units a second, holding at most `capacity` units."""

    def __init__(self, rate: float, burst_seconds: float, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self.burst_seconds = burst_seconds
        self.rate = float(rate)
        self._tokens = self.capacity
        self._updated = clock()

    @property
    def capacity(self) -> float:
        return self.rate * (1.0 + self.burst_seconds)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def set_rate(self, rate: float) -> None:
        with self._lock:
            self._refill()
            self.rate = float(rate)
            self._tokens = min(self._tokens, self.capacity)

    def take(self, units: float) -> bool:
        """Consume `units` if the bucket holds them; all or nothing."""
        with self._lock:
            self._refill()
            if self._tokens >= units:
                self._tokens -= units
                return True
            return False

    def available(self) -> float:
        with self._lock:
            self._refill()
            return self._tokens


@dataclass
class ThrottleCounts:
    throttled_requests: int = 0
    unprocessed_items: int = 0


class ProvisionedCapacity:
    """The interceptor: install with `aws.interceptors.insert(0, capacity.intercept)`.

    `forward(environ, body)` hands a (possibly rewritten) request on to moto and returns its
    response, so a batch can be cut down to what the capacity admits.
    """

    def __init__(
        self,
        write_capacity: dict[str, int],
        forward: Callable[[dict[str, Any], bytes], Response],
        burst_seconds: float = DEFAULT_BURST_SECONDS,
        stored_item: Callable[[str, dict[str, Any]], dict[str, Any] | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._forward = forward
        self._stored_item = stored_item or (lambda table, key: None)
        self.burst_seconds = burst_seconds
        self.buckets = {
            table: TokenBucket(wcu, burst_seconds, clock) for table, wcu in write_capacity.items()
        }
        self.counts = {table: ThrottleCounts() for table in write_capacity}

    def intercept(self, environ: dict[str, Any], body: bytes) -> Response | None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(_TARGET_PREFIX) or not self.buckets:
            return None
        action = target[len(_TARGET_PREFIX) :]
        handler = {
            "PutItem": self._single_write,
            "UpdateItem": self._single_write,
            "DeleteItem": self._single_write,
            "BatchWriteItem": self._batch_write,
            "UpdateTable": self._update_table,
        }.get(action)
        if handler is None:
            return None
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return None  # moto answers a malformed request itself
        return handler(action, request, environ, body)

    # --- writes -------------------------------------------------------------------------------

    def _cost(self, action: str, table: str, request: dict[str, Any]) -> int:
        if action == "PutItem":
            return write_units(request.get("Item"))
        return write_units(self._stored_item(table, request.get("Key") or {}))

    def _single_write(
        self, action: str, request: dict[str, Any], environ: dict, body: bytes
    ) -> Response | None:
        table = request.get("TableName", "")
        bucket = self.buckets.get(table)
        if bucket is None:
            return None
        if not bucket.take(self._cost(action, table, request)):
            self.counts[table].throttled_requests += 1
            return throttled()
        return None

    def _batch_write(
        self, action: str, request: dict[str, Any], environ: dict, body: bytes
    ) -> Response | None:
        request_items: dict[str, list[dict[str, Any]]] = request.get("RequestItems") or {}
        if not any(table in self.buckets for table in request_items):
            return None
        admitted: dict[str, list[dict[str, Any]]] = {}
        unprocessed: dict[str, list[dict[str, Any]]] = {}
        for table, writes in request_items.items():
            bucket = self.buckets.get(table)
            if bucket is None:
                admitted[table] = writes
                continue
            for position, write in enumerate(writes):
                if "PutRequest" in write:
                    units = write_units(write["PutRequest"].get("Item"))
                else:
                    units = write_units(
                        self._stored_item(table, write.get("DeleteRequest", {}).get("Key", {}))
                    )
                if not bucket.take(units):
                    # DynamoDB leaves the rest of a throttled table's writes unprocessed.
                    unprocessed[table] = writes[position:]
                    self.counts[table].unprocessed_items += len(writes) - position
                    break
                admitted.setdefault(table, []).append(write)
        if not unprocessed:
            return None
        if not admitted:
            for table in unprocessed:
                self.counts[table].throttled_requests += 1
            return throttled()
        return forward_admitted_writes(self._forward, environ, request, admitted, unprocessed)

    # --- scaling ------------------------------------------------------------------------------

    def _update_table(
        self, action: str, request: dict[str, Any], environ: dict, body: bytes
    ) -> Response | None:
        table = request.get("TableName", "")
        wcu = (request.get("ProvisionedThroughput") or {}).get("WriteCapacityUnits")
        if table in self.buckets and isinstance(wcu, int) and wcu >= 1:
            status, headers, payload = self._forward(environ, body)
            if status == 200:
                self.buckets[table].set_rate(wcu)
            return status, headers, payload
        return None

    def set_write_capacity(self, table: str, wcu: int) -> None:
        self.buckets[table].set_rate(wcu)


def throttled() -> Response:
    payload = {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": _THROTTLED_MESSAGE,
    }
    return 400, error_headers(), json.dumps(payload).encode()


def error_headers() -> dict[str, str]:
    # DynamoDB sends a request id with every answer; moto's Step Functions interpreter reads it
    # from an error (a DynamoDB task failed with States.Runtime KeyError('RequestId') without it).
    return {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": uuid.uuid4().hex.upper()}


def stored_item_reader(region: str) -> Callable[[str, dict[str, Any]], dict[str, Any] | None]:
    """Reads the stored item (wire form) straight from moto's backend, to price a delete/update."""

    def read(table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        from arcadeflow.aws.embedded import dynamodb_backend

        try:
            table = dynamodb_backend(region).get_table(table_name)
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            item = table.get_item(hash_value, range_value)
        except Exception:  # an invalid key: moto rejects the request itself
            return None
        return item.to_json()["Attributes"] if item else None

    return read


def forward_admitted_writes(
    forward: Forward,
    environ: dict[str, Any],
    request: dict[str, Any],
    admitted: dict[str, list[Any]],
    unprocessed: dict[str, list[Any]],
) -> Response:
    """A BatchWriteItem of only the admitted writes, answered with the held-back ones added to
    its UnprocessedItems, as DynamoDB answers a partly throttled batch."""
    status, headers, payload = forward(environ, json.dumps({**request, "RequestItems": admitted}).encode())
    if status != 200:
        return status, headers, payload
    answer = json.loads(payload or b"{}")
    merged = answer.get("UnprocessedItems") or {}
    for table, writes in unprocessed.items():
        merged.setdefault(table, []).extend(writes)
    answer["UnprocessedItems"] = merged
    out = json.dumps(answer).encode()
    return 200, {"Content-Type": headers.get("Content-Type", "application/x-amz-json-1.0")}, out
