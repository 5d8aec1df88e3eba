"""API Gateway HTTP API emulator on 127.0.0.1.

It serves the HTTP API that exists in the embedded AWS's API Gateway v2 registry, whoever created
it: the embedded deployer (from infra/deployment.json) or `terraform apply`. A request becomes a
payload-format-2.0 proxy event (JWT claims in requestContext.authorizer), the route's Lambda runs
through the local runner, and its response becomes the HTTP response, following API Gateway's
rules: a dict with statusCode is taken as is, anything else is a 200 JSON body, a function error
is a 500. A StepFunctions-StartExecution integration starts the execution directly. Locally the
JWT authorizer accepts tokens from `arcadeflow token` (a Cognito issuer can't be checked offline).
The StartExecution call is the integration's request parameters (in the registry, as created)
evaluated against the request by parameter_mapping.py, as API Gateway maps them.
With a CorsConfiguration on the API, preflights and the CORS headers are API Gateway's (cors.py).
GET /openapi.json describes every route of the description. Besides the API, the port serves
what exists only when embedded (local_endpoints.py): the description's local pages, a token
endpoint and the page's configuration under /local/, and the console of executions at /console
(arcadeflow/console/).
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
from functools import lru_cache
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from arcadeflow.apigateway.cors import CorsConfiguration, apply_to_response, is_preflight, preflight_response
from arcadeflow.apigateway.local_endpoints import LocalEndpoints, LocalPages
from arcadeflow.apigateway.parameter_mapping import RequestValues, evaluate_all
from arcadeflow.auth import JWKS_PATH, LocalIssuer, TokenRefused
from arcadeflow.console.api import ConsoleApi
from arcadeflow.deployment import Deployment

log = logging.getLogger("arcadeflow.http_api")

ACCOUNT_ID = "123456789012"
# API Gateway's own payload limit; functions enforce their tighter per-route limits.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class _Route:
    api_id: str
    key: str
    method: str
    pattern: re.Pattern[str]
    auth: bool
    function_arn: str | None
    start_execution: dict[str, str] | None


@lru_cache(maxsize=1024)
def _path_pattern(path: str) -> re.Pattern[str]:
    regex = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            regex += f"(?P<{name.rstrip('+')}>.+)" if name.endswith("+") else f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}$")


def _function_arn(integration_uri: str) -> str:
    """A Lambda integration's URI is the function ARN or its API Gateway invoke ARN."""
    if ":apigateway:" in integration_uri and "/functions/" in integration_uri:
        return integration_uri.split("/functions/", 1)[1].rsplit("/invocations", 1)[0]
    return integration_uri


def routes_of(api: Any) -> list[_Route]:
    """The routes of one moto API Gateway v2 API, most specific first."""
    routes = []
    for route in list(api.routes.values()):
        if route.route_key == "$default" or not route.target:
            continue
        integration = api.integrations.get(route.target.split("/", 1)[1])
        if integration is None:
            continue
        method, path = route.route_key.split(" ", 1)
        subtype = integration.integration_subtype
        routes.append(
            _Route(
                api_id=api.api_id,
                key=route.route_key,
                method=method,
                pattern=_path_pattern(path),
                auth=(route.authorization_type or "NONE") != "NONE",
                function_arn=None if subtype else _function_arn(integration.integration_uri),
                start_execution=dict(integration.request_parameters or {})
                if subtype == "StepFunctions-StartExecution"
                else None,
            )
        )
    # Literal segments win over {parameters}, as API Gateway matches the most specific route.
    routes.sort(key=lambda r: (r.key.count("{"), -len(r.key)))
    return routes


