"""API Gateway HTTP API parameter mapping, as its AWS service integrations evaluate it.

A StepFunctions-StartExecution integration's request parameters (StateMachineArn, Name, Input,
Region, TraceHeader) are static text with mapping expressions in it, each written bare
(`$request.body`) or braced inside text (`{"id":"${request.path.id}"}`), following AWS's
"Transform API requests and responses for HTTP APIs" and "AWS service integrations for HTTP
APIs":

| expression | value |
|---|---|
| `$request.body` | the body as sent |
| `$request.body.<path>` | JSON path `a.b[0]` into the body's first 100 KB; a string as is, else JSON |
| `$request.path` | the request path |
| `$request.path.<name>` | a path parameter of the route |
| `$request.querystring.<name>` | case-sensitive; repeated values joined with commas |
| `$request.header.<name>` | case-insensitive; repeated values joined with commas |
| `$context.<name>` | a context variable (CONTEXT_VARIABLES; `authorizer.claims.<claim>` for a JWT route) |
| `$stageVariables.<name>` | a variable of the stage serving the request |

A value the request does not have is the empty string (text is substituted verbatim, not
JSON-escaped, as API Gateway does: a `"` in a path parameter mapped into an Input template
makes the input invalid JSON, which StartExecution refuses). A parameter whose whole value is
empty is left out of the call: an empty Name lets Step Functions name the execution (a UUID),
an empty Input starts it with `{}`.

The loader (arcadeflow.deployment) parses every mapping of the description with `parse`, so an
expression API Gateway would refuse at CreateIntegration fails at load instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# What AWS accepts as request parameters of a StepFunctions-StartExecution integration.
START_EXECUTION_PARAMETERS = ("StateMachineArn", "Name", "Input", "Region", "TraceHeader")
# API Gateway applies a body JSON path to the first 100 KB of the body only.
BODY_PATH_LIMIT_BYTES = 100 * 1024
# The context variables of an HTTP API request this emulator knows (AWS has more: a mapping
# naming another one is refused at load rather than silently mapped to "").
CONTEXT_VARIABLES = frozenset(
    {
        "accountId",
        "apiId",
        "domainName",
        "domainPrefix",
        "httpMethod",
        "identity.sourceIp",
        "identity.userAgent",
        "path",
        "protocol",
        "requestId",
        "requestTime",
        "requestTimeEpoch",
        "routeKey",
        "stage",
    }
)
_CLAIM_PREFIX = "authorizer.claims."

# ${...} anywhere, or a bare $request / $context / $stageVariables reference.
_EXPRESSION = re.compile(r"\$\{([^}]*)\}|\$((?:request|context|stageVariables)(?:\.[A-Za-z0-9_\-\[\]]+)*)")
_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~\-]+$")
_BODY_PATH_SEGMENT = re.compile(r"([A-Za-z0-9_\-]+)?((?:\[\d+\])*)")


class MappingError(ValueError):
    """An expression API Gateway would refuse; the message names it."""


@dataclass(frozen=True)
class Reference:
    # body, body_path, path, path_parameter, querystring, header, context, stage_variable
    source: str
    name: str = ""
    # body_path: the keys and indexes to follow.
    steps: tuple[str | int, ...] = ()


Part = str | Reference


@dataclass(frozen=True)
class RequestValues:
    """What a mapping can read from one request."""

    body: bytes = b""
    path: str = "/"
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    # name -> every value, in order
    query: Mapping[str, list[str]] = field(default_factory=dict)
    # lowercase name -> every value, in order
    headers: Mapping[str, list[str]] = field(default_factory=dict)
    # context variable (dotted, as CONTEXT_VARIABLES) -> value
    context: Mapping[str, str] = field(default_factory=dict)
    # the JWT's claims, each as the authorizer passes it (a string)
    claims: Mapping[str, str] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)


def _body_steps(path: str, expression: str) -> tuple[str | int, ...]:
    if not path or path.startswith(".") or ".." in path or "?" in path or "*" in path:
        raise MappingError(
            f"{expression}: a body JSON path is a.b[0]; recursive descent, filters and wildcards"
            " are not supported"
        )
    steps: list[str | int] = []
    for segment in path.split("."):
        m = _BODY_PATH_SEGMENT.fullmatch(segment)
        if not m or not segment:
            raise MappingError(f"{expression}: {segment!r} is not a JSON path segment")
        if m.group(1):
            steps.append(m.group(1))
        steps += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    return tuple(steps)


def parse_reference(expression: str) -> Reference:
    """One expression without its `$` or braces: "request.path.id", "context.authorizer.claims.sub"."""
    shown = f"${expression}"
    head, _, rest = expression.partition(".")
    if head == "request":
        kind, _, name = rest.partition(".")
        if kind == "body":
            return Reference("body_path", steps=_body_steps(name, shown)) if name else Reference("body")
        if kind == "path":
            if not name:
                return Reference("path")
            if not _NAME.match(name):
                raise MappingError(f"{shown}: {name!r} is not a path parameter name")
            return Reference("path_parameter", name)
        if kind in ("querystring", "header"):
            if not name or not (_HEADER_NAME if kind == "header" else _NAME).match(name):
                raise MappingError(f"{shown}: a {kind} mapping names one {kind} ($request.{kind}.<name>)")
            return Reference(kind, name.lower() if kind == "header" else name)
        raise MappingError(
            f"{shown}: a request value is $request.body[.<path>], $request.path[.<name>],"
            " $request.querystring.<name> or $request.header.<name>"
        )
    if head == "context":
        if rest.startswith(_CLAIM_PREFIX) and len(rest) > len(_CLAIM_PREFIX):
            return Reference("context", rest)
        if rest in CONTEXT_VARIABLES:
            return Reference("context", rest)
        raise MappingError(
            f"{shown}: unknown context variable; known: {', '.join(sorted(CONTEXT_VARIABLES))},"
            " authorizer.claims.<claim>"
        )
    if head == "stageVariables":
        if not rest or not _NAME.match(rest):
            raise MappingError(f"{shown}: a stage variable mapping is $stageVariables.<name>")
        return Reference("stage_variable", rest)
    raise MappingError(f"{shown}: a mapping reads $request, $context or $stageVariables")


def parse(value: str) -> list[Part]:
    """A parameter's value as static text and references; MappingError if one is malformed."""
    parts: list[Part] = []
    position = 0
    for m in _EXPRESSION.finditer(value):
        if m.start() > position:
            parts.append(value[position : m.start()])
        parts.append(parse_reference(m.group(1) if m.group(1) is not None else m.group(2)))
        position = m.end()
    if position < len(value):
        parts.append(value[position:])
    return parts


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _body_value(body: bytes, steps: tuple[str | int, ...]) -> str:
    try:
        node: Any = json.loads(body[:BODY_PATH_LIMIT_BYTES] or b"null")
    except (ValueError, RecursionError):
        # Not JSON, cut inside a value, or nested deeper than json.loads recurses: nothing to select.
        return ""
    for step in steps:
        found = (isinstance(step, int) and isinstance(node, list) and step < len(node)) or (
            isinstance(step, str) and isinstance(node, dict) and step in node
        )
        if not found:
            return ""
        node = node[step]
    return _as_text(node)


