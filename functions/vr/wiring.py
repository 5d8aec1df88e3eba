"""Builds what a handler needs from its environment, at call time (tests point it at fresh tables)."""

from __future__ import annotations

from functions.shared import aws, config
from functions.shared.connections import ConnectionsRepository, Pusher
from functions.shared.exceptions import ArcadeflowError
from functions.vr.repositories import (
    EventsRepository,
    ProgressRepository,
    RewardsRepository,
    SessionsRepository,
)

# Sessions and events are kept this long after a session's end (or after its last event, for a
# session never ended): 72 h, as the source documents say. `arcadeflow up --vr-retention` shortens it.
DEFAULT_RETENTION_SECONDS = 72 * 3600
# A batch's reservation on its session outlives the writing Lambda (10 s timeout) threefold: the
# end waits for a live writer, and clears the reservation of one that died.
BATCH_LEASE_SECONDS = 30
# vr_session_end's TimeoutSeconds: an "ending" session whose execution started longer ago than
# this is dead, and another execution may finish the end.
END_TAKEOVER_SECONDS = 3600
DEFAULT_EVENTS_PAGE_SIZE = 1000


def retention_seconds() -> int:
    return config.int_setting("VR_RETENTION_SECONDS", DEFAULT_RETENTION_SECONDS)


def events_page_size() -> int:
    return config.int_setting("VR_EVENTS_PAGE_SIZE", DEFAULT_EVENTS_PAGE_SIZE)


def sessions() -> SessionsRepository:
    return SessionsRepository(aws.dynamodb(), config.table_name("player_sessions"))


def events() -> EventsRepository:
    return EventsRepository(aws.dynamodb(), config.table_name("interaction_events"))


def rewards() -> RewardsRepository:
    return RewardsRepository(aws.dynamodb(), config.table_name("player_rewards"))


def progress() -> ProgressRepository:
    return ProgressRepository(
        aws.dynamodb(), config.table_name("player_progress"), config.table_name("player_sessions")
    )


def session_end_state_machine() -> str:
    return config.required("VR_SESSION_END_STATE_MACHINE_ARN")


def _no_error_frames(error: ArcadeflowError) -> bytes:
    # The VR flow only pushes; players send it nothing over the WebSocket to refuse.
    raise RuntimeError(f"the VR flow sends no error frames ({error.code})")


def pusher() -> Pusher:
    connections = ConnectionsRepository(aws.dynamodb(), config.table_name("connections"))
    return Pusher(aws.management_api(), connections, _no_error_frames)
