"""Builds what a handler needs from its environment, at call time (tests point it at fresh tables)."""

from __future__ import annotations

from functions.duels import clients
from functions.duels.push import Pusher
from functions.duels.repositories import ConnectionsRepository, InvitesRepository, SessionsRepository

# Production values; `arcadeflow up --invite-timeout/--session-duration` override the variables.
DEFAULT_INVITE_TIMEOUT_SECONDS = 60
DEFAULT_SESSION_DURATION_SECONDS = 600
# startAt lies this far ahead of the start message, so both clients start their timers together.
DEFAULT_SESSION_LEAD_SECONDS = 2


def connections() -> ConnectionsRepository:
    return ConnectionsRepository(clients.dynamodb(), clients.table("connections"))


def invites() -> InvitesRepository:
    return InvitesRepository(clients.dynamodb(), clients.table("invites"))


def invites_with_guards() -> InvitesRepository:
    return InvitesRepository(clients.dynamodb(), clients.table("invites"), clients.table("pending_invites"))


def sessions() -> SessionsRepository:
    return SessionsRepository(clients.dynamodb(), clients.table("sessions"))


def pusher() -> Pusher:
    return Pusher(clients.management_api(), connections())


def invite_timeout_seconds() -> int:
    return clients.int_setting("INVITE_TIMEOUT_SECONDS", DEFAULT_INVITE_TIMEOUT_SECONDS, minimum=1)


def session_duration_seconds() -> int:
    return clients.int_setting("SESSION_DURATION_SECONDS", DEFAULT_SESSION_DURATION_SECONDS, minimum=1)


def session_lead_seconds() -> int:
    return clients.int_setting("SESSION_LEAD_SECONDS", DEFAULT_SESSION_LEAD_SECONDS, minimum=0)


def duel_invite_state_machine() -> str:
    return clients.setting("DUEL_INVITE_STATE_MACHINE_ARN")
