"""arcadeflow's local Lambda runner: the deployed code, no Docker.

A function's configuration (handler, environment, timeout, memory, code version, layers) is read
from the embedded AWS's own Lambda backend, so a function created by the deployer or by `terraform
apply` runs the same way. Its code is the zip that was deployed, unpacked with its layers
(lambda_code.py). Each function gets a pool of warm worker processes that see only that function's
environment. An exception becomes a function error whose errorType is its class name; a handler
that overruns its timeout is killed and fails with Sandbox.Timedout, as on AWS.

Workers of a deleted function, or of one whose code or configuration changed, are stopped (retire):
a session that creates a few hundred functions would otherwise hold three descriptors and a process
for every worker it ever started, until every invoke fails.

A runner without a DeployedCode (the runner's own unit tests) runs every function from one staged
task root: the checkout's functions/ plus chosen project files (stage_task_root).
"""

from __future__ import annotations

import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arcadeflow.aws.faults import FaultSwitch, Injection
from arcadeflow.aws.lambda_code import (
    CodeUnavailable,
    DeployedCode,
    FunctionCode,
    LayerRef,
    link_project_files,
)
from arcadeflow.deployment import REPO_ROOT

log = logging.getLogger("arcadeflow.lambda")

# What the Lambda zip holds (infra/package_functions.py packages the same directory).
FUNCTION_PACKAGE = "functions"
# Run by path, not with -m: `-m arcadeflow...` would need the runtime on the worker's path.
WORKER_SCRIPT = Path(__file__).resolve().with_name("lambda_worker.py")

WORKER_INIT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_CONCURRENCY = 8
# Environment variables the runner passes through from the host: nothing else leaks in.
HOST_PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT", "TMPDIR")
# The Invoke API's synchronous response limit (Lambda developer guide, "Lambda quotas": 6 MB),
# and the answer AWS gives a handler whose result exceeds it.
MAX_RESPONSE_BYTES = 6_291_556
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    arn: str
    handler: str
    timeout_seconds: int
    memory_mb: int
    environment: tuple[tuple[str, str], ...]
    reserved_concurrency: int | None = None
    # CodeSha256 of the deployed package: a new one is a new code version (fresh workers).
    code_sha256: str = ""
    layers: tuple[LayerRef, ...] = ()


@dataclass
class InvocationResult:
    payload: bytes
    function_error: str | None = None  # "Unhandled" on failure, as the Invoke API reports it
    error_type: str | None = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.function_error is None

    def json(self) -> Any:
        return json.loads(self.payload) if self.payload else None


class FunctionNotFound(LookupError):
    pass


class _WorkerDied(RuntimeError):
    pass


