"""Converting between Python values and DynamoDB's typed attribute values."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python dict -> DynamoDB item; None values are left out (DynamoDB has no use for them here)."""
    return {key: _serializer.serialize(value) for key, value in values.items() if value is not None}


def to_value(value: Any) -> dict[str, Any]:
    return _serializer.serialize(value)


def expression_values(**values: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: expression_values(now=1) -> {":now": {"N": "1"}}."""
    return {f":{name}": _serializer.serialize(value) for name, value in values.items()}


def from_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """DynamoDB item -> Python dict, whole numbers as int (every number stored here is one)."""
    if item is None:
        return None
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def from_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A page of DynamoDB items -> Python dicts."""
    return [{key: _plain(_deserializer.deserialize(value)) for key, value in item.items()} for item in items]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def is_conditional_check_failure(error: Exception) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"


def stream_images(record: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(old, new) images of a DynamoDB stream record, as Python dicts (None when absent)."""
    change = record.get("dynamodb") or {}
    return from_item(change.get("OldImage")), from_item(change.get("NewImage"))


class MalformedStreamRecord(ValueError):
    """A stream record without the image its event needs (did the stream view type change?).
    Raised inside a batch, it reports the record as failed so it is redelivered, not dropped."""
