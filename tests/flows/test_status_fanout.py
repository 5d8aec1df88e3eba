"""status_fanout on the real `arcadeflow up`: a status reaches every follower's feed once."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support.fanout import feed_copies, finished, history, populate, start_fanout, status_for

pytestmark = pytest.mark.e2e

FOLLOWERS = 1_000


@pytest.fixture(scope="module")
def celebrity_with_followers(stack):
    celebrity = f"celeb-{uuid.uuid4().hex[:8]}"
    followers = populate(stack, FOLLOWERS, celebrity, prefix=f"fan-{uuid.uuid4().hex[:6]}-")
    return celebrity, followers


def test_every_follower_gets_the_status_once_and_no_state_carries_the_follower_list(
    stack, celebrity_with_followers
):
    celebrity, followers = celebrity_with_followers
    status = status_for(celebrity)

    execution = finished(stack, start_fanout(stack, status))

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    output = json.loads(execution["output"])
    assert (output["followers"], output["written"]) == (FOLLOWERS, FOLLOWERS)
    copies = feed_copies(stack, status["statusId"])
    assert set(copies) == set(followers)
    assert set(copies.values()) == {1}
    # Only one page of follower ids (1,000 here) is ever in a state's input or output.
    events = history(stack, execution["executionArn"])
    largest = max(
        len(json.dumps(detail))
        for event in events
        for key, detail in event.items()
        if key.endswith("EventDetails")
    )
    assert largest < 40_000
    assert len(events) < 250


def test_a_replayed_fanout_rewrites_the_same_feed_items(stack, celebrity_with_followers):
    celebrity, followers = celebrity_with_followers
    status = status_for(celebrity)

    first = finished(stack, start_fanout(stack, status))
    replay = finished(stack, start_fanout(stack, status, name=f"replay-{status['statusId']}"))

    assert (first["status"], replay["status"]) == ("SUCCEEDED", "SUCCEEDED")
    copies = feed_copies(stack, status["statusId"])
    assert len(copies) == len(followers)
    assert set(copies.values()) == {1}


def test_an_author_without_followers_finishes_with_nothing_written(stack):
    status = status_for(f"loner-{uuid.uuid4().hex[:8]}")

    execution = finished(stack, start_fanout(stack, status))

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["followers"] == 0
    assert not feed_copies(stack, status["statusId"])
