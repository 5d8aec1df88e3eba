"""The fan-out's settings, read from the function's environment when asked (tests set them),
by the one rule of functions/shared/config.py.

infra/deployment.json gives each function its values; `arcadeflow up --feed-write-budget` and
Terraform variables override them per environment.
"""

from __future__ import annotations

from functions.shared.config import int_setting


def feed_write_budget_wcu() -> int:
    """Write units a second the whole fan-out may spend on the feed table (default 100)."""
    return int_setting("FEED_WRITE_BUDGET_WCU", 100)


def fanout_concurrency() -> int:
    """Batch writers at once (the Map's MaxConcurrency); each gets budget / concurrency."""
    return int_setting("FANOUT_CONCURRENCY", 5)


def fanout_page_size() -> int:
    """Followers read per page; one Map run writes a page."""
    return int_setting("FANOUT_PAGE_SIZE", 1000)


def fanout_batch_size() -> int:
    """Followers per Map item (written 25 a request)."""
    return int_setting("FANOUT_BATCH_SIZE", 100)


def feed_write_max_attempts() -> int:
    """BatchWriteItem attempts per 25 items before the batch is handed back to the state machine."""
    return int_setting("FEED_WRITE_MAX_ATTEMPTS", 8)