class _WorkerExited(_WorkerDied):
    """The process ended while starting (killed, crashed): Lambda reports Runtime.ExitError."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Worker:
    """One warm execution environment (a child Python process)."""

    def __init__(
        self, config: FunctionConfig, base_env: dict[str, str], log_dir: Path | None, code: FunctionCode
    ):
        self.config = config
        task_root = code.task_root
        env = {k: os.environ[k] for k in HOST_PASSTHROUGH if k in os.environ}
        env.update(base_env)
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": config.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(config.timeout_seconds),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
                "LAMBDA_TASK_ROOT": str(task_root),
                "PYTHONPATH": str(task_root),
                "PYTHONUNBUFFERED": "1",
                "_HANDLER": config.handler,
                "ARCADEFLOW_FUNCTION_ARN": config.arn,
            }
        )
        env.update(dict(config.environment))
        self._log_file = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            self._log_file = open(log_dir / f"{config.name}.log", "ab", buffering=0)  # noqa: SIM115
        self.proc = subprocess.Popen(
            # -P: the script's directory (arcadeflow/aws) is not put on sys.path either.
            [sys.executable, "-P", str(WORKER_SCRIPT), str(task_root), *map(str, code.layer_paths)],
            env=env,
            cwd=str(task_root),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file if self._log_file else subprocess.DEVNULL,
        )
        try:
            ready = self._read_line(time.monotonic() + WORKER_INIT_TIMEOUT_SECONDS)
        except _WorkerDied:
            reason = self.exit_reason()
            self.kill()
            raise _WorkerExited(reason) from None
        if ready is None or not json.loads(ready).get("ready"):
            self.kill()
            raise _WorkerDied(f"{config.name}: the execution environment did not start")

    def _read_line(self, deadline: float) -> bytes | None:
        assert self.proc.stdout is not None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        # poll, not select: select() refuses descriptors above 1023, which a stack holding a
        # thousand WebSocket connections hands to every worker it starts.
        poller = select.poll()
        poller.register(self.proc.stdout, select.POLLIN)
        if not poller.poll(remaining * 1000):
            return None
        line = self.proc.stdout.readline()
        if not line:
            raise _WorkerDied(f"{self.config.name}: the execution environment exited")
        return line

    def invoke(
        self, payload: bytes, request_id: str, trace_id: str, crash: bool = False
    ) -> dict[str, Any] | None:
        """The worker's result, or None when the function timed out (the worker is then killed).
        crash: the worker kills itself (SIGKILL) on receiving it, as a crashed sandbox (faults.py)."""
        assert self.proc.stdin is not None
        deadline = time.monotonic() + self.config.timeout_seconds
        request = {
            "payload": payload.decode("utf-8"),
            "requestId": request_id,
            "traceId": trace_id,
            "deadlineMs": int(time.time() * 1000) + self.config.timeout_seconds * 1000,
        }
        if crash:
            request["crash"] = True
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError as exc:
            raise _WorkerDied(f"{self.config.name}: the execution environment exited") from exc
        line = self._read_line(deadline)
        if line is None:
            self.kill()
            return None
        return json.loads(line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def exit_reason(self) -> str:
        """How the process ended, as Lambda words it ("signal: killed", "exit status 1")."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        if code < 0:
            name = signal.strsignal(-code) or f"signal {-code}"
            return f"signal: {name.lower()}"
        return f"exit status {code}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        # The pipes too: left to the garbage collector, a session's dead workers pile up descriptors.
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()
        if self._log_file:
            self._log_file.close()


@dataclass
class _Pool:
    config: FunctionConfig
    idle: list[_Worker] = field(default_factory=list)
    busy: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)


