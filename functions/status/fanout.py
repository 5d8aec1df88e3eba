"""Rules of the status fan-out, with no AWS in sight: item shapes, batching, pacing, backoff.

Feed and story items share one shape: `userAlias` is whose listing it is (the follower for a
feed, the author for a story), `timestamp` sorts it. The sort key is the post time followed by
the statusId, so two statuses posted in the same microsecond never collide and writing the same
status again rewrites the same key: a replayed batch changes nothing.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

# DynamoDB's BatchWriteItem takes at most 25 writes a request.
BATCH_WRITE_LIMIT = 25
# A state's input or output must stay well under Step Functions' 256 KB: a page of follower ids
# is cut at this many bytes of JSON whatever the ids' lengths.
MAX_PAGE_BYTES = 96 * 1024


class FeedWriteThrottled(Exception):
    """Feed writes were still throttled after every in-process retry. The state machine's Retry
    runs the whole batch again (rewriting the same keys), then dead-letters it."""


def sort_key(posted_at: str, status_id: str) -> str:
    return f"{posted_at}#{status_id}"


def listing_item(owner: str, status: Mapping[str, Any]) -> dict[str, Any]:
    """The item a feed (owner = a follower) or a story (owner = the author) holds for a status."""
    author = status["author"]
    return {
        "userAlias": owner,
        "timestamp": status["timestamp"],
        "statusId": status["statusId"],
        "post": status["post"],
        "postedAt": status["postedAt"],
        "author": {k: v for k, v in author.items() if v is not None},
    }


def chunks(values: Sequence[Any], size: int) -> Iterator[list[Any]]:
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def page_within_bytes(ids: Sequence[str], max_bytes: int = MAX_PAGE_BYTES) -> list[str]:
    """The longest prefix of `ids` whose JSON stays within max_bytes (at least one id)."""
    size, kept = 2, list[str]()
    for user_id in ids:
        size += len(json.dumps(user_id)) + 1
        if size > max_bytes and kept:
            break
        kept.append(user_id)
    return kept


def full_jitter_delay(
    attempt: int, base: float, cap: float, rng: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with full jitter (AWS Architecture Blog): uniform in [0, min(cap, base*2^n)]."""
    return rng() * min(cap, base * (2**attempt))


def _value_size(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, int | float):
        digits = str(abs(value)).replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if isinstance(value, Mapping):
        return 3 + sum(len(str(k).encode()) + _value_size(v) + 1 for k, v in value.items())
    if isinstance(value, list | tuple):
        return 3 + sum(_value_size(v) + 1 for v in value)
    raise TypeError(f"no DynamoDB size for {type(value).__name__}")


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes DynamoDB counts for an item: attribute names plus values."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items() if value is not None)


def write_units(item: Mapping[str, Any]) -> int:
    """WCU of one standard write: one per started KB."""
    return max(1, math.ceil(item_size(item) / 1024))


class Pacer:
    """Keeps one writer at `rate` write units a second.

    Each write is paid for after the fact: the k-th write may start once the writer has been
    running long enough to have earned the units of every write before it and of this one.
    Starting from the writer's own start (not the first write) means concurrent writers that
    start together do not all burst at once; a rate of None does not pace.
    """

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._started = clock()
        self._spent = 0.0

    def delay_for(self, units: float) -> float:
        if self.rate is None:
            return 0.0
        due = self._started + (self._spent + units) / self.rate
        return max(0.0, due - self._clock())

    def acquire(self, units: float) -> None:
        delay = self.delay_for(units)
        if delay > 0:
            self._sleep(delay)
        self._spent += units


def tally(totals: Mapping[str, int], batch_results: Sequence[Mapping[str, int]] | None) -> dict[str, int]:
    """Totals after one page's batches: how many followers got the status, how many were dead-lettered."""
    out = {"followers": 0, "written": 0, "deadLettered": 0, "pages": 0, **totals}
    for result in batch_results or []:
        out["written"] += int(result.get("written", 0))
        out["deadLettered"] += int(result.get("deadLettered", 0))
    return out


def worker_rate(budget_wcu: int, concurrency: int) -> float:
    """Each of `concurrency` batch writers gets an equal share of the table's write budget."""
    if budget_wcu < 1 or concurrency < 1:
        raise ValueError("budget and concurrency must be at least 1")
    return budget_wcu / concurrency
