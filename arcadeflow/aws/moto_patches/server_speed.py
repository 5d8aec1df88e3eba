"""Per-request overheads of moto's server that sit on every hot path of the embedded AWS.

- Routing: moto's DomainDispatcherApplication asks `host in list_of_moto_modules()` for every
  request, which lists moto's package directory and stats ~150 entries each time. The module
  list cannot change while running, so it is listed once; the host -> backend answer is then
  memoised per host.
- Step Functions' calls back to Lambda/SQS/DynamoDB: moto's interpreter builds a new boto3
  client (and so a new TCP connection) for every Task. Clients are thread-safe, so one per
  (region, service) is kept and reused, with moto's own client settings.

- Dispatch: every request to a backend went through a whole Flask request (a request context,
  Flask-CORS's after-request hook, Flask's response finalising) only for Flask to call moto's
  view, which reads the request and hands it to the backend's `dispatch`. For the services on
  arcadeflow's hot paths, a request with no Origin header (boto3 never sends one; a browser
  always does, and CORS is the only thing Flask adds here: `Access-Control-Allow-Origin: *`
  without an Origin, which this path adds too) is matched against the same URL map
  and handed to the same view callback with the same request class, and the callback's answer
  becomes the same response. Anything else (an Origin, a route that does not match, another
  service, moto's own /moto-api) goes through Flask as before.
- Request logging: werkzeug formats a date and a request line for every request before its
  logger (set to WARNING by `arcadeflow up`) drops the line; it is now formatted only when the
  line would be written.

Measured while fanning a status out to 10,000 followers (110 Lambda invocations, 400+ DynamoDB
requests): routing alone was ~8 % of the server's samples. For one client's sequential GetItem
(py-spy of the server, 2026-12-02) Flask's share was ~18 % and the request log's ~4 %.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_HANDLER = "moto.moto_server.werkzeug_app.MotoRequestHandler"
# The backends a flow, a handler or a poller calls all the time. Other services keep Flask.
DIRECT_SERVICES = frozenset({"dynamodb", "dynamodbstreams", "stepfunctions", "lambda", "sqs", "sts"})

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


def apply_direct_dispatch(patcher: Patcher) -> None:
    from botocore.exceptions import ClientError
    from flask import Response  # Flask's (text/html by default), as moto's view answers
    from moto.core.request import normalize_request
    from moto.core.utils import convert_to_flask_response
    from moto.moto_api import recorder
    from moto.moto_server.werkzeug_app import BackendRequest, DomainDispatcherApplication
    from werkzeug.exceptions import HTTPException

    def view_of(app: Any, environ: dict[str, Any]) -> Any:
        if getattr(app, "service", None) not in DIRECT_SERVICES or "HTTP_ORIGIN" in environ:
            return None
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            return None
        try:
            endpoint, _ = app.url_map.bind_to_environ(environ).match()
        except HTTPException:  # no route (404/405) or a redirect: Flask answers it as before
            return None
        view = app.view_functions.get(endpoint)
        return view if isinstance(view, convert_to_flask_response) else None

    def dispatch(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        app = self.get_application(environ)
        view = view_of(app, environ)
        if view is None:  # moto's own __call__, with the application it would look up again
            return app(environ, start_response)
        # What moto's view (convert_to_flask_response.__call__) does, without Flask around it.
        request = normalize_request(BackendRequest(environ))
        recorder._record_request(request)
        try:
            result = view.callback(request, request.raw_url, dict(request.headers))
        except ClientError as exc:
            result = 400, {}, exc.response["Error"]["Message"]
        if len(result) == 3:
            status, headers, content = result
        else:
            status, headers, content = 200, {}, result
        response = Response(response=content, status=status, headers=headers)
        # Flask-CORS's answer to a request without an Origin (moto's app allows every origin).
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
        if request.method == "HEAD" and "content-length" in headers:
            response.headers["Content-Length"] = headers["content-length"]
        return response(environ, start_response)

    patcher.replace(DomainDispatcherApplication, "__call__", dispatch)


def apply_quiet_request_log(patcher: Patcher) -> None:
    import logging

    from moto.moto_server.werkzeug_app import MotoRequestHandler

    original = MotoRequestHandler.log_request
    werkzeug_log = logging.getLogger("werkzeug")

    def log_request(self: Any, code: Any = "-", size: Any = "-") -> None:
        # werkzeug sets its logger to INFO itself at its first line, if nobody set a level.
        if werkzeug_log.level == logging.NOTSET or werkzeug_log.isEnabledFor(logging.INFO):
            original(self, code, size)

    patcher.replace(MotoRequestHandler, "log_request", log_request)


DIRECT_DISPATCH = MotoPatch(
    name="server_direct_dispatch",
    fixes="every request to a backend pays for a whole Flask request around moto's own view",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_DISPATCHER}.__call__",
        f"{_DISPATCHER}.get_application",
        "moto.core.utils.convert_to_flask_response",
        "moto.core.request.normalize_request",
        "moto.moto_server.werkzeug_app.BackendRequest",
    ),
    kind="speed",
    apply=apply_direct_dispatch,
    signatures={
        f"{_DISPATCHER}.__call__": ("self", "environ", "start_response"),
        f"{_DISPATCHER}.get_application": ("self", "environ"),
    },
)

QUIET_REQUEST_LOG = MotoPatch(
    name="server_quiet_request_log",
    fixes="werkzeug formats a log line for every request even when its logger drops it",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_HANDLER}.log_request",),
    kind="speed",
    apply=apply_quiet_request_log,
    signatures={f"{_HANDLER}.log_request": ("self", "code", "size")},
)

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
