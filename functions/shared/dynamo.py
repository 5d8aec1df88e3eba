"""Converting between Python values and DynamoDB's typed attribute values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Python dict -> DynamoDB item; None values are left out (DynamoDB has no use for them here)."""
    return {key: _serializer.serialize(value) for key, value in values.items() if value is not None}


def to_value(value: Any) -> dict[str, Any]:
    return _serializer.serialize(value)


def from_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """DynamoDB item -> Python dict, whole numbers as int (every number stored here is one)."""
    if item is None:
        return None
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def is_conditional_check_failure(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
