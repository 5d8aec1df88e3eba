from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

from tests.support.stack import target_stack

# Handlers of tests/e2e/test_embedded_runtime.py, added to the local function package beside
# functions/ (nothing else of tests/ is importable by a Lambda).
SAMPLE_HANDLERS = ["tests/support/sample_handlers.py", "tests/support/handler_importing_the_runtime.py"]


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """One real `arcadeflow up` for the e2e and flows tiers (TTL swept every second), or the
    deployment on ARCADEFLOW_E2E_TARGET (tests/support/targets.py)."""
    code = [arg for path in SAMPLE_HANDLERS for arg in ("--lambda-code", path)]
    running = target_stack(tmp_path_factory.mktemp("arcadeflow"), ["--ttl-interval", "1", *code], [])
    yield running
    running.stop()


# `./dev test` runs the suite on every core (pytest-xdist). The unit of work a worker takes is a
# whole module, so a module's (and a worker's session) stack starts once per worker, never once
# per test; the infra tier is one unit, since its terraform runs share infra/. Units are handed
# out in collection order, so the tiers with the longest units come first and the many short
# unit-tier modules fill the workers' tails.
TIER_ORDER = ("infra", "flows", "e2e", "functional", "conformance", "unit")


def _tier(nodeid: str) -> str:
    parts = nodeid.split("::", 1)[0].split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else ""


class ModuleScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        return "tests/infra" if _tier(nodeid) == "infra" else nodeid.split("::", 1)[0]


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> ModuleScheduling:
    return ModuleScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {tier: i for i, tier in enumerate(TIER_ORDER)}
    items.sort(key=lambda item: rank.get(_tier(item.nodeid), len(TIER_ORDER)))  # stable: file order kept


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs(capability): skipped on a target that lacks it (tests/support/targets.py)"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    from tests.support.targets import TARGET, missing_reason

    for marker in item.iter_markers("needs"):
        for capability in marker.args:
            reason = missing_reason(capability)
            if reason:
                pytest.skip(f"{TARGET}: {reason}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The skips of this run per target and reason: what the engine lacks, never silently."""
    from collections import Counter

    from tests.support.targets import TARGET

    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    if TARGET == "embedded" and not reasons:
        return  # the default run with nothing skipped: nothing to report
    passed = len(terminalreporter.stats.get("passed", []))
    failed = len(terminalreporter.stats.get("failed", [])) + len(terminalreporter.stats.get("error", []))
    terminalreporter.section(
        f"target {TARGET}: {passed} passed, {failed} failed, {sum(reasons.values())} skipped"
    )
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count:4d}  {reason}")