def _json_response(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class HttpApiEmulator:
    def __init__(
        self,
        deployment: Deployment,
        aws: Any,
        issuer: LocalIssuer,
        port: int,
        api_name: str | None = None,
        websocket_url: str | None = None,
    ):
        self.deployment = deployment
        self.aws = aws
        self.issuer = issuer
        self.port = port
        self.api_name = api_name or deployment.resolved().http_api.name
        self.ready = threading.Event()
        self._server: BaseWSGIServer | None = None
        self._sfn = aws.client("stepfunctions")
        # Known once the WebSocket emulator has its port (the stack starts this one first).
        self.websocket_url = websocket_url
        self.local_pages = LocalPages(deployment.local_page_folders())
        self.local_endpoints = LocalEndpoints(issuer, self.local_config)
        self.console = ConsoleApi(self._sfn)

    def current_api(self) -> Any | None:
        """The API named api_name, else the only HTTP API there is."""
        from moto.apigatewayv2.models import apigatewayv2_backends

        apis = [
            api
            for api in apigatewayv2_backends[ACCOUNT_ID][self.aws.region].apis.values()
            if api.protocol_type == "HTTP"
        ]
        named = [api for api in apis if api.name == self.api_name]
        if named:
            return named[0]
        return apis[0] if len(apis) == 1 else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}{JWKS_PATH}"

    def local_config(self) -> dict[str, Any]:
        """GET /local/config: where a local page finds the APIs."""
        return {"websocketUrl": self.websocket_url, "httpUrl": self.url}

    def page_urls(self) -> dict[str, str]:
        """URL prefix -> the address of the local page served there."""
        return {prefix: f"{self.url}{prefix}/" for prefix in self.local_pages.folders}

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
        if request.path == JWKS_PATH and request.method == "GET":
            # Served from the first moment: authorizers fetch it, deployed or not.
            return _json_response(200, self.issuer.jwks())
        # The runtime's own paths: the description refuses a page or route that would overlap.
        local = (
            self.local_endpoints.handle(request)
            or self.console.handle(request)
            or self.local_pages.handle(request)
        )
        if local is not None:
            return local
        if not self.ready.is_set():
            return _json_response(503, {"message": "Service Unavailable"})

        api = self.current_api()
        cors = CorsConfiguration.from_registry(api.cors_configuration) if api else None
        if cors is None:
            return self._serve_api(api, request)
        if is_preflight(request.method, request.headers):
            return preflight_response(cors, request.headers)
        try:
            response = self._serve_api(api, request)
        except Exception:
            # Still the API's answer: a browser reads a 500 only if it carries the CORS headers.
            log.exception("%s %s", request.method, request.path)
            response = _json_response(500, {"message": "Internal Server Error"})
        return apply_to_response(cors, request.headers, response)

    def _serve_api(self, api: Any | None, request: Request) -> Response:
        """The route's answer, or API Gateway's own (404, 413, 401, 500)."""
        route, params = self._match(api, request.method, request.path) if api else (None, {})
        if route is None:
            return _json_response(404, {"message": "Not Found"})
        if (request.content_length or 0) > MAX_PAYLOAD_BYTES:
            return _json_response(413, {"message": "Request Entity Too Large"})
        claims: dict[str, Any] = {}
        if route.auth:
            try:
                claims = self.issuer.verify_bearer(request.headers.get("Authorization"))
            except TokenRefused:
                # API Gateway's JWT authorizer answers exactly this, and the Lambda never runs.
                return Response(
                    json.dumps({"message": "Unauthorized"}),
                    status=401,
                    content_type="application/json",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
        body = request.get_data(cache=False)
        if route.start_execution is not None:
            return self._start_execution(api, route, request, params, claims, body)
        event = self.proxy_event(request, route, params, claims, body)
        assert route.function_arn is not None
        result = self.aws.runner.invoke(route.function_arn, json.dumps(event).encode())
        if not result.ok:
            return _json_response(500, {"message": "Internal Server Error"})
        return self.to_http_response(result.json())

    def _match(self, api: Any, method: str, path: str) -> tuple[_Route | None, dict[str, str]]:
        for route in routes_of(api):
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
        route: _Route,
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
        # Bytes that are not UTF-8 cannot sit in the event's JSON string, whatever the Content-Type
        # says; API Gateway hands such a body to the function base64-encoded.
        is_text = not body or _is_utf8(body)
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.key,
            "rawPath": request.path,
            "rawQueryString": request.query_string.decode("latin-1"),
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": route.api_id,
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
        if route.auth:
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

    def _start_execution(
        self,
        api: Any,
        route: _Route,
        request: Request,
        params: dict[str, str],
        claims: dict[str, Any],
        body: bytes,
    ) -> Response:
        """StepFunctions-StartExecution: the integration's request parameters, evaluated against
        this request as API Gateway's parameter mapping does, become the StartExecution call; its
        answer (or its error, with its status) is the response."""
        assert route.start_execution is not None
        stage = api.stages.get("$default")
        mapped = evaluate_all(
            route.start_execution, self.mapping_values(request, route, params, claims, body, stage)
        )
        call: dict[str, Any] = {"stateMachineArn": mapped.get("StateMachineArn", "")}
        for parameter, argument in (("Name", "name"), ("Input", "input"), ("TraceHeader", "traceHeader")):
            if parameter in mapped:
                call[argument] = mapped[parameter]
        if _too_deep_to_parse(call.get("input")):
            # moto's json.loads would raise RecursionError (a 500); a start whose input cannot be
            # read is Step Functions' InvalidExecutionInput, a 400, and nothing starts.
            message = "Invalid State Machine Execution Input: the input is nested too deeply to parse"
            return _json_response(400, {"__type": "InvalidExecutionInput", "message": message})
        region = mapped.get("Region", self.aws.region)
        sfn = self._sfn if region == self.aws.region else self._sfn_in(region)
        try:
            out = sfn.start_execution(**call)
        except self._sfn.exceptions.ClientError as exc:
            error = exc.response["Error"]
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            return _json_response(status, {"__type": error.get("Code"), "message": error.get("Message")})
        return _json_response(
            200, {"executionArn": out["executionArn"], "startDate": out["startDate"].timestamp()}
        )

    def _sfn_in(self, region: str) -> Any:
        import boto3

        return boto3.client(
            "stepfunctions",
            endpoint_url=self.aws.endpoint_url,
            region_name=region,
            aws_access_key_id="arcadeflow",
            aws_secret_access_key="arcadeflow",
        )

    @staticmethod
    def mapping_values(
        request: Request,
        route: _Route,
        params: dict[str, str],
        claims: dict[str, Any],
        body: bytes,
        stage: Any | None,
    ) -> RequestValues:
        """What a parameter mapping of this request can read."""
        now = time.time()
        headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        return RequestValues(
            body=body,
            path=request.path,
            path_parameters=params,
            query={k: request.args.getlist(k) for k in request.args},
            headers=headers,
            context={
                "accountId": ACCOUNT_ID,
                "apiId": route.api_id,
                "domainName": request.host,
                "domainPrefix": request.host.split(".")[0],
                "httpMethod": request.method,
                "identity.sourceIp": request.remote_addr or "127.0.0.1",
                "identity.userAgent": request.headers.get("User-Agent", ""),
                "path": request.path,
                "protocol": environ_protocol(request),
                "requestId": str(uuid.uuid4()),
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "requestTimeEpoch": str(int(now * 1000)),
                "routeKey": route.key,
                "stage": "$default",
            },
            # As the JWT authorizer passes them: every claim a string.
            claims={k: v if isinstance(v, str) else json.dumps(v) for k, v in claims.items()},
            stage_variables=dict(getattr(stage, "stage_variables", None) or {}),
        )

    # --- OpenAPI ----------------------------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        from arcadeflow.openapi import build_openapi

        api = self.current_api()
        stored = (api.cors_configuration if api is not None else None) or {}
        return build_openapi(self.deployment, server_url=self.url, cors_origins=stored.get("allowOrigins"))


def environ_protocol(request: Request) -> str:
    return request.environ.get("SERVER_PROTOCOL", "HTTP/1.1")


def _too_deep_to_parse(text: str | None) -> bool:
    if not text:
        return False
    try:
        json.loads(text)
    except ValueError:
        return False  # not JSON: Step Functions says so itself
    except RecursionError:
        return True
    return False


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
