"""The HTTP side every API function shares: the resolver, body and query parsing, error mapping.

Errors leave as {"error": {"code": ..., "message": ..., "details": [...]}}. Domain errors map to
a status by class (walking the class hierarchy), never by message text.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from pydantic import BaseModel, ValidationError

from functions.shared.exceptions import (
    ArcadeflowError,
    BodyTooLarge,
    InvalidBody,
    InvalidQuery,
    InvalidRequest,
    MalformedJson,
    NotFound,
    RuleViolation,
    Unauthenticated,
)

# Every request body is small (ids, a score, a status); 16 KiB is generous and bounds the work
# a single request can cause.
MAX_BODY_BYTES = 16 * 1024

STATUS_BY_ERROR: dict[type[ArcadeflowError], HTTPStatus] = {
    BodyTooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    InvalidRequest: HTTPStatus.BAD_REQUEST,
    Unauthenticated: HTTPStatus.UNAUTHORIZED,
    NotFound: HTTPStatus.NOT_FOUND,
    RuleViolation: HTTPStatus.UNPROCESSABLE_ENTITY,
    ArcadeflowError: HTTPStatus.BAD_REQUEST,
}

Model = TypeVar("Model", bound=BaseModel)


def status_for(error: ArcadeflowError) -> HTTPStatus:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return HTTPStatus.BAD_REQUEST


def error_body(code: str, message: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


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


def _problems(error: ValidationError) -> list[dict[str, str]]:
    out = []
    for problem in error.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in problem["loc"]) or "(body)"
        out.append({"field": field, "problem": problem["msg"]})
    return out


def parse_body(app: APIGatewayHttpResolver, model: type[Model]) -> Model:
    """The request body as `model`: size-checked, valid JSON, exact types, no unknown fields."""
    event = app.current_event
    body = event.decoded_body if event.body is not None else ""
    size = len(body.encode()) if isinstance(body, str) else len(body)
    if size > MAX_BODY_BYTES:
        raise BodyTooLarge(f"request body is {size} bytes; the limit is {MAX_BODY_BYTES}")
    if not body:
        raise MalformedJson("request body is empty; expected a JSON object")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidBody("request body must be a JSON object")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        problems = _problems(exc)
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise InvalidBody(f"request body is invalid: {summary}", problems) from exc


def parse_query(app: APIGatewayHttpResolver, model: type[Model]) -> Model:
    """Query string parameters as `model` (lax types: a query string carries only strings)."""
    params = app.current_event.query_string_parameters or {}
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        problems = _problems(exc)
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise InvalidQuery(f"query string is invalid: {summary}", problems) from exc
