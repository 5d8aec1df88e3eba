"""The emulated provisioned capacity throttles as DynamoDB does (no network: moto is faked)."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from botocore.session import get_session

from arcadeflow.aws.capacity import ProvisionedCapacity, TokenBucket, throttled


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _put(n: int) -> dict:
    return {"PutRequest": {"Item": {"userAlias": {"S": f"u{n}"}, "timestamp": {"S": "t"}}}}


def _request(action: str, body: dict) -> tuple[dict, bytes]:
    return {"HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{action}"}, json.dumps(body).encode()


class FakeMoto:
    def __init__(self) -> None:
        self.requests: list[dict] = []

    def __call__(self, environ: dict, body: bytes):
        self.requests.append(json.loads(body))
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, b'{"UnprocessedItems": {}}'


def test_a_bucket_refills_at_its_rate_and_holds_its_burst():
    clock = FakeClock()
    bucket = TokenBucket(10, burst_seconds=0, clock=clock)
    assert bucket.take(10) and not bucket.take(1)
    clock.now = 0.5
    assert bucket.take(5) and not bucket.take(1)
    clock.now = 100.0
    assert bucket.available() == 10  # no burst: one second of capacity at most
    assert TokenBucket(10, burst_seconds=300, clock=clock).available() == 3010


def test_a_batch_beyond_capacity_writes_what_fits_and_returns_the_rest_unprocessed():
    clock, moto = FakeClock(), FakeMoto()
    capacity = ProvisionedCapacity({"feed": 10}, forward=moto, burst_seconds=0, clock=clock)
    writes = [_put(n) for n in range(25)]

    status, _, payload = capacity.intercept(*_request("BatchWriteItem", {"RequestItems": {"feed": writes}}))

    assert status == 200
    assert moto.requests[0]["RequestItems"]["feed"] == writes[:10]
    assert json.loads(payload)["UnprocessedItems"]["feed"] == writes[10:]
    assert capacity.counts["feed"].unprocessed_items == 15


def test_nothing_fits_is_a_provisioned_throughput_exceeded_error():
    clock, moto = FakeClock(), FakeMoto()
    capacity = ProvisionedCapacity({"feed": 1}, forward=moto, burst_seconds=0, clock=clock)
    assert (
        capacity.intercept(*_request("PutItem", {"TableName": "feed", "Item": _put(1)["PutRequest"]["Item"]}))
        is None
    )

    status, _, payload = capacity.intercept(
        *_request("BatchWriteItem", {"RequestItems": {"feed": [_put(2)]}})
    )
    single = capacity.intercept(
        *_request("PutItem", {"TableName": "feed", "Item": _put(3)["PutRequest"]["Item"]})
    )

    assert status == 400 and json.loads(payload)["__type"].endswith("#ProvisionedThroughputExceededException")
    assert single is not None and single[0] == 400
    assert not moto.requests


def test_other_tables_and_reads_pass_through_unmetered():
    moto = FakeMoto()
    capacity = ProvisionedCapacity({"feed": 1}, forward=moto, burst_seconds=0, clock=FakeClock())
    assert (
        capacity.intercept(*_request("BatchWriteItem", {"RequestItems": {"story": [_put(1)] * 25}})) is None
    )
    assert capacity.intercept(*_request("Query", {"TableName": "feed"})) is None


def test_update_table_changes_the_rate():
    clock, moto = FakeClock(), FakeMoto()
    capacity = ProvisionedCapacity({"feed": 1}, forward=moto, burst_seconds=0, clock=clock)
    update = {
        "TableName": "feed",
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 50},
    }

    assert capacity.intercept(*_request("UpdateTable", update))[0] == 200
    clock.now = 1.0

    assert capacity.buckets["feed"].rate == 50
    assert capacity.buckets["feed"].available() == 50


def test_a_throttled_answer_reads_as_dynamodbs_own_with_a_request_id():
    """moto's Step Functions interpreter names a failed dynamodb:* task from the ClientError,
    reading its RequestId: without one a throttled task failed as States.Runtime, unretried."""
    status, headers, payload = throttled()
    model = get_session().get_service_model("dynamodb").operation_model("UpdateItem")
    parsed = create_parser("json").parse(
        # HTTP header names are case-insensitive; botocore looks them up in lower case.
        {"status_code": status, "headers": {k.lower(): v for k, v in headers.items()}, "body": payload},
        model.output_shape,
    )
    error = ClientError(parsed, "UpdateItem")
    assert error.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert error.response["ResponseMetadata"]["RequestId"]
