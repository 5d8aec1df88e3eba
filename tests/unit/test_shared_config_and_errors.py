"""The one settings rule, the one clock, and the one family of client errors in functions/shared."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus

import pytest

from functions.duels import errors as duel_errors
from functions.duels.push import error_frame
from functions.shared import clock, config
from functions.shared.exceptions import ArcadeflowError
from functions.shared.http import error_body, status_for
from functions.status import errors as status_errors  # noqa: F401 - its errors join the family


def test_an_unset_setting_is_missing_and_a_bad_one_invalid(monkeypatch):
    monkeypatch.delenv("SOME_TABLE", raising=False)
    with pytest.raises(config.MissingConfiguration, match="SOME_TABLE"):
        config.table_name("some")
    monkeypatch.setenv("WINDOW_SECONDS", "")
    assert config.int_setting("WINDOW_SECONDS", 60) == 60
    monkeypatch.setenv("WINDOW_SECONDS", "sixty")
    with pytest.raises(config.InvalidConfiguration, match="not an integer"):
        config.int_setting("WINDOW_SECONDS", 60)
    monkeypatch.setenv("WINDOW_SECONDS", "0")
    with pytest.raises(config.InvalidConfiguration, match="below 1"):
        config.int_setting("WINDOW_SECONDS", 60)
    assert config.int_setting("WINDOW_SECONDS", 2, minimum=0) == 0


def test_the_metrics_namespace_is_one_setting(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    assert config.metrics_namespace() == "arcadeflow"
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "arcadeflow-staging")
    assert config.metrics_namespace() == "arcadeflow-staging"


def test_every_reading_of_the_clock_moves_with_now(monkeypatch):
    moment = datetime(2030, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)
    assert clock.now_ms() == 1_893_553_445_678
    assert clock.iso_ms(clock.now_ms()) == "2030-01-02T03:04:05.678Z"
    assert clock.iso(clock.now()) == "2030-01-02T03:04:05.678000Z"


def _client_errors(root: type[ArcadeflowError]):
    yield root
    for sub in root.__subclasses__():
        yield from _client_errors(sub)


def test_every_client_error_has_its_own_code():
    errors = list(dict.fromkeys(_client_errors(ArcadeflowError)))
    codes = [error.code for error in errors]
    assert len(codes) == len(set(codes)), sorted(codes)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (duel_errors.InviteClosed, HTTPStatus.UNPROCESSABLE_ENTITY, "invite_closed"),
        (duel_errors.UnknownSession, HTTPStatus.NOT_FOUND, "unknown_session"),
        (duel_errors.FrameTooLarge, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "frame_too_large"),
        (duel_errors.MalformedFrame, HTTPStatus.BAD_REQUEST, "malformed_frame"),
    ],
)
def test_a_duel_error_maps_to_both_edges_from_its_class(error, status, code):
    raised = error("what the player is told")
    assert status_for(raised) == status
    assert error_body(raised.code, raised.message) == {
        "error": {"code": code, "message": "what the player is told"}
    }
    assert error_frame(raised).model_dump() == {
        "type": "error",
        "code": code,
        "message": "what the player is told",
    }
