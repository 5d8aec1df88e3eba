"""Feed and story pages with 10,000 items behind them, each beside the same page read straight
from the same table in the same run (the source documents ask for pages under 1 s).

    python -m benchmarks.feed_pages [--items 10000] [--requests 200] [--limit 50] [--deep-item 5000]

Starts its own `arcadeflow up`. One reader's feed and one author's story get `--items` items
each, written straight into the feed and story tables (BatchWriteItem from several threads; its
time printed apart). Then, for GET /feed and GET /users/{id}/story over HTTP (a kept-alive
connection, as a page's client has):
- the first page, `--requests` times;
- a deep page: the page starting at item `--deep-item`, reached by following `nextCursor` from
  the first page, then requested `--requests` times with that cursor;
- the whole listing read page by page to its end (once; every item must come once, newest first);
and beside each, the same page from the same table by the handler's own Query
(functions/status/repositories.py `Listings.page`) called from this process with boto3: the
cost of DynamoDB alone, without API Gateway, the authorizer, Lambda and the cursor.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from arcadeflow.auth import LocalIssuer
from benchmarks.fanout_common import percentile, write_parallel
from functions.shared.dynamo import to_item
from functions.status.fanout import listing_item, sort_key
from functions.status.repositories import Listings
from tests.support.stack import RunningStack

PAGE_TARGET_SECONDS = 1.0


def seeded_status(author: str, n: int) -> dict[str, Any]:
    """The n-th status of a seeded listing: one a second from 2026-01-01, so n orders them."""
    posted_at = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(1767225600 + n))
    status_id = f"{author}-{n:06d}"
    return {
        "statusId": status_id,
        "post": f"seeded status {n}",
        "postedAt": posted_at,
        "timestamp": sort_key(posted_at, status_id),
        "author": {"userId": author, "screenName": author},
    }


def seed_listing(
    stack: RunningStack, table: str, owner: str, author_of: Callable[[int], str], items: int
) -> list[str]:
    """`items` listing items for `owner`; their statusIds newest first (as a page lists them)."""
    statuses = [seeded_status(author_of(n), n) for n in range(items)]
    write_parallel(
        stack, stack.endpoints()["tables"][table], [to_item(listing_item(owner, s)) for s in statuses]
    )
    return [s["statusId"] for s in reversed(statuses)]


class PageReader:
    """One listing read over HTTP and straight from its table."""

    def __init__(self, stack: RunningStack, path: str, table: str, owner: str, token: str, limit: int):
        self.url = f"{stack.http_url}{path}"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.listings = Listings(stack.client("dynamodb"), stack.endpoints()["tables"][table])
        self.owner = owner
        self.limit = limit

    def http_page(self, cursor: str | None = None) -> tuple[float, dict[str, Any]]:
        params: dict[str, Any] = {"limit": self.limit}
        if cursor:
            params["cursor"] = cursor
        started = time.perf_counter()
        reply = self.session.get(self.url, params=params, timeout=30)
        elapsed = time.perf_counter() - started
        if reply.status_code != 200:
            raise RuntimeError(f"GET {self.url}: {reply.status_code} {reply.text}")
        return elapsed, reply.json()

    def raw_page(self, before: str | None = None) -> tuple[float, list[dict[str, Any]]]:
        started = time.perf_counter()
        items, _ = self.listings.page(self.owner, before, self.limit)
        return time.perf_counter() - started, items

    def walk(self) -> tuple[float, list[list[str]], list[str | None]]:
        """Every page to the end over HTTP: seconds, the statusIds of each page, and the cursor
        each page was asked with."""
        pages: list[list[str]] = []
        cursors: list[str | None] = []
        cursor: str | None = None
        started = time.perf_counter()
        while True:
            _, page = self.http_page(cursor)
            cursors.append(cursor)
            pages.append([item["statusId"] for item in page["items"]])
            cursor = page.get("nextCursor")
            if not cursor:
                return time.perf_counter() - started, pages, cursors


def measure_listing(
    reader: PageReader, expected: list[str], timestamps: dict[str, str], requests_each: int, deep_item: int
) -> dict[str, Any]:
    """First page and deep page, over HTTP and raw, `requests_each` times each; the whole walk;
    and whether every page held exactly the items it should."""
    walk_seconds, pages, cursors = reader.walk()
    walked = [status_id for page in pages for status_id in page]
    deep_index = min(deep_item // reader.limit, len(pages) - 1)
    deep_cursor = cursors[deep_index]
    # The raw Query continues after the item before the deep page, as the cursor does.
    deep_before = timestamps[pages[deep_index - 1][-1]] if deep_index > 0 else None

    figures: dict[str, list[float]] = {"first http": [], "first raw": [], "deep http": [], "deep raw": []}
    mismatches = 0
    for _ in range(requests_each):
        for kind, cursor, before in (("first", None, None), ("deep", deep_cursor, deep_before)):
            http_seconds, page = reader.http_page(cursor)
            raw_seconds, items = reader.raw_page(before)
            figures[f"{kind} http"].append(http_seconds)
            figures[f"{kind} raw"].append(raw_seconds)
            if [i["statusId"] for i in page["items"]] != [i["statusId"] for i in items]:
                mismatches += 1
    return {
        "items": len(expected),
        "pages": len(pages),
        "deepPageStartsAt": deep_index * reader.limit,
        "walkSeconds": walk_seconds,
        "walkedInOrder": walked == expected,
        "pagesUnlikeRawQuery": mismatches,
        "seconds": figures,
    }


def measure_pages(
    stack: RunningStack, items: int, requests_each: int, limit: int, deep_item: int, prefix: str = "pages"
) -> dict[str, Any]:
    """Seeds a feed and a story of `items` items each and measures both. Ids are made from
    `prefix`, so a shared stack can be used when the prefix is new to it."""
    reader_id, author_id = f"{prefix}Reader", f"{prefix}Author"
    started = time.perf_counter()
    feed = seed_listing(stack, "feed", reader_id, lambda n: f"{prefix}Followed{n % 100}", items)
    story = seed_listing(stack, "story", author_id, lambda n: author_id, items)
    seeding_seconds = time.perf_counter() - started
    token = LocalIssuer(stack.state_dir).mint(reader_id, reader_id)

    def sort_keys(owner_of: Callable[[int], str]) -> dict[str, str]:
        return {(s := seeded_status(owner_of(n), n))["statusId"]: s["timestamp"] for n in range(items)}

    results: dict[str, Any] = {"seedingSeconds": seeding_seconds, "itemsEach": items, "limit": limit}
    results["feed"] = measure_listing(
        PageReader(stack, "/feed", "feed", reader_id, token, limit),
        feed,
        sort_keys(lambda n: f"{prefix}Followed{n % 100}"),
        requests_each,
        deep_item,
    )
    results["story"] = measure_listing(
        PageReader(stack, f"/users/{author_id}/story", "story", author_id, token, limit),
        story,
        sort_keys(lambda n: author_id),
        requests_each,
        deep_item,
    )
    return results


def pages_table(results: dict[str, Any]) -> str:
    lines = [
        f"feed and story pages, {results['itemsEach']:,} items in each listing, {results['limit']} a page; "
        f"seeded in {results['seedingSeconds']:.1f} s (BatchWriteItem, 8 threads)",
        "",
        "| page | requests | GET p50 ms | GET p99 ms | raw Query p50 ms | raw Query p99 ms | x raw p50 "
        "| x raw p99 | target |",
        "|---|" + "---:|" * 7 + "---|",
    ]
    for listing, route in (("feed", "GET /feed"), ("story", "GET /users/{id}/story")):
        figures = results[listing]
        for kind, label in (
            ("first", "first page"),
            ("deep", f"page at item {figures['deepPageStartsAt']:,}"),
        ):
            http, raw = figures["seconds"][f"{kind} http"], figures["seconds"][f"{kind} raw"]
            h50, h99 = percentile(http, 0.5) * 1000, percentile(http, 0.99) * 1000
            r50, r99 = percentile(raw, 0.5) * 1000, percentile(raw, 0.99) * 1000
            met = "met" if h99 / 1000 < PAGE_TARGET_SECONDS else "NOT met"
            lines.append(
                f"| {route}, {label} | {len(http)} | {h50:.1f} | {h99:.1f} | {r50:.1f} | {r99:.1f} "
                f"| {h50 / r50:.1f} | {h99 / r99:.1f} | p99 < 1 s ({met}) |"
            )
    lines.append("")
    for listing in ("feed", "story"):
        f = results[listing]
        lines.append(
            f"{listing}: all {f['items']:,} items read in {f['pages']} pages in {f['walkSeconds']:.2f} s "
            f"({f['walkSeconds'] / f['pages'] * 1000:.1f} ms a page); newest first, each once: "
            f"{'yes' if f['walkedInOrder'] else 'NO'}; pages unlike the raw Query: {f['pagesUnlikeRawQuery']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=10_000, help="items in the feed and in the story")
    parser.add_argument("--requests", type=int, default=200, help="samples of each page (default 200)")
    parser.add_argument("--limit", type=int, default=50, help="items a page (the API's default, 50)")
    parser.add_argument("--deep-item", type=int, default=5_000, help="where the deep page starts")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="arcadeflow-bench-") as state:
        stack = RunningStack(Path(state))
        try:
            results = measure_pages(stack, args.items, args.requests, args.limit, args.deep_item)
        finally:
            stack.stop()
    print(pages_table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
