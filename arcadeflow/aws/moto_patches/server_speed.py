"""Per-request overheads of moto's server that sit on every hot path of the embedded AWS.

- Routing: moto's DomainDispatcherApplication asks `host in list_of_moto_modules()` for every
  request, which lists moto's package directory and stats ~150 entries each time. The module
  list cannot change while running, so it is listed once; the host -> backend answer is then
  memoised per host.
- Step Functions' calls back to Lambda/SQS/DynamoDB: moto's interpreter builds a new boto3
  client (and so a new TCP connection) for every Task. Clients are thread-safe, so one per
  (region, service) is kept and reused, with moto's own client settings.

Measured while fanning a status out to 10,000 followers (110 Lambda invocations, 400+ DynamoDB
requests): routing alone was ~8 % of the server's samples.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_DISPATCHER = "moto.moto_server.werkzeug_app.DomainDispatcherApplication"
_TASKS = "moto.stepfunctions.parser.asl.component.state.exec.state_task"
# The interpreter's modules that imported boto_client_for by name.
BOTO_CLIENT_USERS = (
    f"{_TASKS}.lambda_eval_utils",
    f"{_TASKS}.service.state_task_service_sqs",
    f"{_TASKS}.service.state_task_service_dynamodb",
    f"{_TASKS}.service.state_task_service_sfn",
    f"{_TASKS}.service.state_task_service_sns",
    f"{_TASKS}.service.state_task_service_events",
    f"{_TASKS}.service.state_task_service_aws_sdk",
)


def apply_routing_cache(patcher: Patcher) -> None:
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    modules = tuple(backends.list_of_moto_modules())
    patcher.replace(backends, "list_of_moto_modules", lambda: modules)
    original = DomainDispatcherApplication.get_backend_for_host
    answers: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host not in answers:
            answers[host] = original(self, host)
        return answers[host]

    patcher.replace(DomainDispatcherApplication, "get_backend_for_host", get_backend_for_host)


def apply_client_reuse(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service)
        with lock:
            if key not in clients:
                clients[key] = original(region=region, service=service, state_credentials=state_credentials)
            return clients[key]

    patcher.replace(boto_client, "boto_client_for", boto_client_for)
    for module_name in BOTO_CLIENT_USERS:
        module = importlib.import_module(module_name)
        if getattr(module, "boto_client_for", None) is original:
            patcher.replace(module, "boto_client_for", boto_client_for)


ROUTING_CACHE = MotoPatch(
    name="server_routing_cache",
    fixes="moto's server lists its package directory to route every request",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=("moto.backends.list_of_moto_modules", f"{_DISPATCHER}.get_backend_for_host"),
    kind="speed",
    apply=apply_routing_cache,
    signatures={
        "moto.backends.list_of_moto_modules": (),
        f"{_DISPATCHER}.get_backend_for_host": ("self", "host"),
    },
)

CLIENT_REUSE = MotoPatch(
    name="stepfunctions_client_reuse",
    fixes="the Step Functions interpreter builds a new boto3 client (a new connection) for every Task",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        "moto.stepfunctions.parser.asl.utils.boto_client.boto_client_for",
        *(f"{module}.boto_client_for" for module in BOTO_CLIENT_USERS),
    ),
    kind="speed",
    apply=apply_client_reuse,
    signatures={
        "moto.stepfunctions.parser.asl.utils.boto_client.boto_client_for": (
            "region",
            "service",
            "state_credentials",
        )
    },
)
