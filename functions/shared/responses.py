"""The base of every HTTP response model: camelCase on the wire, nothing unexpected.

A handler validates what the domain returns into its route's response model and answers with
functions.shared.http.respond; extra="forbid" makes a domain value that grew a field fail here,
in a test, instead of changing what clients see. tools/schemas.py writes each model's JSON
Schema to schemas/http_*.schema.json, and the OpenAPI document serves them per route.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


class NextCursor(ResponseModel):
    """A page of a listing: pass nextCursor back as ?cursor= for the next one; null at the end."""

    next_cursor: str | None
