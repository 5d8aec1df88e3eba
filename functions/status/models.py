"""Models of the status flow: the POST /statuses body, the status carried by the state machine,
and the inputs of its functions. Bodies are strict (exact JSON types, no unknown fields)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from functions.shared.models import UserId

MAX_POST_CHARACTERS = 500

PostText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_POST_CHARACTERS),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, alias_generator=to_camel, populate_by_name=True)


class StatusPost(_Strict):
    """POST /statuses"""

    post: PostText


class Author(_Strict):
    user_id: UserId
    screen_name: str
    avatar: str | None = None


class Status(_Strict):
    """A posted status as the fan-out carries it: everything a feed item needs, nothing more."""

    status_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    post: str
    posted_at: str
    timestamp: str
    author: Author


class FanoutTotals(_Strict):
    followers: int = 0
    written: int = 0
    dead_lettered: int = 0
    pages: int = 0


class BatchResult(_Strict):
    written: int = 0
    dead_lettered: int = 0


class FollowerPageRequest(_Strict):
    """Input of ReadFollowerPage: where the last page ended and what its batches did."""

    author_id: UserId
    cursor: str | None = None
    started: bool = False
    totals: FanoutTotals = FanoutTotals()
    batch_results: list[BatchResult] = []


class FeedBatch(_Strict):
    """One Map item: a status and the followers whose feeds get it."""

    status: Status
    follower_ids: Annotated[list[UserId], Field(min_length=1, max_length=1000)]
    # Write units a second this writer may spend; None: unpaced.
    write_rate: float | None = Field(default=None, gt=0)


class DeadLetteredBatch(_Strict):
    """What the dead-letter queue keeps of a batch: enough to write it again."""

    status: Status
    follower_ids: list[UserId]
    error: str | None = None
    cause: str | None = None
    execution_id: str | None = None


# --- executions of status_fanout: input and output (schemas/sfn_status_fanout_*.schema.json) ----


class StatusFanoutInput(_Strict):
    """What POST /statuses starts the fan-out with."""

    status: Status


class StatusFanoutOutput(_Strict):
    """A fan-out that wrote every follower's feed (one that dead-lettered a batch fails instead)."""

    status_id: str
    followers: int
    written: int
    pages: int
