"""Canaries of the response-layer speed patches (arcadeflow/aws/moto_patches/response_speed.py).

Each canary shows, without the patch, the cost the patch removes (a call count); beside it, the
same work with the patch gives moto's own answer, byte for byte.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from arcadeflow.aws.moto_patches import REGISTRY, registry

REGION = "us-east-1"


@contextmanager
def without(name: str) -> Iterator[None]:
    with REGISTRY.uninstalled(name):
        yield


@contextmanager
def with_patch(name: str) -> Iterator[None]:
    with REGISTRY.installed(name):
        yield


def fixed_upstream(name: str) -> str:
    return (
        f"moto {registry.installed_moto_version()} no longer shows the cost that patch {name} removes: "
        "remove the patch from arcadeflow/aws/moto_patches/"
    )


# --- response_method_names_cache ------------------------------------------------------------


def _dynamodb_calls(calls: int) -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        for _ in range(calls):
            dynamodb.list_tables()


def test_canary_response_method_names_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto inspects the response class's members on every request it answers."""
    from moto.core import responses, utils

    inspected = [0]

    def counted(clazz: Any) -> list[str]:
        inspected[0] += 1
        return utils.method_names_from_class(clazz)

    with without("response_method_names_cache"):
        monkeypatch.setattr(responses, "method_names_from_class", counted)
        _dynamodb_calls(5)
    assert inspected[0] >= 5, fixed_upstream("response_method_names_cache")


def test_response_method_names_cache_inspects_a_class_once_and_again_when_it_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.core import responses, utils
    from moto.dynamodb.responses import DynamoHandler

    inspected = [0]
    original = utils.method_names_from_class

    def counted(clazz: Any) -> list[str]:
        inspected[0] += 1
        return original(clazz)

    monkeypatch.setattr(utils, "method_names_from_class", counted)
    with with_patch("response_method_names_cache"):
        first = responses.method_names_from_class(DynamoHandler)
        assert responses.method_names_from_class(DynamoHandler) == first == original(DynamoHandler)
        assert inspected[0] == 1
        # A patch that adds an action's method at run time is seen at the next request.
        monkeypatch.setattr(DynamoHandler, "an_action_added_later", lambda self: None, raising=False)
        assert "an_action_added_later" in responses.method_names_from_class(DynamoHandler)
        monkeypatch.delattr(DynamoHandler, "an_action_added_later")
        assert "an_action_added_later" not in responses.method_names_from_class(DynamoHandler)
        _dynamodb_calls(3)  # moto's answers still find their methods


# --- dynamodb_attribute_value_serialization -------------------------------------------------

# Every kind of value DynamoDB has, nested, with the edge cases the serializer treats specially.
RICH_ITEM = {
    "pk": {"S": "user#1"},
    "sk": {"N": "17"},
    "empty": {"S": ""},
    "blob": {"B": base64.b64encode(b"\x00\x01binary").decode()},
    "tags": {"SS": ["a", "b"]},
    "scores": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [base64.b64encode(b"x").decode()]},
    "nothing": {"NULL": True},
    "flag": {"BOOL": False},
    "profile": {
        "M": {
            "name": {"S": "Ada"},
            "inner": {"M": {"deep": {"L": [{"S": "x"}, {"N": "1"}, {"BOOL": True}]}}},
            "avatar": {"B": base64.b64encode(b"png").decode()},
        }
    },
    "history": {"L": [{"M": {"at": {"N": "1"}}}, {"L": []}, {"M": {}}]},
}


def _serialized_query(items: list[dict[str, Any]]) -> str:
    """moto's JSON serializer's answer to a Query returning these items, as the server builds it."""
    from moto.core.serialize import JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    operation = get_service_model("dynamodb").operation_model("Query")
    serializer = JSONSerializer(operation_model=operation, value_picker=XFormedAttributePicker())
    result = {"Items": items, "Count": len(items), "ScannedCount": len(items), "LastEvaluatedKey": items[0]}
    body = serializer.serialize(result)["body"]
    assert isinstance(body, str)
    return body


def _lookups(monkeypatch: pytest.MonkeyPatch, items: list[dict[str, Any]]) -> int:
    """How many member lookups (ResponseSerializer.get_value) serializing these items takes."""
    from moto.core.serialize import ResponseSerializer

    count = [0]
    original = ResponseSerializer.get_value

    def counted(self: Any, value: Any, key: str, shape: Any) -> Any:
        count[0] += 1
        return original(self, value, key, shape)

    with monkeypatch.context() as patched:
        patched.setattr(ResponseSerializer, "get_value", counted)
        _serialized_query(items)
    return count[0]


def test_canary_dynamodb_attribute_value_serialization(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's serializer looks up each of a value's ten members, for every value it writes."""
    values = len(RICH_ITEM) * 20
    with without("dynamodb_attribute_value_serialization"):
        lookups = _lookups(monkeypatch, [RICH_ITEM] * 20)
    assert lookups >= values * 10, fixed_upstream("dynamodb_attribute_value_serialization")


def test_dynamodb_attribute_value_serialization_answers_moto_s_bytes_with_fewer_lookups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Beside every kind of value: a value of a type the serializer converts, a key it would not pick.
    items = [RICH_ITEM, {"pk": {"S": "2"}, "odd": {"S": 5}}, {"pk": {"S": "3"}, "lower": {"s": "x"}}]
    with without("dynamodb_attribute_value_serialization"):
        reference = _serialized_query(items)
        before = _lookups(monkeypatch, [RICH_ITEM] * 20)
    with with_patch("dynamodb_attribute_value_serialization"):
        assert _serialized_query(items) == reference
        after = _lookups(monkeypatch, [RICH_ITEM] * 20)
    assert after < before / 5


def test_dynamodb_attribute_value_serialization_through_the_api() -> None:
    """A round trip of every kind of value through moto with the patch gives back what was put."""
    with with_patch("dynamodb_attribute_value_serialization"), mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName="items",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        item = {k: v for k, v in RICH_ITEM.items() if k not in ("sk", "blob", "blobs", "profile")}
        item["bytes"] = {"B": b"\x00raw"}
        dynamodb.put_item(TableName="items", Item=item)
        got = dynamodb.get_item(TableName="items", Key={"pk": {"S": "user#1"}})["Item"]
        assert got["bytes"] == {"B": b"\x00raw"}
        assert {k: v for k, v in got.items() if k != "bytes"} == {
            k: v for k, v in item.items() if k != "bytes"
        }
