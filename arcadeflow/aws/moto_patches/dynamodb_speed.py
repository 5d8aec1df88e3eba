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

A table query with a sort key goes further: its partition, sorted once by the range key's
plain value (what moto's DynamoType comparison compares) and kept until the table is written,
is cut by bisection to the items past ExclusiveStartKey and inside the sort key condition
(<, <=, >, >=, =, BETWEEN) and, when no other filter counts, to Limit + 1 of them (moto
reads one past the limit to decide on LastEvaluatedKey). moto then sorts, checks and pages that
window as it would the whole partition: a feed page below a cursor (`timestamp < :before`) no
longer sorts and compares all 10,000 items of the reader's feed.
Results, order, paging and LastEvaluatedKey are moto's own: only the work before them changes.

An index query gets the same treatment through a per-index partition map (index hash key value
-> the items carrying it), built on the first query of an index and kept until the table is
written: every DynamoDB backend call that is not a pure read (PutItem, UpdateItem, DeleteItem,
the writes of BatchWriteItem, TransactWriteItems and its rollback, PartiQL, UpdateTable, the TTL
reaper's deletes, ...) bumps the written table's version (or every table's, when the call does
not name one), and a map built at an older version is rebuilt. The map only narrows what moto
filters: moto still matches the key conditions, sorts, skips to ExclusiveStartKey and pages.
Skipping to ExclusiveStartKey compares each earlier item with the start key; the start key's
DynamoType values are built once per query instead of twice per item.

## TransactWriteItems
moto deep-copies every table a transaction touches before applying it, to roll back on failure:
~270 ms per transaction once the users table holds 10,000 users, so the follows stream's
consumer (one transaction per follow) needed most of an hour after `arcadeflow populate` and
held a core meanwhile. The patch gives moto's rollback a snapshot of just the items the
transaction names (and of each stream's length, so a rolled-back write leaves no record),
restored the same way: the transaction's outcome is moto's own.
"""

from __future__ import annotations

import bisect
import copy
import threading
from decimal import Decimal
from typing import Any, cast

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_scope = threading.local()
_bypass = threading.local()


class unpatched_queries:  # noqa: N801 - a context manager, reads as a phrase
    """Within it, this thread's queries run moto's own code: the tests' reference answers."""

    def __enter__(self) -> None:
        _bypass.active = True

    def __exit__(self, *exc: object) -> None:
        _bypass.active = False


_transaction_lock = threading.Lock()

# Table.query's parameters as the patch reads them (index_name by position).
QUERY_PARAMETERS = (
    "self",
    "hash_key",
    "range_comparison",
    "range_objs",
    "limit",
    "exclusive_start_key",
    "scan_index_forward",
    "projection_expressions",
    "index_name",
    "consistent_read",
    "filter_expression",
    "hash_key_conditions",
    "range_key_conditions",
    "filter_kwargs",
)
_QUERY_PARAMETER_NAMES = frozenset(QUERY_PARAMETERS)  # any other keyword is a legacy filter


def _plain(value: Any) -> Any:
    if value is None:
        return (0, "")
    if value.type == "N":
        return (1, Decimal(value.value))
    return (2, value.value)


def apply(patcher: Patcher) -> None:
    # Transactions first: the write versions then wrap the snapshotting transaction, as any write.
    _install_transactions(patcher)
    _install_query(patcher)
    _install_write_versions(patcher)


PATCH = MotoPatch(
    name="dynamodb_speed",
    fixes="Query sorts the whole table and TransactWriteItems deep-copies every table it touches",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        "moto.dynamodb.models.table.Table.query",
        "moto.dynamodb.models.table.Table.all_items",
        "moto.dynamodb.models.table.Table.sorted_items",
        "moto.dynamodb.models.table.Table._item_comes_before_dct",
        "moto.dynamodb.models.table.Table._generate_attr_to_sort_by",
        "moto.dynamodb.models.DynamoDBBackend.transact_write_items",
        "moto.dynamodb.models.copy",
        # ... and every public write method of DynamoDBBackend (to version the written tables).
        "moto.dynamodb.models.DynamoDBBackend",
    ),
    kind="speed",
    apply=apply,
    signatures={
        # index_name is read by position (the backend passes it positionally).
        "moto.dynamodb.models.table.Table.query": QUERY_PARAMETERS,
        "moto.dynamodb.models.table.Table.sorted_items": (
            "self",
            "hash_key_attrs",
            "range_key_attrs",
            "items",
        ),
        "moto.dynamodb.models.table.Table._item_comes_before_dct": (
            "self",
            "item",
            "dct",
            "hash_key_attrs",
            "range_key_attrs",
            "scan_index_forward",
        ),
        "moto.dynamodb.models.DynamoDBBackend.transact_write_items": ("self", "transact_items"),
    },
)


# Backend calls that never change items or indexes; every other public call counts as a write.
_READS = frozenset(
    {
        "get_item",
        "query",
        "scan",
        "batch_get_item",
        "transact_get_items",
        "get_table",
        "get_table_keys_name",
        "get_keys_value",
        "get_schema",
        "get_backup",
        "get_resource_policy",
        "iter_tagged_resources",
        "default_vpc_endpoint_service",
    }
)
_version_lock = threading.Lock()


def table_version(table: Any) -> int:
    return getattr(table, "_arcadeflow_version", 0)


def bump(table: Any) -> None:
    with _version_lock:
        table._arcadeflow_version = table_version(table) + 1
        table._arcadeflow_index_partitions = {}
        table._arcadeflow_sorted_partitions = {}


def _written_tables(backend: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    name = kwargs.get("table_name", args[0] if args else None)
    if isinstance(name, str) and name in backend.tables:
        return [backend.tables[name]]
    return list(backend.tables.values())


def _install_write_versions(patcher: Patcher) -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for attr, value in list(vars(DynamoDBBackend).items()):
        if attr.startswith("_") or not callable(value) or attr in _READS:
            continue
        if attr.startswith(("describe_", "list_")):
            continue
        patcher.replace(DynamoDBBackend, attr, _versioned(value))


def _versioned(method: Any) -> Any:
    import functools

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        tables = _written_tables(self, args, kwargs)
        for table in tables:
            bump(table)  # a query racing the write never keeps a map of the half-written table
        try:
            return method(self, *args, **kwargs)
        finally:
            for table in tables if tables else _written_tables(self, args, kwargs):
                bump(table)

    return call


def _index_partition(table: Any, index_name: str, hash_attr: str, value: Any) -> list[Any] | None:
    """The items whose `hash_attr` equals `value` (a superset of the index partition)."""
    version = table_version(table)
    partitions = getattr(table, "_arcadeflow_index_partitions", None)
    entry = partitions.get(index_name) if partitions else None
    if entry is None or entry[0] != version:
        by_value: dict[Any, list[Any]] = {}
        for hash_set in list(table.items.values()):
            items = list(hash_set.values()) if table.range_key_attr else [hash_set]
            for item in items:
                key = item.attrs.get(hash_attr)
                if key is not None:
                    by_value.setdefault(key, []).append(item)
        entry = (version, by_value)
        _keep_if_unwritten(table, "_arcadeflow_index_partitions", index_name, entry)
    return list(entry[1].get(value, ()))


def _keep_if_unwritten(table: Any, cache: str, key: Any, entry: tuple[Any, ...]) -> None:
    """Stores `entry` (built at the table version it starts with) in the table's `cache` dict,
    unless a write bumped the version meanwhile: a map of a half-written table is never kept."""
    with _version_lock:
        if table_version(table) == entry[0]:
            if getattr(table, cache, None) is None:
                setattr(table, cache, {})
            getattr(table, cache)[key] = entry


def _sorted_partition(table: Any, hash_key: Any) -> tuple[list[Any], list[Any]] | None:
    """(range key values, items) of one partition in moto's range key order, kept until the
    table is written; None when the partition is empty or holds keys that do not compare."""
    version = table_version(table)
    cached = getattr(table, "_arcadeflow_sorted_partitions", None)
    entry = cached.get(hash_key) if cached else None
    if entry is not None and entry[0] == version:
        return entry[1], entry[2]
    partition = table.items.get(hash_key)
    if not partition:
        return None
    items = list(partition.values())  # one C-level copy: a concurrent write cannot tear it
    try:
        # moto orders a table query by DynamoType comparison, which compares cast_value.
        pairs = sorted(((item.range_key.cast_value, item) for item in items), key=lambda pair: pair[0])
    except (AttributeError, TypeError):
        return None
    keys, ordered = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    _keep_if_unwritten(table, "_arcadeflow_sorted_partitions", hash_key, (version, keys, ordered))
    return keys, ordered


def _table_query_window(table: Any, hash_key: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The items of a table query's partition that moto's paging can reach, in key order: those
    past ExclusiveStartKey and inside the sort key condition (and the one after it) and, when
    nothing else filters, only one more than Limit (moto reads one past the limit to decide on
    LastEvaluatedKey). None: let moto read the whole partition."""
    named = dict(zip(QUERY_PARAMETERS[2:], args, strict=False))
    range_comparison = named.get("range_comparison", kwargs.get("range_comparison"))
    limit = named.get("limit", kwargs.get("limit"))
    start_key = named.get("exclusive_start_key", kwargs.get("exclusive_start_key"))
    forward = named.get("scan_index_forward", kwargs.get("scan_index_forward", True)) is not False
    keyword_filters = kwargs.keys() - _QUERY_PARAMETER_NAMES
    range_conditions = kwargs.get("range_key_conditions")
    if range_conditions and (len(range_conditions) > 1 or range_conditions[0][0] != table.range_key_attr):
        return None
    sorted_partition = _sorted_partition(table, hash_key)
    if sorted_partition is None:
        return None
    keys, items = sorted_partition
    low, high = 0, len(items)
    if start_key is not None:
        start = _start_range_value(table, hash_key, start_key, keys)
        if start is None:
            return None  # moto's own skip decides (and fails where it fails)
        if forward:
            low = bisect.bisect_right(keys, start)
        else:
            high = bisect.bisect_left(keys, start)
    narrowed = _range_condition_bounds(
        range_comparison, named.get("range_objs", kwargs.get("range_objs")), keys
    )
    if narrowed is None:
        return None
    low, high = max(low, narrowed[0]), min(high, narrowed[1])
    # moto checks Limit before the condition: one item past the condition's end (in reading
    # order) still makes it answer LastEvaluatedKey, so the window keeps it.
    if forward:
        high = min(high + 1, len(items))
    else:
        low = max(low - 1, 0)
    # Every item left matches the key conditions (or moto's own condition check decides, unbounded).
    if isinstance(limit, int) and narrowed[2] and not keyword_filters:
        if forward:
            high = min(high, low + limit + 1)
        else:
            low = max(low, high - limit - 1)
    return items[low:high]


def _range_condition_bounds(
    comparison: Any, range_objs: Any, keys: list[Any]
) -> tuple[int, int, bool] | None:
    """(low, high, exact) of the sort key condition on the sorted keys: exact when every key in
    [low, high) matches it, so the window can stop at Limit + 1; None when its values do not
    compare with the keys (moto then answers as it does)."""
    if not comparison:
        return 0, len(keys), True
    operator = _COMPARISON_OPERATORS.get(comparison)
    if operator is None:  # begins_with and the rest: moto's own check over the whole partition
        return 0, len(keys), False
    try:
        values = [obj.cast_value for obj in range_objs]
    except AttributeError:
        return None
    if not values or (keys and any(type(value) is not type(keys[0]) for value in values)):
        return None
    low, high = 0, len(keys)
    if operator in ("<", "<="):
        high = (bisect.bisect_left if operator == "<" else bisect.bisect_right)(keys, values[0])
    elif operator in (">", ">="):
        low = (bisect.bisect_right if operator == ">" else bisect.bisect_left)(keys, values[0])
    elif operator == "=":
        low, high = bisect.bisect_left(keys, values[0]), bisect.bisect_right(keys, values[0])
    else:  # BETWEEN, both ends included
        if len(values) != 2:
            return None
        low, high = bisect.bisect_left(keys, values[0]), bisect.bisect_right(keys, values[1])
    return low, max(low, high), True


# moto's names of the sort key operators (moto.dynamodb.comparisons.COMPARISON_FUNCS).
_COMPARISON_OPERATORS = {
    "<": "<",
    "LT": "<",
    "<=": "<=",
    "LE": "<=",
    ">": ">",
    "GT": ">",
    ">=": ">=",
    "GE": ">=",
    "=": "=",
    "EQ": "=",
    "BETWEEN": "BETWEEN",
}


def _start_range_value(table: Any, hash_key: Any, start_key: dict[str, Any], keys: list[Any]) -> Any:
    """The start key's range value when it names this partition and compares with its keys."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    raw_hash, raw_range = start_key.get(table.hash_key_attr), start_key.get(table.range_key_attr)
    if not isinstance(raw_hash, dict) or not isinstance(raw_range, dict):
        return None
    try:
        if DynamoType(raw_hash) != hash_key:
            return None
        value = DynamoType(raw_range).cast_value
        if keys and type(value) is not type(keys[0]):
            return None
    except Exception:  # noqa: BLE001 - a start key moto cannot read: moto answers it
        return None
    return value


def _index_hash_condition(
    table: Any, index_name: str, conditions: list[tuple[str, Any]] | None
) -> tuple[str, str, Any] | None:
    """(index, hash attribute, value) for narrowing an index query, or None to not narrow."""
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    if index is None:
        return None
    hash_attrs = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    values = dict(conditions or [])
    if not hash_attrs or hash_attrs[0] not in values:
        return None
    return index_name, hash_attrs[0], values[hash_attrs[0]]


def _install_query(patcher: Patcher) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original_query = Table.query
    original_all_items = Table.all_items
    original_sorted_items = Table.sorted_items

    def all_items(self: Table) -> list[Any]:
        scoped = getattr(_scope, "query", None)
        if scoped is None or scoped[0] is not self:
            return original_all_items(self)
        _, hash_key, index, window = scoped
        if window is not None:
            return window  # a slice of its own: moto may sort it in place
        if index is not None:
            partition_items = _index_partition(self, *index)
            if partition_items is not None:
                return partition_items
        elif hash_key is not None:
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
        if getattr(_bypass, "active", False):
            return original_query(self, hash_key, *args, **kwargs)
        # index_name is Query's 8th parameter (QUERY_PARAMETERS); the backend passes it positionally.
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        partition = hash_key if index_name is None else None
        index = window = None
        if index_name is not None:
            index = _index_hash_condition(self, index_name, kwargs.get("hash_key_conditions"))
        elif hash_key is not None and self.range_key_attr:
            window = _table_query_window(self, hash_key, args, kwargs)
        previous = getattr(_scope, "query", None)
        _scope.query = (self, partition, index, window)
        _scope.start_key = None
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _scope.query = previous
            _scope.start_key = None

    def sorted_items(
        self: Table, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]
    ) -> list[Any]:
        if getattr(_bypass, "active", False):
            return original_sorted_items(self, hash_key_attrs, range_key_attrs, items)
        attrs = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        items.sort(key=lambda item: tuple(_plain(item.attrs.get(attr)) for attr in attrs))
        return items

    original_comes_before = Table._item_comes_before_dct

    def item_comes_before_dct(
        self: Table,
        item: Any,
        dct: dict[str, Any],
        hash_key_attrs: list[str],
        range_key_attrs: list[str | None],
        scan_index_forward: bool,
    ) -> bool:
        # moto's comparison, with the start key's values and the attribute order built once.
        scoped = getattr(_scope, "query", None)
        if scoped is None or scoped[0] is not self:
            return original_comes_before(self, item, dct, hash_key_attrs, range_key_attrs, scan_index_forward)
        cache = getattr(_scope, "start_key", None)
        signature = (tuple(hash_key_attrs), tuple(range_key_attrs))
        if cache is None or cache[0] is not dct or cache[1] != signature:
            attrs = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
            built: dict[str, Any] = {}
            cache = (dct, signature, attrs, built)
            _scope.start_key = cache
        _, _, attrs, starts = cache
        for attr in attrs:
            value = item.attrs.get(attr)
            if value is None:
                continue
            start = starts.get(attr)
            if start is None:
                # A start key without the attribute fails here, where moto's comparison fails.
                start = starts[attr] = DynamoType(cast(Any, dct.get(attr)))
            if value != start:
                return (value < start) == scan_index_forward
        return True

    patcher.replace(Table, "_item_comes_before_dct", item_comes_before_dct)
    patcher.replace(Table, "query", query)
    patcher.replace(Table, "all_items", all_items)
    patcher.replace(Table, "sorted_items", sorted_items)


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
        bump(table)
        if self.stream_length is not None and table.stream_shard is not None:
            del table.stream_shard.items[self.stream_length :]


def _install_transactions(patcher: Patcher) -> None:
    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType

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

    patcher.replace(DynamoDBBackend, "transact_write_items", transact_write_items)
