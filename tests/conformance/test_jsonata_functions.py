"""The JSONata functions Step Functions adds, and the one it takes away.

AWS: Step Functions developer guide, "Transforming data with JSONata in Step Functions", section
"JSONata functions provided by Step Functions" (and "Supported JSONata version": $eval is not
available, use $parse)."""

from __future__ import annotations

import hashlib
import re


def output_of(aws, expression: str, execution_input=None):
    run = aws.run(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Output": expression, "End": True}},
        },
        execution_input,
    )
    assert run.status == "SUCCEEDED", run.cause
    return run.output


def test_partition_splits_into_chunks_the_last_smaller(aws):
    assert output_of(aws, "{% $partition([1, 2, 3, 4, 5, 6, 7], 3) %}") == [[1, 2, 3], [4, 5, 6], [7]]


def test_range_includes_its_end_and_steps(aws):
    assert output_of(aws, "{% $range(0, 10, 2) %}") == [0, 2, 4, 6, 8, 10]
    assert output_of(aws, "{% $range(5, 1, -2) %}") == [5, 3, 1]


def test_hash_is_the_hex_digest_of_the_named_algorithm(aws):
    assert output_of(aws, "{% $hash($states.input.s, 'SHA-256') %}", {"s": "hello"}) == (
        hashlib.sha256(b"hello").hexdigest()
    )
    assert output_of(aws, "{% $hash('hello', 'MD5') %}") == hashlib.md5(b"hello").hexdigest()


def test_random_with_a_seed_repeats_without_one_is_in_zero_to_one(aws):
    """AWS documents a seed gives the same number; its generator's numbers are its own, so we
    assert only repeatability and the range (our check)."""
    seeded = output_of(aws, "{% [$random(42), $random(42)] %}")
    assert seeded[0] == seeded[1] and 0 <= seeded[0] < 1
    assert 0 <= output_of(aws, "{% $random() %}") < 1


def test_uuid_is_a_version_4_uuid(aws):
    value = output_of(aws, "{% $uuid() %}")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", value)


def test_parse_turns_json_text_into_a_value(aws):
    assert (
        output_of(aws, "{% $parse($states.input.body).score %}", {"body": '{"score": 12, "n": null}'}) == 12
    )


def test_standard_jsonata_functions_work(aws):
    assert output_of(aws, "{% $uppercase($join(['a', 'b'], '-')) & $string($sum([1, 2])) %}") == "A-B3"


def test_eval_is_not_available(aws):
    """$eval is not available in Step Functions. The guide does not say how a state that calls it
    fails; ours fails with States.QueryEvaluationError (our choice)."""
    run = aws.run(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Output": "{% $eval('1 + 1') %}", "End": True}},
        }
    )
    assert (run.status, run.error) == ("FAILED", "States.QueryEvaluationError")
    assert "$eval is not supported" in run.cause


def test_now_and_millis_are_available(aws):
    """Every JSONata 2.0.6 built-in but $eval is supported: $now() is an ISO 8601 timestamp,
    $millis() the same instant in milliseconds."""
    out = output_of(aws, "{% {'now': $now(), 'ms': $millis(), 'back': $toMillis($now())} %}")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", out["now"])
    assert isinstance(out["ms"], int) and abs(out["back"] - out["ms"]) < 1000
