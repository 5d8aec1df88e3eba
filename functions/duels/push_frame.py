"""The flows' notification task: one server frame to every live connection of each recipient
(rejected, no_response, timeout, stop). Idempotent on the flow's dedupeKey (execution + state),
so a retried attempt after a success does not send the frame twice.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.duels import wiring
from functions.duels.models import PushInput, to_wire
from functions.shared import config
from functions.shared.idempotency import idempotent_on_dedupe_key

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@idempotent_on_dedupe_key
def handler(event: dict, context: LambdaContext) -> dict:
    task = parse(event=event, model=PushInput)
    delivery = wiring.pusher().to_users(task.recipients, to_wire(task.frame))
    metrics.add_metric(name=f"Sent_{task.frame.type}", unit=MetricUnit.Count, value=delivery.delivered)
    return {"delivered": delivery.delivered, "gone": delivery.gone}
