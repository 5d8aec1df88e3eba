"""The embedded runtime's faster Query (arcadeflow/aws/moto_patches/dynamodb_speed.py) answers as moto does.

Random tables (with and without a sort key, a global index with and without a sort key, ALL or
KEYS_ONLY) take random writes of every kind - PutItem, UpdateItem moving an item between index
partitions or out of the index, DeleteItem, BatchWriteItem, TransactWriteItems (committed and
rolled back), a TTL-style delete straight on the backend - between queries. Every query is paged
to the end with random limits and directions, once through the patched path and once through
moto's own code, and every page must be the same: items, order, counts, LastEvaluatedKey.
"""

from __future__ import annotations

import itertools
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from arcadeflow.aws.moto_patches import REGISTRY, dynamodb_speed
from tests.support.key_comparisons import count_key_comparisons


@pytest.fixture(autouse=True, scope="module")
def _speed_patch_installed():
    """Installed for this module's tests only, and uninstalled after (never at import time)."""
    with REGISTRY.installed(dynamodb_speed.PATCH.name):
        yield


PKS = ["a", "b", "c", "d"]
SKS = ["1", "2", "3"]
GS = ["x", "y", "z"]
RS = [0, 1, 2, 3]

schemas = st.fixed_dictionaries(
    {
        "table_range": st.booleans(),
        "index_range": st.sampled_from([None, "N", "S"]),
        "projection": st.sampled_from(["ALL", "KEYS_ONLY"]),
    }
)


def key_of(schema: dict[str, Any], pk: str, sk: str) -> dict[str, Any]:
    key = {"pk": {"S": pk}}
    if schema["table_range"]:
        key["sk"] = {"S": sk}
    return key


def r_value(schema: dict[str, Any], r: int) -> dict[str, Any]:
    return {"N": str(r)} if schema["index_range"] != "S" else {"S": f"r{r}"}


item_fields = st.tuples(
    st.sampled_from(PKS), st.sampled_from(SKS), st.none() | st.sampled_from(GS), st.sampled_from(RS)
)
operations = st.one_of(
    st.tuples(st.just("put"), item_fields),
    st.tuples(st.just("update"), item_fields),
    st.tuples(st.just("delete"), item_fields),
    st.tuples(st.just("batch"), st.lists(st.tuples(st.booleans(), item_fields), min_size=1, max_size=6)),
    st.tuples(st.just("transact"), st.tuples(st.lists(item_fields, min_size=1, max_size=3), st.booleans())),
    st.tuples(st.just("backend_delete"), item_fields),
    st.tuples(
        st.just("query"),
        st.tuples(
            st.sampled_from(GS),
            st.sampled_from([1, 2, 3, 100]),
            st.booleans(),
            st.sampled_from([None, "<", ">=", "between"]),
            st.sampled_from(RS),
        ),
    ),
    st.tuples(
        st.just("table_query"),
        st.tuples(
            st.sampled_from(PKS),
            st.sampled_from([None, 1, 2, 100]),
            st.booleans(),
            st.sampled_from([None, "<", ">=", "between", "begins_with"]),
            st.sampled_from(SKS),
            st.none() | st.sampled_from(["0", *SKS, "4"]),  # a start key, present in the table or not
            st.booleans(),  # a filter expression
        ),
    ),
)


def item_of(schema: dict[str, Any], fields: tuple[str, str, str | None, int]) -> dict[str, Any]:
    pk, sk, g, r = fields
    item = {**key_of(schema, pk, sk), "payload": {"S": f"{pk}{sk}{g}{r}"}, "n": {"N": str(r)}}
    if g is not None:
        item["g"] = {"S": g}
    if schema["index_range"] is not None and r != 3:  # r = 3: the index sort key is absent
        item["r"] = r_value(schema, r)
    return item


