"""duel_invite's NotifyInvitee task (.waitForTaskToken): keeps the task token on the invite, then
sends {type: "invite"} to every connection of the invitee. The flow then waits for the answer
(respond calls SendTaskSuccess with this token) or for the answer window to pass.
"""

from __future__ import annotations

import json

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.duels import wiring
from functions.duels.errors import InviteNotFound
from functions.duels.models import InviteFrame, NotifyInviteeInput, to_wire
from functions.shared import aws, config

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=NotifyInviteeInput)
def handler(task: NotifyInviteeInput, context: LambdaContext) -> dict:
    logger.append_keys(inviteId=task.invite_id)
    invites = wiring.invites()
    invite = invites.store_token(task.invite_id, task.task_token)
    if invite is None:
        if invites.get(task.invite_id) is None:
            raise InviteNotFound(f"invite {task.invite_id} does not exist")
        # Settled already (a retried attempt after the answer came in): nothing to wait for.
        aws.stepfunctions().send_task_success(taskToken=task.task_token, output=json.dumps({"settled": True}))
        return {"delivered": 0}
    frame = InviteFrame(
        inviteId=invite["inviteId"], **{"from": invite["fromUserId"]}, expiresAt=invite["expiresAt"]
    )
    delivery = wiring.pusher().to_users([invite["toUserId"]], to_wire(frame))
    metrics.add_metric(name="InviteDelivered", unit=MetricUnit.Count, value=delivery.delivered)
    # Undelivered (the invitee's last tab closed meanwhile) is not an error: a tab that
    # reconnects in time can still answer, and otherwise the window passes.
    return {"delivered": delivery.delivered}
