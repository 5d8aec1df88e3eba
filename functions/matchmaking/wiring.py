"""Builds what a handler needs from its environment, at call time (tests point it at fresh tables)."""

from __future__ import annotations

from functions.matchmaking.push import encode_error
from functions.matchmaking.repositories import GamesRepository, PresenceWriter, TicketsRepository
from functions.shared import aws, config
from functions.shared.connections import ConnectionsRepository, Pusher

# A waiting ticket cannot outlive its player's connection, which API Gateway closes after 2 hours
# at most; the disconnect path removes it long before. TTL is for cleanup only.
DEFAULT_TICKET_TTL_SECONDS = 2 * 3600
# A game cannot outlast its players' connections either; an hour on top keeps it for tracing.
DEFAULT_GAME_TTL_SECONDS = 3 * 3600
# As functions/social: `arcadeflow up --presence-ttl` overrides it in every function declaring it.
DEFAULT_PRESENCE_TTL_SECONDS = 120
DEFAULT_PRESENCE_ONLINE_SHARDS = 4
# Pairs one pairing task makes before handing over (its execution ends; later joins start more).
DEFAULT_PAIRS_PER_TASK = 50
# A pairing task renews its lease before each pair (a pair takes well under a second); if it dies,
# the next execution takes over this long after its last renewal.
DEFAULT_LEASE_SECONDS = 15


def tickets() -> TicketsRepository:
    return TicketsRepository(aws.dynamodb(), config.table_name("queue_tickets"))


def games() -> GamesRepository:
    return GamesRepository(aws.dynamodb(), config.table_name("games"), config.table_name("queue_tickets"))


def games_table() -> str:
    return config.table_name("games")


def connections() -> ConnectionsRepository:
    return ConnectionsRepository(aws.dynamodb(), config.table_name("connections"))


def presence() -> PresenceWriter:
    return PresenceWriter(
        aws.dynamodb(),
        config.table_name("presence"),
        config.int_setting("PRESENCE_TTL_SECONDS", DEFAULT_PRESENCE_TTL_SECONDS),
        config.int_setting("PRESENCE_ONLINE_SHARDS", DEFAULT_PRESENCE_ONLINE_SHARDS),
    )


def pusher() -> Pusher:
    # Queue updates reach every waiting player: more posts in flight than a duel's two players need.
    return Pusher(aws.management_api(), connections(), encode_error, parallel_posts=16)


def ticket_ttl_seconds() -> int:
    return config.int_setting("QUEUE_TICKET_TTL_SECONDS", DEFAULT_TICKET_TTL_SECONDS)


def game_ttl_seconds() -> int:
    return config.int_setting("GAME_TTL_SECONDS", DEFAULT_GAME_TTL_SECONDS)


def pairs_per_task() -> int:
    return config.int_setting("PAIRS_PER_TASK", DEFAULT_PAIRS_PER_TASK)


def queue_pairing_state_machine() -> str:
    return config.required("QUEUE_PAIRING_STATE_MACHINE_ARN")


def lease_seconds() -> int:
    return config.int_setting("PAIRING_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
