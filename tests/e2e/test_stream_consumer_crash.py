"""A stream consumer whose sandbox crashes (Runtime.ExitError) gets the same batch again, as
Lambda's event source mapping retries a failed batch: the follow is counted once, not lost."""

from __future__ import annotations

import pytest

from arcadeflow.faults import clear_faults, list_faults, set_fault
from tests.e2e.test_social_http import Player
from tests.support.stack import wait_for

# Every test here sets a fault through the embedded runtime's fault switch.
pytestmark = [pytest.mark.e2e, pytest.mark.needs("fault_switch")]


@pytest.fixture(autouse=True)
def no_faults_left(stack):
    yield
    clear_faults(stack.aws_url)


def test_a_crashed_stream_consumer_is_retried_and_the_follow_counted_once(stack):
    star, fan = Player(stack, "star"), Player(stack, "fan")
    star.call("GET", "/users/me")  # the target must exist
    set_fault(stack.aws_url, "follow_counts", fail_on=[1], mode="crash")

    assert fan.call("POST", "/followers", {"targetUserId": star.user_id}).status_code == 201

    def count_after_the_retry():
        [fault] = list_faults(stack.aws_url)
        count = fan.call("GET", f"/users/{star.user_id}").json()["followerCount"]
        return fault["invocations"] >= 2 and count >= 1 and (fault, count)

    fault, count = wait_for(count_after_the_retry, timeout=30, message="the batch delivered again")
    assert fault["failed"] == [1]  # the first delivery crashed
    assert count == 1
