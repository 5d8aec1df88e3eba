"""The one description of the deployment (infra/deployment.json), and its one interpreter.

This module validates the description and resolves it: every default filled, every physical
name, each function's environment (literals, or typed references such as
{"ref": "table_name", "name": "users"}), every grant (a state machine's read from its ASL's
placeholders), event sources, queues, secrets, routes and the authorizer. The embedded deployer
deploys the resolved form; Terraform jsondecode()s the same form from
infra/deployment.resolved.json (`python -m arcadeflow.deployment --write`, checked in, kept
current by a test) and only maps references onto module outputs, so it decides nothing itself.
The one section that is not resolved is `localPages` (static page folders `arcadeflow up`
serves on the HTTP port): it exists only locally, so Terraform never sees it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from arcadeflow.apigateway.parameter_mapping import MappingError
from arcadeflow.apigateway.parameter_mapping import parse as parse_mapping
from arcadeflow.asl import UnknownPlaceholder, asl_grants

# Re-exported: tools and tests find the checkout through the loader.
from arcadeflow.paths import DEFAULT_DESCRIPTION as DEFAULT_DESCRIPTION
from arcadeflow.paths import REPO_ROOT as REPO_ROOT

# What Terraform reads: generated from DEFAULT_DESCRIPTION, checked in, kept current by a test.
DEFAULT_RESOLVED = REPO_ROOT / "infra" / "deployment.resolved.json"

LOGICAL_NAME = r"^[a-z][a-z0-9_]*$"
# An environment is one word: it sits between the project and the logical name in every
# physical name (<project>-<environment>-<logical>), so a - in it would make names ambiguous.
ENVIRONMENT_NAME = r"^[a-z][a-z0-9]{0,15}$"
# AWS's longest names: a Lambda function and an IAM role (each function and state machine has a
# role of its own name) 64 characters, a state machine and an SQS queue 80.
NAME_LIMITS = {"function": 64, "state machine": 64, "queue": 80, "table": 255}
LOCAL_PAGE_PREFIX = r"^(/[a-z0-9][a-z0-9_-]*)+$"
# First path segments the HTTP emulator answers itself (/health, /openapi.json, /local/...,
# /console: arcadeflow/console/).
RUNTIME_PATH_SEGMENTS = frozenset({"health", "openapi.json", "local", "console", ".well-known"})


def _route_overlaps_prefix(route_key: str, prefix: str) -> bool:
    """Could a request under `prefix` match the route ("GET /users/{id}")? A {parameter}
    segment matches any segment, a greedy {proxy+} everything below it."""
    route_segments = route_key.split(" ", 1)[-1].strip("/").split("/")
    for i, segment in enumerate(prefix.strip("/").split("/")):
        if i >= len(route_segments):
            return False
        route_segment = route_segments[i]
        if route_segment.endswith("+}"):
            return True
        if route_segment != segment and not route_segment.startswith("{"):
            return False
    return True


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class KeyAttribute(_Strict):
    name: str
    type: Literal["S", "N", "B"]


class TableIndex(_Strict):
    partition_key: KeyAttribute = Field(alias="partitionKey")
    sort_key: KeyAttribute | None = Field(default=None, alias="sortKey")
    projection: Literal["ALL", "KEYS_ONLY"] = "ALL"


class IndexCapacity(_Strict):
    read: int = Field(ge=1)
    write: int = Field(ge=1)


class ProvisionedCapacity(_Strict):
    read: int = Field(ge=1)
    write: int = Field(ge=1)
    # Per global secondary index; an index not named here gets the table's read and write.
    indexes: dict[str, IndexCapacity] = {}


class Table(_Strict):
    partition_key: KeyAttribute = Field(alias="partitionKey")
    sort_key: KeyAttribute | None = Field(default=None, alias="sortKey")
    indexes: dict[str, TableIndex] = {}
    stream: Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"] | None = None
    ttl_attribute: str | None = Field(default=None, alias="ttlAttribute")
    # None: PAY_PER_REQUEST. Terraform may override per environment.
    provisioned: ProvisionedCapacity | None = None
    # Continuous backups for data that is kept forever (Terraform's point_in_time_recovery
    # variable may turn it on or off for every table of an environment).
    point_in_time_recovery: bool = Field(default=False, alias="pointInTimeRecovery")
    # Replicated to the regions Terraform's table_replicas lists (global tables); false keeps a
    # table in the deployment's region only (e.g. data tied to that region's APIs).
    replicated: bool = True

    def attribute_definitions(self) -> dict[str, str]:
        """Every key attribute of the table and its indexes, name -> type."""
        attrs: dict[str, str] = {self.partition_key.name: self.partition_key.type}
        if self.sort_key:
            attrs[self.sort_key.name] = self.sort_key.type
        for index in self.indexes.values():
            attrs[index.partition_key.name] = index.partition_key.type
            if index.sort_key:
                attrs[index.sort_key.name] = index.sort_key.type
        return attrs


class Function(_Strict):
    # Any dotted module path and a function name: the runtime knows no package of the product.
    handler: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
    description: str = ""
    timeout_seconds: int = Field(default=10, alias="timeoutSeconds", ge=1, le=900)
    memory_mb: int = Field(default=256, alias="memoryMb", ge=128, le=10240)
    tables: dict[str, Literal["read", "readwrite"]] = {}
    queues: dict[str, Literal["send", "consume"]] = {}
    # "start": StartExecution; "callback": complete its task tokens; "start_and_callback": both
    # (a handler that starts a flow and later answers the flow's callback); "describe": read its
    # executions (DescribeExecution), e.g. a status route for executions an API route started.
    state_machines: dict[str, Literal["start", "callback", "start_and_callback", "describe"]] = Field(
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
    """What the machine may touch is read from its ASL's ${placeholders} (asl.asl_grants): a
    placeholder is the only way an ASL names a resource, so the grants cannot lag behind it."""

    definition: str
    # Pushes to WebSocket clients directly (no placeholder names the API).
    websocket_push: bool = Field(default=False, alias="websocketPush")


class HttpRoute(_Strict):
    function: str | None = None
    # API Gateway's StepFunctions-StartExecution integration: no Lambda in between.
    start_execution: str | None = Field(default=None, alias="startExecution")
    # How API Gateway maps the request onto StartExecution (startExecution routes only): "Name"
    # and "Input", each a static string with $request.path.x, $request.body, $request.body.x,
    # $request.querystring.x, $request.header.x, $context.x (e.g. $context.authorizer.claims.sub)
    # written bare or as ${...} inside text, as API Gateway's HTTP API parameter mapping reads them.
    request_parameters: dict[Literal["Name", "Input"], str] = Field(
        default={"Input": "$request.body"}, alias="requestParameters"
    )
    auth: bool = True
    # File name under schemas/ of the request body's JSON Schema, for the OpenAPI document.
    request_schema: str | None = Field(default=None, alias="requestSchema")
    # False when the route also takes no body at all (then it is read as {}).
    request_body_required: bool = Field(default=True, alias="requestBodyRequired")
    # File name under schemas/ of the query string's JSON Schema (an object of scalar
    # properties): the OpenAPI document's query parameters, with their types and bounds.
    query_schema: str | None = Field(default=None, alias="querySchema")
    # Request headers the route reads (name -> JSON Schema of its value, with a description),
    # for the OpenAPI document's header parameters; none is required.
    request_headers: dict[str, dict[str, Any]] = Field(default={}, alias="requestHeaders")
    # Status code ("200", "4XX", "default") -> file name under schemas/ of that answer's body
    # (null: no body, e.g. 204).
    responses: dict[str, str | None] = {}
    summary: str = ""

    @model_validator(mode="after")
    def _one_target(self) -> HttpRoute:
        if (self.function is None) == (self.start_execution is None):
            raise ValueError("a route targets exactly one of function or startExecution")
        if self.function is not None and "request_parameters" in self.model_fields_set:
            raise ValueError(
                "requestParameters maps a startExecution route's request onto StartExecution;"
                " a function route gets the whole request"
            )
        # Refused here as API Gateway refuses it at CreateIntegration, before anything is deployed.
        problems = []
        for parameter, value in self.request_parameters.items():
            try:
                parse_mapping(value)
            except MappingError as exc:
                problems.append(f"requestParameters.{parameter}: {exc}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class HttpCors(_Strict):
    """The HTTP API's CORS configuration (API Gateway's Cors object) but its origins: those differ
    per environment (Terraform's `cors_allowed_origins`, `arcadeflow up --cors-origin`), and with
    none the API has no CORS configuration. Its methods are the routes' methods."""

    allow_headers: list[str] = Field(default=["authorization", "content-type"], alias="allowHeaders")
    expose_headers: list[str] = Field(default=[], alias="exposeHeaders")
    # API Gateway's bounds (its API model's MaxAge: IntegerWithLengthBetweenMinus1And86400).
    max_age_seconds: int | None = Field(default=None, alias="maxAgeSeconds", ge=-1, le=86400)
    allow_credentials: bool = Field(default=False, alias="allowCredentials")


class HttpApi(_Strict):
    routes: dict[str, HttpRoute]
    cors: HttpCors = HttpCors()


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


class Setting(_Strict):
    """A function setting `arcadeflow up` may change (`--<setting> VALUE`): it overrides
    `variable` in every function whose `environment` declares it, where its default stays."""

    variable: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    help: str = ""
    type: Literal["positive_int", "int", "string"] = "string"

    def parse(self, text: str) -> str:
        """The value as a function will see it; ValueError when it is not of the setting's type."""
        if self.type == "string":
            return text
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
        if self.type == "positive_int" and value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return str(value)


class DataFile(_Strict):
    """A product data file (e.g. a catalog a function reads), checked against its JSON Schema
    whenever the description is loaded, so a bad file is refused before anything is deployed."""

    # Relative to the checkout, inside it.
    path: str
    # File name under schemas/.
    schema_file: str = Field(alias="schema")


def _instance_location(instance: Any, path: Iterable[str | int]) -> str:
    """Where in `instance` a JSON path points, as a person reads it: `rewards[3] (id "x"): rule.count`
    (an array element is named by its "id", or else its first "...Id" field, when it has one)."""
    parts: list[str] = []
    segment = ""
    node: Any = instance
    for step in path:
        if isinstance(step, int):
            segment += f"[{step}]"
            node = node[step] if isinstance(node, list) and step < len(node) else None
            key = _identifying_key(node)
            if key is not None:
                parts.append(f'{segment} ({key} "{node[key]}")')
                segment = ""
        else:
            segment += f".{step}" if segment else str(step)
            node = node.get(step) if isinstance(node, dict) else None
    if segment:
        parts.append(segment)
    return ": ".join(parts) or "(the whole file)"


def _identifying_key(node: Any) -> str | None:
    if not isinstance(node, dict):
        return None
    keys = ["id"] + [k for k in node if isinstance(k, str) and k.endswith("Id")]
    return next((k for k in keys if isinstance(node.get(k), str)), None)


def _leaf_errors(error: Any) -> list[Any]:
    """The errors a person should see for one jsonschema error: for a oneOf/anyOf, those of the
    one branch whose constants (a discriminator, as pydantic's unions have) the instance matches."""
    from jsonschema.exceptions import best_match

    if not error.context:
        return [error]
    branches: dict[Any, list[Any]] = {}
    for inner in error.context:
        branches.setdefault(inner.schema_path[0], []).append(inner)
    matching = [errs for errs in branches.values() if not any(e.validator in ("const", "enum") for e in errs)]
    if len(matching) == 1:
        return [leaf for inner in matching[0] for leaf in _leaf_errors(inner)]
    return [best_match([error])]


def data_file_problems(name: str, data_file: DataFile) -> list[str]:
    """Why a data file does not match its schema, one line per problem; [] when it does."""
    import jsonschema

    where = f"dataFiles.{name} ({data_file.path})"
    root = REPO_ROOT.resolve()
    path = (REPO_ROOT / data_file.path).resolve()
    if Path(data_file.path).is_absolute() or not path.is_relative_to(root):
        return [f"{where}: not a file inside the checkout"]
    schema_path = REPO_ROOT / "schemas" / data_file.schema_file
    if not schema_path.is_file():
        return [f"{where}: no schema file schemas/{data_file.schema_file}"]
    if not path.is_file():
        return [f"{where}: no such file"]
    try:
        schema = json.loads(schema_path.read_text())
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
    except (ValueError, jsonschema.SchemaError) as exc:
        return [f"{where}: schemas/{data_file.schema_file} is not a JSON Schema: {exc}"]
    try:
        instance = json.loads(path.read_text())
    except ValueError as exc:
        return [f"{where}: not JSON: {exc}"]
    problems = []
    for error in sorted(validator_class(schema).iter_errors(instance), key=lambda e: list(map(str, e.path))):
        for leaf in _leaf_errors(error):
            problems.append(f"{where}: {_instance_location(instance, leaf.absolute_path)}: {leaf.message}")
    return problems


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
    # Settings name -> what it overrides; the name is also `arcadeflow up`'s flag (--<name>).
    settings: dict[str, Setting] = {}
    # URL prefix -> folder of the checkout that `arcadeflow up` serves as static files on the HTTP
    # port (e.g. a page to try the product in a browser). Local only: it is not resolved, so
    # Terraform never sees it and nothing of it is deployed to AWS.
    local_pages: dict[str, str] = Field(default={}, alias="localPages")
    # The environments this description may be resolved for (`--environment`): each gets its own
    # physical names, <name>-<environment>-<logical>, so several can share one account.
    environments: list[str] = ["dev", "staging", "prod"]
    # Set by for_environment(), never by the description: None keeps the names <name>-<logical>.
    _environment: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _tables_are_deployable(self) -> Deployment:
        problems: list[str] = []
        for name, table in self.tables.items():
            unknown = sorted(set(table.provisioned.indexes) - set(table.indexes)) if table.provisioned else []
            if unknown:
                problems.append(
                    f"table {name}: provisioned.indexes names {', '.join(unknown)}, which the table"
                    f" does not declare (its indexes: {', '.join(table.indexes) or 'none'})"
                )
            # DynamoDB global tables (2019.11.21) replicate through a NEW_AND_OLD_IMAGES stream;
            # Terraform turns it on for a table without one, but cannot change another view type.
            if table.replicated and table.stream not in (None, "NEW_AND_OLD_IMAGES"):
                problems.append(
                    f"table {name}: stream {table.stream} cannot be replicated (global tables need"
                    ' NEW_AND_OLD_IMAGES): declare that stream, or set "replicated": false'
                )
        bad = [e for e in self.environments if not re.match(ENVIRONMENT_NAME, e)]
        if bad:
            problems.append(
                f"environments {bad}: an environment is 1-16 lowercase letters and digits, starting"
                " with a letter (no -: it sits between the project and the logical name)"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def for_environment(self, environment: str | None) -> Deployment:
        """This description resolved for one environment: <name>-<environment>-<logical> names."""
        if environment is not None and environment not in self.environments:
            raise ValueError(
                f"environment {environment!r} is not one of the description's environments"
                f" ({', '.join(self.environments)})"
            )
        copy = self.model_copy()
        copy._environment = environment
        return copy

    @property
    def environment(self) -> str | None:
        return self._environment

    @property
    def name_prefix(self) -> str:
        """What every physical name starts with: <name>, or <name>-<environment>."""
        return self.name if self._environment is None else f"{self.name}-{self._environment}"

    # Name -> a product data file and the JSON Schema it must match (checked at every load).
    data_files: dict[str, DataFile] = Field(default={}, alias="dataFiles")

    @model_validator(mode="after")
    def _data_files_match_their_schemas(self) -> Deployment:
        problems = [f"bad data file name {n!r}" for n in self.data_files if not re.match(LOGICAL_NAME, n)]
        for name, data_file in self.data_files.items():
            problems += data_file_problems(name, data_file)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _local_pages_are_served_folders(self) -> Deployment:
        problems: list[str] = []
        root = REPO_ROOT.resolve()
        for prefix, folder in self.local_pages.items():
            if not re.match(LOCAL_PAGE_PREFIX, prefix):
                problems.append(
                    f"local page {prefix!r}: a prefix is /segment[/segment...] of lowercase letters,"
                    " digits, - and _, with no trailing /"
                )
                continue
            if prefix.split("/")[1] in RUNTIME_PATH_SEGMENTS:
                problems.append(f"local page {prefix}: the runtime serves {prefix.split('/')[1]!r} itself")
            for route in self.http_api.routes:
                if _route_overlaps_prefix(route, prefix):
                    problems.append(f"local page {prefix}: it would hide route {route!r}")
            path = (REPO_ROOT / folder).resolve()
            if Path(folder).is_absolute() or not path.is_relative_to(root):
                problems.append(f"local page {prefix}: {folder!r} is not a folder inside the checkout")
            elif not path.is_dir():
                problems.append(f"local page {prefix}: no folder {folder}")
        for route in self.http_api.routes:
            if _route_overlaps_prefix(route, "/local"):
                problems.append(f"route {route}: the runtime answers /local/ itself (local endpoints)")
            if _route_overlaps_prefix(route, "/console"):
                problems.append(f"route {route}: the runtime answers /console itself (the console)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def http_cors(self) -> ResolvedHttpCors:
        """The HTTP API's CORS configuration but its origins: the description's, with the routes'
        methods (a browser may preflight only what a route serves)."""
        cors = self.http_api.cors
        return ResolvedHttpCors(
            allowMethods=sorted({key.split(" ", 1)[0] for key in self.http_api.routes}),
            allowHeaders=list(cors.allow_headers),
            exposeHeaders=list(cors.expose_headers),
            maxAge=cors.max_age_seconds,
            allowCredentials=cors.allow_credentials,
        )

    def local_page_folders(self) -> dict[str, Path]:
        """URL prefix -> the absolute folder it serves."""
        return {prefix: (REPO_ROOT / folder).resolve() for prefix, folder in self.local_pages.items()}

    @model_validator(mode="after")
    def _settings_override_declared_variables(self) -> Deployment:
        problems: list[str] = []
        claimed: dict[str, str] = {}
        for name, setting in self.settings.items():
            if not re.match(r"^[a-z][a-z0-9-]*$", name):
                problems.append(f"setting {name!r}: a name is lowercase words joined by -")
            defaults = self.environment_defaults(setting.variable)
            if not defaults:
                problems.append(f"setting {name}: no function declares {setting.variable} in its environment")
            for function, default in defaults.items():
                try:
                    setting.parse(default)
                except ValueError as exc:
                    problems.append(f"setting {name}: function {function}'s default {exc}")
            if setting.variable in claimed:
                problems.append(
                    f"settings {claimed[setting.variable]} and {name} both set {setting.variable}"
                )
            claimed[setting.variable] = name
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def environment_defaults(self, variable: str) -> dict[str, str]:
        """Function -> the value its `environment` gives `variable`, for every function declaring it."""
        return {f: fn.environment[variable] for f, fn in self.functions.items() if variable in fn.environment}

    @model_validator(mode="after")
    def _references_resolve(self) -> Deployment:
        problems: list[str] = []
        for group in (self.tables, self.functions, self.queues, self.state_machines, self.event_sources):
            problems += [f"bad logical name {n!r}" for n in group if not re.match(LOGICAL_NAME, n)]
        for fname, fn in self.functions.items():
            problems += [f"function {fname}: unknown table {t}" for t in fn.tables if t not in self.tables]
            problems += [f"function {fname}: unknown queue {q}" for q in fn.queues if q not in self.queues]
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
                continue
            try:
                asl_grants(sname, sm.definition, self.placeholder_targets())
            except UnknownPlaceholder as exc:
                problems.append(str(exc))
        for route, target in self.http_api.routes.items():
            if target.function and target.function not in self.functions:
                problems.append(f"route {route}: unknown function {target.function}")
            if target.start_execution and target.start_execution not in self.state_machines:
                problems.append(f"route {route}: unknown state machine {target.start_execution}")
            if target.request_schema and not (REPO_ROOT / "schemas" / target.request_schema).is_file():
                problems.append(f"route {route}: no schema file schemas/{target.request_schema}")
            if target.query_schema and not (REPO_ROOT / "schemas" / target.query_schema).is_file():
                problems.append(f"route {route}: no schema file schemas/{target.query_schema}")
            for status, file_name in target.responses.items():
                if not re.match(r"^([1-5][0-9X]{2}|default)$", status):
                    problems.append(f"route {route}: response {status!r} is not a status code")
                if file_name is not None and not (REPO_ROOT / "schemas" / file_name).is_file():
                    problems.append(f"route {route}: no schema file schemas/{file_name}")
        for route, ws_target in self.web_socket_api.routes.items():
            if ws_target.function not in self.functions:
                problems.append(f"websocket route {route}: unknown function {ws_target.function}")
        authorizer = self.web_socket_api.authorizer
        if authorizer and authorizer.function not in self.functions:
            problems.append(f"websocket authorizer: unknown function {authorizer.function}")
        if authorizer and "$connect" not in self.web_socket_api.routes:
            problems.append("websocket authorizer: API Gateway runs it on $connect, which has no route")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- names: derived here and nowhere else (Terraform reads them from the resolved file) --

    def physical_name(self, logical: str) -> str:
        return f"{self.name_prefix}-{logical.replace('_', '-')}"

    def all_queues(self) -> dict[str, Queue | None]:
        """Declared queues plus their dead-letter queues ("<name>_dlq", which have none)."""
        out: dict[str, Queue | None] = {}
        for name, queue in self.queues.items():
            out[name] = queue
            if queue.dead_letter:
                out[f"{name}_dlq"] = None
        return out

    def parameter_name(self, secret: str) -> str:
        """The SSM parameter holding a secret: /<name>[/<environment>]/<secret with _ as ->."""
        env = "" if self._environment is None else f"/{self._environment}"
        return f"/{self.name}{env}/{secret.replace('_', '-')}"

    def placeholder_targets(self) -> dict[str, Ref]:
        """Every placeholder an ASL template may use, and the resource each one names."""
        out: dict[str, Ref] = {}
        for t in self.tables:
            out[f"{t}_table"] = Ref(ref="table_name", name=t)
        for f in self.functions:
            out[f"{f}_function_arn"] = Ref(ref="function_arn", name=f)
        for q in self.all_queues():
            out[f"{q}_queue_url"] = Ref(ref="queue_url", name=q)
            out[f"{q}_queue_arn"] = Ref(ref="queue_arn", name=q)
        for s in self.state_machines:
            out[f"{s}_state_machine_arn"] = Ref(ref="state_machine_arn", name=s)
        return out

    def websocket_needed(self) -> bool:
        return bool(
            self.web_socket_api.routes
            or any(f.websocket_push for f in self.functions.values())
            or any(s.websocket_push for s in self.state_machines.values())
        )

    def resolved(self) -> ResolvedDeployment:
        return resolve(self)

    # --- conveniences over the resolved description, for the deployer and tests ----------------

    def function_environment(self, name: str, endpoints: ResourceRefs) -> dict[str, str]:
        """The environment a function gets: one variable per resource it declares, nothing else."""
        literal, refs = _function_environment(self, name)
        # Parameter names are known from the description alone: callers need not repeat them.
        known = {x: self.parameter_name(x) for x in self.secrets}
        endpoints = endpoints.model_copy(update={"secret_parameters": known | endpoints.secret_parameters})
        env = {key: endpoints.lookup(ref) for key, ref in refs.items()}
        env.update(literal)
        return env

    def template_variables(self, refs: ResourceRefs) -> dict[str, str]:
        """Every placeholder an ASL template may use, filled."""
        return {placeholder: refs.lookup(ref) for placeholder, ref in self.placeholder_targets().items()}


# --- the resolved description: what Terraform jsondecode()s ---------------------------------

RefKind = Literal[
    "table_name",
    "function_arn",
    "queue_url",
    "queue_arn",
    "state_machine_arn",
    "secret_parameter_name",
    # Values of the deployment itself: stage, websocket_callback_url, jwt_issuer,
    # jwt_audiences (comma-separated), jwt_jwks_url.
    "deployment",
]
DEPLOYMENT_VALUES = ("stage", "websocket_callback_url", "jwt_issuer", "jwt_audiences", "jwt_jwks_url")


class Ref(_Strict):
    """A value only known once something is deployed: Terraform maps kind -> its module outputs,
    the embedded deployer -> what it created."""

    ref: RefKind
    name: str


class ResolvedIndex(_Strict):
    partition_key: KeyAttribute = Field(alias="partitionKey")
    sort_key: KeyAttribute | None = Field(alias="sortKey")
    projection: Literal["ALL", "KEYS_ONLY"]
    # Its own capacity when the table is provisioned (the table's unless the description names
    # the index), null on demand.
    read_capacity: int | None = Field(alias="readCapacity")
    write_capacity: int | None = Field(alias="writeCapacity")


class ResolvedTable(_Strict):
    name: str
    partition_key: KeyAttribute = Field(alias="partitionKey")
    sort_key: KeyAttribute | None = Field(alias="sortKey")
    indexes: dict[str, ResolvedIndex]
    stream: str | None
    ttl_attribute: str | None = Field(alias="ttlAttribute")
    # Terraform's table_capacity variable may override these per environment.
    billing_mode: Literal["PAY_PER_REQUEST", "PROVISIONED"] = Field(alias="billingMode")
    read_capacity: int | None = Field(alias="readCapacity")
    write_capacity: int | None = Field(alias="writeCapacity")
    # Terraform's point_in_time_recovery variable, when set, overrides it for every table.
    point_in_time_recovery: bool = Field(alias="pointInTimeRecovery")
    # Whether Terraform's table_replicas (regions) apply to this table.
    replicated: bool


class FunctionGrants(_Strict):
    """What the function's role may touch, by logical name."""

    tables: dict[str, Literal["read", "readwrite"]]
    streams: list[str]  # tables whose streams feed it (event sources)
    queues_send: list[str] = Field(alias="queuesSend")
    queues_consume: list[str] = Field(alias="queuesConsume")  # declared or event sources
    state_machines_start: list[str] = Field(alias="stateMachinesStart")
    state_machines_callback: list[str] = Field(alias="stateMachinesCallback")
    state_machines_describe: list[str] = Field(alias="stateMachinesDescribe")
    websocket_push: bool = Field(alias="websocketPush")
    secrets: list[str]


class ResolvedFunction(_Strict):
    name: str
    handler: str
    description: str
    timeout_seconds: int = Field(alias="timeoutSeconds")
    memory_mb: int = Field(alias="memoryMb")
    # Literal values, and values that are references; no variable is in both.
    environment: dict[str, str]
    environment_refs: dict[str, Ref] = Field(alias="environmentRefs")
    grants: FunctionGrants

    def environment_with(self, refs: ResourceRefs) -> dict[str, str]:
        env = {key: refs.lookup(ref) for key, ref in self.environment_refs.items()}
        env.update(self.environment)
        return dict(sorted(env.items()))


class ResolvedSecret(_Strict):
    parameter_name: str = Field(alias="parameterName")
    description: str


class ResolvedEventSource(_Strict):
    function: str
    table: str | None
    queue: str | None
    batch_size: int = Field(alias="batchSize")
    # Stream-only settings (null for a queue, which retries through its redrive policy).
    starting_position: str | None = Field(alias="startingPosition")
    maximum_retry_attempts: int | None = Field(alias="maximumRetryAttempts")
    bisect_batch_on_function_error: bool | None = Field(alias="bisectBatchOnFunctionError")


class ResolvedDeadLetterQueue(_Strict):
    logical: str
    name: str


class ResolvedQueue(_Strict):
    name: str
    visibility_timeout_seconds: int = Field(alias="visibilityTimeoutSeconds")
    max_receive_count: int = Field(alias="maxReceiveCount")
    dead_letter: ResolvedDeadLetterQueue | None = Field(alias="deadLetter")
    holds_failures: bool = Field(alias="holdsFailures")


class StateMachineGrants(_Strict):
    """Read from the ASL's placeholders (arcadeflow.asl.asl_grants)."""

    functions: list[str]
    tables: dict[str, Literal["read", "readwrite"]]
    queues_send: list[str] = Field(alias="queuesSend")
    state_machines_start: list[str] = Field(alias="stateMachinesStart")
    websocket_push: bool = Field(alias="websocketPush")


class ResolvedStateMachine(_Strict):
    name: str
    definition: str
    # Exactly the placeholders its ASL uses: a template changed after resolving fails
    # templatefile() at plan time, and the up-to-date test before that.
    template_variables: dict[str, Ref] = Field(alias="templateVariables")
    grants: StateMachineGrants


class ResolvedHttpRoute(_Strict):
    function: str | None
    start_execution: str | None = Field(alias="startExecution")
    # startExecution routes: the StartExecution mapping ({} for function routes).
    request_parameters: dict[str, str] = Field(alias="requestParameters")
    auth: bool
    request_schema: str | None = Field(alias="requestSchema")
    summary: str


class ResolvedHttpCors(_Strict):
    """What CreateApi's CorsConfiguration holds besides AllowOrigins, as Terraform sets it."""

    allow_methods: list[str] = Field(alias="allowMethods")
    allow_headers: list[str] = Field(alias="allowHeaders")
    expose_headers: list[str] = Field(alias="exposeHeaders")
    max_age: int | None = Field(alias="maxAge")
    allow_credentials: bool = Field(alias="allowCredentials")

    def cors_configuration(self, origins: list[str]) -> dict[str, Any]:
        """CreateApi's CorsConfiguration for these origins (none: no CORS configuration at all)."""
        if not origins:
            return {}
        configuration: dict[str, Any] = {
            "AllowOrigins": list(origins),
            "AllowMethods": self.allow_methods,
            "AllowHeaders": self.allow_headers,
            "AllowCredentials": self.allow_credentials,
        }
        if self.expose_headers:
            configuration["ExposeHeaders"] = self.expose_headers
        if self.max_age is not None:
            configuration["MaxAge"] = self.max_age
        return configuration


class ResolvedHttpApi(_Strict):
    name: str
    routes: dict[str, ResolvedHttpRoute]
    cors: ResolvedHttpCors


class ResolvedAuthorizer(_Strict):
    name: str
    function: str
    identity_sources: list[str] = Field(alias="identitySources")


class ResolvedWebSocketApi(_Strict):
    name: str
    # False: no route and nobody pushes, so no WebSocket API is created.
    enabled: bool
    route_selection_expression: str = Field(alias="routeSelectionExpression")
    routes: dict[str, WebSocketRoute]
    authorizer: ResolvedAuthorizer | None


class ResolvedDataFile(_Strict):
    path: str
    schema_file: str = Field(alias="schema")
    # What the loader validated: Terraform refuses to plan when filesha256(path) differs.
    sha256: str


class ResolvedNames(_Strict):
    alarm_topic: str = Field(alias="alarmTopic")
    user_pool: str = Field(alias="userPool")
    app_client: str = Field(alias="appClient")


FORMAT_VERSION: Literal[1] = 1


class ResolvedDeployment(_Strict):
    """infra/deployment.json with every default filled, every physical name, every function's
    environment and every grant spelled out. Terraform maps it onto resources; it decides nothing."""

    format_version: Literal[1] = Field(alias="formatVersion")
    generated_by: str = Field(alias="generatedBy")
    name: str
    # What the names were resolved for (`--environment`); Terraform's environment variable must
    # match it. None: the default names, <name>-<logical>.
    environment: str | None
    names: ResolvedNames
    tables: dict[str, ResolvedTable]
    functions: dict[str, ResolvedFunction]
    secrets: dict[str, ResolvedSecret]
    event_sources: dict[str, ResolvedEventSource] = Field(alias="eventSources")
    queues: dict[str, ResolvedQueue]
    state_machines: dict[str, ResolvedStateMachine] = Field(alias="stateMachines")
    http_api: ResolvedHttpApi = Field(alias="httpApi")
    web_socket_api: ResolvedWebSocketApi = Field(alias="webSocketApi")
    data_files: dict[str, ResolvedDataFile] = Field(alias="dataFiles")

    def queue_names(self) -> dict[str, str]:
        """Logical -> physical name of every queue, dead-letter queues included."""
        out: dict[str, str] = {}
        for logical, queue in self.queues.items():
            out[logical] = queue.name
            if queue.dead_letter:
                out[queue.dead_letter.logical] = queue.dead_letter.name
        return out

    def to_json(self) -> str:
        return json.dumps(self.model_dump(by_alias=True, mode="json"), indent=2) + "\n"


def _function_environment(d: Deployment, name: str) -> tuple[dict[str, str], dict[str, Ref]]:
    fn = d.functions[name]
    literal = {"POWERTOOLS_SERVICE_NAME": d.physical_name(name)}
    refs: dict[str, Ref] = {"ARCADEFLOW_STAGE": Ref(ref="deployment", name="stage")}
    for table in fn.tables:
        refs[f"{table.upper()}_TABLE"] = Ref(ref="table_name", name=table)
    for queue in fn.queues:
        refs[f"{queue.upper()}_QUEUE_URL"] = Ref(ref="queue_url", name=queue)
    for secret in fn.secrets:
        refs[f"{secret.upper()}_PARAMETER"] = Ref(ref="secret_parameter_name", name=secret)
    for sm in fn.state_machines:
        refs[f"{sm.upper()}_STATE_MACHINE_ARN"] = Ref(ref="state_machine_arn", name=sm)
    if fn.websocket_push:
        refs["WEBSOCKET_CALLBACK_URL"] = Ref(ref="deployment", name="websocket_callback_url")
    if d.web_socket_api.authorizer and d.web_socket_api.authorizer.function == name:
        # The same issuer and app clients the HTTP API's JWT authorizer accepts.
        refs["JWT_ISSUER"] = Ref(ref="deployment", name="jwt_issuer")
        refs["JWT_AUDIENCES"] = Ref(ref="deployment", name="jwt_audiences")
        refs["JWT_JWKS_URL"] = Ref(ref="deployment", name="jwt_jwks_url")
    # What the description sets itself wins over what is derived.
    literal.update(fn.environment)
    for key in fn.environment:
        refs.pop(key, None)
    return dict(sorted(literal.items())), dict(sorted(refs.items()))


def _function_grants(d: Deployment, name: str) -> FunctionGrants:
    fn = d.functions[name]
    sources = [es for es in d.event_sources.values() if es.function == name]
    consumed = {q for q, use in fn.queues.items() if use == "consume"}
    consumed |= {es.queue for es in sources if es.queue}
    return FunctionGrants(
        tables=dict(fn.tables),
        streams=sorted({es.table for es in sources if es.table}),
        queuesSend=sorted(q for q, use in fn.queues.items() if use == "send"),
        queuesConsume=sorted(consumed),
        stateMachinesStart=sorted(
            s for s, use in fn.state_machines.items() if use in ("start", "start_and_callback")
        ),
        stateMachinesCallback=sorted(
            s for s, use in fn.state_machines.items() if use in ("callback", "start_and_callback")
        ),
        stateMachinesDescribe=sorted(s for s, use in fn.state_machines.items() if use == "describe"),
        websocketPush=fn.websocket_push,
        secrets=sorted(fn.secrets),
    )


def _index_capacity(t: Table, index: str) -> IndexCapacity | None:
    if t.provisioned is None:
        return None
    return t.provisioned.indexes.get(index, IndexCapacity(read=t.provisioned.read, write=t.provisioned.write))


def _resolved_index(t: Table, name: str) -> ResolvedIndex:
    index = t.indexes[name]
    capacity = _index_capacity(t, name)
    return ResolvedIndex(
        partitionKey=index.partition_key,
        sortKey=index.sort_key,
        projection=index.projection,
        readCapacity=capacity.read if capacity else None,
        writeCapacity=capacity.write if capacity else None,
    )


def _name_problems(d: Deployment) -> list[str]:
    """Physical names longer than AWS accepts (an environment makes every name longer)."""
    kinds: dict[str, Mapping[str, object]] = {
        "table": d.tables,
        "function": d.functions,
        "state machine": d.state_machines,
        "queue": d.all_queues(),
    }
    return [
        f"{kind} {logical}: physical name {d.physical_name(logical)!r} is longer than the"
        f" {NAME_LIMITS[kind]} characters AWS allows"
        for kind, group in kinds.items()
        for logical in group
        if len(d.physical_name(logical)) > NAME_LIMITS[kind]
    ]


def resolve(d: Deployment) -> ResolvedDeployment:
    """The one interpretation of the description (see ResolvedDeployment)."""
    problems = _name_problems(d)
    if problems:
        raise ValueError("; ".join(problems))
    tables = {
        logical: ResolvedTable(
            name=d.physical_name(logical),
            partitionKey=t.partition_key,
            sortKey=t.sort_key,
            indexes={n: _resolved_index(t, n) for n in t.indexes},
            stream=t.stream,
            ttlAttribute=t.ttl_attribute,
            billingMode="PROVISIONED" if t.provisioned else "PAY_PER_REQUEST",
            readCapacity=t.provisioned.read if t.provisioned else None,
            writeCapacity=t.provisioned.write if t.provisioned else None,
            pointInTimeRecovery=t.point_in_time_recovery,
            replicated=t.replicated,
        )
        for logical, t in d.tables.items()
    }
    functions = {}
    for logical, fn in d.functions.items():
        literal, refs = _function_environment(d, logical)
        functions[logical] = ResolvedFunction(
            name=d.physical_name(logical),
            handler=fn.handler,
            description=fn.description,
            timeoutSeconds=fn.timeout_seconds,
            memoryMb=fn.memory_mb,
            environment=literal,
            environmentRefs=refs,
            grants=_function_grants(d, logical),
        )
    targets = d.placeholder_targets()
    machines = {}
    for logical, sm in d.state_machines.items():
        used = asl_grants(logical, sm.definition, targets)
        machines[logical] = ResolvedStateMachine(
            name=d.physical_name(logical),
            definition=sm.definition,
            templateVariables={p: targets[p] for p in sorted(used.placeholders)},
            grants=StateMachineGrants(
                functions=sorted(used.functions),
                tables=dict(sorted(used.tables.items())),
                queuesSend=sorted(used.queues),
                stateMachinesStart=sorted(used.state_machines),
                websocketPush=sm.websocket_push,
            ),
        )
    authorizer = d.web_socket_api.authorizer
    return ResolvedDeployment(
        formatVersion=FORMAT_VERSION,
        generatedBy="python -m arcadeflow.deployment --write (from infra/deployment.json; do not edit)"
        if d.environment is None
        else f"python -m arcadeflow.deployment --environment {d.environment} (do not edit)",
        name=d.name,
        environment=d.environment,
        names=ResolvedNames(
            alarmTopic=f"{d.name_prefix}-alarms",
            userPool=f"{d.name_prefix}-players",
            appClient=f"{d.name_prefix}-game",
        ),
        tables=tables,
        functions=functions,
        secrets={
            x: ResolvedSecret(parameterName=d.parameter_name(x), description=s.description)
            for x, s in d.secrets.items()
        },
        eventSources={
            k: ResolvedEventSource(
                function=es.function,
                table=es.table,
                queue=es.queue,
                batchSize=es.batch_size,
                startingPosition=es.starting_position if es.table else None,
                maximumRetryAttempts=es.maximum_retry_attempts if es.table else None,
                bisectBatchOnFunctionError=es.bisect_batch_on_function_error if es.table else None,
            )
            for k, es in d.event_sources.items()
        },
        queues={
            q: ResolvedQueue(
                name=d.physical_name(q),
                visibilityTimeoutSeconds=queue.visibility_timeout_seconds,
                maxReceiveCount=queue.max_receive_count,
                deadLetter=ResolvedDeadLetterQueue(logical=f"{q}_dlq", name=d.physical_name(f"{q}_dlq"))
                if queue.dead_letter
                else None,
                holdsFailures=queue.holds_failures,
            )
            for q, queue in d.queues.items()
        },
        stateMachines=machines,
        httpApi=ResolvedHttpApi(
            name=f"{d.name_prefix}-http",
            routes={
                key: ResolvedHttpRoute(
                    function=r.function,
                    startExecution=r.start_execution,
                    # The default Input stays when a route maps only its Name.
                    requestParameters={"Input": "$request.body"}
                    | {str(k): v for k, v in r.request_parameters.items()}
                    if r.start_execution
                    else {},
                    auth=r.auth,
                    requestSchema=r.request_schema,
                    summary=r.summary,
                )
                for key, r in d.http_api.routes.items()
            },
            cors=d.http_cors(),
        ),
        webSocketApi=ResolvedWebSocketApi(
            name=f"{d.name_prefix}-websocket",
            enabled=d.websocket_needed(),
            routeSelectionExpression=d.web_socket_api.route_selection_expression,
            routes=dict(d.web_socket_api.routes),
            authorizer=ResolvedAuthorizer(
                name=f"{d.name_prefix}-websocket-connect",
                function=authorizer.function,
                identitySources=list(authorizer.identity_source),
            )
            if authorizer
            else None,
        ),
        dataFiles={
            name: ResolvedDataFile(
                path=f.path,
                schema=f.schema_file,
                sha256=hashlib.sha256((REPO_ROOT / f.path).read_bytes()).hexdigest(),
            )
            for name, f in d.data_files.items()
        },
    )


class ResourceRefs(BaseModel):
    """Names, ARNs and URLs of deployed resources, by logical name: what a Ref points at."""

    stage: str = "local"
    tables: dict[str, str] = {}
    function_arns: dict[str, str] = {}
    queue_urls: dict[str, str] = {}
    queue_arns: dict[str, str] = {}
    state_machine_arns: dict[str, str] = {}
    secret_parameters: dict[str, str] = {}
    websocket_callback_url: str = ""
    # Who signs the tokens the APIs accept: Cognito on AWS, the local issuer when embedded.
    jwt_issuer: str = ""
    jwt_audiences: list[str] = []
    jwt_jwks_url: str = ""

    def lookup(self, ref: Ref) -> str:
        if ref.ref == "deployment":
            if ref.name == "jwt_audiences":
                return ",".join(self.jwt_audiences)
            if ref.name not in DEPLOYMENT_VALUES:
                raise KeyError(f"no deployment value {ref.name!r}")
            return str(getattr(self, ref.name))
        table: dict[str, str] = {
            "table_name": self.tables,
            "function_arn": self.function_arns,
            "queue_url": self.queue_urls,
            "queue_arn": self.queue_arns,
            "state_machine_arn": self.state_machine_arns,
            "secret_parameter_name": self.secret_parameters,
        }[ref.ref]
        return table[ref.name]


def load(path: Path = DEFAULT_DESCRIPTION) -> Deployment:
    return Deployment.model_validate(json.loads(Path(path).read_text()))


def load_resolved(path: Path = DEFAULT_RESOLVED) -> ResolvedDeployment:
    raw = json.loads(Path(path).read_text())
    if raw.get("formatVersion") != FORMAT_VERSION:
        raise ValueError(
            f"{path}: formatVersion {raw.get('formatVersion')!r}, this loader writes {FORMAT_VERSION}"
            " (regenerate it with `python -m arcadeflow.deployment --write`)"
        )
    return ResolvedDeployment.model_validate(raw)


def resolved_path(description: Path, environment: str | None = None) -> Path:
    """infra/deployment.json -> infra/deployment.resolved.json (deployment.<environment>.resolved.json
    for an environment), beside its description."""
    description = Path(description)
    stem = description.name.removesuffix(".json")
    return description.with_name(
        f"{stem}.resolved.json" if environment is None else f"{stem}.{environment}.resolved.json"
    )


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m arcadeflow.deployment",
        description="Validate a deployment description and write its resolved form, which Terraform reads.",
    )
    parser.add_argument("description", nargs="?", type=Path, default=DEFAULT_DESCRIPTION)
    parser.add_argument("--output", type=Path, help="default: <description>.resolved.json beside it")
    parser.add_argument(
        "--environment",
        help="resolve for one of the description's environments: names <name>-<environment>-<logical>,"
        " and Terraform's environment variable must be the same (default: none, names <name>-<logical>)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write the resolved file (the default)")
    mode.add_argument("--check", action="store_true", help="fail if the resolved file is not up to date")
    args = parser.parse_args(argv)
    output = args.output or resolved_path(args.description, args.environment)
    try:
        text = load(args.description).for_environment(args.environment).resolved().to_json()
    except (ValueError, OSError) as exc:
        print(f"{args.description}: {exc}")
        return 1
    if args.check:
        if not output.is_file() or output.read_text() != text:
            print(f"{output} is not up to date: run python -m arcadeflow.deployment --write")
            return 1
        return 0
    output.write_text(text)
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
