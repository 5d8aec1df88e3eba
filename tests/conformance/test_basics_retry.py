"""Retry: IntervalSeconds, MaxAttempts (0 included), BackoffRate, MaxDelaySeconds, JitterStrategy
FULL, several retriers and States.ALL last. The attempts' timing is read from the history's
timestamps: from an attempt's TaskFailed to the next attempt's TaskScheduled.

AWS: Step Functions developer guide, "Handling errors in Step Functions workflows" (Retrying
after an error: retrier fields, "Retry behavior examples")."""

from __future__ import annotations

import json
from typing import Any


def failing_task(
    handler_arn: str, retry: list[dict[str, Any]], error: str = "Flaky", **fields: Any
) -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": handler_arn, "Payload": {"raise": error, "message": "m"}},
                "Retry": retry,
                "End": True,
                **fields,
            }
        },
    }


def attempts(run: Any) -> int:
    return sum(1 for e in run.events if e["type"] == "TaskScheduled")


def gaps(run: Any) -> list[float]:
    """Seconds between each failed attempt and the next attempt's start."""
    failed = [e["timestamp"] for e in run.events if e["type"] == "TaskFailed"]
    scheduled = [e["timestamp"] for e in run.events if e["type"] == "TaskScheduled"]
    return [(later - earlier).total_seconds() for earlier, later in zip(failed, scheduled[1:], strict=False)]


def test_retry_makes_max_attempts_retries_then_fails_with_the_error(aws):
    """MaxAttempts 2: the first attempt and two retries."""
    run = aws.run(
        failing_task(
            aws.handler_arn,
            [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}],
        )
    )
    assert (run.status, run.error) == ("FAILED", "Flaky")
    assert attempts(run) == 3


def test_retry_with_max_attempts_zero_never_retries(aws):
    """MaxAttempts 0: the retrier never retries the error."""
    run = aws.run(failing_task(aws.handler_arn, [{"ErrorEquals": ["Flaky"], "MaxAttempts": 0}]))
    assert (run.status, run.error) == ("FAILED", "Flaky")
    assert attempts(run) == 1


def test_retry_waits_interval_seconds_times_backoff_rate_per_attempt(aws):
    """IntervalSeconds 1, BackoffRate 1.5: waits of 1 s then 1.5 s."""
    run = aws.run(
        failing_task(
            aws.handler_arn,
            [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1.5}],
        )
    )
    first, second = gaps(run)
    assert 0.9 <= first < 1.4, gaps(run)
    assert 1.4 <= second < 1.9, gaps(run)


def test_retry_max_delay_seconds_caps_the_wait(aws):
    """MaxDelaySeconds 1 caps IntervalSeconds 1 x BackoffRate 3 (3 s) at 1 s."""
    run = aws.run(
        failing_task(
            aws.handler_arn,
            [
                {
                    "ErrorEquals": ["Flaky"],
                    "IntervalSeconds": 1,
                    "MaxAttempts": 2,
                    "BackoffRate": 3,
                    "MaxDelaySeconds": 1,
                }
            ],
        )
    )
    assert [round(g) for g in gaps(run)] == [1, 1], gaps(run)


def test_retry_full_jitter_waits_a_random_share_of_the_interval(aws):
    """JitterStrategy FULL: each wait is random between 0 and the computed interval (1 s here).
    Five retries all waiting over 0.9 s would happen once in 100,000 runs with jitter."""
    run = aws.run(
        failing_task(
            aws.handler_arn,
            [
                {
                    "ErrorEquals": ["Flaky"],
                    "IntervalSeconds": 1,
                    "MaxAttempts": 5,
                    "BackoffRate": 1,
                    "JitterStrategy": "FULL",
                }
            ],
        )
    )
    waits = gaps(run)
    assert len(waits) == 5
    assert all(w < 1.3 for w in waits), waits
    assert min(waits) < 0.9, f"no wait was shortened by jitter: {waits}"


def test_retry_uses_the_first_retrier_whose_errors_match(aws):
    """Retriers are tried in order; the first matching one applies, each counting its own
    attempts. Here the Flaky retrier allows one retry; the States.ALL after it is not used."""
    run = aws.run(
        failing_task(
            aws.handler_arn,
            [
                {"ErrorEquals": ["Other"], "MaxAttempts": 5, "IntervalSeconds": 1},
                {"ErrorEquals": ["Flaky"], "MaxAttempts": 1, "IntervalSeconds": 1},
                {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5, "IntervalSeconds": 1},
            ],
        )
    )
    assert (run.status, run.error) == ("FAILED", "Flaky")
    assert attempts(run) == 2


def test_retry_states_all_catches_what_no_earlier_retrier_names(aws):
    run = aws.run(
        failing_task(
            aws.handler_arn,
            [
                {"ErrorEquals": ["Other"], "MaxAttempts": 5, "IntervalSeconds": 1},
                {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1, "IntervalSeconds": 1},
            ],
        )
    )
    assert (run.status, run.error) == ("FAILED", "Flaky")
    assert attempts(run) == 2


def test_retry_of_a_lambda_error_reads_its_name_from_the_function(aws):
    """Developer guide, "Handling errors": a Lambda function's error is named by the exception
    it raised (errorType), so a retrier can name it; the last TaskFailed carries it."""
    run = aws.run(failing_task(aws.handler_arn, [{"ErrorEquals": ["Flaky"], "MaxAttempts": 0}]))
    failed = [e["taskFailedEventDetails"] for e in run.events if e["type"] == "TaskFailed"]
    assert failed[-1]["error"] == "Flaky"


def test_retry_count_is_in_the_context_object(aws):
    """Developer guide, "Accessing the Context object": $$.State.RetryCount counts the
    retries of the state so far."""
    definition = failing_task(
        aws.handler_arn, [{"ErrorEquals": ["Flaky"], "MaxAttempts": 1, "IntervalSeconds": 1}]
    )
    definition["States"]["T"]["Parameters"]["Payload"] = {
        "raise": "Flaky",
        "message.$": "States.Format('{}', $$.State.RetryCount)",
    }
    run = aws.run(definition)
    causes = [
        json.loads(e["taskFailedEventDetails"]["cause"]) for e in run.events if e["type"] == "TaskFailed"
    ]
    assert [c["errorMessage"] for c in causes] == ["0", "1"]
