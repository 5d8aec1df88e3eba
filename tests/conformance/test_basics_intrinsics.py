"""Intrinsic functions: each States.* function of the developer guide with the outputs the guide
shows, and States.IntrinsicFailure where the guide documents one.

AWS: Step Functions developer guide, "Intrinsic functions for JSONPath states in Step Functions"."""

from __future__ import annotations

import re
from typing import Any

import pytest


def evaluated(aws: Any, expression: str, execution_input: Any = None) -> Any:
    run = aws.run(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": expression}, "End": True}}},
        execution_input,
    )
    assert run.status == "SUCCEEDED", run.describe() + f" {run.cause}"
    return run.output["v"]


# (expression, input, the guide's output)
DOCUMENTED = [
    ("States.Format('Hello, my name is {}.', $.name)", {"name": "Arnav"}, "Hello, my name is Arnav."),
    ("States.StringToJson($.someString)", {"someString": '{"number": 20}'}, {"number": 20}),
    ("States.JsonToString($.zebra)", {"zebra": {"color": "white"}}, '{"color":"white"}'),
    (
        "States.Array('Foo', 2020, $.someJson, null)",
        {"someJson": {"random": "abcdefg"}},
        ["Foo", 2020, {"random": "abcdefg"}, None],
    ),
    ("States.ArrayContains($.a, null)", {"a": [1, None]}, True),
    (
        "States.ArrayPartition($.inputArray, 4)",
        {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
        [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
    ),
    (
        "States.ArrayContains($.inputArray, $.lookingFor)",
        {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5},
        True,
    ),
    ("States.ArrayRange(1, 9, 2)", None, [1, 3, 5, 7, 9]),
    (
        "States.ArrayGetItem($.inputArray, $.index)",
        {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5},
        6,
    ),
    ("States.ArrayLength($.inputArray)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, 9),
    ("States.ArrayUnique($.inputArray)", {"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]}, [1, 2, 3, 4]),
    ("States.Base64Encode($.input)", {"input": "Data to encode"}, "RGF0YSB0byBlbmNvZGU="),
    ("States.Base64Decode($.base64)", {"base64": "RGF0YSB0byBlbmNvZGU="}, "Data to encode"),
    (
        "States.Hash($.Data, $.Algorithm)",
        {"Data": "input data", "Algorithm": "SHA-1"},
        "aaff4a450a104cd177d28d18d74485e8cae074b7",
    ),
    (
        "States.JsonMerge($.json1, $.json2, false)",
        {"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}},
        {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3},
    ),
    ("States.MathAdd($.value1, $.step)", {"value1": 111, "step": -1}, 110),
    (
        "States.StringSplit($.inputString, $.splitter)",
        {"inputString": "1,2,3,4,5", "splitter": ","},
        ["1", "2", "3", "4", "5"],
    ),
    # The guide's reserved characters, escaped with a backslash in a literal: ' { } \\.
    ("States.Format('It\\'s {} \\{x\\}', $.v)", {"v": 1}, "It's 1 {x}"),
    ("States.Format('a \\\\ b {}', 'c')", None, "a \\ b c"),
    ("States.Format('{} and {}', $.a, $.b)", {"a": [1, 2], "b": True}, "[1, 2] and true"),
    (
        "States.StringSplit($.inputString, $.splitter)",
        {"inputString": "This.is+a,test=string", "splitter": ".+,="},
        ["This", "is", "a", "test", "string"],
    ),
]


@pytest.mark.parametrize(("expression", "execution_input", "output"), DOCUMENTED, ids=lambda v: str(v)[:50])
def test_intrinsic_answers_the_guides_output(aws, expression, execution_input, output):
    assert evaluated(aws, expression, execution_input) == output


def test_math_random_is_within_its_range(aws):
    """States.MathRandom(start, end): a random integer between start and end. We could not tell
    from the guide whether `end` itself can come out; our interpreter's choice includes it."""
    values = [evaluated(aws, "States.MathRandom($.start, $.end)", {"start": 1, "end": 3}) for _ in range(3)]
    assert all(isinstance(v, int) and 1 <= v <= 3 for v in values), values


def test_uuid_is_a_version_4_uuid(aws):
    value = evaluated(aws, "States.UUID()")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", value), value


def test_an_intrinsic_in_result_selector_and_in_a_fail_cause(aws):
    """The guide: intrinsics work in Parameters, ResultSelector, and a Fail's CausePath."""
    definition = {
        "StartAt": "F",
        "States": {"F": {"Type": "Fail", "Error": "E", "CausePath": "States.Format('n={}', $.n)"}},
    }
    run = aws.run(definition, {"n": 3})
    assert (run.status, run.cause) == ("FAILED", "n=3")


def intrinsic_failure(aws: Any, expression: str, execution_input: Any) -> Any:
    return aws.run(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": expression}, "End": True}}},
        execution_input,
    )


def test_array_get_item_out_of_range_fails_with_intrinsic_failure(aws):
    """The guide, "Handling errors": States.IntrinsicFailure, an intrinsic function failed."""
    run = intrinsic_failure(aws, "States.ArrayGetItem($.a, 5)", {"a": [1]})
    assert (run.status, run.error) == ("FAILED", "States.IntrinsicFailure")


def test_string_to_json_of_invalid_json_fails_with_intrinsic_failure(aws):
    run = intrinsic_failure(aws, "States.StringToJson($.s)", {"s": "{not json"})
    assert (run.status, run.error) == ("FAILED", "States.IntrinsicFailure")


def test_format_with_fewer_arguments_than_placeholders_fails_with_intrinsic_failure(aws):
    run = intrinsic_failure(aws, "States.Format('{} {}', $.a)", {"a": 1})
    assert (run.status, run.error) == ("FAILED", "States.IntrinsicFailure")