def value_of(reference: Reference, request: RequestValues) -> str:
    if reference.source == "body":
        return request.body.decode("utf-8", errors="replace")
    if reference.source == "body_path":
        return _body_value(request.body, reference.steps)
    if reference.source == "path":
        return request.path
    if reference.source == "path_parameter":
        return request.path_parameters.get(reference.name, "")
    if reference.source == "querystring":
        return ",".join(request.query.get(reference.name, []))
    if reference.source == "header":
        return ",".join(request.headers.get(reference.name, []))
    if reference.source == "context":
        if reference.name.startswith(_CLAIM_PREFIX):
            return request.claims.get(reference.name.removeprefix(_CLAIM_PREFIX), "")
        return request.context.get(reference.name, "")
    if reference.source == "stage_variable":
        return request.stage_variables.get(reference.name, "")
    raise AssertionError(reference.source)


def evaluate(value: str, request: RequestValues) -> str:
    return "".join(part if isinstance(part, str) else value_of(part, request) for part in parse(value))


def evaluate_all(parameters: Mapping[str, str], request: RequestValues) -> dict[str, str]:
    """Every parameter evaluated; those whose whole value is empty are left out."""
    out = {name: evaluate(value, request) for name, value in parameters.items()}
    return {name: value for name, value in out.items() if value != ""}
