"""The embedded AWS: moto in server mode on 127.0.0.1, with what moto lacks filled in.

- Lambda Invoke runs the deployed code (the function's zip and layers, unpacked) through
  arcadeflow's LambdaRunner (moto would need Docker); deleting or updating a function stops its
  workers.
- Step Functions executes state machines for real (moto's interpreter); its Lambda tasks call
  the runner directly (moto_patches/stepfunctions_lambda_direct.py), its other service calls
  come back over HTTP on this same endpoint, which is why MOTO_PORT must name it.
- Event source mappings are polled asynchronously (see event_sources.py) instead of moto's
  synchronous in-write delivery; TTL really expires items (see ttl.py).
- Request interceptors let other parts of the runtime serve or shape requests before moto sees
  them (Step Functions APIs moto lacks, emulated provisioned capacity, moto patches that can
  live at the wire).
- A test fault switch (faults.py, POST/GET/DELETE /arcadeflow/faults) makes chosen invocations
  of a function fail, time out or crash, chosen calls to a table throttle and WebSocket
  connections drop; for tests only, it exists nowhere but here.
- Every change to moto's own behaviour is a patch in the registry of moto_patches/: start()
  installs them all, and refuses a moto version they were not written for.
"""

from __future__ import annotations

import http
import io
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from arcadeflow.aws import moto_patches, server_gc, stepfunctions_extra_apis
from arcadeflow.aws.interceptor import Interceptor, Response, json_error
from arcadeflow.aws.lambda_code import DeployedCode, LayerRef
from arcadeflow.aws.lambda_runner import FunctionConfig, FunctionNotFound, LambdaRunner
from arcadeflow.aws.moto_patches import stepfunctions_lambda_direct

log = logging.getLogger("arcadeflow.aws")

ACCOUNT_ID = "123456789012"

__all__ = ["ACCOUNT_ID", "EmbeddedAws", "Interceptor", "Response", "configure_moto"]

_INVOKE_PREFIX = "/2015-03-31/functions/"
# DeleteFunction, UpdateFunctionCode, UpdateFunctionConfiguration: the function's workers retire.
_FUNCTION_CHANGE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)(?:/(?P<part>code|configuration))?/?$")
# The Invoke API's synchronous request limit (Lambda developer guide, "Lambda quotas").
MAX_INVOKE_REQUEST_BYTES = 6_291_456


def configure_moto() -> None:
    """Switch moto to executing state machines and away from Docker, before anything is created.

    Switching Step Functions execution on moves moto to a fresh backend (DESIGN.md), so this
    must run before the first resource exists. Settings through moto's own configuration, not
    patches: the patches are installed by EmbeddedAws.start (moto_patches.install_all).
    """
    from moto.core.config import default_user_config

    default_user_config["stepfunctions"]["execute_state_machine"] = True
    default_user_config["lambda"]["use_docker"] = False


def lambda_backend(region: str):
    from moto.awslambda.utils import get_backend

    return get_backend(ACCOUNT_ID, region)


def dynamodb_backend(region: str):
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT_ID][region]


