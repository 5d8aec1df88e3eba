"""Per-request overheads of moto's server that sit on every hot path of the embedded AWS.

- Routing: moto's DomainDispatcherApplication asks `host in list_of_moto_modules()` for every
  request, which lists moto's package directory and stats ~150 entries each time. The module
  list cannot change while running, so it is listed once; the host -> backend answer is then
  memoised per host.
- Step Functions' calls back to Lambda/SQS/DynamoDB: moto's interpreter builds a new boto3
  client (and so a new TCP connection) for every Task. Clients are thread-safe, so one per
  (region, service) is kept and reused, with moto's own client settings.

- Garbage collection: the embedded AWS keeps every item of every table as Python objects
  (~3 million after a few 10,000-follower fan-outs). CPython's full collections walk all of
  them with every thread stopped: 0.4 s at 450,000 objects, 1.5-2.2 s at 2-3.5 million,
  measured with gc.callbacks during the status fan-out benchmark, where they were the slow
  posts (the p99). After each full collection the survivors are frozen (gc.freeze): later
  collections walk only what was allocated since. Frozen objects are still freed by reference
  counting (a deleted item is); only a reference cycle among objects that were alive at a
  full collection and die later is never reclaimed, which for a local server means a few
  finished executions' interpreter objects.

Measured while fanning a status out to 10,000 followers (110 Lambda invocations, 400+ DynamoDB
requests): routing alone was ~8 % of the server's samples.
"""

from __future__ import annotations

import gc
import importlib
import threading
from typing import Any

_BOTO_CLIENT_USERS = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
)


def install() -> None:
    _cache_routing()
    _reuse_interpreter_clients()


_freezing = False


def freeze_survivors_of_full_collections() -> None:
    """Called by the embedded server's process only (not by a test process importing moto)."""
    global _freezing
    if _freezing:
        return
    _freezing = True

    def after_collection(phase: str, info: dict[str, int]) -> None:
        # A full collection has just freed every unreachable cycle: what is left is alive.
        if phase == "stop" and info.get("generation") == 2:
            gc.freeze()

    gc.callbacks.append(after_collection)


def _cache_routing() -> None:
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if getattr(DomainDispatcherApplication.get_backend_for_host, "_arcadeflow", False):
        return
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    original = DomainDispatcherApplication.get_backend_for_host
    answers: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host not in answers:
            answers[host] = original(self, host)
        return answers[host]

    get_backend_for_host._arcadeflow = True  # type: ignore[attr-defined]
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


def _reuse_interpreter_clients() -> None:
    from moto.stepfunctions.parser.asl.utils import boto_client

    if getattr(boto_client.boto_client_for, "_arcadeflow", False):
        return
    original = boto_client.boto_client_for
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service)
        with lock:
            if key not in clients:
                clients[key] = original(region=region, service=service, state_credentials=state_credentials)
            return clients[key]

    boto_client_for._arcadeflow = True  # type: ignore[attr-defined]
    boto_client.boto_client_for = boto_client_for
    for module_name in _BOTO_CLIENT_USERS:
        module = importlib.import_module(module_name)
        if hasattr(module, "boto_client_for"):
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]
