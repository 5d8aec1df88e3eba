"""API Gateway WebSocket API emulator on 127.0.0.1.

It serves the WebSocket API that exists in the embedded AWS's API Gateway v2 registry, whoever
created it: the embedded deployer (from the resolved description) or `terraform apply`, as the
HTTP emulator does for the HTTP API. Route selection, routes -> Lambda integrations and the
$connect authorizer are read from that API on every handshake and message.

One port serves both halves of the API, as one host does on AWS
(`wss://{api}.execute-api.{region}.amazonaws.com/{stage}`):

- WebSocket clients connect to `ws://127.0.0.1:{port}/{stage}` (or `/`; any stage of the API).
  When the API has a REQUEST authorizer on `$connect`, it runs as API Gateway runs a Lambda REQUEST
  authorizer: a handshake lacking an identity source (e.g. `route.request.querystring.token`) is
  refused with 401 without invoking anything; otherwise the authorizer Lambda gets the REQUEST
  event (methodArn, headers, query string, requestContext) through the local runner. A policy
  allowing execute-api:Invoke on the methodArn (and no Deny) lets the handshake on; a Deny or no
  matching Allow -> 403; failing with "Unauthorized" -> 401; any other failure or a malformed
  answer -> 500. Refused, the `$connect` Lambda never runs. A `$connect` Lambda that fails or
  answers a non-2xx statusCode refuses the handshake with that status.
- The authorizer's principalId and context are kept for the life of the connection and handed to
  every route of it in `requestContext.authorizer` ({principalId, userId, screenName[, avatar]}
  with the duels authorizer), as AWS does: that is how handlers know who sent a message. Without
  an authorizer, as on AWS, anyone may connect and routes get no authorizer context.
- A message goes to the route named by the route selection expression (`$request.body.action`),
  else to `$default` (also when the body is not JSON, or nests too deep to be read). Messages
  above 32 KB close the connection with 1009 (API Gateway's frame limit); handlers apply their
  own, tighter limit. A binary frame closes it with 1003: API Gateway takes text frames only.
- The API Gateway Management API is served on the same port at the callback URL
  `http://127.0.0.1:{port}/{stage}`: POST/GET/DELETE `/{stage}/@connections/{connectionId}`,
  410 GoneException for a connection that is not (or not yet, or no longer) open. Functions
  that push get that URL as WEBSOCKET_CALLBACK_URL. websockets' HTTP parser only accepts the
  GET of a handshake, so the first bytes of each TCP connection decide: a request line naming
  `/@connections/` is answered here, anything else is handed to websockets untouched.
- `$disconnect` runs after a connection closes, whichever side closed it, with the same context.
- The test fault switch (arcadeflow/aws/faults.py) can drop a connection as a lost network does:
  the TCP connection aborted with no close frame, at once or instead of its Nth push; `$disconnect`
  then runs with status 1006, as API Gateway reports an abnormal closure.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import http
import json
import logging
import os
import re
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from arcadeflow.apigateway.http_api import _function_arn
from arcadeflow.deployer import ACCOUNT_ID, LOCAL_STAGE
from arcadeflow.deployment import Deployment

log = logging.getLogger("arcadeflow.websocket_api")

DEFAULT_STAGE = LOCAL_STAGE
# API Gateway: 32 KB per frame, 128 KB per message posted to a connection.
MAX_FRAME_BYTES = 32 * 1024
MAX_POST_BYTES = 128 * 1024
# API Gateway refuses binary frames from clients: it closes the connection with 1003.
BINARY_FRAME_CLOSE_CODE = 1003
# API Gateway's integration timeout: a $connect Lambda has this long.
CONNECT_TIMEOUT_SECONDS = 29
_CONNECTIONS_MARKER = b"/@connections/"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _request_time(ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    return moment.strftime("%d/%b/%Y:%H:%M:%S +0000")


def _iso(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat().replace("+00:00", "Z")


def new_connection_id() -> str:
    # API Gateway's ids are 12 base64 characters ending in '='; URL-safe here so the id can sit
    # in a path unquoted.
    return base64.urlsafe_b64encode(os.urandom(8)).decode()[:11] + "="


@dataclass(frozen=True)
class ConnectAuthorizer:
    """A Lambda REQUEST authorizer of $connect, as the registry holds it."""

    function_arn: str
    identity_source: list[str]


@dataclass(frozen=True)
class ServedApi:
    """One WebSocket API of the registry, read at one moment."""

    api_id: str
    stages: frozenset[str]
    selection_path: list[str]
    # route key -> function ARN of its Lambda proxy integration
    routes: dict[str, str]
    authorizer: ConnectAuthorizer | None


def served_api(api: Any) -> ServedApi:
    """What the emulator needs of a moto API Gateway v2 WEBSOCKET API."""
    expression = api.route_selection_expression or ""
    if not expression.startswith("$request.body."):
        raise ValueError(f"unsupported route selection expression {expression!r}")
    routes: dict[str, str] = {}
    authorizer = None
    for route in list(api.routes.values()):
        if not route.target:
            continue
        integration = api.integrations.get(route.target.split("/", 1)[1])
        if integration is None or not integration.integration_uri:
            continue
        routes[route.route_key] = _function_arn(integration.integration_uri)
        if route.route_key == "$connect" and route.authorization_type == "CUSTOM":
            found = api.authorizers.get(route.authorizer_id)
            if found is not None:
                sources = found.identity_source or []
                authorizer = ConnectAuthorizer(
                    _function_arn(found.authorizer_uri),
                    [sources] if isinstance(sources, str) else list(sources),
                )
    return ServedApi(
        api_id=api.api_id,
        stages=frozenset(api.stages),
        selection_path=expression[len("$request.body.") :].split("."),
        routes=routes,
        authorizer=authorizer,
    )


@dataclass
class ClientConnection:
    connection_id: str
    authorizer: dict[str, str]
    source_ip: str
    user_agent: str
    headers: dict[str, str]
    query: dict[str, str]
    connected_at_ms: int = field(default_factory=_now_ms)
    last_active_at_ms: int = field(default_factory=_now_ms)
    websocket: ServerConnection | None = None
    open: bool = False
    api_id: str = ""
    stage: str = DEFAULT_STAGE


class WebSocketApiEmulator:
    def __init__(
        self,
        deployment: Deployment,
        aws: Any,
        port: int,
        stage: str = DEFAULT_STAGE,
    ):
        self.deployment = deployment
        self.aws = aws
        self.port = port
        self.stage = stage
        self.ready = threading.Event()
        self.api_name = deployment.resolved().web_socket_api.name
        self.connections: dict[str, ClientConnection] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        # Lambda invocations block; they run here so the event loop keeps serving.
        self._invokers = ThreadPoolExecutor(max_workers=32, thread_name_prefix="ws-route")
        self.messages_routed = 0

    # --- lifecycle --------------------------------------------------------------------------

    def current_api(self) -> ServedApi | None:
        """The WebSocket API named like the description's, else the only one there is."""
        from moto.apigatewayv2.models import apigatewayv2_backends

        apis = [
            api
            for api in list(apigatewayv2_backends[ACCOUNT_ID][self.aws.region].apis.values())
            if api.protocol_type == "WEBSOCKET"
        ]
        named = [api for api in apis if api.name == self.api_name]
        if named:
            return served_api(named[0])
        return served_api(apis[0]) if len(apis) == 1 else None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/{self.stage}"

    @property
    def callback_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.stage}"

    def start(self) -> None:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start_server())
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="websocket-api", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        faults = self._fault_switch()
        if faults is not None:
            faults.dropper = self.drop_connections
        log.info("WebSocket API on %s (callback URL %s)", self.url, self.callback_url)

    def _fault_switch(self) -> Any:
        """The embedded AWS's connection drops (faults.py); None on an AWS without the switch."""
        return getattr(getattr(getattr(self.aws, "runner", None), "faults", None), "connections", None)

    async def _start_server(self) -> None:
        emulator = self

        def create_connection(protocol: Any, server: Server, **kwargs: Any) -> _PortSharingProtocol:
            return _PortSharingProtocol(emulator, ServerConnection(protocol, server, **kwargs))

        self._server = await serve(
            self._serve_client,
            "127.0.0.1",
            self.port,
            process_request=self._process_request,
            max_size=MAX_FRAME_BYTES,
            open_timeout=CONNECT_TIMEOUT_SECONDS + 5,
            compression=None,
            create_connection=create_connection,  # type: ignore[arg-type]
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        loop = self._loop
        if loop is None or not loop.is_running():
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._server.wait_closed(), 5)

        asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._invokers.shutdown(wait=False, cancel_futures=True)

    # --- $connect ---------------------------------------------------------------------------

    async def _process_request(self, websocket: ServerConnection, request: Request) -> Response | None:
        if not self.ready.is_set():
            return websocket.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "Service Unavailable\n")
        api = self.current_api()
        parsed = urllib.parse.urlsplit(request.path)
        stage = parsed.path.strip("/") or self.stage
        if api is None or (stage != self.stage and stage not in api.stages) or "/" in stage:
            return websocket.respond(http.HTTPStatus.NOT_FOUND, "Not Found\n")
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        remote = websocket.remote_address
        client = ClientConnection(
            connection_id=new_connection_id(),
            authorizer={},
            source_ip=remote[0] if remote else "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
            headers={k: v for k, v in request.headers.raw_items()},
            query=query,
            websocket=websocket,
            api_id=api.api_id,
            stage=stage,
        )
        if api.authorizer is not None:
            status, context = await self._authorize(api.authorizer, client)
            if status != http.HTTPStatus.OK:
                return _json_reject(websocket, status, AUTHORIZER_MESSAGES[status])
            client.authorizer = context
        # Known from now on, but not open: a post to it answers 410 until the handshake ends.
        self.connections[client.connection_id] = client
        websocket.arcadeflow_client = client  # type: ignore[attr-defined]
        if "$connect" in api.routes:
            connect_status = await self._invoke_connect(client, api.routes["$connect"])
            if not 200 <= connect_status < 300:
                self.connections.pop(client.connection_id, None)
                refused = http.HTTPStatus(connect_status)
                return _json_reject(websocket, refused, refused.phrase)
        return None

    def method_arn(self, client: ClientConnection, route: str = "$connect") -> str:
        return f"arn:aws:execute-api:{self.aws.region}:{ACCOUNT_ID}:{client.api_id}/{client.stage}/{route}"

    async def _authorize(
        self, authorizer: ConnectAuthorizer, client: ClientConnection
    ) -> tuple[http.HTTPStatus, dict[str, str]]:
        """Runs the REQUEST authorizer as API Gateway does on $connect: the status to answer
        (200 to go on) and, allowed, what routes get as requestContext.authorizer."""
        if not all(self._identity_value(client, source) for source in authorizer.identity_source):
            return http.HTTPStatus.UNAUTHORIZED, {}
        event = self._event(client, "$connect", "CONNECT")
        event.update(
            type="REQUEST",
            methodArn=self.method_arn(client),
            headers=dict(client.headers),
            multiValueHeaders={k: [v] for k, v in client.headers.items()},
            queryStringParameters=dict(client.query),
            multiValueQueryStringParameters={k: [v] for k, v in client.query.items()},
            stageVariables={},
        )
        result = await self._invoke_function(authorizer.function_arn, "$connect authorizer", event)
        if result is None:
            return http.HTTPStatus.INTERNAL_SERVER_ERROR, {}
        if not result.ok:
            error = result.json() if result.payload else {}
            if isinstance(error, dict) and error.get("errorMessage") == "Unauthorized":
                return http.HTTPStatus.UNAUTHORIZED, {}
            return http.HTTPStatus.INTERNAL_SERVER_ERROR, {}
        try:
            return authorizer_decision(result.json(), self.method_arn(client))
        except MalformedAuthorizerResponse as exc:
            log.warning("$connect authorizer %s: %s", authorizer.function_arn, exc)
            return http.HTTPStatus.INTERNAL_SERVER_ERROR, {}

    @staticmethod
    def _identity_value(client: ClientConnection, source: str) -> str:
        _, _, kind, name = source.split(".", 3)
        if kind == "querystring":
            return client.query.get(name, "")
        lowered = name.lower()
        return next((v for k, v in client.headers.items() if k.lower() == lowered), "")

    async def _invoke_connect(self, client: ClientConnection, function_arn: str) -> int:
        event = self._event(client, "$connect", "CONNECT")
        event["headers"] = dict(client.headers)
        event["multiValueHeaders"] = {k: [v] for k, v in client.headers.items()}
        event["queryStringParameters"] = dict(client.query)
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in client.query.items()}
        result = await self._invoke_function(function_arn, "route $connect", event)
        if result is None or not result.ok:
            return 500
        payload = result.json()
        if isinstance(payload, dict) and "statusCode" in payload:
            try:
                return int(payload["statusCode"])
            except (TypeError, ValueError):
                return 500
        return 200

    # --- an open connection -----------------------------------------------------------------

    async def _serve_client(self, websocket: ServerConnection) -> None:
        client: ClientConnection = websocket.arcadeflow_client  # type: ignore[attr-defined]
        client.open = True
        pending: set[asyncio.Task[None]] = set()
        close_code, close_reason = 1000, ""
        try:
            async for message in websocket:
                client.last_active_at_ms = _now_ms()
                if isinstance(message, bytes):
                    # API Gateway takes text frames only: a binary frame closes the connection
                    # with 1003, and no route runs for it.
                    await websocket.close(BINARY_FRAME_CLOSE_CODE, "Binary frames are not supported")
                    break
                # API Gateway invokes route integrations concurrently, in no guaranteed order.
                task = asyncio.create_task(self._route_message(client, message))
                pending.add(task)
                task.add_done_callback(pending.discard)
        except ConnectionClosed:
            pass
        finally:
            client.open = False
            self.connections.pop(client.connection_id, None)
            if websocket.close_code is not None:
                close_code, close_reason = websocket.close_code, websocket.close_reason or ""
            if pending:
                await asyncio.wait(pending, timeout=CONNECT_TIMEOUT_SECONDS)
            api = self.current_api()
            if api is not None and "$disconnect" in api.routes:
                event = self._event(client, "$disconnect", "DISCONNECT")
                event["headers"] = {"Host": client.headers.get("Host", "")}
                event["multiValueHeaders"] = {"Host": [client.headers.get("Host", "")]}
                event["requestContext"]["disconnectStatusCode"] = close_code
                event["requestContext"]["disconnectReason"] = close_reason
                await self._invoke_function(api.routes["$disconnect"], "route $disconnect", event)

    @staticmethod
    def select_route(api: ServedApi, body: str | bytes) -> str:
        """The route key the selection expression names in `body`; `$default` when it names
        none, or when the body cannot be evaluated (not JSON, or nested too deep for the parser
        to read), as API Gateway routes a body that is not JSON."""
        if isinstance(body, bytes):
            return "$default"
        try:
            value: Any = json.loads(body)
        except (ValueError, RecursionError):
            # RecursionError: ~1,000 nested levels, well inside the 32 KB frame limit.
            return "$default"
        for part in api.selection_path:
            if not isinstance(value, dict) or part not in value:
                return "$default"
            value = value[part]
        if isinstance(value, str) and value in api.routes and not value.startswith("$"):
            return value
        return "$default"

    async def _route_message(self, client: ClientConnection, message: str) -> None:
        try:
            await self._route_message_or_fail(client, message)
        except Exception:
            # Whatever went wrong here, the sender hears what API Gateway says when it cannot
            # deliver a message to its route, never nothing.
            log.exception("routing a message of connection %s failed", client.connection_id)
            await self._send(client, json.dumps(_internal_error(client.connection_id, _request_id())))

    async def _route_message_or_fail(self, client: ClientConnection, message: str) -> None:
        api = self.current_api()
        route = self.select_route(api, message) if api else "$default"
        self.messages_routed += 1
        if api is None or route not in api.routes:
            # No $default route: API Gateway answers the sender itself.
            await self._send(
                client,
                json.dumps(
                    {"message": "Forbidden", "connectionId": client.connection_id, "requestId": _request_id()}
                ),
            )
            return
        event = self._event(client, route, "MESSAGE")
        event["requestContext"]["messageId"] = _request_id()
        event["body"] = message
        result = await self._invoke_function(api.routes[route], f"route {route}", event)
        if result is None or not result.ok:
            error = _internal_error(client.connection_id, event["requestContext"]["requestId"])
            await self._send(client, json.dumps(error))

    def _event(self, client: ClientConnection, route: str, event_type: str) -> dict[str, Any]:
        now = _now_ms()
        event: dict[str, Any] = {
            "requestContext": {
                "routeKey": route,
                "eventType": event_type,
                "extendedRequestId": _request_id(),
                "requestTime": _request_time(now),
                "messageDirection": "IN",
                "stage": client.stage,
                "connectedAt": client.connected_at_ms,
                "requestTimeEpoch": now,
                "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent},
                "requestId": _request_id(),
                "domainName": f"127.0.0.1:{self.port}",
                "connectionId": client.connection_id,
                "apiId": client.api_id,
            },
            "isBase64Encoded": False,
        }
        if client.authorizer:
            event["requestContext"]["authorizer"] = dict(client.authorizer)
        return event

    async def _invoke_function(self, function: str, what: str, event: dict[str, Any]) -> Any:
        payload = json.dumps(event).encode()
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._invokers, self.aws.runner.invoke, function, payload)
        except Exception:
            log.exception("%s: invoking %s failed", what, function)
            return None
        if not result.ok:
            log.warning("%s: %s failed: %s", what, function, result.payload[:500])
        return result

    async def _send(self, client: ClientConnection, data: str | bytes) -> bool:
        websocket = client.websocket
        if websocket is None or not client.open:
            return False
        try:
            await websocket.send(data)
        except ConnectionClosed:
            return False
        return True

    # --- dropped connections (the test fault switch) ----------------------------------------

    @staticmethod
    def _principals(client: ClientConnection) -> set[str]:
        return {v for k, v in client.authorizer.items() if k in ("principalId", "userId")}

    def _drop(self, client: ClientConnection) -> None:
        """Closes the connection as a lost network does: no close frame, the TCP connection gone.
        _serve_client then sees it closed (1006) and runs $disconnect."""
        client.open = False
        if client.websocket is not None:
            client.websocket.transport.abort()
        log.info("connection %s dropped by the fault switch", client.connection_id)

    def drop_connections(self, connection_id: str | None, user_id: str | None) -> list[str]:
        """Drops the open connections named (by id, or by principal); the ids dropped. Called
        from the embedded AWS's threads: the dropping happens on this emulator's loop."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return []

        async def drop() -> list[str]:
            dropped = []
            for client in list(self.connections.values()):
                if not client.open or (connection_id is not None and client.connection_id != connection_id):
                    continue
                if user_id is not None and user_id not in self._principals(client):
                    continue
                self._drop(client)
                dropped.append(client.connection_id)
            return dropped

        return asyncio.run_coroutine_threadsafe(drop(), loop).result(timeout=10)

    # --- the Management API (@connections) --------------------------------------------------

    async def management_api(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        stage, marker, rest = path.lstrip("/").partition("/@connections/")
        api = self.current_api()
        known_stage = stage == self.stage or (api is not None and stage in api.stages)
        if not marker or not known_stage:
            return _api_error(404, "NotFoundException", "Not Found")
        connection_id = urllib.parse.unquote(rest)
        client = self.connections.get(connection_id)
        # A connection is reached through the stage it connected to, as on AWS.
        if client is None or not client.open or client.stage != stage:
            return _api_error(410, "GoneException", None)
        if method == "POST":
            if len(body) > MAX_POST_BYTES:
                return _api_error(413, "PayloadTooLargeException", "Message too long")
            faults = self._fault_switch()
            if faults is not None and faults.drops_push(connection_id, self._principals(client)):
                self._drop(client)  # instead of delivering: the pusher learns it is gone
                return _api_error(410, "GoneException", None)
            try:
                data: str | bytes = body.decode("utf-8")
            except UnicodeDecodeError:
                data = body
            if not await self._send(client, data):
                return _api_error(410, "GoneException", None)
            return 200, {"Content-Type": "application/json"}, b""
        if method == "GET":
            info = {
                "connectedAt": _iso(client.connected_at_ms),
                "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent},
                "lastActiveAt": _iso(client.last_active_at_ms),
            }
            return 200, {"Content-Type": "application/json"}, json.dumps(info).encode()
        if method == "DELETE":
            assert client.websocket is not None
            client.open = False
            asyncio.get_running_loop().create_task(client.websocket.close(1000, "Goodbye"))
            return 204, {}, b""
        return _api_error(405, "MethodNotAllowedException", "Method Not Allowed")


AUTHORIZER_MESSAGES = {
    http.HTTPStatus.UNAUTHORIZED: "Unauthorized",
    http.HTTPStatus.FORBIDDEN: "Forbidden",
    http.HTTPStatus.INTERNAL_SERVER_ERROR: "Internal server error",
}


class MalformedAuthorizerResponse(ValueError):
    """An authorizer answer API Gateway would reject (it answers the client 500)."""


def _arn_pattern(resource: str) -> re.Pattern[str]:
    # IAM's wildcards: * any run of characters (across '/' too), ? exactly one.
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in resource)
    return re.compile("".join(parts) + r"\Z")


def _statement_matches(statement: dict[str, Any], method_arn: str) -> bool:
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    resources = statement.get("Resource", [])
    resources = [resources] if isinstance(resources, str) else resources
    invokes = any(_arn_pattern(a.lower()).match("execute-api:invoke") for a in actions)
    return invokes and any(_arn_pattern(r).match(method_arn) for r in resources)


def authorizer_decision(answer: Any, method_arn: str) -> tuple[http.HTTPStatus, dict[str, str]]:
    """API Gateway's reading of a Lambda authorizer's answer for one methodArn: an explicit Deny
    wins, else an Allow is needed. Allowed, routes get {principalId, **context}, every value a
    string (API Gateway passes numbers and booleans on as strings, and refuses anything else)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("principalId"), str):
        raise MalformedAuthorizerResponse("no principalId")
    statements = (answer.get("policyDocument") or {}).get("Statement")
    if not isinstance(statements, list) or not all(isinstance(st, dict) for st in statements):
        raise MalformedAuthorizerResponse("no policyDocument.Statement list")
    matching = [st for st in statements if _statement_matches(st, method_arn)]
    if any(st.get("Effect") == "Deny" for st in matching) or not any(
        st.get("Effect") == "Allow" for st in matching
    ):
        return http.HTTPStatus.FORBIDDEN, {}
    context: dict[str, str] = {"principalId": answer["principalId"]}
    for key, value in (answer.get("context") or {}).items():
        if isinstance(value, bool):
            context[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            context[key] = str(value)
        else:
            raise MalformedAuthorizerResponse(f"context value {key!r} is not a string, number or boolean")
    return http.HTTPStatus.OK, context


def _request_id() -> str:
    return str(uuid.uuid4())


def _internal_error(connection_id: str, request_id: str) -> dict[str, str]:
    """What API Gateway tells the sender when a route's integration fails."""
    return {"message": "Internal server error", "connectionId": connection_id, "requestId": request_id}


def _json_reject(websocket: ServerConnection, status: http.HTTPStatus, message: str) -> Response:
    body = json.dumps({"message": message}).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


def _api_error(status: int, code: str, message: str | None) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code}
    return status, headers, json.dumps({"message": message}).encode()


