"""A Wait beyond what an execution may last fails at once instead of holding the execution for ever.

AWS: developer guide, "Wait workflow state" (Seconds from 0 to 99999999; the maximum wait is
bounded by the workflow's maximum duration) and "Step Functions service quotas" (a Standard
execution lasts at most one year). The documentation gives the bound but not the error a
Wait beyond it raises: States.Runtime, failing the execution at once, is our choice (it is the
error the interpreter raises for every other Wait it cannot honour).
"""

from __future__ import annotations

import datetime

from tests.conformance.validation_support import one_state
from tests.functional.branches.conftest import poll

YEAR = 365 * 24 * 3600


def test_a_timestamp_ten_years_ahead_fails_the_execution_at_once(aws):
    """Developer guide, "Wait workflow state" (Timestamp); service quotas (one year)."""
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3650)
    run = aws.run(
        one_state({"Type": "Wait", "TimestampPath": "$.until"}),
        {"until": later.strftime("%Y-%m-%dT%H:%M:%SZ")},
        timeout=20,
    )
    assert (run.status, run.error) == ("FAILED", "States.Runtime")
    assert f"beyond the {YEAR} seconds" in (run.cause or "")


def test_seconds_from_the_input_beyond_a_year_fail_the_execution_at_once(aws):
    """Developer guide, "Wait workflow state" (SecondsPath); service quotas (one year)."""
    run = aws.run(one_state({"Type": "Wait", "SecondsPath": "$.s"}), {"s": YEAR + 60}, timeout=20)
    assert (run.status, run.error) == ("FAILED", "States.Runtime")


def test_a_wait_within_the_bound_still_waits(aws):
    """Developer guide, "Wait workflow state": a Wait within the bound holds the execution."""
    arn = aws.start(aws.machine(one_state({"Type": "Wait", "SecondsPath": "$.s"})), {"s": YEAR - 3600})
    try:
        poll(
            lambda: any(e["type"] == "WaitStateEntered" for e in aws.history(arn)),
            "the execution to enter its Wait",
            timeout=20,
        )
        assert aws.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        assert "ExecutionFailed" not in [e["type"] for e in aws.history(arn)]
    finally:
        aws.sfn.stop_execution(executionArn=arn)
