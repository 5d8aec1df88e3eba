from __future__ import annotations

import pytest

from tests.support.stack import target_stack

# Short windows so a 60 s invite and a 10 min session take seconds; the flows read them from
# their execution input, exactly as with the production values.
INVITE_TIMEOUT_SECONDS = 6  # a loaded CI machine took over 3 s from invite to accept
SESSION_DURATION_SECONDS = 2
SESSION_LEAD_SECONDS = 2  # the functions' default (deployment.json)
PRESENCE_TTL_SECONDS = 3


@pytest.fixture(scope="session")
def duel_stack(tmp_path_factory):
    """A real `arcadeflow up` (or a deployment on ARCADEFLOW_E2E_TARGET) with short invite and
    session windows."""
    windows = [
        "--invite-timeout",
        str(INVITE_TIMEOUT_SECONDS),
        "--session-duration",
        str(SESSION_DURATION_SECONDS),
        "--presence-ttl",
        str(PRESENCE_TTL_SECONDS),
    ]
    running = target_stack(
        tmp_path_factory.mktemp("arcadeflow-duels"), ["--ttl-interval", "1", *windows], windows
    )
    yield running
    running.stop()
