"""The VR HTTP routes served by a Lambda: POST /vr/sessions, POST|GET /vr/sessions/{id}/events,
GET /vr/sessions/{id}, GET /vr/players/{id}/sessions and GET /vr/sessions/{id}/end (the status
of the end, whose POST is API Gateway's StartExecution integration with no Lambda in between).

A batch of events is written in three steps so that events accepted are always counted by the
end and a refused batch writes nothing (README, "VR sessions"): a reservation on the open session
(one conditional update, which also moves the session's ttl), one transaction of the events (at
most 100 puts: DynamoDB's limit, which is why the session check cannot join it), and the release.
The end's first state records "ending" only while no reservation is held.
"""

from __future__ import annotations

import json
import uuid
from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError

from functions.shared import aws, clock, config
from functions.shared.dynamo import error_code
from functions.shared.exceptions import InvalidQuery, InvalidRequest, MalformedJson
from functions.shared.http import (
    create_app,
    refuse_deep_body,
    request_text,
    respond,
    validation_problems,
)
from functions.shared.identity import caller_from_event
from functions.shared.models import USER_ID
from functions.shared.pagination import decode_cursor, encode_cursor
from functions.vr import rules, wiring
from functions.vr.errors import (
    EndNotStarted,
    Forbidden,
    PayloadTooLarge,
    SessionAlreadyEnded,
    SessionNotFound,
)
from functions.vr.models import (
    MAX_EVENTS_BODY_BYTES,
    EventBatch,
    EventPage,
    EventsAccepted,
    EventView,
    PlayerPageQuery,
    SessionEndStatus,
    SessionPage,
    SessionStarted,
    SessionView,
    StartSessionRequest,
)

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())
app = create_app(logger)

Model = TypeVar("Model", bound=BaseModel)
SESSION_ID_CHARS = frozenset("0123456789abcdef")
_serializer = TypeSerializer()


def _caller() -> str:
    return caller_from_event(app.current_event.raw_event).user_id


def _session_id(value: str) -> str:
    """A path's session id; one that cannot be a session's is simply not found (never say why)."""
    if len(value) != 32 or not set(value) <= SESSION_ID_CHARS:
        raise SessionNotFound(f"no session {value[:64]!r} of yours")
    return value


def _body(model: type[Model], max_bytes: int, optional: bool = False) -> Model:
    """The body as `model`: bounded, JSON, an object of exactly the model's fields."""
    text = request_text(app)
    size = len(text.encode())
    if size > max_bytes:
        raise PayloadTooLarge(f"request body is {size} bytes; the limit is {max_bytes}")
    if not text.strip():
        if optional:
            text = "{}"
        else:
            raise MalformedJson("request body is empty; expected a JSON object")
    refuse_deep_body(text)
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidRequest("request body must be a JSON object")
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        problems = validation_problems(exc)
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:10])
        raise InvalidRequest(f"request body is invalid: {summary}", problems) from exc


def _page_query() -> PlayerPageQuery:
    try:
        return PlayerPageQuery.model_validate(app.current_event.query_string_parameters or {})
    except ValidationError as exc:
        problems = validation_problems(exc)
        raise InvalidQuery(
            "query string is invalid: " + "; ".join(p["field"] for p in problems), problems
        ) from exc


def _view(item: dict[str, Any]) -> SessionView:
    return SessionView(
        session_id=item["sessionId"],
        player_id=item["playerId"],
        status=rules.session_status(item),  # type: ignore[arg-type]
        started_at=item["startedAt"],
        end_time=item.get("endTime"),
        event_count=int(item.get("eventCount", 0)),
        rewards=list(item.get("rewards") or []),
    )


def _own_live_session(session_id: str) -> dict[str, Any]:
    item = wiring.sessions().live(_caller(), _session_id(session_id), clock.epoch_seconds(clock.now()))
    if item is None:
        raise SessionNotFound(f"no session {session_id} of yours")
    return item


