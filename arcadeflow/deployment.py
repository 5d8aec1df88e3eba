"""The one description of the deployment (infra/deployment.json).

Terraform (infra/) and the embedded deployer both read this file, so the two can never drift.
This module validates it and derives every name the way Terraform does: physical names,
environment variables handed to functions, and the placeholders of the ASL templates.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DESCRIPTION = REPO_ROOT / "infra" / "deployment.json"

LOGICAL_NAME = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class KeyAttribute(_Strict):
    name: str
    type: Literal["S", "N", "B"]


class TableIndex(_Strict):
    partition_key: KeyAttribute = Field(alias="partitionKey")
    sort_key: KeyAttribute | None = Field(default=None, alias="sortKey")
    projection: Literal["ALL", "KEYS_ONLY"] = "ALL"


class ProvisionedCapacity(_Strict):
    read: int = Field(ge=1)
    write: int = Field(ge=1)


class Table(_Strict):
    partition_key: KeyAttribute = Field(alias="partitionKey")
    sort_key: KeyAttribute | None = Field(default=None, alias="sortKey")
    indexes: dict[str, TableIndex] = {}
    stream: Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"] | None = None
    ttl_attribute: str | None = Field(default=None, alias="ttlAttribute")
    # None: PAY_PER_REQUEST. Terraform may override per environment.
    provisioned: ProvisionedCapacity | None = None

    def attribute_definitions(self) -> dict[str, str]:
        """Every key attribute of the table and its indexes, name -> type."""
        attrs = {self.partition_key.name: self.partition_key.type}
        if self.sort_key:
            attrs[self.sort_key.name] = self.sort_key.type
        for index in self.indexes.values():
            attrs[index.partition_key.name] = index.partition_key.type
            if index.sort_key:
                attrs[index.sort_key.name] = index.sort_key.type
        return attrs


class Function(_Strict):
    handler: str = Field(pattern=r"^functions(\.[a-z_][a-z0-9_]*)+$")
    description: str = ""
    timeout_seconds: int = Field(default=10, alias="timeoutSeconds", ge=1, le=900)
    memory_mb: int = Field(default=256, alias="memoryMb", ge=128, le=10240)
    tables: dict[str, Literal["read", "readwrite"]] = {}
    queues: dict[str, Literal["send", "consume"]] = {}
    # "start": StartExecution; "callback": complete its task tokens; "start_and_callback": both
    # (a handler that starts a flow and later answers the flow's callback).
    state_machines: dict[str, Literal["start", "callback", "start_and_callback"]] = Field(
        default={}, alias="stateMachines"
    )
    # Pushes to WebSocket clients (execute-api:ManageConnections on the WebSocket API).
    websocket_push: bool = Field(default=False, alias="websocketPush")
    # Secrets it reads (SSM SecureString parameters): <SECRET>_PARAMETER names each one.
    secrets: list[str] = []
    environment: dict[str, str] = {}


class Secret(_Strict):
    """A secret value (an SSM SecureString) generated at deploy time: random, never in code."""

    description: str = ""


class EventSource(_Strict):
    function: str
    table: str | None = None
    queue: str | None = None
    batch_size: int = Field(default=100, alias="batchSize", ge=1, le=10000)
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = Field(
        default="TRIM_HORIZON", alias="startingPosition"
    )
    maximum_retry_attempts: int = Field(default=10, alias="maximumRetryAttempts", ge=-1, le=10000)
    bisect_batch_on_function_error: bool = Field(default=True, alias="bisectBatchOnFunctionError")

    @model_validator(mode="after")
    def _one_source(self) -> EventSource:
        if (self.table is None) == (self.queue is None):
            raise ValueError("an event source names exactly one of table or queue")
        return self


class Queue(_Strict):
    visibility_timeout_seconds: int = Field(default=60, alias="visibilityTimeoutSeconds", ge=0)
    max_receive_count: int = Field(default=5, alias="maxReceiveCount", ge=1)
    # A queue with a dead-letter queue gets "<name>_dlq" created beside it.
    dead_letter: bool = Field(default=True, alias="deadLetter")
    # The queue itself holds failed work (e.g. dead-lettered fan-out batches): alarm on its depth
    # and keep messages for SQS's maximum of 14 days.
    holds_failures: bool = Field(default=False, alias="holdsFailures")


class StateMachine(_Strict):
    definition: str
    functions: list[str] = []
    tables: dict[str, Literal["read", "readwrite"]] = {}
    queues: list[str] = []
    state_machines: list[str] = Field(default=[], alias="stateMachines")
    websocket_push: bool = Field(default=False, alias="websocketPush")


class HttpRoute(_Strict):
    function: str | None = None
    # API Gateway's StepFunctions-StartExecution integration: no Lambda in between.
    start_execution: str | None = Field(default=None, alias="startExecution")
    auth: bool = True
    # File name under schemas/ of the request body's JSON Schema, for the OpenAPI document.
    request_schema: str | None = Field(default=None, alias="requestSchema")
    # Status code ("200", "4XX", "default") -> file name under schemas/ of that answer's body
    # (null: no body, e.g. 204).
    responses: dict[str, str | None] = {}
    summary: str = ""

    @model_validator(mode="after")
    def _one_target(self) -> HttpRoute:
        if (self.function is None) == (self.start_execution is None):
            raise ValueError("a route targets exactly one of function or startExecution")
        return self


class HttpApi(_Strict):
    routes: dict[str, HttpRoute]


class WebSocketRoute(_Strict):
    function: str


class WebSocketAuthorizer(_Strict):
    """The Lambda REQUEST authorizer API Gateway runs on $connect (the only route it may guard).
    Its function gets JWT_ISSUER, JWT_AUDIENCES and JWT_JWKS_URL."""

    function: str
    # Where API Gateway finds the credentials; a handshake lacking one is refused with 401
    # before the authorizer runs.
    identity_source: list[str] = Field(
        default=["route.request.querystring.token"],
        alias="identitySource",
        min_length=1,
    )

    @model_validator(mode="after")
    def _supported_sources(self) -> WebSocketAuthorizer:
        pattern = r"^route\.request\.(querystring|header)\.[A-Za-z0-9._~-]+$"
        bad = [s for s in self.identity_source if not re.match(pattern, s)]
        if bad:
            raise ValueError(f"identity sources must be route.request.querystring.X or .header.X, not {bad}")
        return self


class WebSocketApi(_Strict):
    route_selection_expression: str = Field(default="$request.body.action", alias="routeSelectionExpression")
    authorizer: WebSocketAuthorizer | None = None
    routes: dict[str, WebSocketRoute] = {}


class Deployment(_Strict):
    schema_ref: str | None = Field(default=None, alias="$schema")
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    tables: dict[str, Table]
    functions: dict[str, Function]
    event_sources: dict[str, EventSource] = Field(default={}, alias="eventSources")
    queues: dict[str, Queue] = {}
    secrets: dict[str, Secret] = {}
    state_machines: dict[str, StateMachine] = Field(default={}, alias="stateMachines")
    http_api: HttpApi = Field(alias="httpApi")
    web_socket_api: WebSocketApi = Field(alias="webSocketApi")

    @model_validator(mode="after")
    def _references_resolve(self) -> Deployment:
        problems: list[str] = []
        for group in (self.tables, self.functions, self.queues, self.state_machines, self.event_sources):
            problems += [f"bad logical name {n!r}" for n in group if not re.match(LOGICAL_NAME, n)]
        for fname, fn in self.functions.items():
            problems += [f"function {fname}: unknown table {t}" for t in fn.tables if t not in self.tables]
            problems += [f"function {fname}: unknown queue {q}" for q in fn.queues if q not in self.queues]
            problems += [f"function {fname}: unknown secret {x}" for x in fn.secrets if x not in self.secrets]
            problems += [f"function {fname}: unknown secret {x}" for x in fn.secrets if x not in self.secrets]
            problems += [
                f"function {fname}: unknown state machine {s}"
                for s in fn.state_machines
                if s not in self.state_machines
            ]
        for ename, es in self.event_sources.items():
            if es.function not in self.functions:
                problems.append(f"event source {ename}: unknown function {es.function}")
            if es.table and (es.table not in self.tables or not self.tables[es.table].stream):
                problems.append(f"event source {ename}: table {es.table} missing or has no stream")
            if es.queue and es.queue not in self.queues:
                problems.append(f"event source {ename}: unknown queue {es.queue}")
        for sname, sm in self.state_machines.items():
            if not (REPO_ROOT / sm.definition).is_file():
                problems.append(f"state machine {sname}: no file {sm.definition}")
            problems += [
                f"state machine {sname}: unknown function {f}"
                for f in sm.functions
                if f not in self.functions
            ]
            problems += [
                f"state machine {sname}: unknown table {t}" for t in sm.tables if t not in self.tables
            ]
        for route, target in self.http_api.routes.items():
            if target.function and target.function not in self.functions:
                problems.append(f"route {route}: unknown function {target.function}")
            if target.start_execution and target.start_execution not in self.state_machines:
                problems.append(f"route {route}: unknown state machine {target.start_execution}")
        for route, target in self.http_api.routes.items():
            if target.request_schema and not (REPO_ROOT / "schemas" / target.request_schema).is_file():
                problems.append(f"route {route}: no schema file schemas/{target.request_schema}")
            for status, file_name in target.responses.items():
                if not re.match(r"^([1-5][0-9X]{2}|default)$", status):
                    problems.append(f"route {route}: response {status!r} is not a status code")
                if file_name is not None and not (REPO_ROOT / "schemas" / file_name).is_file():
                    problems.append(f"route {route}: no schema file schemas/{file_name}")
        for route, target in self.web_socket_api.routes.items():
            if target.function not in self.functions:
                problems.append(f"websocket route {route}: unknown function {target.function}")
        authorizer = self.web_socket_api.authorizer
        if authorizer and authorizer.function not in self.functions:
            problems.append(f"websocket authorizer: unknown function {authorizer.function}")
        if authorizer and "$connect" not in self.web_socket_api.routes:
            problems.append("websocket authorizer: API Gateway runs it on $connect, which has no route")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- names, derived exactly as infra/ derives them -------------------------------------

    def physical_name(self, logical: str) -> str:
        return f"{self.name}-{logical.replace('_', '-')}"

    def all_queues(self) -> dict[str, Queue | None]:
        """Declared queues plus their dead-letter queues ("<name>_dlq", which have none)."""
        out: dict[str, Queue | None] = {}
        for name, queue in self.queues.items():
            out[name] = queue
            if queue.dead_letter:
                out[f"{name}_dlq"] = None
        return out

    def parameter_name(self, secret: str) -> str:
        """The SSM parameter holding a secret: /<name>/<secret with _ as ->."""
        return f"/{self.name}/{secret.replace('_', '-')}"

    def function_environment(self, name: str, endpoints: ResourceRefs) -> dict[str, str]:
        """The environment a function gets: one variable per resource it declares, nothing else."""
        fn = self.functions[name]
        env = {
            "POWERTOOLS_SERVICE_NAME": self.physical_name(name),
            "ARCADEFLOW_STAGE": endpoints.stage,
        }
        for table in fn.tables:
            env[f"{table.upper()}_TABLE"] = endpoints.tables[table]
        for queue in fn.queues:
            env[f"{queue.upper()}_QUEUE_URL"] = endpoints.queue_urls[queue]
        for secret in fn.secrets:
            env[f"{secret.upper()}_PARAMETER"] = self.parameter_name(secret)
        for sm in fn.state_machines:
            env[f"{sm.upper()}_STATE_MACHINE_ARN"] = endpoints.state_machine_arns[sm]
        if fn.websocket_push:
            env["WEBSOCKET_CALLBACK_URL"] = endpoints.websocket_callback_url
        if self.web_socket_api.authorizer and self.web_socket_api.authorizer.function == name:
            # The same issuer and app clients the HTTP API's JWT authorizer accepts.
            env["JWT_ISSUER"] = endpoints.jwt_issuer
            env["JWT_AUDIENCES"] = ",".join(endpoints.jwt_audiences)
            env["JWT_JWKS_URL"] = endpoints.jwt_jwks_url
        env.update(fn.environment)
        return env

    def template_variables(self, refs: ResourceRefs) -> dict[str, str]:
        """Every placeholder an ASL template may use; templatefile() gets the same map."""
        out: dict[str, str] = {}
        for t in self.tables:
            out[f"{t}_table"] = refs.tables[t]
        for f in self.functions:
            out[f"{f}_function_arn"] = refs.function_arns[f]
        for q in self.all_queues():
            out[f"{q}_queue_url"] = refs.queue_urls[q]
            out[f"{q}_queue_arn"] = refs.queue_arns[q]
        for s in self.state_machines:
            out[f"{s}_state_machine_arn"] = refs.state_machine_arns[s]
        return out


class ResourceRefs(BaseModel):
    """Names, ARNs and URLs of deployed resources, by logical name."""

    stage: str = "local"
    tables: dict[str, str] = {}
    function_arns: dict[str, str] = {}
    queue_urls: dict[str, str] = {}
    queue_arns: dict[str, str] = {}
    state_machine_arns: dict[str, str] = {}
    websocket_callback_url: str = ""
    # Who signs the tokens the APIs accept: Cognito on AWS, the local issuer when embedded.
    jwt_issuer: str = ""
    jwt_audiences: list[str] = []
    jwt_jwks_url: str = ""


def load(path: Path = DEFAULT_DESCRIPTION) -> Deployment:
    return Deployment.model_validate(json.loads(Path(path).read_text()))
