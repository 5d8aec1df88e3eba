"""Fixtures every functional test may use."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from functions.shared import clock


class MovableClock:
    """functions.shared.clock.now, standing still until moved forward: every handler reads time
    through it, so "29 s later" is 29 s later however slow the machine is."""

    def __init__(self) -> None:
        self.start = datetime.now(clock.UTC)
        self.offset = timedelta()

    def now(self) -> datetime:
        return self.start + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def time_machine(monkeypatch) -> MovableClock:
    movable = MovableClock()
    monkeypatch.setattr(clock, "now", movable.now)
    return movable
