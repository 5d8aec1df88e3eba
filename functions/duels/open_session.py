"""duel_session's OpenSession task: records the session (status pending) with its startAt, a
short lead ahead so both clients start their timers together, and tells the flow how long to
wait for a stop before ending it on time. A retried or replayed attempt finds the session it
created and keeps its times.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.duels import domain, wiring
from functions.duels.models import OpenSessionInput
from functions.shared import clock

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=OpenSessionInput)
def handler(task: OpenSessionInput, context: LambdaContext) -> dict:
    logger.append_keys(sessionId=task.session_id)
    now_ms = clock.now_ms()
    session = wiring.sessions().open(
        domain.new_session(
            task.session_id,
            task.invite_id,
            task.user_a,
            task.user_b,
            now_ms,
            task.lead_seconds,
            task.duration_seconds,
        )
    )
    return {
        "sessionId": session["sessionId"],
        "startAt": session["startAt"],
        "endsAt": session["endsAt"],
        "durationSeconds": session["durationSeconds"],
        "waitSeconds": domain.seconds_until_end(session, clock.now_ms()),
    }