class EmbeddedAws:
    def __init__(
        self,
        port: int,
        region: str = "us-east-1",
        log_dir: Path | None = None,
        code_dir: Path | None = None,
        extra_code: Iterable[Path] = (),
    ):
        """code_dir: where deployed packages are unpacked (default: a temporary folder).
        extra_code: project files added to every function's code, a local-only addition
        (`arcadeflow up --lambda-code`; see lambda_code.py)."""
        self.port = port
        self.region = region
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self.interceptors: list[Interceptor] = [self._serve_stepfunctions_extras]
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        # A temporary folder of our own is removed at stop(); a given one is the caller's.
        self._temporary_code_dir = None if code_dir else tempfile.mkdtemp(prefix="arcadeflow-lambda-code-")
        self._code_dir = Path(code_dir or self._temporary_code_dir or "")
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
                # boto3 prefixes StartSyncExecution/TestState hosts with "sync-": 127.0.0.1 has none.
                "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
            },
            log_dir=log_dir,
            # Each function's deployed zip and layers, unpacked once per code version.
            code=DeployedCode(
                self._code_dir,
                function_zip=lambda name: lambda_backend(self.region).get_function(name).code_bytes,
                layer_zip=self._layer_zip,
                extra_code=tuple(extra_code),
            ),
        )
        # The test fault switch (faults.py): for tests, served only here, never on AWS.
        self.interceptors.append(self.runner.faults.serve)
        self.runner.faults.tables.forward = self.forward

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        # First, before anything changes: an unknown moto version is refused here, clearly.
        moto_patches.install_all(self.interceptors, self.forward)
        # The APIs served here come after the patches' interceptors, so the checks those make at
        # the wire (payload quotas, say) hold for them as for moto's own APIs.
        self.interceptors.remove(self._serve_stepfunctions_extras)
        self.interceptors.append(self._serve_stepfunctions_extras)
        configure_moto()
        server_gc.freeze_survivors_of_full_collections()
        # moto's Step Functions interpreter calls Lambda and DynamoDB back on localhost:MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        # The interpreter's own clients (aws-sdk:sfn:startSyncExecution) call this endpoint too.
        os.environ["AWS_DISABLE_HOST_PREFIX_INJECTION"] = "true"
        self.serve()
        # The interpreter's Lambda tasks call this runner in-process (stepfunctions_lambda_direct).
        stepfunctions_lambda_direct.serve_from(self.port, self.runner)

    def serve(self) -> None:
        """The WSGI front on 127.0.0.1, with whatever patches are installed (tests call it alone)."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        self._moto_app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            "127.0.0.1", self.port, self._wsgi, threaded=True, request_handler=MotoRequestHandler
        )
        self.port = self._server.server_address[1]
        self.endpoint_url = f"http://127.0.0.1:{self.port}"  # port 0 asked for any free port
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-aws", daemon=True)
        self._thread.start()
        log.info("embedded AWS on %s", self.endpoint_url)

    def stop(self) -> None:
        stepfunctions_lambda_direct.stop_serving(self.port)
        self.runner.shutdown()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._temporary_code_dir:
            shutil.rmtree(self._temporary_code_dir, ignore_errors=True)

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
            code_sha256=fn.code_sha_256,
            layers=tuple(LayerRef(layer["Arn"], self._layer_sha(layer["Arn"])) for layer in fn.layers),
        )

    def _layer_sha(self, arn: str) -> str:
        # A layer version deleted since the function was created: its code cannot be had.
        layer = lambda_backend(self.region).layers_versions_by_arn(arn)
        return layer.code_sha_256 if layer is not None else f"deleted:{arn}"

    def _layer_zip(self, arn: str) -> bytes:
        layer = lambda_backend(self.region).layers_versions_by_arn(arn)
        return layer.code_bytes if layer is not None else b""

    @staticmethod
    def _changed_function(environ: dict[str, Any]) -> str | None:
        """The function a DeleteFunction, UpdateFunctionCode or UpdateFunctionConfiguration names."""
        match = _FUNCTION_CHANGE.match(environ.get("PATH_INFO", ""))
        if match is None or (environ["REQUEST_METHOD"], bool(match.group("part"))) not in (
            ("DELETE", False),
            ("PUT", True),
        ):
            return None
        return urllib.parse.unquote(match.group("name"))

    def _serve_invoke(self, environ: dict[str, Any], body: bytes) -> Response:
        path = environ.get("PATH_INFO", "")
        name = urllib.parse.unquote(path[len(_INVOKE_PREFIX) :].rsplit("/invocations", 1)[0])
        invocation_type = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
        if len(body) > MAX_INVOKE_REQUEST_BYTES:
            limit = MAX_INVOKE_REQUEST_BYTES
            message = f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
            return json_error(413, "RequestEntityTooLargeException", message)
        try:
            if invocation_type == "DryRun":
                self.function_config(name)
                return 204, {}, b""
            if invocation_type == "Event":
                self.runner.invoke_async(name, body)
                return 202, {}, b""
            result = self.runner.invoke(name, body, trace_id=environ.get("HTTP_X_AMZN_TRACE_ID", ""))
        except FunctionNotFound:
            arn = (
                name
                if name.startswith("arn:")
                else f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
            )
            message = f"Function not found: {arn}"
            return json_error(404, "ResourceNotFoundException", message)
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
            return json_error(exc.status, exc.code, exc.message)
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
        elif (changed := self._changed_function(environ)) is not None:
            # Whoever answers (the persistence journal is an interceptor), a function that was
            # deleted or updated then loses its workers.
            for interceptor in self.interceptors:
                answer = interceptor(environ, body)
                if answer is not None:
                    break
            answer = answer or self.forward(environ, body)
            if answer[0] < 300:
                self.runner.retire(changed)
        else:
            # A throttled table answers before anything meters, locks or forwards the call.
            answer = self.runner.faults.tables.intercept(environ, body)
            for interceptor in self.interceptors if answer is None else ():
                answer = interceptor(environ, body)
                if answer is not None:
                    break
        if answer is not None:
            status, headers, payload = answer
            headers = {**headers, "Content-Length": str(len(payload))}
            start_response(f"{status} {_reason(status)}", list(headers.items()))
            return [payload]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self._moto_app(environ, start_response)


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
