"""Starts the real `arcadeflow up` in a subprocess on free 127.0.0.1 ports, as a user would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 180  # a loaded 2-core machine running two workers takes its time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningStack:
    def __init__(self, state_dir: Path, extra_args: list[str] | None = None):
        self.state_dir = state_dir
        self.http_port, self.ws_port, self.aws_port = free_port(), free_port(), free_port()
        self.http_url = f"http://127.0.0.1:{self.http_port}"
        self.ws_url = f"ws://127.0.0.1:{self.ws_port}"
        self.aws_url = f"http://127.0.0.1:{self.aws_port}"
        self.log_path = state_dir / "up.log"
        args = [
            sys.executable,
            "-m",
            "arcadeflow.cli",
            "up",
            "--http-port",
            str(self.http_port),
            "--ws-port",
            str(self.ws_port),
            "--aws-port",
            str(self.aws_port),
            "--state-dir",
            str(state_dir),
            *(extra_args or []),
        ]
        state_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(args, cwd=REPO_ROOT, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"arcadeflow up exited:\n{self.log_path.read_text()}")
            try:
                if requests.get(f"{self.http_url}/health", timeout=1).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # busy deploying, not yet up
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"arcadeflow up not healthy in time:\n{self.log_path.read_text()}")

    def token(self, user_id: str, name: str | None = None, *extra: str) -> str:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "arcadeflow.cli",
                "token",
                user_id,
                "--name",
                name or user_id,
                "--state-dir",
                str(self.state_dir),
                *extra,
            ],
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.aws_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def endpoints(self) -> dict[str, Any]:
        return json.loads((self.state_dir / "endpoints.json").read_text())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1, message: str = "condition"):
    """Polls until predicate() returns a truthy value; returns it or fails with the message."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
