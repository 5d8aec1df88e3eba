from __future__ import annotations

import pytest

from tests.support.stack import RunningStack

# Handlers of tests/e2e/test_embedded_runtime.py, added to the local function package beside
# functions/ (nothing else of tests/ is importable by a Lambda).
SAMPLE_HANDLERS = ["tests/support/sample_handlers.py", "tests/support/handler_importing_the_runtime.py"]


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """One real `arcadeflow up` for the e2e and flows tiers (TTL swept every second)."""
    code = [arg for path in SAMPLE_HANDLERS for arg in ("--lambda-code", path)]
    running = RunningStack(tmp_path_factory.mktemp("arcadeflow"), ["--ttl-interval", "1", *code])
    yield running
    running.stop()
