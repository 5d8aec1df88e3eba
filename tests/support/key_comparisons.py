"""Counts moto's DynamoDB key comparisons: what a sort or a skip to ExclusiveStartKey costs."""

from __future__ import annotations

from typing import Any

import pytest


def count_key_comparisons(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on (until monkeypatch undoes it), every DynamoType `<` adds one to the result's [0]."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    counted = [0]
    original = DynamoType.__lt__

    def less_than(self: Any, other: Any) -> bool:
        counted[0] += 1
        return original(self, other)

    monkeypatch.setattr(DynamoType, "__lt__", less_than)
    return counted
