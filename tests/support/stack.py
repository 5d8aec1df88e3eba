"""Starts the real `arcadeflow up` in a subprocess on free 127.0.0.1 ports, as a user would; or,
for another target (tests/support/targets.py), deploys with the real `arcadeflow deploy`."""

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
import pytest
import requests

from arcadeflow.auth import ISSUER
from tests.support.targets import TARGET, missing_reason

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 180  # a loaded 2-core machine running two workers takes its time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningStack:
    def __init__(self, state_dir: Path, extra_args: list[str] | None = None):
        # A test that starts its own `arcadeflow up` needs the embedded runtime itself: on another
        # target it is skipped with that reason (and counted in the run's summary).
        reason = missing_reason("embedded_runtime")
        if reason:
            pytest.skip(f"{TARGET}: {reason}")
        self.state_dir = state_dir
        self.http_port, self.ws_port, self.aws_port = free_port(), free_port(), free_port()
        self.http_url = f"http://127.0.0.1:{self.http_port}"
        self.ws_url = f"ws://127.0.0.1:{self.ws_port}"
        self.aws_url = f"http://127.0.0.1:{self.aws_port}"
        # What a WebSocket client connects to (the stage is the path) and who signs tokens.
        self.websocket_url = f"{self.ws_url}/local"
        self.issuer_url = ISSUER
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


class DeployedStack:
    """The description deployed by `arcadeflow deploy` to another engine (tests/support/targets.py):
    the same attributes the tests use of a RunningStack, read from the deployment's outputs.

    ministack: the suite starts MiniStack (tools/ministack.py, 127.0.0.1) and the local issuer's
    JWKS server, deploys, and on stop destroys and stops both. localstack: deploys to
    $LOCALSTACK_ENDPOINT when it answers, else the tier is skipped with that reason. aws: no
    deploy: the outputs are $ARCADEFLOW_AWS_OUTPUTS (see `arcadeflow deploy --target aws`).
    """

    def __init__(self, state_dir: Path, deploy_args: list[str] | None = None):
        from arcadeflow.remote import JwksServer

        self.state_dir = state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = state_dir / "engine.log"
        self._engine: Any = None
        self._jwks: Any = None
        self._deployed = False
        if TARGET == "aws":
            outputs = os.environ.get("ARCADEFLOW_AWS_OUTPUTS")
            if not outputs or not Path(outputs).exists():
                pytest.skip(
                    "aws: set ARCADEFLOW_AWS_OUTPUTS to the outputs of `arcadeflow deploy --target aws`"
                )
            (state_dir / "endpoints.json").write_text(Path(outputs).read_text())
        else:
            if TARGET == "ministack":
                from tools.ministack import MiniStack

                self._engine = MiniStack(self.log_path)
                endpoint = self._engine.start()
            else:
                endpoint = os.environ.get("LOCALSTACK_ENDPOINT", "http://localhost:4566")
                try:
                    requests.get(f"{endpoint}/_localstack/health", timeout=2)
                except requests.RequestException:
                    pytest.skip(f"localstack: LOCALSTACK_ENDPOINT {endpoint} is not reachable")
            self._jwks = JwksServer(state_dir, port=0).start()
            args = ["--target", TARGET, "--endpoint-url", endpoint, "--jwt-issuer", self._jwks.url]
            try:
                _cli("deploy", *args, "--state-dir", str(state_dir), *(deploy_args or []))
            except BaseException:
                self.stop()
                raise
            self._deployed = True
        out = self.endpoints()
        self.http_url = out["http"]
        self.aws_url = out["aws"]
        self.websocket_url = out["websocket"]
        self.issuer_url = out["jwtIssuer"]
        self.region = out["region"]

    def token(self, user_id: str, name: str | None = None, *extra: str) -> str:
        return _cli("token", user_id, "--name", name or user_id, "--state-dir", str(self.state_dir), *extra)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.aws_url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def endpoints(self) -> dict[str, Any]:
        return json.loads((self.state_dir / "endpoints.json").read_text())

    def stop(self) -> None:
        if self._deployed:
            self._deployed = False
            _cli("destroy", "--state-dir", str(self.state_dir))
        if self._jwks is not None:
            self._jwks.stop()
            self._jwks = None
        if self._engine is not None:
            self._engine.stop()
            self._engine = None


def _cli(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "arcadeflow.cli", *args], cwd=REPO_ROOT, capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(f"arcadeflow {' '.join(args[:1])} failed ({out.returncode}):\n{out.stderr}")
    return out.stdout.strip()


def target_stack(state_dir: Path, up_args: list[str], deploy_args: list[str]) -> Any:
    """The tiers' stack on the chosen target: `arcadeflow up` (embedded) or a DeployedStack."""
    if TARGET == "embedded":
        return RunningStack(state_dir, up_args)
    return DeployedStack(state_dir, deploy_args)


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
