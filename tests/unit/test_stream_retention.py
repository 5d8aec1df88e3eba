"""Streams keep 24 hours (moto_patches/dynamodb_stream_retention.py, trimmed by the TTL reaper's
sweep): old records go, sequence numbers stay, and a mapping's poller keeps its place."""

from __future__ import annotations

import time
from types import SimpleNamespace

import boto3
from moto import mock_aws

from arcadeflow.aws.embedded import EmbeddedAws, dynamodb_backend
from arcadeflow.aws.event_sources import StreamPoller
from arcadeflow.aws.moto_patches import REGISTRY
from arcadeflow.aws.ttl import TtlReaper

DAY = 24 * 60 * 60


def _streamed_table() -> tuple[object, str]:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    arn = dynamodb.create_table(
        TableName="follows",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    return dynamodb, arn


def _put(dynamodb: object, *keys: str) -> None:
    for key in keys:
        dynamodb.put_item(TableName="follows", Item={"pk": {"S": key}})  # type: ignore[attr-defined]


def _keys(records: list[dict]) -> list[str]:
    return [r["dynamodb"]["NewImage"]["pk"]["S"] for r in records]


def test_records_older_than_the_retention_go_and_the_rest_keep_their_sequence_numbers() -> None:
    with REGISTRY.installed("dynamodb_stream_retention"), mock_aws():
        dynamodb, _ = _streamed_table()
        _put(dynamodb, "a", "b", "c")
        shard = dynamodb_backend("us-east-1").tables["follows"].stream_shard
        sequence_of_c = shard.items[2].record["dynamodb"]["SequenceNumber"]
        reaper = TtlReaper(EmbeddedAws(0))

        assert reaper.trim_streams(time.time() + DAY - 60) == 0  # a day not yet over: all kept
        # A day after the first two (and, as far as the horizon can tell, the third too):
        assert reaper.trim_streams(time.time() + DAY + 1) == 3
        _put(dynamodb, "d")

        assert [r.record["dynamodb"]["NewImage"]["pk"]["S"] for r in shard.items] == ["d"]
        assert int(shard.items[0].record["dynamodb"]["SequenceNumber"]) == int(sequence_of_c) + 1
        assert reaper.trimmed == 3


def test_a_poller_keeps_its_place_across_a_trim_and_says_what_expired_unread(caplog) -> None:
    with REGISTRY.installed("dynamodb_stream_retention"), mock_aws():
        dynamodb, arn = _streamed_table()
        esm = SimpleNamespace(
            uuid="0123456789abcdef",
            event_source_arn=arn,
            starting_position="TRIM_HORIZON",
            function_name="follows-consumer",
            function_arn="arn:aws:lambda:us-east-1:123456789012:function:follows-consumer",
        )
        poller = StreamPoller(EmbeddedAws(0), esm)
        _put(dynamodb, "a", "b", "c")
        first = poller._records(2)
        poller.position += len(first)  # as run() does once the batch was delivered
        TtlReaper(EmbeddedAws(0)).trim_streams(time.time() + DAY + 1)  # "c" was never read
        _put(dynamodb, "d", "e")

        after = poller._records(10)
        poller.position += len(after)
        _put(dynamodb, "f")
        last = poller._records(10)

    assert _keys(first) == ["a", "b"]
    assert _keys(after) == ["d", "e"]
    assert _keys(last) == ["f"]
    assert "1 stream records of follows expired unread" in caplog.text
