"""The embedded deployer: creates everything in infra/deployment.json on an AWS endpoint.

It speaks plain boto3, so it works against the embedded AWS (and, for tables, inside moto's
in-process `mock_aws` used by functional tests). Terraform creates the same resources on AWS.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from arcadeflow.deployment import Deployment, ResourceRefs, Table

ACCOUNT_ID = "123456789012"
LAMBDA_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/arcadeflow-local"


def table_request(name: str, table: Table) -> dict[str, Any]:
    """The CreateTable request for one table of the description."""
    key_schema = [{"AttributeName": table.partition_key.name, "KeyType": "HASH"}]
    if table.sort_key:
        key_schema.append({"AttributeName": table.sort_key.name, "KeyType": "RANGE"})
    req: dict[str, Any] = {
        "TableName": name,
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in table.attribute_definitions().items()
        ],
    }
    capacity = None
    if table.provisioned:
        req["BillingMode"] = "PROVISIONED"
        capacity = {
            "ReadCapacityUnits": table.provisioned.read,
            "WriteCapacityUnits": table.provisioned.write,
        }
        req["ProvisionedThroughput"] = capacity
    else:
        req["BillingMode"] = "PAY_PER_REQUEST"
    if table.indexes:
        req["GlobalSecondaryIndexes"] = []
        for index_name, index in table.indexes.items():
            schema = [{"AttributeName": index.partition_key.name, "KeyType": "HASH"}]
            if index.sort_key:
                schema.append({"AttributeName": index.sort_key.name, "KeyType": "RANGE"})
            gsi: dict[str, Any] = {
                "IndexName": index_name,
                "KeySchema": schema,
                "Projection": {"ProjectionType": index.projection},
            }
            if capacity:
                gsi["ProvisionedThroughput"] = capacity
            req["GlobalSecondaryIndexes"].append(gsi)
    if table.stream:
        req["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return req


def create_tables(deployment: Deployment, dynamodb: Any) -> dict[str, str]:
    """Create every table (keys, GSIs, stream, TTL). Returns logical -> physical name."""
    names: dict[str, str] = {}
    for logical, table in deployment.tables.items():
        name = deployment.physical_name(logical)
        dynamodb.create_table(**table_request(name, table))
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
        names[logical] = name
    return names


def table_environment(deployment: Deployment, names: dict[str, str]) -> dict[str, str]:
    """The <TABLE>_TABLE variables of every table, for tests that call handlers directly."""
    return {f"{logical.upper()}_TABLE": physical for logical, physical in names.items()}


def placeholder_zip() -> bytes:
    """Lambda wants a code archive; the local runner runs functions/ from the checkout instead."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("README.txt", "arcadeflow runs this function from functions/ in the checkout.\n")
    return buf.getvalue()


def refs_json(refs: ResourceRefs) -> str:
    return json.dumps(refs.model_dump(), indent=2)