class LambdaRunner:
    def __init__(
        self,
        resolve: Callable[[str], FunctionConfig],
        base_env: dict[str, str],
        log_dir: Path | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        task_root: Path | None = None,
        code: DeployedCode | None = None,
    ):
        self._resolve = resolve
        self._base_env = base_env
        self._log_dir = log_dir
        # Every worker's import path (stage_task_root); the stack stages it in its state directory.
        # None: a temporary staging of the checkout's functions/ alone, made on first use.
        self.task_root = task_root
        # The deployed packages (the embedded AWS always has one); None: every function runs from task_root.
        self.code = code
        self._max_concurrency = max_concurrency
        self._pools: dict[str, _Pool] = {}
        self._lock = threading.Lock()
        self._async = ThreadPoolExecutor(max_workers=16, thread_name_prefix="lambda-async")
        self.invocation_count = 0
        # Faults set by tests (POST /arcadeflow/faults): chosen invocations fail as if the handler raised.
        self.faults = FaultSwitch()

    def _staged_task_root(self) -> Path:
        with self._lock:
            if self.task_root is None:
                self.task_root = stage_task_root(Path(tempfile.mkdtemp(prefix="arcadeflow-task-")))
            return self.task_root

    def _code_for(self, config: FunctionConfig) -> FunctionCode:
        if self.code is None:
            return FunctionCode(self._staged_task_root(), ())
        return self.code.for_function(config.name, config.code_sha256, config.layers)

    def _pool_for(self, config: FunctionConfig) -> _Pool:
        with self._lock:
            pool = self._pools.get(config.name)
            if pool is None or pool.config != config:
                # A changed configuration gets fresh environments, as an update does on AWS.
                if pool is not None:
                    for worker in pool.idle:
                        worker.kill()
                pool = self._pools[config.name] = _Pool(config)
            return pool

    def _acquire(self, pool: _Pool) -> _Worker:
        limit = pool.config.reserved_concurrency or self._max_concurrency
        with pool.cond:
            while not pool.idle and pool.busy >= limit:
                pool.cond.wait()
            pool.busy += 1
            while pool.idle:
                worker = pool.idle.pop()
                if worker.alive():
                    return worker
                # Died while idle (killed from outside): Lambda would start a fresh sandbox.
                worker.kill()
        try:
            return _Worker(pool.config, self._base_env, self._log_dir, self._code_for(pool.config))
        except Exception:
            with pool.cond:
                pool.busy -= 1
                pool.cond.notify()
            raise

    def _is_current(self, pool: _Pool) -> bool:
        with self._lock:
            return self._pools.get(pool.config.name) is pool

    def _release(self, pool: _Pool, worker: _Worker) -> None:
        current = self._is_current(pool)
        with pool.cond:
            pool.busy -= 1
            # A pool replaced (new code or configuration) or retired (deleted) takes no worker back.
            if current and worker.alive() and worker.config == pool.config:
                pool.idle.append(worker)
            else:
                worker.kill()
            pool.cond.notify()

    def retire(self, function_name: str) -> None:
        """Stops the workers of a function that was deleted or whose code or configuration
        changed: idle ones now, busy ones when their invocation ends. The next invoke (of the
        updated function) starts fresh environments, as AWS does after an update."""
        name = function_name.rsplit(":function:", 1)[-1].split(":", 1)[0]
        with self._lock:
            pool = self._pools.pop(name, None)
        if pool is None:
            return
        with pool.cond:
            idle, pool.idle = pool.idle, []
        for worker in idle:
            worker.kill()
        log.info("%s: %d idle worker(s) stopped", name, len(idle))

    def live_workers(self) -> int:
        """Worker processes alive now (idle or busy), for tests and the benchmark."""
        with self._lock:
            pools = list(self._pools.values())
        return sum(len([w for w in p.idle if w.alive()]) + p.busy for p in pools)

    def prewarm(self, function_name: str) -> None:
        config = self._resolve(function_name)
        pool = self._pool_for(config)
        worker = self._acquire(pool)
        self._release(pool, worker)

    def resolve(self, function_name: str) -> FunctionConfig:
        """The function's configuration as invoke reads it; FunctionNotFound for a missing one."""
        return self._resolve(function_name)

    def invoke(
        self, function_name: str, payload: bytes, trace_id: str = "", config: FunctionConfig | None = None
    ) -> InvocationResult:
        """config: the function's, resolved already by the caller (resolve), read once, not twice."""
        config = config or self._resolve(function_name)
        pool = self._pool_for(config)
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        self.invocation_count += 1
        injected = self.faults.injected(config.name, config.arn)
        if injected is not None and injected.mode == "error":
            log.info("%s failed by an injected fault: %s: %s", config.name, injected.error, injected.message)
            # The payload an unhandled exception of the handler produces (lambda_worker.py).
            return InvocationResult(
                payload=json.dumps(
                    {"errorType": injected.error, "errorMessage": injected.message, "stackTrace": []}
                ).encode(),
                function_error="Unhandled",
                error_type=injected.error,
                duration_ms=(time.monotonic() - started) * 1000,
            )
        try:
            worker = self._acquire(pool)
        except _WorkerExited as exc:
            # Killed or crashed while starting: what Lambda reports for an init that exited.
            message = f"RequestId: {request_id} Error: Runtime exited with error: {exc.reason}"
            log.warning("%s: %s", config.name, message)
            return _failure("Runtime.ExitError", message, started)
        except _WorkerDied as exc:
            return _failure("Runtime.InitError", str(exc), started)
        except CodeUnavailable as exc:
            return _failure("Runtime.InitError", f"{config.name}: {exc}", started)
        try:
            outcome = self._run(worker, payload, request_id, trace_id, injected)
        except _WorkerDied:
            # A sandbox that died during the invocation: AWS's answer names how it ended.
            reason = worker.exit_reason()
            message = f"RequestId: {request_id} Error: Runtime exited with error: {reason}"
            log.warning("%s: %s", config.name, message)
            outcome = {"ok": False, "error": {"errorType": "Runtime.ExitError", "errorMessage": message}}
        finally:
            self._release(pool, worker)
        if outcome is None:
            message = (
                f"RequestId: {request_id} Error: Task timed out after {config.timeout_seconds:.2f} seconds"
            )
            log.warning("%s: %s", config.name, message)
            return _failure("Sandbox.Timedout", message, started)
        if outcome["ok"]:
            payload = outcome["payload"].encode()
            if len(payload) > MAX_RESPONSE_BYTES:
                message = "Response payload size exceeded maximum allowed payload size "
                message += f"({MAX_RESPONSE_BYTES} bytes)."
                log.warning("%s: %s", config.name, message)
                return _failure(RESPONSE_TOO_LARGE, message, started)
            return InvocationResult(payload=payload, duration_ms=(time.monotonic() - started) * 1000)
        error = outcome["error"]
        log.info("%s failed: %s: %s", config.name, error.get("errorType"), error.get("errorMessage"))
        return InvocationResult(
            payload=json.dumps(error).encode(),
            function_error="Unhandled",
            error_type=error.get("errorType"),
            duration_ms=(time.monotonic() - started) * 1000,
        )

    @staticmethod
    def _run(
        worker: _Worker, payload: bytes, request_id: str, trace_id: str, injected: Injection | None
    ) -> dict[str, Any] | None:
        if injected is not None and injected.mode == "timeout":
            log.info("%s: an injected timeout", worker.config.name)
            worker.kill()  # a timed-out sandbox is replaced, as on AWS
            return None
        if injected is not None and injected.mode == "crash":
            log.info("%s: an injected crash (SIGKILL of its worker)", worker.config.name)
        return worker.invoke(payload, request_id, trace_id, crash=injected is not None)

    def invoke_async(self, function_name: str, payload: bytes) -> None:
        """InvocationType=Event: queued, retried twice on error, as Lambda's async invoke does."""
        self._resolve(function_name)  # an unknown function fails the Invoke call itself

        def run() -> None:
            for attempt in range(3):
                if self.invoke(function_name, payload).ok:
                    return
                time.sleep(min(1.0 * (attempt + 1), 3.0))
            log.error("%s: asynchronous invocation failed after 3 attempts", function_name)

        self._async.submit(run)

    def shutdown(self) -> None:
        self._async.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for pool in self._pools.values():
                with pool.cond:
                    for worker in pool.idle:
                        worker.kill()
                    pool.idle.clear()


