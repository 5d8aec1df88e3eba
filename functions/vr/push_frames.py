"""PushRewardFrames: tells the player's every tab what the end granted, rewardGranted per reward
then vrSessionEnded. Idempotent on the execution and state (dedupeKey), so a retried attempt
after a success sends nothing twice; a player with no live connection simply is not told."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import config
from functions.shared.idempotency import idempotent_on_dedupe_key
from functions.vr import wiring
from functions.vr.catalog import catalog
from functions.vr.models import PushFramesTask, RewardGrantedFrame, VrSessionEndedFrame, to_wire

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@idempotent_on_dedupe_key
def handler(event: dict, context: LambdaContext) -> dict:
    task = parse(event=event, model=PushFramesTask)
    rewards = catalog()
    pusher = wiring.pusher()
    delivered = 0
    for reward_id in task.rewards:
        reward = rewards.get(reward_id)
        frame = RewardGrantedFrame(
            rewardId=reward_id, sessionId=task.session_id, title=reward.title if reward else reward_id
        )
        delivered += pusher.to_users([task.player_id], to_wire(frame)).delivered
    ended = VrSessionEndedFrame(sessionId=task.session_id, rewards=task.rewards)
    delivered += pusher.to_users([task.player_id], to_wire(ended)).delivered
    metrics.add_metric(name="VrFramesDelivered", unit=MetricUnit.Count, value=delivered)
    return {"delivered": delivered}
