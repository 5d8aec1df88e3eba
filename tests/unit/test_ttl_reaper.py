"""The TTL reaper (arcadeflow/aws/ttl.py) against moto's DynamoDB: what it deletes and how the
deletion looks on the stream."""

from __future__ import annotations

import time

import boto3
from moto import mock_aws

from arcadeflow.aws.embedded import EmbeddedAws, dynamodb_backend
from arcadeflow.aws.moto_patches import REGISTRY
from arcadeflow.aws.moto_patches.dynamodb_ttl_identity import PATCH, TTL_IDENTITY
from arcadeflow.aws.ttl import TtlReaper


def test_expired_items_go_as_removes_by_the_dynamodb_service_and_nothing_else_does() -> None:
    now = time.time()
    with REGISTRY.installed(PATCH.name), mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="presence",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        dynamodb.update_time_to_live(
            TableName="presence", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
        )
        for key, expires in (("expired", now - 5), ("alive", now + 3600)):
            dynamodb.put_item(
                TableName="presence", Item={"pk": {"S": key}, "expiresAt": {"N": str(int(expires))}}
            )
        dynamodb.put_item(TableName="presence", Item={"pk": {"S": "forever"}})

        assert TtlReaper(EmbeddedAws(0)).sweep(now) == 1
        dynamodb.delete_item(TableName="presence", Key={"pk": {"S": "alive"}})  # a user's delete

        remaining = {item["pk"]["S"] for item in dynamodb.scan(TableName="presence")["Items"]}
        records = [r.record for r in dynamodb_backend("us-east-1").tables["presence"].stream_shard.items]
    assert remaining == {"forever"}
    removes = [r for r in records if r["eventName"] == "REMOVE"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in removes] == ["expired", "alive"]
    assert removes[0]["userIdentity"] == TTL_IDENTITY
    assert "userIdentity" not in removes[1]
    assert not [r for r in records if r["eventName"] == "INSERT" and "userIdentity" in r]
