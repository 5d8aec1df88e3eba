"""MiniStack, a second local AWS without Docker, in a virtual environment of its own.

The peer benchmark and the MiniStack end-to-end target both need it; neither may put it into the
project's .venv (its pins are not ours). `ensure_installed()` creates `.venv-ministack` at the
repository root once (pinned MiniStack, and boto3 beside it: MiniStack runs a Lambda handler with
its own interpreter, so a handler that imports boto3 needs it there) and `MiniStack` starts one
server bound to 127.0.0.1 on a free port (MiniStack binds 0.0.0.0 unless told otherwise).

    python -m tools.ministack [--port 4567]   # install if needed, run in the foreground
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parents[1]
MINISTACK_VERSION = "1.5.33"
# For the handlers MiniStack runs: the boto3 of the botocore MiniStack itself pins.
BOTO3_VERSION = "1.43.106"
VENV_DIR = REPO_ROOT / ".venv-ministack"
HEALTH_PATH = "/_ministack/health"
# What arcadeflow's handlers import besides boto3, at the project's own pins: on AWS the
# Powertools layer brings them; MiniStack runs every handler with its own interpreter. Its HTTP
# API JWT authorizer also needs `cryptography` (which pyjwt[crypto] brings), else it refuses
# every token.
FUNCTION_RUNTIME_PACKAGES = ("aws-lambda-powertools", "pydantic", "pyjwt")


def function_runtime_requirements(pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[str]:
    """The project's pinned requirements of the packages its handlers import."""
    pins = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    wanted = []
    for pin in pins:
        name = re.split(r"[\[=<>~ ]", pin, maxsplit=1)[0].lower()
        if name in FUNCTION_RUNTIME_PACKAGES:
            wanted.append(pin)
    return wanted


def ensure_installed(venv_dir: Path = VENV_DIR) -> Path:
    """The virtual environment's python, with MiniStack installed (once per pinned version)."""
    python = venv_dir / "bin" / "python"
    stamp = venv_dir / ".installed"
    want = " ".join(
        [f"ministack=={MINISTACK_VERSION}", f"boto3=={BOTO3_VERSION}", *function_runtime_requirements()]
    )
    if stamp.exists() and stamp.read_text() == want and python.exists():
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv_dir)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *want.split()],
        check=True,
    )
    stamp.write_text(want)
    return python


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MiniStack:
    """One MiniStack server on 127.0.0.1, its log in `log_path`; a context manager."""

    def __init__(self, log_path: Path, port: int | None = None, env: dict[str, str] | None = None):
        self.port = port or free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._env = env or {}
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> str:
        python = ensure_installed()
        env = {
            **os.environ,
            "GATEWAY_PORT": str(self.port),
            "BIND_HOST": "127.0.0.1",
            # execute-api URLs and the like name this host.
            "MINISTACK_HOST": "localhost",
            # A handler MiniStack runs in a one-shot subprocess is started as `python3`: this one.
            "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **self._env,
        }
        # Nothing of the project's own environment leaks into MiniStack's interpreter.
        env.pop("PYTHONPATH", None)
        env.pop("VIRTUAL_ENV", None)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 - the child holds it; closed in stop()
        self._log = log
        self._proc = subprocess.Popen(
            [str(python), "-m", "ministack"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.log_path.parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                log_text = self.log_path.read_text()
                raise RuntimeError(f"MiniStack exited with {self._proc.returncode}:\n{log_text}")
            try:
                with urllib.request.urlopen(self.endpoint_url + HEALTH_PATH, timeout=2) as answer:
                    if answer.status == 200:
                        return self.endpoint_url
            except OSError:
                time.sleep(0.1)  # a server starting: nothing to wait on but the port
        self.stop()
        raise RuntimeError(f"MiniStack did not answer on {self.endpoint_url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self) -> MiniStack:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=4567)
    args = parser.parse_args(argv)
    server = MiniStack(REPO_ROOT / ".arcadeflow" / "ministack.log", port=args.port)
    print(f"MiniStack {MINISTACK_VERSION} on {server.start()} (log: {server.log_path})", flush=True)
    try:
        while server._proc is not None and server._proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
