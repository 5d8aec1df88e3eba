"""Redrive and the fault switch, against an embedded AWS of their own process (the ASL-branch
tests' bench: moto's interpreter, the Lambda runner, scripted handlers that record each call)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.functional.branches.conftest import Bench, EmbeddedAwsProcess


@pytest.fixture(scope="session")
def bench(tmp_path_factory) -> Iterator[Bench]:
    aws = EmbeddedAwsProcess(tmp_path_factory.mktemp("redrive"))
    try:
        yield Bench(aws)
    finally:
        aws.stop()
