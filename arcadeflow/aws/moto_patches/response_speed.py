"""Per-answer costs in moto's response layer that every DynamoDB call pays.

- Action lookup: BaseResponse.call_action asks `method_names_from_class(self.__class__)` on every
  request, which runs `inspect.getmembers` over the response class (~250 members for DynamoDB's)
  to learn whether the action has a method. The list is kept per class, and taken again whenever
  a class on the MRO gains or loses an attribute (a patch installed or removed at run time).
- AttributeValue serialization: moto's JSON serializer walks the botocore shape of every value
  in an answer, and for each of an AttributeValue's ten members asks its attribute picker (alias
  providers, a dataclass per lookup) whether the value has it. A Query page of 100 items of five
  attributes is ~5,000 lookups: 70 % of the server's time for that Query (profile in
  benchmarks/dynamodb_requests.py's README section). A value that is plain DynamoDB JSON (S, N,
  SS, NS, NULL, BOOL, and M and L of such values) is copied as the serializer would have written
  it; anything else (B and BS, which the serializer base64-encodes, a key it would not pick, a
  value of an unexpected type) goes the serializer's own way, so the bytes of every answer stay
  moto's.
"""

from __future__ import annotations

from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_SERIALIZER = "moto.core.serialize.BaseJSONSerializer._serialize_type_structure"
# The shape both DynamoDB and DynamoDB Streams name a value by.
ATTRIBUTE_VALUE = "AttributeValue"
_STRINGS = frozenset(("S", "N"))
_STRING_SETS = frozenset(("SS", "NS"))
_BOOLEANS = frozenset(("NULL", "BOOL"))


def apply_method_names_cache(patcher: Patcher) -> None:
    from moto.core import responses, utils

    original = utils.method_names_from_class
    cache: dict[type, tuple[tuple[int, ...], list[str]]] = {}

    def method_names_from_class(clazz: Any) -> list[str]:
        # A class's own attribute count changes whenever something adds or removes one.
        shape = tuple(len(vars(c)) for c in clazz.__mro__)
        kept = cache.get(clazz)
        if kept is None or kept[0] != shape:
            kept = cache[clazz] = (shape, original(clazz))
        return kept[1]

    patcher.replace(responses, "method_names_from_class", method_names_from_class)


def plain_attribute_value(value: dict[str, Any], members: tuple[str, ...]) -> dict[str, Any] | None:
    """What moto's JSON serializer writes for this AttributeValue, or None where it may differ."""
    if not value.keys() <= set(members):
        return None  # the picker would also look for xform_name(member): its own way
    out: dict[str, Any] = {}
    for member in members:  # in the shape's order, as the serializer writes them
        item = value.get(member)
        if item is None:
            continue
        kind = type(item)
        if member in _STRINGS and kind is str or member in _BOOLEANS and kind is bool:
            out[member] = item
        elif member in _STRING_SETS and kind is list and all(type(s) is str for s in item):
            out[member] = list(item)
        elif member == "M" and kind is dict:
            entries = {}
            for name, entry in item.items():
                plain = plain_attribute_value(entry, members) if type(entry) is dict else None
                if plain is None:
                    return None
                entries[name] = plain
            out[member] = entries
        elif member == "L" and kind is list:
            elements = []
            for entry in item:
                plain = plain_attribute_value(entry, members) if type(entry) is dict else None
                if plain is None:
                    return None
                elements.append(plain)
            out[member] = elements
        else:
            return None  # B, BS (base64), or a type the serializer would convert
    return out


def apply_attribute_value_serialization(patcher: Patcher) -> None:
    from moto.core.serialize import BaseJSONSerializer, XFormedAttributePicker

    original = BaseJSONSerializer._serialize_type_structure
    members_of: dict[int, tuple[str, ...]] = {}

    def _serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        picker = self._value_picker
        if (
            key
            and shape.name == ATTRIBUTE_VALUE
            and type(value) is dict
            and type(picker) is XFormedAttributePicker
            and not picker.response_transformers
        ):
            members = members_of.get(id(shape))
            if members is None:
                members = members_of[id(shape)] = tuple(shape.members)
            plain = plain_attribute_value(value, members)
            if plain is not None:
                serialized[shape.serialization.get("name", key)] = plain
                return
        original(self, serialized, value, shape, key)

    patcher.replace(BaseJSONSerializer, "_serialize_type_structure", _serialize_type_structure)


METHOD_NAMES_CACHE = MotoPatch(
    name="response_method_names_cache",
    fixes="moto inspects the whole response class on every request to find the action's method",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=("moto.core.responses.method_names_from_class",),
    kind="speed",
    apply=apply_method_names_cache,
    signatures={"moto.core.responses.method_names_from_class": ("clazz",)},
)

ATTRIBUTE_VALUE_SERIALIZATION = MotoPatch(
    name="dynamodb_attribute_value_serialization",
    fixes="moto's serializer asks its attribute picker ten times for every DynamoDB value it writes",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(_SERIALIZER,),
    kind="speed",
    apply=apply_attribute_value_serialization,
    signatures={_SERIALIZER: ("self", "serialized", "value", "shape", "key")},
)