@app.post("/vr/sessions")
@tracer.capture_method
def start_session():
    player_id = _caller()
    _body(StartSessionRequest, 1024, optional=True)
    now = clock.now()
    started_at = clock.iso_ms(int(now.timestamp() * 1000))
    session_id = uuid.uuid4().hex
    expires = rules.expires_at(clock.epoch_seconds(now), wiring.retention_seconds())
    wiring.sessions().start(player_id, session_id, started_at, int(now.timestamp() * 1000), expires)
    metrics.add_metric(name="VrSessionStarted", unit=MetricUnit.Count, value=1)
    logger.info("vr session started", extra={"session_id": session_id})
    return respond(
        HTTPStatus.CREATED,
        SessionStarted(session_id=session_id, player_id=player_id, started_at=started_at, status="open"),
    )


@app.post("/vr/sessions/<session_id>/events")
@tracer.capture_method
def append_events(session_id: str):
    player_id = _caller()
    session_id = _session_id(session_id)
    batch = _body(EventBatch, MAX_EVENTS_BODY_BYTES)
    now_ms = clock.now_ms()
    received_at = clock.iso_ms(now_ms)
    expires = rules.expires_at(now_ms // 1000, wiring.retention_seconds())
    items, problems = [], []
    for index, event in enumerate(batch.events):
        try:
            sort_key = rules.event_sort_key(event.timestamp, batch.batch_id, index)
        except ValueError as exc:
            problems.append(
                {"field": f"events.{index}.timestamp", "problem": f"not ISO 8601 with a zone: {exc}"}
            )
            continue
        try:
            item = rules.event_item(
                session_id,
                player_id,
                event.event_type,
                event.timestamp,
                event.data,
                sort_key,
                received_at,
                expires,
                batch.batch_id,
            )
            _serializer.serialize(item["data"])
        except (ValueError, TypeError, ArithmeticError) as exc:
            problems.append({"field": f"events.{index}.data", "problem": f"cannot be stored: {exc}"})
            continue
        items.append(item)
    if problems:
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:10])
        raise InvalidRequest(f"request body is invalid: {summary}", problems)
    if len({item["timestamp"] for item in items}) != len(items):
        raise InvalidRequest("two events of the batch have the same key")  # only a hash collision
    if _end_started(player_id, session_id):
        raise SessionAlreadyEnded(f"session {session_id}'s end was started: it takes no more events")
    sessions = wiring.sessions()
    batch_key = batch.batch_id or uuid.uuid4().hex
    sessions.reserve_batch(
        player_id, session_id, batch_key, now_ms, wiring.BATCH_LEASE_SECONDS * 1000, expires
    )
    try:
        stored = wiring.events().store_batch(items, replayable=batch.batch_id is not None)
    except Exception:
        # Released on a failure too (nothing was written), so the end need not wait out the lease.
        sessions.release_batch(player_id, session_id, batch_key, 0)
        raise
    # A batch stored before (a retry of the same batchId) is not counted twice.
    sessions.release_batch(player_id, session_id, batch_key, len(items) if stored else 0)
    metrics.add_metric(name="VrEventsAccepted", unit=MetricUnit.Count, value=len(items) if stored else 0)
    return respond(HTTPStatus.OK, EventsAccepted(session_id=session_id, accepted=len(items)))


@app.get("/vr/sessions/<session_id>/events")
@tracer.capture_method
def list_events(session_id: str):
    item = _own_live_session(session_id)
    query = _page_query()
    start = (
        decode_cursor(query.cursor, {"sessionId": str, "timestamp": str}, {"sessionId": item["sessionId"]})
        if query.cursor
        else None
    )
    events, last = wiring.events().page(
        item["sessionId"], clock.epoch_seconds(clock.now()), query.limit, start
    )
    views = [
        EventView(
            event_type=e["eventType"],
            timestamp=e.get("eventTime") or rules.timestamp_of(e["timestamp"]),
            data=e.get("data") or {},
        )
        for e in events
    ]
    cursor = encode_cursor({"sessionId": last["sessionId"], "timestamp": last["timestamp"]}) if last else None
    return respond(HTTPStatus.OK, EventPage(items=views, next_cursor=cursor))


