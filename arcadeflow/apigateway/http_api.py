"""API Gateway HTTP API emulator: routes of infra/deployment.json on 127.0.0.1.

A request becomes a payload-format-2.0 proxy event (JWT claims in requestContext.authorizer),
the route's Lambda runs through the local runner, and its response becomes the HTTP response,
following API Gateway's rules: a dict with statusCode is taken as is, anything else is a 200 JSON
body, a function error is a 500. Routes may instead start a state machine execution directly
(the StepFunctions-StartExecution integration). GET /openapi.json describes every route.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from arcadeflow.auth import InvalidToken, LocalIssuer
from arcadeflow.deployment import Deployment, HttpRoute, ResourceRefs

log = logging.getLogger("arcadeflow.http_api")

API_ID = "arcadeflowhttp"
# API Gateway's own payload limit; functions enforce their tighter per-route limits.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024


@dataclass
class _CompiledRoute:
    key: str
    method: str
    pattern: re.Pattern[str]
    target: HttpRoute


def _compile(route_key: str, target: HttpRoute) -> _CompiledRoute:
    method, path = route_key.split(" ", 1)
    regex = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            regex += f"(?P<{name.rstrip('+')}>.+)" if name.endswith("+") else f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(part)
    return _CompiledRoute(route_key, method, re.compile(f"^{regex}$"), target)


def _json_response(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class HttpApiEmulator:
    def __init__(
        self,
        deployment: Deployment,
        refs: ResourceRefs | None,
        aws: Any,
        issuer: LocalIssuer,
        port: int,
    ):
        self.deployment = deployment
        self.refs = refs
        self.aws = aws
        self.issuer = issuer
        self.port = port
        self.ready = threading.Event()
        self.routes = [_compile(k, v) for k, v in deployment.http_api.routes.items()]
        self._server: BaseWSGIServer | None = None
        self._sfn = aws.client("stepfunctions")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="http-api", daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self.handle(request)
        except Exception:
            log.exception("%s %s", request.method, request.path)
            response = _json_response(500, {"message": "Internal Server Error"})
        return response(environ, start_response)

    # --- routing ----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path == "/health" and request.method == "GET":
            if self.ready.is_set():
                return _json_response(200, {"status": "ok"})
            return _json_response(503, {"status": "deploying"})
        if request.path == "/openapi.json" and request.method == "GET":
            return _json_response(200, self.openapi())
        if not self.ready.is_set():
            return _json_response(503, {"message": "Service Unavailable"})

        route, params = self._match(request.method, request.path)
        if route is None:
            return _json_response(404, {"message": "Not Found"})
        if (request.content_length or 0) > MAX_PAYLOAD_BYTES:
            return _json_response(413, {"message": "Request Entity Too Large"})
        claims: dict[str, Any] = {}
        if route.target.auth:
            try:
                claims = self.issuer.verify_bearer(request.headers.get("Authorization"))
            except InvalidToken:
                # API Gateway's JWT authorizer answers exactly this, and the Lambda never runs.
                return Response(
                    json.dumps({"message": "Unauthorized"}),
                    status=401,
                    content_type="application/json",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
        body = request.get_data(cache=False)
        if route.target.start_execution:
            return self._start_execution(route, body)
        event = self.proxy_event(request, route, params, claims, body)
        function_name = self.deployment.physical_name(route.target.function or "")
        result = self.aws.runner.invoke(function_name, json.dumps(event).encode())
        if not result.ok:
            return _json_response(500, {"message": "Internal Server Error"})
        return self.to_http_response(result.json())

    def _match(self, method: str, path: str) -> tuple[_CompiledRoute | None, dict[str, str]]:
        for route in self.routes:
            if route.method not in (method, "ANY"):
                continue
            m = route.pattern.match(path)
            if m:
                return route, m.groupdict()
        return None, {}

    # --- Lambda proxy integration, payload format 2.0 ----------------------------------------

    def proxy_event(
        self,
        request: Request,
        route: _CompiledRoute,
        params: dict[str, str],
        claims: dict[str, Any],
        body: bytes,
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        query = {k: ",".join(request.args.getlist(k)) for k in request.args}
        now = datetime.datetime.now(datetime.UTC)
        content_type = request.headers.get("Content-Type", "")
        is_text = not body or content_type.startswith(("application/json", "text/")) or _is_utf8(body)
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.key,
            "rawPath": request.path,
            "rawQueryString": request.query_string.decode("latin-1"),
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": API_ID,
                "domainName": request.host,
                "domainPrefix": request.host.split(".")[0],
                "http": {
                    "method": request.method,
                    "path": request.path,
                    "protocol": environ_protocol(request),
                    "sourceIp": request.remote_addr or "127.0.0.1",
                    "userAgent": request.headers.get("User-Agent", ""),
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": route.key,
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(time.time() * 1000),
            },
            "isBase64Encoded": not is_text,
        }
        if request.cookies:
            event["cookies"] = [f"{k}={v}" for k, v in request.cookies.items()]
        if query:
            event["queryStringParameters"] = query
        if params:
            event["pathParameters"] = params
        if route.target.auth:
            # The JWT authorizer passes every claim as a string.
            event["requestContext"]["authorizer"] = {
                "jwt": {
                    "claims": {k: v if isinstance(v, str) else json.dumps(v) for k, v in claims.items()},
                    "scopes": None,
                }
            }
        if body:
            event["body"] = body.decode("utf-8") if is_text else base64.b64encode(body).decode()
        return event

    @staticmethod
    def to_http_response(result: Any) -> Response:
        if not isinstance(result, dict) or "statusCode" not in result:
            return _json_response(200, result)
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response = Response(data, status=int(result["statusCode"]))
        response.headers.pop("Content-Type", None)
        for name, value in (result.get("headers") or {}).items():
            response.headers[name] = str(value)
        for name, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.add(name, str(value))
        for cookie in result.get("cookies") or []:
            response.headers.add("Set-Cookie", cookie)
        if "Content-Type" not in response.headers:
            response.headers["Content-Type"] = "application/json"
        return response

    # --- StepFunctions-StartExecution integration --------------------------------------------

    def _start_execution(self, route: _CompiledRoute, body: bytes) -> Response:
        assert self.refs is not None and route.target.start_execution
        try:
            json.loads(body or b"{}")
        except ValueError:
            return _json_response(400, {"message": "Request body must be JSON"})
        out = self._sfn.start_execution(
            stateMachineArn=self.refs.state_machine_arns[route.target.start_execution],
            input=body.decode() if body else "{}",
        )
        return _json_response(
            200, {"executionArn": out["executionArn"], "startDate": out["startDate"].timestamp()}
        )

    # --- OpenAPI ----------------------------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        from arcadeflow.openapi import build_openapi

        return build_openapi(self.deployment, server_url=self.url)


def environ_protocol(request: Request) -> str:
    return request.environ.get("SERVER_PROTOCOL", "HTTP/1.1")


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
