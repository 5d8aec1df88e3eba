"""Builds what a handler needs from its environment, at call time (tests point it at fresh tables)."""

from __future__ import annotations

from functions.duels.push import encode_error
from functions.duels.repositories import InvitesRepository, SessionsRepository
from functions.shared import aws, config
from functions.shared.connections import ConnectionsRepository, Pusher

# Production values; `arcadeflow up --invite-timeout/--session-duration` override the variables.
DEFAULT_INVITE_TIMEOUT_SECONDS = 60
DEFAULT_SESSION_DURATION_SECONDS = 600
# startAt lies this far ahead of the start message, so both clients start their timers together.
DEFAULT_SESSION_LEAD_SECONDS = 2


def connections() -> ConnectionsRepository:
    return ConnectionsRepository(aws.dynamodb(), config.table_name("connections"))


def invites() -> InvitesRepository:
    return InvitesRepository(aws.dynamodb(), config.table_name("invites"))


def invites_with_guards() -> InvitesRepository:
    return InvitesRepository(
        aws.dynamodb(), config.table_name("invites"), config.table_name("pending_invites")
    )


def sessions() -> SessionsRepository:
    return SessionsRepository(aws.dynamodb(), config.table_name("sessions"))


def pusher() -> Pusher:
    return Pusher(aws.management_api(), connections(), encode_error)


def invite_timeout_seconds() -> int:
    return config.int_setting("INVITE_TIMEOUT_SECONDS", DEFAULT_INVITE_TIMEOUT_SECONDS)


def session_duration_seconds() -> int:
    return config.int_setting("SESSION_DURATION_SECONDS", DEFAULT_SESSION_DURATION_SECONDS)


def session_lead_seconds() -> int:
    # Zero is allowed: a test (or an impatient operator) may start sessions at once.
    return config.int_setting("SESSION_LEAD_SECONDS", DEFAULT_SESSION_LEAD_SECONDS, minimum=0)


def duel_invite_state_machine() -> str:
    return config.required("DUEL_INVITE_STATE_MACHINE_ARN")
