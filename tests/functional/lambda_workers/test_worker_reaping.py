"""A session that creates, invokes and deletes functions by the hundred keeps the embedded AWS's
descriptors and worker processes bounded: a deleted function's workers stop, and so do those of
a function whose code or configuration changed (before, each one ever started stayed, holding
three descriptors and a process, until every invoke failed for want of descriptors)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.branches.conftest import ROLE_ARN, EmbeddedAwsProcess, poll

FUNCTIONS = 200
# Descriptors the process may gain over the run besides workers (sockets of moto's clients, log
# files, the unpacked-code folder): a leak of one worker per function would be 3 x FUNCTIONS.
DESCRIPTOR_SLACK = 40


def code(answer: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", f"def handler(event, context):\n    return {answer!r}\n")
    return buffer.getvalue()


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def worker_processes(pid: int) -> list[int]:
    """The live child processes of pid (the Lambda workers: the embedded AWS starts nothing else)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        # fields[0] is the state (Z: exited, not yet waited for: not holding descriptors), [1] the ppid.
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(entry.name))
    return children


@pytest.fixture(scope="module")
def aws(tmp_path_factory) -> Iterator[EmbeddedAwsProcess]:
    process = EmbeddedAwsProcess(tmp_path_factory.mktemp("reaping"))
    process.client("iam").create_role(RoleName=ROLE_ARN.rsplit("/", 1)[1], AssumeRolePolicyDocument="{}")
    try:
        yield process
    finally:
        process.stop()


def create(lam, name: str, answer: str = "ok") -> None:
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE_ARN,
        Handler="app.handler",
        Code={"ZipFile": code(answer)},
    )


def invoke(lam, name: str) -> object:
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


def test_creating_invoking_and_deleting_hundreds_of_functions_keeps_descriptors_bounded(aws):
    lam = aws.client("lambda")
    pid = aws.proc.pid
    create(lam, "warm-up")
    invoke(lam, "warm-up")  # the first worker, moto's clients and the code folder exist now
    lam.delete_function(FunctionName="warm-up")
    poll(lambda: not worker_processes(pid), "the warm-up function's worker to stop")
    baseline = open_descriptors(pid)
    for index in range(FUNCTIONS):
        name = f"short-lived-{index}"
        create(lam, name)
        assert invoke(lam, name) == "ok"
        lam.delete_function(FunctionName=name)
        assert len(worker_processes(pid)) <= 1, f"workers of deleted functions still run after {index + 1}"
    poll(lambda: not worker_processes(pid), "every deleted function's worker to stop")
    assert open_descriptors(pid) <= baseline + DESCRIPTOR_SLACK


def test_updating_code_or_configuration_stops_the_old_workers(aws):
    lam = aws.client("lambda")
    pid = aws.proc.pid
    create(lam, "updated", answer="v1")
    assert invoke(lam, "updated") == "v1"
    first = set(worker_processes(pid))
    assert len(first) == 1
    lam.update_function_code(FunctionName="updated", ZipFile=code("v2"))
    poll(lambda: not set(worker_processes(pid)) & first, "the first code version's worker to stop")
    assert invoke(lam, "updated") == "v2"
    second = set(worker_processes(pid))
    lam.update_function_configuration(FunctionName="updated", Environment={"Variables": {"MODE": "new"}})
    poll(lambda: not set(worker_processes(pid)) & second, "the old configuration's worker to stop")
    assert invoke(lam, "updated") == "v2"
    assert len(worker_processes(pid)) == 1
