"""The embedded AWS: moto in server mode on 127.0.0.1, with what moto lacks filled in.

- Lambda Invoke runs real handlers through arcadeflow's LambdaRunner (moto would need Docker).
- Step Functions executes state machines for real (moto's interpreter); it calls Lambda back
  over HTTP on this same endpoint, which is why MOTO_PORT must name it.
- Event source mappings are polled asynchronously (see event_sources.py) instead of moto's
  synchronous in-write delivery; TTL really expires items (see ttl.py).
- Request interceptors let other parts of the runtime serve or shape requests before moto sees
  them (Step Functions APIs moto lacks, emulated provisioned capacity).
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from arcadeflow.aws import (
    dynamodb_speed,
    server_speed,
    stepfunctions_extra_apis,
    stepfunctions_fixes,
    stepfunctions_jsonpath,
)
from arcadeflow.aws.lambda_runner import FunctionConfig, FunctionNotFound, LambdaRunner

log = logging.getLogger("arcadeflow.aws")

ACCOUNT_ID = "123456789012"

# A WSGI-level hook: (environ, body) -> (status, headers, body) to answer, or None to pass on.
Response = tuple[int, dict[str, str], bytes]
Interceptor = Callable[[dict[str, Any], bytes], Response | None]

_INVOKE_PREFIX = "/2015-03-31/functions/"

# moto evaluates a condition and then writes with no lock, so two concurrent conditional writes
# can both succeed. DynamoDB settles them atomically, and arcadeflow's flows rely on that (an
# accept racing a timeout), so DynamoDB writes are serialised here.
_DYNAMODB_WRITES = frozenset(
    f"DynamoDB_20120810.{action}"
    for action in (
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "ExecuteStatement",
        "BatchExecuteStatement",
        "ExecuteTransaction",
    )
)
dynamodb_write_lock = threading.Lock()


def configure_moto() -> None:
    """Switch moto to executing state machines and away from Docker, before anything is created.

    Switching Step Functions execution on moves moto to a fresh backend (DESIGN.md), so this
    must run before the first resource exists.
    """
    from moto.awslambda.models import LambdaBackend
    from moto.core.config import default_user_config

    default_user_config["stepfunctions"]["execute_state_machine"] = True
    default_user_config["lambda"]["use_docker"] = False

    # moto delivers stream records and SQS messages to mapped functions synchronously inside
    # the write. Returning False leaves records on the stream and messages on the queue, where
    # arcadeflow's pollers pick them up asynchronously as Lambda's event source mappings do.
    # For SQS moto even receives the batch itself (counting a receive) before delivering, so a
    # queue is made to show moto no mappings at all.
    from moto.sqs.models import Queue

    LambdaBackend.send_dynamodb_items = lambda self, *a, **kw: False  # type: ignore[method-assign]
    Queue.lambda_event_source_mappings = property(  # type: ignore[assignment]
        lambda self: _NoMappings(), lambda self, value: None
    )
    _mark_ttl_deletions_on_stream()
    _name_unnamed_executions()
    stepfunctions_fixes.apply()
    dynamodb_speed.install()
    server_speed.install()
    stepfunctions_jsonpath.install()


def _name_unnamed_executions() -> None:
    """AWS names an execution started without a name with a UUID; moto names it "None", so a
    second unnamed start of the same state machine fails with ExecutionAlreadyExists."""
    import uuid

    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution
    if getattr(original, "_arcadeflow", False):
        return

    def start_execution(self, state_machine_arn, name=None, *args: Any, **kwargs: Any):
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    start_execution._arcadeflow = True  # type: ignore[attr-defined]
    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]


class _NoMappings(dict):
    """Accepts and forgets mappings: arcadeflow's pollers deliver instead (event_sources.py)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def __delitem__(self, key: Any) -> None:
        pass

    def pop(self, key: Any, default: Any = None) -> Any:
        return default


_ttl_context = threading.local()


def _mark_ttl_deletions_on_stream() -> None:
    """A REMOVE made by the TTL reaper carries the service identity, as DynamoDB's TTL does."""
    from moto.dynamodb.models import table as table_module

    original_init = table_module.StreamRecord.__init__
    if getattr(original_init, "_arcadeflow", False):
        return

    def init(self, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if getattr(_ttl_context, "active", False) and self.record["eventName"] == "REMOVE":
            self.record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

    init._arcadeflow = True  # type: ignore[attr-defined]
    table_module.StreamRecord.__init__ = init  # type: ignore[method-assign]


class ttl_deletion:  # noqa: N801 - used as a context manager, reads as a phrase
    def __enter__(self) -> None:
        _ttl_context.active = True

    def __exit__(self, *exc: object) -> None:
        _ttl_context.active = False


def lambda_backend(region: str):
    from moto.awslambda.utils import get_backend

    return get_backend(ACCOUNT_ID, region)


def dynamodb_backend(region: str):
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT_ID][region]


