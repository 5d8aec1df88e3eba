"""The rules of duels, with no AWS in sight: pure functions over plain values.

Times are epoch milliseconds (ints) in and out; ISO strings are made only for clients.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from functions.duels.errors import (
    CannotInviteSelf,
    InviteAlreadyPending,
    InviteClosed,
    InviteeOffline,
    NotInSession,
    NotYourInvite,
    SessionEnded,
    SessionNotStarted,
    UnknownInvite,
    UnknownSession,
)
from functions.duels.models import ACTIONS, CLIENT_FRAME, MAX_FRAME_BYTES, ClientFrame
from functions.shared.clock import iso_ms
from functions.shared.frames import parse_client_frame

PENDING, ACCEPTED, REJECTED, EXPIRED = "pending", "accepted", "rejected", "expired"
SESSION_PENDING, SESSION_ACTIVE, SESSION_STOPPED = "pending", "active", "stopped"
END_BY_STOP, END_BY_TIMEOUT = "stop", "timeout"

# How long records stay for tracing after a flow is over, before TTL removes them.
RETENTION_SECONDS = 24 * 3600
# A pending invite whose flow has not settled it this long after its deadline was lost with its
# execution; it no longer blocks a new invite between the same two users.
STALE_INVITE_GRACE_MS = 30_000


# --- frames ---------------------------------------------------------------------


def parse_frame(body: str | None, is_base64: bool = False) -> ClientFrame:
    """A client frame, or the client error that says exactly what is wrong with it."""
    return parse_client_frame(
        body, is_base64, actions=ACTIONS, adapter=CLIENT_FRAME, max_bytes=MAX_FRAME_BYTES
    )


# --- invites -----------------------------------------------------------------------------------


def ensure_can_invite(from_user: str, to_user: str, invitee_connections: int) -> None:
    if from_user == to_user:
        raise CannotInviteSelf("you cannot invite yourself")
    if invitee_connections == 0:
        raise InviteeOffline(f"{to_user} is not online")


def blocks_new_invite(previous: Mapping[str, Any] | None, now_ms: int) -> bool:
    """Does an earlier invite between the same two users still stand in the way?"""
    if previous is None or previous.get("status") != PENDING:
        return False
    return int(previous["expiresAtMs"]) + STALE_INVITE_GRACE_MS > now_ms


def ensure_no_pending_invite(previous: Mapping[str, Any] | None, now_ms: int, to_user: str) -> None:
    if blocks_new_invite(previous, now_ms):
        raise InviteAlreadyPending(f"you already have a pending invite to {to_user}")


def new_invite(
    invite_id: str,
    from_user: str,
    from_name: str,
    to_user: str,
    now_ms: int,
    answer_window_seconds: int,
    session_duration_seconds: int,
) -> dict[str, Any]:
    expires_ms = now_ms + answer_window_seconds * 1000
    return {
        "inviteId": invite_id,
        "fromUserId": from_user,
        "fromName": from_name,
        "toUserId": to_user,
        "status": PENDING,
        "createdAt": iso_ms(now_ms),
        "expiresAt": iso_ms(expires_ms),
        "expiresAtMs": expires_ms,
        "answerWindowSeconds": answer_window_seconds,
        "sessionDurationSeconds": session_duration_seconds,
        "expireAt": expires_ms // 1000 + RETENTION_SECONDS,
    }


def ensure_can_answer(invite: Mapping[str, Any] | None, caller: str, now_ms: int) -> Mapping[str, Any]:
    """The invite the caller may answer now, or why not. The conditional write decides races."""
    if invite is None or "taskToken" not in invite:
        # No token yet means it was never delivered: nobody can know its id legitimately.
        raise UnknownInvite("no such invite")
    if invite["toUserId"] != caller:
        raise NotYourInvite("this invite is not addressed to you")
    if invite["status"] != PENDING or int(invite["expiresAtMs"]) <= now_ms:
        raise InviteClosed(f"this invite is already {_closed_state(invite, now_ms)}")
    return invite


def _closed_state(invite: Mapping[str, Any], now_ms: int) -> str:
    status = invite["status"]
    if status == PENDING and int(invite["expiresAtMs"]) <= now_ms:
        return EXPIRED
    return str(status)


# --- sessions ----------------------------------------------------------------------------------


def new_session(
    session_id: str,
    invite_id: str,
    user_a: str,
    user_b: str,
    now_ms: int,
    lead_seconds: int,
    duration_seconds: int,
) -> dict[str, Any]:
    start_ms = now_ms + lead_seconds * 1000
    ends_ms = start_ms + duration_seconds * 1000
    return {
        "sessionId": session_id,
        "inviteId": invite_id,
        "userA": user_a,
        "userB": user_b,
        "status": SESSION_PENDING,
        "startAt": iso_ms(start_ms),
        "startAtMs": start_ms,
        "durationSeconds": duration_seconds,
        "endsAt": iso_ms(ends_ms),
        "endsAtMs": ends_ms,
        "expireAt": ends_ms // 1000 + RETENTION_SECONDS,
    }


def seconds_until_end(session: Mapping[str, Any], now_ms: int) -> int:
    """Whole seconds the flow waits for a stop before ending the session on time; rounded up,
    so the end message never goes out before endsAt."""
    return max(1, math.ceil((int(session["endsAtMs"]) - now_ms) / 1000))


def ensure_can_stop(session: Mapping[str, Any] | None, caller: str, now_ms: int) -> Mapping[str, Any]:
    if session is None:
        raise UnknownSession("no such session")
    if caller not in (session["userA"], session["userB"]):
        raise NotInSession("you are not a player of this session")
    if session["status"] == SESSION_PENDING:
        raise SessionNotStarted("this session has not started yet")
    if session["status"] != SESSION_ACTIVE or int(session["endsAtMs"]) <= now_ms:
        raise SessionEnded("this session has already ended")
    return session


def opponent_of(session: Mapping[str, Any], user_id: str) -> str:
    return str(session["userB"] if session["userA"] == user_id else session["userA"])


def is_running(session: Mapping[str, Any], now_ms: int) -> bool:
    return session.get("status") == SESSION_ACTIVE and int(session["endsAtMs"]) > now_ms


# --- presence ----------------------------------------------------------------------------------

ONLINE, OFFLINE = "online", "offline"


def presence_change(
    event_name: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> tuple[str, str, str | None, str | None] | None:
    """(userId, status, gameId, context) a presence-table change tells followers, or None for a
    refresh that changed nothing they see (clients refresh every 30 s)."""
    if event_name == "REMOVE":
        if old is None:
            return None
        return str(old["userId"]), OFFLINE, None, None
    if new is None:
        return None
    visible = ("status", "gameId", "context")
    if event_name == "MODIFY" and old is not None and all(old.get(k) == new.get(k) for k in visible):
        return None
    return str(new["userId"]), str(new.get("status") or ONLINE), new.get("gameId"), new.get("context")


def live_presence(record: Mapping[str, Any] | None, now_epoch: int) -> tuple[str, str | None, str | None]:
    """What a connected user's presence says, or plain online when it has none or it expired."""
    if record is None or int(record.get("expiresAt", 0)) <= now_epoch:
        return ONLINE, None, None
    return str(record.get("status") or ONLINE), record.get("gameId"), record.get("context")