def pages(client: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    out, request = [], dict(request)
    for _ in range(100):
        page = client.query(**request)
        page.pop("ResponseMetadata", None)
        out.append(page)
        if "LastEvaluatedKey" not in page:
            return out
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    raise AssertionError("a query that never ends")


def both(client: Any, request: dict[str, Any]) -> None:
    fast = pages(client, request)
    with dynamodb_speed.unpatched_queries():
        reference = pages(client, request)
    assert fast == reference


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=schemas, ops=st.lists(operations, min_size=1, max_size=30))
def test_queries_answer_as_moto_does_after_any_writes(schema: dict[str, Any], ops: list[Any]) -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        key_schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
        attributes = [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ]
        if schema["table_range"]:
            key_schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
            attributes.append({"AttributeName": "sk", "AttributeType": "S"})
        index_schema = [{"AttributeName": "g", "KeyType": "HASH"}]
        if schema["index_range"]:
            index_schema.append({"AttributeName": "r", "KeyType": "RANGE"})
            attributes.append({"AttributeName": "r", "AttributeType": schema["index_range"]})
        client.create_table(
            TableName="t",
            KeySchema=key_schema,
            AttributeDefinitions=attributes,
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "ByG",
                    "KeySchema": index_schema,
                    "Projection": {"ProjectionType": schema["projection"]},
                }
            ],
        )
        both(
            client,
            {
                "TableName": "t",
                "IndexName": "ByG",
                "KeyConditionExpression": "g = :g",
                "ExpressionAttributeValues": {":g": {"S": "x"}},
            },
        )  # builds the index map early
        for kind, args in ops:
            if kind == "put":
                client.put_item(TableName="t", Item=item_of(schema, args))
            elif kind == "update":
                pk, sk, g, r = args
                if g is None:
                    expression, values = "REMOVE g SET n = :n", {":n": {"N": str(r)}}
                else:
                    expression, values = "SET g = :g, n = :n", {":g": {"S": g}, ":n": {"N": str(r)}}
                client.update_item(
                    TableName="t",
                    Key=key_of(schema, pk, sk),
                    UpdateExpression=expression,
                    ExpressionAttributeValues=values,
                )
            elif kind == "delete":
                client.delete_item(TableName="t", Key=key_of(schema, args[0], args[1]))
            elif kind == "batch":
                writes, seen = [], set()
                for is_put, fields in args:
                    key = (fields[0], fields[1] if schema["table_range"] else "")
                    if key in seen:
                        continue  # one write per key a request, as DynamoDB requires
                    seen.add(key)
                    if is_put:
                        writes.append({"PutRequest": {"Item": item_of(schema, fields)}})
                    else:
                        writes.append({"DeleteRequest": {"Key": key_of(schema, fields[0], fields[1])}})
                client.batch_write_item(RequestItems={"t": writes})
            elif kind == "transact":
                fields_list, fail = args
                unique = {(f[0], f[1] if schema["table_range"] else ""): f for f in fields_list}
                writes = [{"Put": {"TableName": "t", "Item": item_of(schema, f)}} for f in unique.values()]
                if fail:
                    writes[-1]["Put"]["ConditionExpression"] = (
                        "attribute_not_exists(pk) AND attribute_exists(pk)"
                    )
                try:
                    client.transact_write_items(TransactItems=writes)
                except ClientError as exc:
                    assert fail, exc
            elif kind == "backend_delete":
                from moto.dynamodb.models import dynamodb_backends

                backend = dynamodb_backends["123456789012"]["us-east-1"]
                backend.delete_item("t", key_of(schema, args[0], args[1]))
            elif kind == "query":
                g, limit, forward, comparison, r = args
                request: dict[str, Any] = {
                    "TableName": "t",
                    "IndexName": "ByG",
                    "Limit": limit,
                    "ScanIndexForward": forward,
                    "KeyConditionExpression": "g = :g",
                    "ExpressionAttributeValues": {":g": {"S": g}},
                }
                if comparison and schema["index_range"]:
                    values = request["ExpressionAttributeValues"]
                    values[":r"] = r_value(schema, r)
                    if comparison == "between":
                        values[":r2"] = r_value(schema, min(r + 1, 3))
                        request["KeyConditionExpression"] += " AND r BETWEEN :r AND :r2"
                    else:
                        request["KeyConditionExpression"] += f" AND r {comparison} :r"
                both(client, request)
            else:
                pk, limit, forward, comparison, sk, start, filtered = args
                request = {
                    "TableName": "t",
                    "ScanIndexForward": forward,
                    "KeyConditionExpression": "pk = :p",
                    "ExpressionAttributeValues": {":p": {"S": pk}},
                }
                if limit is not None:
                    request["Limit"] = limit
                values = request["ExpressionAttributeValues"]
                if comparison and schema["table_range"]:
                    values[":s"] = {"S": sk}
                    if comparison == "between":
                        values[":s2"] = {"S": str(min(int(sk) + 1, 3))}
                        request["KeyConditionExpression"] += " AND sk BETWEEN :s AND :s2"
                    elif comparison == "begins_with":
                        request["KeyConditionExpression"] += " AND begins_with(sk, :s)"
                    else:
                        request["KeyConditionExpression"] += f" AND sk {comparison} :s"
                if start is not None and schema["table_range"]:
                    request["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": start}}
                if filtered:
                    request["FilterExpression"] = "n < :n"
                    values[":n"] = {"N": "2"}
                both(client, request)
        both(
            client,
            {
                "TableName": "t",
                "IndexName": "ByG",
                "KeyConditionExpression": "g = :g",
                "ExpressionAttributeValues": {":g": {"S": "y"}},
            },
        )


