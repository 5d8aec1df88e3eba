"""The conformance suite (see harness.py): one embedded AWS process per test worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.harness import HANDLERS, Conformance
from tests.functional.branches.conftest import EmbeddedAwsProcess


@pytest.fixture(scope="session")
def aws(tmp_path_factory) -> Iterator[Conformance]:
    process = EmbeddedAwsProcess(tmp_path_factory.mktemp("conformance"), lambda_code=(HANDLERS,))
    try:
        yield Conformance(process)
    finally:
        process.stop()
