"""The VR flow's pure rules: the reward catalog (each rule kind at its threshold, cumulative
counts, once ever per player), the catalog model refusing a bad catalog by entry and field, and
the event keys (normalised UTC milliseconds, tie-breakers that never collide within a batch and
repeat for a retried batchId)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from functions.vr import rules
from functions.vr.catalog import CATALOG_PATH, CatalogError, catalog, parse_catalog
from functions.vr.rules import Progress

ENDED_ONLY = {"sessionEnded"}


def _catalog(*rewards: dict) -> str:
    return json.dumps({"rewards": list(rewards)})


RULES = parse_catalog(
    _catalog(
        {"rewardId": "ended", "title": "Ended", "rule": {"kind": "sessionEnded"}},
        {
            "rewardId": "two_jumps",
            "title": "Two jumps",
            "rule": {"kind": "sessionEventCount", "eventType": "jump", "atLeast": 2},
        },
        {
            "rewardId": "five_jumps_ever",
            "title": "Five jumps",
            "rule": {"kind": "cumulativeEventCount", "eventType": "jump", "atLeast": 5},
        },
        {
            "rewardId": "three_sessions",
            "title": "Three",
            "rule": {"kind": "cumulativeSessionCount", "atLeast": 3},
        },
    )
)


def test_ending_a_session_earns_the_session_rule_whatever_it_holds():
    assert rules.earned_rewards(RULES, {}, Progress(sessions_ended=1)) == ["ended"]


@pytest.mark.parametrize(("jumps", "earned"), [(1, False), (2, True), (7, True)])
def test_a_session_count_rule_is_earned_at_its_threshold_in_one_session(jumps, earned):
    got = rules.earned_rewards(
        RULES, {"jump": jumps}, Progress(sessions_ended=1, event_counts={"jump": jumps})
    )
    assert ("two_jumps" in got) is earned


def test_a_cumulative_count_is_earned_across_sessions_not_within_one():
    # This session holds one jump; the player's ended sessions hold five together.
    got = rules.earned_rewards(RULES, {"jump": 1}, Progress(sessions_ended=3, event_counts={"jump": 5}))
    assert got == ["ended", "five_jumps_ever", "three_sessions"]
    assert "five_jumps_ever" not in rules.earned_rewards(
        RULES, {"jump": 1}, Progress(sessions_ended=2, event_counts={"jump": 4})
    )


def test_a_cumulative_session_count_is_earned_by_the_session_that_reaches_it():
    assert "three_sessions" not in rules.earned_rewards(RULES, {}, Progress(sessions_ended=2))
    assert "three_sessions" in rules.earned_rewards(RULES, {}, Progress(sessions_ended=3))


def test_a_reward_held_by_another_session_is_not_granted_again_but_one_held_by_this_session_is_kept():
    earned = ["ended", "two_jumps", "three_sessions"]
    held = {"ended": "earlier-session", "two_jumps": "this-session"}
    assert rules.rewards_to_grant(earned, held, "this-session") == ["two_jumps", "three_sessions"]
    assert rules.rewards_to_grant(earned, {r: "earlier-session" for r in earned}, "this-session") == []


def test_only_event_types_a_rule_counts_are_tallied():
    counted = RULES.counted_event_types()
    assert counted == {"jump"}
    assert rules.tally({"jump": 2}, ["jump", "look", "jump", "wave"], counted) == {"jump": 4}


def test_the_repository_catalog_is_valid_and_holds_the_issue_rewards():
    loaded = catalog()
    ids = [r.reward_id for r in loaded.rewards]
    assert {"first_objective_complete", "session_complete"} <= set(ids)
    kinds = {r.rule.kind for r in loaded.rewards}
    assert kinds == {"sessionEnded", "sessionEventCount", "cumulativeEventCount", "cumulativeSessionCount"}
    one_objective = rules.earned_rewards(
        loaded, {"objective_completed": 1}, Progress(1, {"objective_completed": 1})
    )
    assert one_objective == ["first_objective_complete", "session_complete"]
    assert rules.earned_rewards(loaded, {}, Progress(1, {})) == ["session_complete"]
    assert json.loads(CATALOG_PATH.read_text())["$schema"].endswith("vr_reward_catalog.schema.json")


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        (
            {
                "rewardId": "zero",
                "title": "Z",
                "rule": {"kind": "sessionEventCount", "eventType": "x", "atLeast": 0},
            },
            "rewards.1 (zero).rule.atLeast",
        ),
        (
            {"rewardId": "odd", "title": "O", "rule": {"kind": "somethingElse"}},
            "rewards.1 (odd).rule",
        ),
        (
            {"rewardId": "Bad Id", "title": "B", "rule": {"kind": "sessionEnded"}},
            "rewards.1 (Bad Id).rewardId",
        ),
        (
            {"rewardId": "typo", "title": "T", "rule": {"kind": "sessionEnded"}, "titel": "x"},
            "rewards.1 (typo).titel",
        ),
        (
            {"rewardId": "first", "title": "Again", "rule": {"kind": "sessionEnded"}},
            "rewards.1 (first): rewardId",
        ),
    ],
)
def test_a_bad_catalog_is_refused_naming_the_entry_and_the_field(entry, named):
    good = {"rewardId": "first", "title": "First", "rule": {"kind": "sessionEnded"}}
    with pytest.raises(CatalogError) as refused:
        parse_catalog(_catalog(good, entry), "reward_catalog.json")
    assert named in str(refused.value)
    assert str(refused.value).startswith("reward_catalog.json: ")


def test_timestamps_are_normalised_to_utc_milliseconds_and_need_a_zone():
    assert rules.normalised_timestamp("2026-12-01T23:00:00.123456+01:00") == "2026-12-01T22:00:00.123Z"
    assert rules.normalised_timestamp("2026-12-01T22:00:00Z") == "2026-12-01T22:00:00.000Z"
    for bad in ("2026-12-01T22:00:00", "yesterday", "2026-13-01T00:00:00Z"):
        with pytest.raises(ValueError):
            rules.normalised_timestamp(bad)


def test_events_of_one_millisecond_get_distinct_keys_and_a_retried_batch_the_same_ones():
    same_ms = "2026-12-01T22:00:00.001Z"
    keyed = [rules.event_sort_key(same_ms, "batch-1", i) for i in range(100)]
    assert len(set(keyed)) == 100
    assert all(k.startswith("2026-12-01T22:00:00.001Z#") for k in keyed)
    assert keyed == [rules.event_sort_key(same_ms, "batch-1", i) for i in range(100)]
    assert rules.event_sort_key(same_ms, "batch-2", 0) != keyed[0]
    unnamed = {rules.event_sort_key(same_ms, None, 0) for _ in range(100)}
    assert len(unnamed) == 100


def test_the_catalogs_json_schema_accepts_the_catalog_and_refuses_a_bad_rule():
    """What the description's dataFiles check validates the catalog with at deploy time."""
    schema = json.loads((CATALOG_PATH.parents[2] / "schemas" / "vr_reward_catalog.schema.json").read_text())
    document = json.loads(CATALOG_PATH.read_text())
    jsonschema.Draft202012Validator(schema).validate(document)
    document["rewards"][2]["rule"]["atLeast"] = 0
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    assert errors and list(errors[0].absolute_path)[:2] == ["rewards", 2]
