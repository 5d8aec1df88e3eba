"""ReleaseSessionEnd: after a task of the end failed for good, the session stays "ending" with
no owner, so the end can be run again (a replay, or a new end) and finish it; the execution then
fails with SessionEndFailed. Nothing granted is undone: the grant is idempotent per session."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import config
from functions.vr import wiring
from functions.vr.models import RecordEndTask

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=RecordEndTask)
def handler(task: RecordEndTask, context: LambdaContext) -> dict:
    released = wiring.sessions().release_end(task.player_id, task.session_id, task.execution_id)
    logger.warning(
        "vr session end released after a failure", extra={"session_id": task.session_id, "released": released}
    )
    return {"released": released}