class _PortSharingProtocol(asyncio.Protocol):
    """Decides from a TCP connection's first request line whether it is a WebSocket client
    (handed to websockets' ServerConnection as if it had been there from the start) or a call
    to the Management API (answered here, keep-alive included)."""

    def __init__(self, emulator: WebSocketApiEmulator, websocket: ServerConnection):
        self.emulator = emulator
        self.websocket = websocket
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.mode: str | None = None  # "websocket" | "http"
        self.busy = False

    # asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.mode == "websocket":
            self.websocket.data_received(data)
            return
        self.buffer += data
        if self.mode is None:
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                if len(self.buffer) > 8192:
                    self._close()
                return
            request_line = self.buffer[:line_end]
            if _CONNECTIONS_MARKER in request_line:
                self.mode = "http"
            else:
                self.mode = "websocket"
                buffered, self.buffer = self.buffer, b""
                assert self.transport is not None
                self.websocket.connection_made(self.transport)
                self.websocket.data_received(buffered)
                return
        self._next_http_request()

    def eof_received(self) -> bool | None:
        if self.mode == "websocket":
            # websockets' ServerConnection closes the transport itself at EOF (it returns None).
            self.websocket.eof_received()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.mode == "websocket":
            self.websocket.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.mode == "websocket":
            self.websocket.pause_writing()

    def resume_writing(self) -> None:
        if self.mode == "websocket":
            self.websocket.resume_writing()

    # a minimal HTTP/1.1 server for the Management API -------------------------------------

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _next_http_request(self) -> None:
        if self.busy:
            return
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            if len(self.buffer) > 65536:
                self._close()
            return
        lines = self.buffer[:head_end].decode("latin-1").split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            self._close()
            return
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        if len(self.buffer) < head_end + 4 + length:
            return
        body = self.buffer[head_end + 4 : head_end + 4 + length]
        self.buffer = self.buffer[head_end + 4 + length :]
        self.busy = True
        keep_alive = headers.get("connection", "").lower() != "close"
        path = urllib.parse.urlsplit(target).path
        asyncio.get_running_loop().create_task(self._answer(method, path, body, keep_alive))

    async def _answer(self, method: str, path: str, body: bytes, keep_alive: bool) -> None:
        try:
            status, headers, payload = await self.emulator.management_api(method, path, body)
        except Exception:
            log.exception("management API %s %s", method, path)
            status, headers, payload = _api_error(500, "InternalServerErrorException", "Internal error")
        reason = http.HTTPStatus(status).phrase
        head = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(payload)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head.append(f"x-amzn-RequestId: {_request_id()}")
        head.append("Connection: keep-alive" if keep_alive else "Connection: close")
        assert self.transport is not None
        if self.transport.is_closing():
            return
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        self.busy = False
        if not keep_alive:
            self._close()
        elif self.buffer:
            self._next_http_request()
