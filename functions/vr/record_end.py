"""RecordSessionEnd, vr_session_end's first state: validates the end and records it.

On the caller's open session with no batch of events being written, one conditional update sets
status "ending", endTime, ttl = end + retention and the execution that owns the end. A retried
task (same execution) finds its own record. Otherwise it fails fast, for the ASL to turn into a
Fail the client reads through GET /vr/sessions/{id}/end: SessionNotFound (unknown, expired or
someone else's: the key is the caller's own playerId, so another player's session is simply not
there) or SessionAlreadyEnded; SessionBusy while a batch is in flight (the ASL retries it).
"""

from __future__ import annotations

import re

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import clock, config
from functions.shared.models import USER_ID
from functions.vr import rules, wiring
from functions.vr.errors import SessionNotFound
from functions.vr.models import RecordEndTask

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())

SESSION_ID = re.compile(r"^[0-9a-f]{32}$")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=RecordEndTask)
def handler(task: RecordEndTask, context: LambdaContext) -> dict:
    if not SESSION_ID.match(task.session_id) or not _is_user_id(task.player_id):
        raise SessionNotFound(f"no session {task.session_id[:64]!r} of player {task.player_id[:140]!r}")
    now_ms = clock.now_ms()
    recorded = wiring.sessions().record_end(
        task.player_id,
        task.session_id,
        task.execution_id,
        now_ms,
        clock.iso_ms(now_ms),
        rules.expires_at(now_ms // 1000, wiring.retention_seconds()),
        wiring.END_TAKEOVER_SECONDS * 1000,
    )
    logger.info(
        "vr session end recorded", extra={"session_id": task.session_id, "end_time": recorded.end_time}
    )
    return {"endTime": recorded.end_time, "expiresAt": recorded.expires_at}


def _is_user_id(value: str) -> bool:
    try:
        USER_ID.validate_python(value)
    except ValueError:
        return False
    return True
