"""The reward catalog (functions/vr/reward_catalog.json): which rewards exist and what earns each.

A pydantic model, so the catalog is validated whenever it is loaded (and, through the JSON Schema
tools/schemas.py writes from this model, by the deployment's dataFiles check): a bad catalog is
refused with a message naming the entry (its index and rewardId) and the field. Pure (no AWS).

Rules, one `kind` each:
- sessionEnded: ending a session earns it;
- sessionEventCount: one session holds at least `atLeast` events of `eventType`;
- cumulativeEventCount: the player's ended sessions together hold at least `atLeast` events of
  `eventType` (counted once per session, kept in player_progress: events themselves expire);
- cumulativeSessionCount: the player has ended at least `atLeast` sessions.
Each reward is granted to a player once ever, whichever session earns it first.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

CATALOG_PATH = Path(__file__).with_name("reward_catalog.json")

RewardId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
EventType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class SessionEnded(_Strict):
    kind: Literal["sessionEnded"]


class SessionEventCount(_Strict):
    kind: Literal["sessionEventCount"]
    event_type: EventType = Field(alias="eventType")
    at_least: int = Field(alias="atLeast", ge=1)


class CumulativeEventCount(_Strict):
    kind: Literal["cumulativeEventCount"]
    event_type: EventType = Field(alias="eventType")
    at_least: int = Field(alias="atLeast", ge=1)


class CumulativeSessionCount(_Strict):
    kind: Literal["cumulativeSessionCount"]
    at_least: int = Field(alias="atLeast", ge=1)


Rule = Annotated[
    SessionEnded | SessionEventCount | CumulativeEventCount | CumulativeSessionCount,
    Field(discriminator="kind"),
]


class Reward(_Strict):
    reward_id: RewardId = Field(alias="rewardId")
    title: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    description: Annotated[str, StringConstraints(max_length=500)] = ""
    rule: Rule


class RewardCatalog(_Strict):
    """functions/vr/reward_catalog.json"""

    schema_ref: str | None = Field(default=None, alias="$schema")
    rewards: list[Reward] = Field(min_length=1)

    @model_validator(mode="after")
    def _reward_ids_are_unique(self) -> RewardCatalog:
        seen: set[str] = set()
        for index, reward in enumerate(self.rewards):
            if reward.reward_id in seen:
                raise ValueError(
                    f"rewards.{index} ({reward.reward_id}): rewardId is used by an earlier entry"
                )
            seen.add(reward.reward_id)
        return self

    def get(self, reward_id: str) -> Reward | None:
        return next((r for r in self.rewards if r.reward_id == reward_id), None)

    def counted_event_types(self) -> frozenset[str]:
        """The event types some rule counts: all the end needs to know of a session's events."""
        return frozenset(
            r.rule.event_type
            for r in self.rewards
            if isinstance(r.rule, SessionEventCount | CumulativeEventCount)
        )


class CatalogError(ValueError):
    """The catalog is not valid; the message names the entry and the field."""


_RULE_KINDS = frozenset(
    {"sessionEnded", "sessionEventCount", "cumulativeEventCount", "cumulativeSessionCount"}
)


def _entry_label(document: object, location: tuple[int | str, ...]) -> str:
    """rewards.2 (objectives_veteran).rule.atLeast: the index and, when readable, the rewardId."""
    parts = [str(part) for part in location]
    if len(location) >= 2 and location[0] == "rewards" and isinstance(location[1], int):
        rewards = document.get("rewards") if isinstance(document, dict) else None
        entry = rewards[location[1]] if isinstance(rewards, list) and location[1] < len(rewards) else None
        reward_id = entry.get("rewardId") if isinstance(entry, dict) else None
        head = f"rewards.{location[1]}" + (f" ({reward_id})" if isinstance(reward_id, str) else "")
        # A discriminated union puts the rule's kind in the path; it is not a field.
        tail = [p for p in parts[2:] if p not in _RULE_KINDS]
        return ".".join([head, *tail])
    return ".".join(parts) or "(catalog)"


def parse_catalog(text: str, source: str = "reward_catalog.json") -> RewardCatalog:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CatalogError(f"{source}: not valid JSON: {exc}") from exc
    try:
        return RewardCatalog.model_validate(document)
    except ValidationError as exc:
        problems = [
            f"{_entry_label(document, tuple(p['loc']))}: {p['msg']}"
            for p in exc.errors(include_url=False, include_input=False)
        ]
        raise CatalogError(f"{source}: " + "; ".join(problems)) from exc


@cache
def catalog() -> RewardCatalog:
    """The repository's catalog, validated once per execution environment."""
    return parse_catalog(CATALOG_PATH.read_text(), str(CATALOG_PATH.name))