def _end_execution_arn(player_id: str, session_id: str) -> str:
    # The name the end route's StartExecution mapping gives: "<sessionId>_<caller's sub>".
    machine = wiring.session_end_state_machine()
    return machine.replace(":stateMachine:", ":execution:", 1) + f":{session_id}_{player_id}"


def _end_started(player_id: str, session_id: str) -> bool:
    """Whether the caller's end of this session has started. API Gateway answers the end route
    as soon as the execution exists, before its first state records the end: without this, a
    batch sent after that answer could still find the session open. An end its first state
    refused as SessionNotFound (someone else's session) ended nothing: the session decides."""
    try:
        described = aws.stepfunctions().describe_execution(
            executionArn=_end_execution_arn(player_id, session_id)
        )
    except ClientError as error:
        if error_code(error) in ("ExecutionDoesNotExist", "InvalidArn", "InvalidName"):
            return False
        raise
    return not (described["status"] == "FAILED" and described.get("error") == "SessionNotFound")


@app.get("/vr/sessions/<session_id>/end")
@tracer.capture_method
def end_status(session_id: str):
    player_id = _caller()
    session_id = _session_id(session_id)
    try:
        described = aws.stepfunctions().describe_execution(
            executionArn=_end_execution_arn(player_id, session_id)
        )
    except ClientError as error:
        if error_code(error) in ("ExecutionDoesNotExist", "InvalidArn", "InvalidName"):
            raise EndNotStarted(f"no end was started for session {session_id}") from error
        raise
    status = described["status"]
    failed_with, cause = described.get("error"), described.get("cause") or ""
    if status == "FAILED" and failed_with == "SessionNotFound":
        raise SessionNotFound(cause or f"no session {session_id} of yours")
    if status == "FAILED" and failed_with == "SessionAlreadyEnded":
        raise SessionAlreadyEnded(cause or f"session {session_id} has already ended")
    rewards = None
    if status == "SUCCEEDED" and described.get("output"):
        rewards = list(json.loads(described["output"]).get("rewards", []))
    failure = None
    if status != "SUCCEEDED" and failed_with:
        failure = {"code": failed_with, "message": cause or failed_with}
    stop = described.get("stopDate")
    return respond(
        HTTPStatus.OK,
        SessionEndStatus.model_validate(
            {
                "sessionId": session_id,
                "executionArn": described["executionArn"],
                "status": status,
                "startDate": clock.iso(described["startDate"]),
                "stopDate": clock.iso(stop) if stop else None,
                "rewards": rewards,
                "error": failure,
            }
        ),
    )


@app.get("/vr/sessions/<session_id>")
@tracer.capture_method
def get_session(session_id: str):
    return respond(HTTPStatus.OK, _view(_own_live_session(session_id)))


@app.get("/vr/players/<player_id>/sessions")
@tracer.capture_method
def list_sessions(player_id: str):
    caller = _caller()
    if player_id != "me":
        try:
            player_id = USER_ID.validate_python(player_id)
        except ValidationError as exc:
            raise InvalidRequest(f"playerId {player_id[:140]!r} is not a valid player id") from exc
        if player_id != caller:
            raise Forbidden("a player's sessions are theirs alone")
    query = _page_query()
    shape = {"playerId": str, "sessionId": str, "startedAt": str}
    start = decode_cursor(query.cursor, shape, {"playerId": caller}) if query.cursor else None
    items, last = wiring.sessions().page(caller, clock.epoch_seconds(clock.now()), query.limit, start)
    cursor = encode_cursor({k: last[k] for k in shape}) if last else None
    return respond(HTTPStatus.OK, SessionPage(items=[_view(i) for i in items], next_cursor=cursor))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
