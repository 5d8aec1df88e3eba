"""Every message route of the WebSocket API: invite, respond, stop, sessions, ping and $default.

The frame is validated (size, JSON, the `action` union) before anything else; a refused frame
gets an error frame {type: "error", code, message} on the connection that sent it and changes
nothing. Races (an answer against the invite's expiry, a stop against the session's end) are
settled by conditional writes in the repositories; the flows announce whatever was recorded.
"""

from __future__ import annotations

import json
import uuid

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import ValidationError

from functions.duels import domain, wiring
from functions.duels.errors import InviteClosed, SessionEnded
from functions.duels.events import MessageEvent
from functions.duels.models import (
    DuelInviteInput,
    InviteAction,
    InviteSentFrame,
    ListSessionsAction,
    PingAction,
    PongFrame,
    RespondAction,
    SessionsFrame,
    SessionSummary,
    StopAction,
    to_wire,
)
from functions.shared import aws, clock, config
from functions.shared.dynamo import error_code
from functions.shared.exceptions import ArcadeflowError, Unauthenticated

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())

# The flow has moved on (timed out, or finished): its own conditional write already settled it.
_FLOW_NO_LONGER_WAITING = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    connection_id = str((event.get("requestContext") or {}).get("connectionId") or "")
    try:
        try:
            message = parse(event=event, model=MessageEvent)
        except ValidationError as exc:
            raise Unauthenticated("this connection has no verified user") from exc
        user_id = message.request_context.authorizer.user_id
        screen_name = message.request_context.authorizer.screen_name or user_id
        logger.append_keys(userId=user_id, connectionId=connection_id)
        frame = domain.parse_frame(message.body, message.is_base64_encoded)
        if isinstance(frame, InviteAction):
            invite(user_id, screen_name, frame)
        elif isinstance(frame, RespondAction):
            respond(user_id, frame)
        elif isinstance(frame, StopAction):
            stop(user_id, frame)
        elif isinstance(frame, ListSessionsAction):
            list_sessions(user_id, connection_id)
        elif isinstance(frame, PingAction):
            wiring.pusher().post(connection_id, to_wire(PongFrame(id=frame.id)))
    except ArcadeflowError as error:
        logger.info("frame refused", extra={"code": error.code, "reason": error.message})
        metrics.add_metric(name="FrameRefused", unit=MetricUnit.Count, value=1)
        wiring.pusher().error_to(connection_id, error)
    return {"statusCode": 200}


@tracer.capture_method
def invite(user_id: str, screen_name: str, frame: InviteAction) -> None:
    now_ms = clock.now_ms()
    domain.ensure_can_invite(user_id, frame.to, len(wiring.connections().live(frame.to, now_ms // 1000)))
    invites = wiring.invites_with_guards()
    previous = invites.holder_of_pair(user_id, frame.to)
    domain.ensure_no_pending_invite(previous, now_ms, frame.to)
    record = domain.new_invite(
        str(uuid.uuid4()),
        user_id,
        screen_name,
        frame.to,
        now_ms,
        wiring.invite_timeout_seconds(),
        wiring.session_duration_seconds(),
    )
    invites.create(record, previous["inviteId"] if previous else None)
    flow_input = DuelInviteInput(
        inviteId=record["inviteId"],
        fromUserId=user_id,
        toUserId=frame.to,
        answerWindowSeconds=record["answerWindowSeconds"],
        sessionDurationSeconds=record["sessionDurationSeconds"],
        sessionLeadSeconds=wiring.session_lead_seconds(),
    )
    try:
        # Named after the invite: a repeated start cannot make a second flow for it.
        aws.stepfunctions().start_execution(
            stateMachineArn=wiring.duel_invite_state_machine(),
            name=record["inviteId"],
            input=flow_input.model_dump_json(by_alias=True),
        )
    except ClientError:
        invites.mark_failed(record)
        raise
    metrics.add_metric(name="InviteSent", unit=MetricUnit.Count, value=1)
    sent = InviteSentFrame(inviteId=record["inviteId"], to=frame.to, expiresAt=record["expiresAt"])
    wiring.pusher().to_users([user_id], to_wire(sent))


@tracer.capture_method
def respond(user_id: str, frame: RespondAction) -> None:
    invites = wiring.invites()
    now_ms = clock.now_ms()
    record = domain.ensure_can_answer(invites.get(frame.invite_id), user_id, now_ms)
    session_id = str(uuid.uuid4()) if frame.accept else None
    if not invites.decide(frame.invite_id, user_id, frame.accept, session_id, now_ms):
        # Lost to the expiry (or to another tab's answer): say why, from what was recorded.
        domain.ensure_can_answer(invites.get(frame.invite_id), user_id, clock.now_ms())
        raise InviteClosed("this invite is already answered")
    metrics.add_metric(
        name="InviteAccepted" if frame.accept else "InviteRejected", unit=MetricUnit.Count, value=1
    )
    _resume_flow(record["taskToken"], {"accepted": frame.accept})


@tracer.capture_method
def stop(user_id: str, frame: StopAction) -> None:
    sessions = wiring.sessions()
    now_ms = clock.now_ms()
    record = domain.ensure_can_stop(sessions.get(frame.session_id), user_id, now_ms)
    if not sessions.stop(frame.session_id, user_id, now_ms):
        domain.ensure_can_stop(sessions.get(frame.session_id), user_id, clock.now_ms())
        raise SessionEnded("this session has already ended")
    metrics.add_metric(name="SessionStopped", unit=MetricUnit.Count, value=1)
    _resume_flow(record["taskToken"], {"endReason": domain.END_BY_STOP})


@tracer.capture_method
def list_sessions(user_id: str, connection_id: str) -> None:
    running = wiring.sessions().active_of(user_id, clock.now_ms())
    frame = SessionsFrame(
        sessions=[
            SessionSummary(
                sessionId=s["sessionId"],
                opponent=domain.opponent_of(s, user_id),
                startAt=s["startAt"],
                durationSeconds=s["durationSeconds"],
                endsAt=s["endsAt"],
            )
            for s in running
        ]
    )
    wiring.pusher().post(connection_id, to_wire(frame))


def _resume_flow(task_token: str, output: dict) -> None:
    """Ends the flow's wait. If the flow has already timed out, its conditional write lost to
    ours and it announces what we recorded, so there is nothing more to do here."""
    try:
        aws.stepfunctions().send_task_success(taskToken=task_token, output=json.dumps(output))
    except ClientError as error:
        code = error_code(error)
        if code not in _FLOW_NO_LONGER_WAITING:
            raise
        logger.info("flow no longer waiting", extra={"code": code})
