"""The rules of duels: frame validation, who may do what, times, presence changes. No AWS."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.duels import domain
from functions.duels.errors import (
    CannotInviteSelf,
    FrameTooLarge,
    InvalidFrame,
    InviteAlreadyPending,
    InviteClosed,
    InviteeOffline,
    MalformedFrame,
    NotInSession,
    NotYourInvite,
    SessionEnded,
    SessionNotStarted,
    UnknownAction,
    UnknownInvite,
    UnknownSession,
)
from functions.duels.models import MAX_FRAME_BYTES, InviteAction, RespondAction, StopAction
from functions.shared import clock
from functions.shared.exceptions import ArcadeflowError

INVITE_ID = "0b7e4c36-1d1e-4c2a-9a55-8f1c0a3e2b11"
NOW = 1_800_000_000_000


def test_a_valid_frame_of_each_action_parses():
    assert domain.parse_frame('{"action": "invite", "to": "bob"}') == InviteAction(action="invite", to="bob")
    respond = domain.parse_frame(json.dumps({"action": "respond", "inviteId": INVITE_ID, "accept": False}))
    assert isinstance(respond, RespondAction) and respond.accept is False
    stop = domain.parse_frame(json.dumps({"action": "stop", "sessionId": INVITE_ID}))
    assert isinstance(stop, StopAction) and stop.session_id == INVITE_ID


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (None, MalformedFrame),
        ("", MalformedFrame),
        ("{", MalformedFrame),
        ("[1]", MalformedFrame),
        ('"invite"', MalformedFrame),
        ('{"action": "dance"}', UnknownAction),
        ('{"to": "bob"}', UnknownAction),
        ('{"action": 3}', UnknownAction),
        ('{"action": "invite"}', InvalidFrame),
        ('{"action": "invite", "to": "bob", "x": 1}', InvalidFrame),
        ('{"action": "invite", "to": "bob#1"}', InvalidFrame),
        ('{"action": "respond", "inviteId": "nope", "accept": true}', InvalidFrame),
        (json.dumps({"action": "respond", "inviteId": INVITE_ID, "accept": 1}), InvalidFrame),
        (json.dumps({"action": "respond", "inviteId": INVITE_ID, "accept": "true"}), InvalidFrame),
        (json.dumps({"action": "invite", "to": "b" * MAX_FRAME_BYTES}), FrameTooLarge),
    ],
)
def test_a_bad_frame_names_what_is_wrong(body, error):
    with pytest.raises(error) as raised:
        domain.parse_frame(body)
    assert raised.value.code and raised.value.message


def test_a_base64_frame_is_decoded_and_binary_garbage_is_malformed():
    encoded = base64.b64encode(b'{"action": "ping"}').decode()
    assert domain.parse_frame(encoded, is_base64=True).action == "ping"
    with pytest.raises(MalformedFrame):
        domain.parse_frame(base64.b64encode(b"\xff\xfe").decode(), is_base64=True)
    with pytest.raises(MalformedFrame):
        domain.parse_frame("***", is_base64=True)


@given(st.text(max_size=300))
def test_any_text_either_parses_or_raises_a_duel_error(text):
    try:
        domain.parse_frame(text)
    except ArcadeflowError as error:
        assert error.code in {"malformed_frame", "unknown_action", "invalid_frame", "frame_too_large"}


def test_invite_rules():
    with pytest.raises(CannotInviteSelf):
        domain.ensure_can_invite("alice", "alice", 3)
    with pytest.raises(InviteeOffline):
        domain.ensure_can_invite("alice", "bob", 0)
    domain.ensure_can_invite("alice", "bob", 1)


def _invite(**changes):
    invite = domain.new_invite(INVITE_ID, "alice", "Alice", "bob", NOW, 60, 600)
    invite["taskToken"] = "token"
    invite.update(changes)
    return invite


def test_a_new_invite_expires_after_its_answer_window():
    invite = domain.new_invite(INVITE_ID, "alice", "Alice", "bob", NOW, 60, 600)
    assert invite["expiresAtMs"] == NOW + 60_000
    assert invite["expiresAt"] == clock.iso_ms(NOW + 60_000)
    assert invite["status"] == "pending"
    assert invite["expireAt"] > invite["expiresAtMs"] // 1000  # kept for tracing after it closes


def test_only_a_live_pending_invite_blocks_a_new_one_between_the_same_users():
    assert not domain.blocks_new_invite(None, NOW)
    assert domain.blocks_new_invite(_invite(), NOW)
    assert not domain.blocks_new_invite(_invite(status="rejected"), NOW)
    # A pending invite long past its deadline lost its flow: it no longer blocks.
    stale = NOW + 60_000 + domain.STALE_INVITE_GRACE_MS + 1
    assert not domain.blocks_new_invite(_invite(), stale)
    with pytest.raises(InviteAlreadyPending):
        domain.ensure_no_pending_invite(_invite(), NOW, "bob")


def test_answer_rules():
    assert domain.ensure_can_answer(_invite(), "bob", NOW)["inviteId"] == INVITE_ID
    with pytest.raises(UnknownInvite):
        domain.ensure_can_answer(None, "bob", NOW)
    undelivered = _invite()
    del undelivered["taskToken"]
    with pytest.raises(UnknownInvite):
        domain.ensure_can_answer(undelivered, "bob", NOW)
    with pytest.raises(NotYourInvite):
        domain.ensure_can_answer(_invite(), "alice", NOW)
    with pytest.raises(InviteClosed, match="accepted"):
        domain.ensure_can_answer(_invite(status="accepted"), "bob", NOW)
    with pytest.raises(InviteClosed, match="expired"):
        domain.ensure_can_answer(_invite(), "bob", NOW + 60_000)


def _session(**changes):
    session = domain.new_session(INVITE_ID, "inv", "alice", "bob", NOW, 2, 600)
    session.update({"status": "active", **changes})
    return session


def test_a_session_starts_after_the_lead_and_lasts_its_duration():
    session = domain.new_session(INVITE_ID, "inv", "alice", "bob", NOW, 2, 600)
    assert session["startAtMs"] == NOW + 2000 and session["endsAtMs"] == NOW + 602_000
    assert session["startAt"].endswith("Z") and session["status"] == "pending"


def test_the_flow_never_waits_less_than_until_the_end():
    session = _session()
    for elapsed in (0, 1, 999, 1000, 1001, 601_999):
        wait = domain.seconds_until_end(session, NOW + elapsed)
        assert NOW + elapsed + wait * 1000 >= session["endsAtMs"]
        assert wait * 1000 < session["endsAtMs"] - (NOW + elapsed) + 1000
    assert domain.seconds_until_end(session, NOW + 700_000) == 1  # a replay after the end


def test_stop_rules():
    assert domain.ensure_can_stop(_session(), "bob", NOW)
    assert domain.ensure_can_stop(_session(), "alice", NOW)
    with pytest.raises(UnknownSession):
        domain.ensure_can_stop(None, "bob", NOW)
    with pytest.raises(NotInSession):
        domain.ensure_can_stop(_session(), "mallory", NOW)
    with pytest.raises(SessionNotStarted):
        domain.ensure_can_stop(_session(status="pending"), "bob", NOW)
    with pytest.raises(SessionEnded):
        domain.ensure_can_stop(_session(status="stopped"), "bob", NOW)
    with pytest.raises(SessionEnded):
        domain.ensure_can_stop(_session(), "bob", NOW + 602_000)


def test_opponent_and_running():
    session = _session()
    assert domain.opponent_of(session, "alice") == "bob" and domain.opponent_of(session, "bob") == "alice"
    assert domain.is_running(session, NOW) and not domain.is_running(session, NOW + 602_000)


def test_iso_is_utc_with_milliseconds():
    assert clock.iso_ms(0) == "1970-01-01T00:00:00.000Z"
    assert clock.iso_ms(1_234) == "1970-01-01T00:00:01.234Z"


def test_presence_changes_followers_hear_about():
    old = {"userId": "u", "status": "home", "gameId": None, "context": None, "expiresAt": 10}
    refreshed = {**old, "expiresAt": 40}
    playing = {**old, "status": "playing", "gameId": "chess"}
    assert domain.presence_change("INSERT", None, old) == ("u", "home", None, None)
    assert domain.presence_change("MODIFY", old, refreshed) is None  # a refresh is not news
    assert domain.presence_change("MODIFY", old, playing) == ("u", "playing", "chess", None)
    assert domain.presence_change("REMOVE", old, None) == ("u", "offline", None, None)
    assert domain.presence_change("REMOVE", None, None) is None


def test_live_presence_falls_back_to_online():
    assert domain.live_presence(None, 100) == ("online", None, None)
    record = {"status": "playing", "gameId": "chess", "context": "lvl 3", "expiresAt": 200}
    assert domain.live_presence(record, 100) == ("playing", "chess", "lvl 3")
    assert domain.live_presence(record, 200) == ("online", None, None)  # expired, TTL not yet run
