"""Makes moto's DynamoDB Query and TransactWriteItems cost what they cost on DynamoDB.

## Query

moto 5.2.5 answers every Query by sorting the whole table (Table.all_items sorts every item by
its keys, comparing DynamoType objects in Python) and then filtering it. A page of a feed or of
a celebrity's followers then costs O(n log n) in the size of the table: ~250 ms for a page of
10,000 followers, ~90 ms for a 20-item feed page once the feed table holds 20,000 items. Both
are on the path of the status fan-out, so the numbers would measure moto, not the design.

Inside Query only, this patch makes all_items
- return just the queried partition for a table query (moto filters to it anyway), and
- skip the whole-table sort (Query sorts the matching items itself afterwards),
and sorts index results by plain Python key values instead of DynamoType comparisons.
Results, order, paging and LastEvaluatedKey are moto's own: only the work before them changes.

## TransactWriteItems
moto deep-copies every table a transaction touches before applying it, to roll back on failure:
~270 ms per transaction once the users table holds 10,000 users, so the follows stream's
consumer (one transaction per follow) needed most of an hour after `arcadeflow populate` and
held a core meanwhile. The patch gives moto's rollback a snapshot of just the items the
transaction names (and of each stream's length, so a rolled-back write leaves no record),
restored the same way: the transaction's outcome is moto's own.
"""

from __future__ import annotations

import copy
import threading
from decimal import Decimal
from typing import Any

_scope = threading.local()
_transaction_lock = threading.Lock()


def _plain(value: Any) -> Any:
    if value is None:
        return (0, "")
    if value.type == "N":
        return (1, Decimal(value.value))
    return (2, value.value)


def install() -> None:
    _install_query()
    _install_transactions()


def _install_query() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_arcadeflow", False):
        return
    original_query = Table.query
    original_all_items = Table.all_items

    def all_items(self: Table) -> list[Any]:
        scoped = getattr(_scope, "query", None)
        if scoped is None or scoped[0] is not self:
            return original_all_items(self)
        _, hash_key = scoped
        if hash_key is not None:
            partition = self.items.get(hash_key)
            if partition is None:
                return []
            return list(partition.values()) if self.range_key_attr else [partition]
        items: list[Any] = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)
        return items

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # index_name is Query's 8th parameter; the backend passes it positionally.
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        partition = hash_key if index_name is None else None
        previous = getattr(_scope, "query", None)
        _scope.query = (self, partition)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _scope.query = previous

    def sorted_items(
        self: Table, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]
    ) -> list[Any]:
        attrs = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        items.sort(key=lambda item: tuple(_plain(item.attrs.get(attr)) for attr in attrs))
        return items

    query._arcadeflow = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.sorted_items = sorted_items  # type: ignore[method-assign]


class _ItemSnapshot:
    """Stands in for moto's deep copy of a table: restores only the named items and the stream."""

    def __init__(self, table: Any, keys: list[tuple[Any, Any]]):
        self.table = table
        self.stream_length = len(table.stream_shard.items) if table.stream_shard is not None else None
        self.items: list[tuple[Any, Any, Any]] = []
        for hash_key, range_key in keys:
            current = table.get_item(hash_key, range_key)
            self.items.append((hash_key, range_key, copy.deepcopy(current) if current else None))

    def restore(self) -> None:
        table = self.table
        for hash_key, range_key, item in self.items:
            if table.range_key_attr is None:
                if item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
                continue
            partition = table.items.get(hash_key)
            if item is None:
                if partition is not None:
                    partition.pop(range_key, None)
                    if not partition:
                        table.items.pop(hash_key, None)
            else:
                table.items.setdefault(hash_key, {})[range_key] = item
        if self.stream_length is not None and table.stream_shard is not None:
            del table.stream_shard.items[self.stream_length :]


def _install_transactions() -> None:
    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType

    if getattr(DynamoDBBackend.transact_write_items, "_arcadeflow", False):
        return
    original = DynamoDBBackend.transact_write_items

    def keys_by_table(self: Any, transact_items: list[dict[str, Any]]) -> dict[str, list[tuple[Any, Any]]]:
        out: dict[str, list[tuple[Any, Any]]] = {}
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            attrs = op.get("Key") or op.get("Item") or {}
            if table.hash_key_attr not in attrs:
                continue
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_attr = table.range_key_attr
            range_key = DynamoType(attrs[range_attr]) if range_attr and range_attr in attrs else None
            out.setdefault(table.name, []).append((hash_key, range_key))
        return out

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshots = [
            _ItemSnapshot(self.tables[n], keys) for n, keys in keys_by_table(self, transact_items).items()
        ]
        tables = {id(snapshot.table) for snapshot in snapshots}
        real_copy = dynamodb_models.copy

        class _NoTableCopy:
            """moto's own backup becomes the live table (its rollback a no-op); ours restores."""

            copy = staticmethod(real_copy.copy)

            @staticmethod
            def deepcopy(value: Any, *args: Any) -> Any:
                return value if id(value) in tables else real_copy.deepcopy(value, *args)

        with _transaction_lock:
            dynamodb_models.copy = _NoTableCopy  # type: ignore[assignment]
            try:
                return original(self, transact_items)
            except Exception:
                for snapshot in snapshots:
                    snapshot.restore()
                raise
            finally:
                dynamodb_models.copy = real_copy

    transact_write_items._arcadeflow = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
