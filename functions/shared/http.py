"""The HTTP side every API function shares: the resolver, body and query parsing, error mapping.

Errors leave as {"error": {"code": ..., "message": ..., "details": [...]}} (ErrorResponse).
A client error's status is its class's `http_status` (functions/shared/exceptions.py), never
read from its text. Successful answers are pydantic response models: a handler returns
`respond(status, model)`, and the model's JSON Schema (schemas/http_*.schema.json) is what the
OpenAPI document says the route answers.
"""

from __future__ import annotations

import binascii
import json
from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.shared.exceptions import (
    ArcadeflowError,
    BodyTooLarge,
    InvalidBody,
    InvalidQuery,
    MalformedJson,
)
from functions.shared.json_limits import MAX_JSON_DEPTH, json_depth_exceeds

# Every request body is small (ids, a score, a status); 16 KiB is generous and bounds the work
# a single request can cause.
MAX_BODY_BYTES = 16 * 1024

Model = TypeVar("Model", bound=BaseModel)


class ErrorProblem(BaseModel):
    field: str
    problem: str


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="stable, machine-readable; clients branch on it")
    message: str = Field(description="for people; may change")
    # Sent only when there is something to say (a body or query that failed validation).
    details: list[ErrorProblem] = Field(
        default_factory=list, exclude_if=lambda value: not value, description="which fields are wrong"
    )


class ErrorResponse(BaseModel):
    """The one error shape of the HTTP API."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


def status_for(error: ArcadeflowError) -> HTTPStatus:
    return HTTPStatus(error.http_status)


def error_body(code: str, message: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    problems = [ErrorProblem.model_validate(d) for d in details or []]
    return ErrorResponse(error=ErrorDetail(code=code, message=message, details=problems)).model_dump()


def respond(status: int, model: BaseModel | None) -> Response:
    """A typed answer on the wire: the model by its aliases (None: no body, e.g. 204)."""
    body = None if model is None else model.model_dump(mode="json", by_alias=True)
    return json_response(status, body)


def json_response(status: int, body: Any) -> Response:
    return Response(status_code=int(status), content_type=content_types.APPLICATION_JSON, body=body)


def create_app(logger: Logger) -> APIGatewayHttpResolver:
    """A resolver whose errors all use the one error shape."""
    app = APIGatewayHttpResolver()

    @app.exception_handler(ArcadeflowError)
    def _domain_error(error: ArcadeflowError) -> Response:
        status = status_for(error)
        logger.info("request refused", extra={"error_code": error.code, "status": int(status)})
        return json_response(status, error_body(error.code, error.message, error.details))

    @app.not_found
    def _no_route(_: NotFoundError) -> Response:
        event = app.current_event
        message = f"no route {event.http_method} {event.path}"
        return json_response(HTTPStatus.NOT_FOUND, error_body("route_not_found", message))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error")
        return json_response(
            HTTPStatus.INTERNAL_SERVER_ERROR, error_body("internal_error", "something went wrong on our side")
        )

    return app


def validation_problems(error: ValidationError) -> list[dict[str, str]]:
    """A pydantic refusal as the error body's `details`: one {field, problem} per error."""
    out = []
    for problem in error.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in problem["loc"]) or "(body)"
        out.append({"field": field, "problem": problem["msg"]})
    return out


def parse_body(app: APIGatewayHttpResolver, model: type[Model]) -> Model:
    """The request body as `model`: size-checked, depth-checked, valid JSON, exact types, no
    unknown fields."""
    body = request_text(app)
    size = len(body.encode())
    if size > MAX_BODY_BYTES:
        raise BodyTooLarge(f"request body is {size} bytes; the limit is {MAX_BODY_BYTES}")
    if not body:
        raise MalformedJson("request body is empty; expected a JSON object")
    refuse_deep_body(body)
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidBody("request body must be a JSON object")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        problems = validation_problems(exc)
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise InvalidBody(f"request body is invalid: {summary}", problems) from exc


def request_text(app: APIGatewayHttpResolver) -> str:
    """The request body as text ("" when there is none); MalformedJson when it is not UTF-8
    (API Gateway passes such a body base64-encoded, and JSON is UTF-8)."""
    event = app.current_event
    if event.body is None:
        return ""
    try:
        return event.decoded_body or ""
    except (UnicodeDecodeError, binascii.Error) as exc:
        raise MalformedJson("request body is not UTF-8 text; expected a JSON object") from exc


def refuse_deep_body(body: str | bytes) -> None:
    """InvalidBody (400) for a body nested deeper than MAX_JSON_DEPTH, before any parser recurses
    into it: it is well-formed JSON no request of ours can be, so invalid_body, not malformed_json."""
    if json_depth_exceeds(body, MAX_JSON_DEPTH):
        raise InvalidBody(f"request body is nested deeper than {MAX_JSON_DEPTH} levels")


def parse_query(app: APIGatewayHttpResolver, model: type[Model]) -> Model:
    """Query string parameters as `model` (lax types: a query string carries only strings)."""
    params = app.current_event.query_string_parameters or {}
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        problems = validation_problems(exc)
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise InvalidQuery(f"query string is invalid: {summary}", problems) from exc