def _failure(error_type: str, message: str, started: float) -> InvocationResult:
    return InvocationResult(
        payload=json.dumps({"errorType": error_type, "errorMessage": message}).encode(),
        function_error="Unhandled",
        error_type=error_type,
        duration_ms=(time.monotonic() - started) * 1000,
    )


def stage_task_root(
    directory: Path, extra_code: tuple[Path, ...] | list[Path] = (), project_root: Path = REPO_ROOT
) -> Path:
    """Makes `directory` a task root of the checkout's function package (`functions/`, a symlink)
    and nothing else of the checkout: for a runner without deployed code (its unit tests).

    `extra_code` adds files or directories of the project at the same relative path (with the
    `__init__.py` of the packages above them), as `zip` run at the project root would: test
    handlers such as tests/support/sample_handlers.py, without the rest of tests/.
    """
    directory = Path(directory)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    project_root = Path(project_root).resolve()
    (directory / FUNCTION_PACKAGE).symlink_to(project_root / FUNCTION_PACKAGE, target_is_directory=True)
    for path in extra_code:
        if (project_root / path).resolve().is_relative_to(project_root / FUNCTION_PACKAGE):
            raise ValueError(f"{path} is already in the function package ({FUNCTION_PACKAGE}/)")
    link_project_files(directory, extra_code, project_root)
    return directory
