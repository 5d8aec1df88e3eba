from __future__ import annotations

import pytest

from tests.support.stack import RunningStack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """One real `arcadeflow up` for the e2e and flows tiers (TTL swept every second)."""
    running = RunningStack(tmp_path_factory.mktemp("arcadeflow"), ["--ttl-interval", "1"])
    yield running
    running.stop()
