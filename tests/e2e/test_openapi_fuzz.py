"""Schemathesis against the running stack, from the OpenAPI document it serves: every operation,
with a valid token and without one, property-based bodies, headers, path and query parameters,
valid and invalid. Each response must not be a 5xx, must have a documented status and content
type, and must match the documented schema; no request may take longer than its timeout.

Deterministic: Hypothesis is derandomized (examples follow from the test's name, not a seed
drawn per run) and keeps no example database, so CI sees the same requests on every run; a new
finding comes from a change to the API or the document, never from luck.
"""

from __future__ import annotations

import collections
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

# The schema is the one `arcadeflow up` serves at /openapi.json, one of the HTTP port's own routes.
pytestmark = [pytest.mark.e2e, pytest.mark.needs("local_routes")]

# Per operation and per auth: enough to reach every documented field and the usual invalid
# forms, small enough that the module stays well under two minutes on a shared 2-core machine.
EXAMPLES_PER_OPERATION = 12
REQUEST_TIMEOUT_SECONDS = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def openapi_schema(stack):
    schema = schemathesis.openapi.from_url(f"{stack.http_url}/openapi.json")
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        deterministic=True,
        database="none",
        with_security_parameters=False,
    )
    # A body refused for its size (413) is refused too; Schemathesis' default list lacks it.
    rejection = schema.config.checks.negative_data_rejection
    schema.config.checks.negative_data_rejection = type(rejection)(
        expected_statuses=[*rejection.expected_statuses, "413"]
    )
    return schema


@pytest.fixture(scope="module")
def fuzz_token(stack) -> str:
    return stack.token("fuzz-player", "Fuzz Player")


@pytest.fixture(scope="module")
def sent(request):
    """Requests sent per operation and auth; printed when the module ends (an operation that
    got none would show here, not only in a passing test)."""
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    yield counts
    # Printed past pytest's capture: a passing test's output is otherwise dropped.
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nschemathesis: {sum(counts.values())} requests, {len(counts)} operation/auth pairs")
        for (operation, auth), count in sorted(counts.items()):
            print(f"  {operation} [{auth}]: {count}")


schema = schemathesis.pytest.from_fixture("openapi_schema")
fuzz_settings = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _call(case: Any, headers: dict[str, str], auth: str, sent: collections.Counter) -> None:
    sent[(case.operation.label, auth)] += 1
    case.call_and_validate(headers=headers, checks=CHECKS, timeout=REQUEST_TIMEOUT_SECONDS)


@schema.parametrize()
@fuzz_settings
def test_every_operation_with_a_valid_token(case, fuzz_token, sent):
    _call(case, {"Authorization": f"Bearer {fuzz_token}"}, "token", sent)


@schema.parametrize()
@fuzz_settings
def test_every_operation_without_a_valid_token(case, sent):
    _call(case, {"Authorization": "Bearer not-a-token"}, "no token", sent)