class EmbeddedAws:
    def __init__(self, port: int, region: str = "us-east-1", log_dir: Path | None = None):
        self.port = port
        self.region = region
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self.interceptors: list[Interceptor] = [self._serve_stepfunctions_extras]
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.runner = LambdaRunner(
            resolve=self.function_config,
            base_env={
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                # No X-Ray daemon locally; the Tracer still wraps, it just does not emit.
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_DEV": os.environ.get("POWERTOOLS_DEV", "false"),
            },
            log_dir=log_dir,
        )

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        configure_moto()
        server_speed.freeze_survivors_of_full_collections()
        # moto's Step Functions interpreter calls Lambda and DynamoDB back on localhost:MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        self._moto_app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            "127.0.0.1", self.port, self._wsgi, threaded=True, request_handler=MotoRequestHandler
        )
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-aws", daemon=True)
        self._thread.start()
        log.info("embedded AWS on %s", self.endpoint_url)

    def stop(self) -> None:
        self.runner.shutdown()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def client(self, service: str):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    # --- Lambda -----------------------------------------------------------------------------

    def function_config(self, name_or_arn: str) -> FunctionConfig:
        from moto.awslambda.exceptions import UnknownFunctionException

        try:
            fn = lambda_backend(self.region).get_function(name_or_arn)
        except UnknownFunctionException as exc:
            raise FunctionNotFound(name_or_arn) from exc
        return FunctionConfig(
            name=fn.function_name,
            arn=fn.function_arn,
            handler=fn.handler,
            timeout_seconds=int(fn.timeout or 3),
            memory_mb=int(fn.memory_size or 128),
            environment=tuple(sorted((fn.environment_vars or {}).items())),
            reserved_concurrency=int(fn.reserved_concurrency) if fn.reserved_concurrency else None,
        )

    def _serve_invoke(self, environ: dict[str, Any], body: bytes) -> Response:
        path = environ.get("PATH_INFO", "")
        name = urllib.parse.unquote(path[len(_INVOKE_PREFIX) :].rsplit("/invocations", 1)[0])
        invocation_type = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
        try:
            if invocation_type == "DryRun":
                self.function_config(name)
                return 204, {}, b""
            if invocation_type == "Event":
                self.runner.invoke_async(name, body)
                return 202, {}, b""
            result = self.runner.invoke(name, body, trace_id=environ.get("HTTP_X_AMZN_TRACE_ID", ""))
        except FunctionNotFound:
            message = f"Function not found: arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
            return _json_error(404, "ResourceNotFoundException", message)
        headers = {"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST"}
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        return 200, headers, result.payload

    # --- Step Functions APIs moto lacks -----------------------------------------------------

    def _serve_stepfunctions_extras(self, environ: dict[str, Any], body: bytes) -> Response | None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("AWSStepFunctions."):
            return None
        action = stepfunctions_extra_apis.ACTIONS.get(target.split(".", 1)[1])
        if action is None:
            return None
        try:
            out = action(json.loads(body or b"{}"))
        except stepfunctions_extra_apis.ApiError as exc:
            return _json_error(exc.status, exc.code, exc.message)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(out).encode()

    # --- the WSGI front ---------------------------------------------------------------------

    def forward(self, environ: dict[str, Any], body: bytes) -> Response:
        """Hand a request (possibly rewritten by an interceptor) to moto; collect its answer."""
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = int(status.split(" ", 1)[0]), dict(headers)

        inner = dict(environ)
        inner["wsgi.input"] = io.BytesIO(body)
        inner["CONTENT_LENGTH"] = str(len(body))
        payload = b"".join(self._moto_app(inner, start_response))
        headers = {k: v for k, v in captured["headers"].items() if k.lower() != "content-length"}
        return captured["status"], headers, payload

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        answer: Response | None = None
        path = environ.get("PATH_INFO", "")
        if (
            environ["REQUEST_METHOD"] == "POST"
            and path.startswith(_INVOKE_PREFIX)
            and path.endswith("/invocations")
        ):
            answer = self._serve_invoke(environ, body)
        else:
            for interceptor in self.interceptors:
                answer = interceptor(environ, body)
                if answer is not None:
                    break
        if answer is not None:
            status, headers, payload = answer
            headers = {**headers, "Content-Length": str(len(payload))}
            start_response(f"{status} {_REASONS.get(status, 'OK')}", list(headers.items()))
            return [payload]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if environ.get("HTTP_X_AMZ_TARGET") in _DYNAMODB_WRITES:
            with dynamodb_write_lock:
                # Consume the response inside the lock: moto does its work lazily in some paths.
                return [b"".join(self._moto_app(environ, start_response))]
        return self._moto_app(environ, start_response)


_REASONS = {200: "OK", 202: "Accepted", 204: "No Content", 400: "Bad Request", 404: "Not Found"}


def _json_error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"__type": code, "message": message, "Message": message}).encode()
    return status, {"Content-Type": "application/json", "X-Amzn-ErrorType": code}, body
