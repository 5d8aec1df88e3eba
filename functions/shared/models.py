"""Types every flow's models share: user ids, and the query string of a paged listing."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter
from pydantic.alias_generators import to_camel

# Cognito subs are UUIDs; local tokens use short names. '#' is excluded: sort keys use it.
UserId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,127}$")]
USER_ID = TypeAdapter(UserId)


class QueryParams(BaseModel):
    """A query string: not a body, every value arrives as a string, so types are lax."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, frozen=True)


class PageQuery(QueryParams):
    """?limit=&cursor= of every paged listing."""

    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = None
