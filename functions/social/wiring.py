"""Builds the repositories a handler needs from its environment, and registers the caller.

Handlers call these at request time (not import time) so a test can point them at fresh tables.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import TypeAdapter, ValidationError

from functions.shared import aws, config
from functions.shared.exceptions import InvalidRequest
from functions.shared.identity import caller_from_event
from functions.shared.users import UsersRepository
from functions.social.domain import DEFAULT_ONLINE_SHARDS, DEFAULT_PRESENCE_TTL_SECONDS
from functions.social.repositories import FollowsRepository, GameStatsRepository, PresenceRepository


def users() -> UsersRepository:
    return UsersRepository(aws.dynamodb(), config.table_name("users"))


def follows() -> FollowsRepository:
    return FollowsRepository(aws.dynamodb(), config.table_name("follows"))


def presence() -> PresenceRepository:
    return PresenceRepository(aws.dynamodb(), config.table_name("presence"))


def game_stats() -> GameStatsRepository:
    return GameStatsRepository(aws.dynamodb(), config.table_name("user_game_stats"))


def presence_ttl_seconds() -> int:
    return config.int_setting("PRESENCE_TTL_SECONDS", DEFAULT_PRESENCE_TTL_SECONDS)


def online_shards() -> int:
    # Changing it strands current records in old shards until they expire (one TTL, ~2 min).
    return config.int_setting("PRESENCE_ONLINE_SHARDS", DEFAULT_ONLINE_SHARDS)


def register_caller(app: APIGatewayHttpResolver) -> dict[str, Any]:
    """The caller's user item; the first call with a token creates it from the token's claims."""
    return users().register(caller_from_event(app.current_event.raw_event))


def path_value(adapter: TypeAdapter[str], value: str, name: str) -> str:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise InvalidRequest(f"{name} {value[:140]!r} is not a valid {name}") from exc
