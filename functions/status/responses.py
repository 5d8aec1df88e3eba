"""What the status API answers: the accepted post, and pages of feeds and stories."""

from __future__ import annotations

from pydantic import Field

from functions.shared.responses import NextCursor, ResponseModel


class StatusAccepted(ResponseModel):
    """POST /statuses (202): stored in the author's story; the fan-out runs on its own."""

    status_id: str
    posted_at: str
    timestamp: str = Field(description="the listing sort key: <postedAt>#<statusId>")
    fanout_execution_arn: str


class ListingAuthor(ResponseModel):
    user_id: str
    screen_name: str
    # Stored only when the author has one, and sent the same way.
    avatar: str | None = Field(default=None, exclude_if=lambda value: value is None)


class ListingEntry(ResponseModel):
    status_id: str
    post: str
    posted_at: str
    author: ListingAuthor


class Listing(NextCursor):
    """GET /feed and GET /users/{id}/story: newest first."""

    user_id: str
    items: list[ListingEntry]
