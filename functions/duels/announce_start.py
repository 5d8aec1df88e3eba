"""duel_session's AnnounceStart task (.waitForTaskToken): marks the session active with the task
token a stop will complete, then sends {type: "start"} to both players. The flow then waits for
a stop or for the session's end, whichever comes first.
"""

from __future__ import annotations

import json

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.duels import wiring
from functions.duels.errors import SessionNotFound
from functions.duels.models import AnnounceStartInput, StartFrame, to_wire
from functions.shared import aws, config

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=AnnounceStartInput)
def handler(task: AnnounceStartInput, context: LambdaContext) -> dict:
    logger.append_keys(sessionId=task.session_id)
    sessions = wiring.sessions()
    session = sessions.activate(task.session_id, task.task_token)
    if session is None:
        if sessions.get(task.session_id) is None:
            raise SessionNotFound(f"session {task.session_id} does not exist")
        # Ended already (a retried attempt after a stop): let the flow announce how it ended.
        aws.stepfunctions().send_task_success(taskToken=task.task_token, output=json.dumps({"settled": True}))
        return {"delivered": 0}
    frame = StartFrame(
        sessionId=session["sessionId"],
        inviteId=session["inviteId"],
        players=[session["userA"], session["userB"]],
        startAt=session["startAt"],
        durationSeconds=session["durationSeconds"],
    )
    delivery = wiring.pusher().to_users([session["userA"], session["userB"]], to_wire(frame))
    metrics.add_metric(name="SessionStarted", unit=MetricUnit.Count, value=1)
    return {"delivered": delivery.delivered}