def test_an_index_query_builds_its_map_once_until_the_table_is_written() -> None:
    from moto.dynamodb.models import dynamodb_backends

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "ByG",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        client.put_item(TableName="t", Item={"pk": {"S": "a"}, "g": {"S": "x"}})
        table = dynamodb_backends["123456789012"]["us-east-1"].tables["t"]
        query = {
            "TableName": "t",
            "IndexName": "ByG",
            "KeyConditionExpression": "g = :g",
            "ExpressionAttributeValues": {":g": {"S": "x"}},
        }
        assert client.query(**query)["Count"] == 1
        built = table._arcadeflow_index_partitions["ByG"]
        assert client.query(**query)["Count"] == 1
        assert table._arcadeflow_index_partitions["ByG"] is built
        client.update_item(
            TableName="t",
            Key={"pk": {"S": "a"}},
            UpdateExpression="SET g = :y",
            ExpressionAttributeValues={":y": {"S": "y"}},
        )
        assert "ByG" not in table._arcadeflow_index_partitions
        assert client.query(**query)["Count"] == 0


@pytest.mark.parametrize("bypass", [False, True])
def test_a_start_key_missing_an_attribute_fails_only_where_moto_does(bypass: bool) -> None:
    """moto compares with the start key lazily; so does the faster comparison."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for sk in "123":
            client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": sk}})
        request = {
            "TableName": "t",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "a"}},
            "ExclusiveStartKey": {"pk": {"S": "a"}, "sk": {"S": "1"}},
        }
        if bypass:
            with dynamodb_speed.unpatched_queries():
                assert client.query(**request)["Count"] == 2
        else:
            assert client.query(**request)["Count"] == 2


def create_sorted_table(client: Any, numeric: bool, name: str = "t") -> None:
    """A table keyed by pk (S) and a sort key sk (N or S)."""
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N" if numeric else "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def test_a_deep_page_of_a_big_partition_compares_only_its_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto sorts all 2,000 items (DynamoType comparisons) and compares 1,000 with the start key
    for one page of 50; the patched query bisects the sorted partition to 51 items."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_sorted_table(client, numeric=True, name="feed")
        items = [{"PutRequest": {"Item": {"pk": {"S": "ann"}, "sk": {"N": str(n)}}}} for n in range(2000)]
        for first in range(0, len(items), 25):
            client.batch_write_item(RequestItems={"feed": items[first : first + 25]})
        request = {
            "TableName": "feed",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "ann"}},
            "Limit": 50,
            "ScanIndexForward": False,
            "ExclusiveStartKey": {"pk": {"S": "ann"}, "sk": {"N": "1000"}},
        }
        counted = count_key_comparisons(monkeypatch)
        page = client.query(**request)
        assert [item["sk"]["N"] for item in page["Items"]] == [str(n) for n in range(999, 949, -1)]
        assert page["LastEvaluatedKey"] == {"pk": {"S": "ann"}, "sk": {"N": "950"}}
        assert counted[0] < 200
        fast = counted[0]
        with dynamodb_speed.unpatched_queries():
            assert client.query(**request) | {"ResponseMetadata": None} == page | {"ResponseMetadata": None}
        assert counted[0] - fast > 2000  # moto's own sort of the partition


def test_a_sorted_partition_is_kept_until_the_table_is_written() -> None:
    from moto.dynamodb.models import dynamodb_backends

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_sorted_table(client, numeric=False)
        for sk in "21":
            client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": sk}})
        table = dynamodb_backends["123456789012"]["us-east-1"].tables["t"]
        query = {
            "TableName": "t",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "a"}},
        }
        assert [i["sk"]["S"] for i in client.query(**query)["Items"]] == ["1", "2"]
        (kept,) = table._arcadeflow_sorted_partitions.values()
        client.query(**query)
        assert next(iter(table._arcadeflow_sorted_partitions.values())) is kept
        client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "0"}})
        assert table._arcadeflow_sorted_partitions == {}
        assert [i["sk"]["S"] for i in client.query(**query)["Items"]] == ["0", "1", "2"]


table_queries = st.fixed_dictionaries(
    {
        "limit": st.none() | st.integers(min_value=1, max_value=12),
        "forward": st.booleans(),
        "comparison": st.sampled_from([None, "<", "<=", ">", ">=", "between", "begins_with"]),
        "bound": st.integers(min_value=0, max_value=30),
        "start": st.none() | st.integers(min_value=-1, max_value=31),
        "filtered": st.booleans(),
    }
)


def sort_key(numeric: bool, n: int) -> dict[str, str]:
    return {"N": str(n)} if numeric else {"S": f"{n:02}"}


def partition_table(client: Any, numeric: bool, keys: list[int]) -> None:
    create_sorted_table(client, numeric)
    for n in keys:
        for pk in ("a", "b"):
            item = {"pk": {"S": pk}, "sk": sort_key(numeric, n), "n": {"N": str(n % 3)}}
            client.put_item(TableName="t", Item=item)


def table_query(numeric: bool, query: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {":p": {"S": "a"}}
    request: dict[str, Any] = {
        "TableName": "t",
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": values,
        "ScanIndexForward": query["forward"],
    }
    if query["limit"] is not None:
        request["Limit"] = query["limit"]
    comparison, bound = query["comparison"], query["bound"]
    if comparison == "between":
        values[":lo"], values[":hi"] = sort_key(numeric, bound), sort_key(numeric, bound + 5)
        request["KeyConditionExpression"] += " AND sk BETWEEN :lo AND :hi"
    elif comparison == "begins_with" and not numeric:
        values[":s"] = {"S": str(bound % 3)}
        request["KeyConditionExpression"] += " AND begins_with(sk, :s)"
    elif comparison is not None and comparison != "begins_with":
        values[":s"] = sort_key(numeric, bound)
        request["KeyConditionExpression"] += f" AND sk {comparison} :s"
    if query["start"] is not None:
        request["ExclusiveStartKey"] = {"pk": {"S": "a"}, "sk": sort_key(numeric, query["start"])}
    if query["filtered"]:
        request["FilterExpression"] = "n < :n"
        values[":n"] = {"N": "2"}
    return request


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    numeric=st.booleans(),
    keys=st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=25, unique=True),
    deleted=st.lists(st.integers(min_value=0, max_value=30), max_size=5),
    queries=st.lists(table_queries, min_size=1, max_size=6),
)
def test_table_queries_of_one_partition_answer_as_moto_does(
    numeric: bool, keys: list[int], deleted: list[int], queries: list[dict[str, Any]]
) -> None:
    """The window cut from the sorted partition: random partitions, writes between queries and
    every kind of query page exactly as moto's whole partition."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        partition_table(client, numeric, keys)
        for query in queries:
            for n in deleted:  # a write between queries: the sorted partition is rebuilt
                client.delete_item(TableName="t", Key={"pk": {"S": "a"}, "sk": sort_key(numeric, n)})
            both(client, table_query(numeric, query))


@pytest.mark.parametrize("numeric", [False, True])
def test_every_kind_of_table_query_pages_as_moto_does(numeric: bool) -> None:
    """Each limit (none, one, a few), direction, key condition, bound and start key (none, a key
    in the table, one between its keys) and filter, on one partition of 20 keys 0, 3, 6, ..."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        partition_table(client, numeric, list(range(0, 60, 3)))
        for limit in (None, 1, 4):
            for forward in (True, False):
                for comparison in (None, "<", "<=", ">", ">=", "=", "between", "begins_with"):
                    for bound, start, filtered in itertools.product((20, 21), (None, 30, 31), (False, True)):
                        query = {
                            "limit": limit,
                            "forward": forward,
                            "comparison": comparison,
                            "bound": bound,
                            "start": start,
                            "filtered": filtered,
                        }
                        both(client, table_query(numeric, query))
