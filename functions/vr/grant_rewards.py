"""GrantSessionRewards: adds the session's counts to the player's progress once (a transaction
conditional on the session's progressCounted flag), evaluates the catalog, grants each earned
reward with a conditional put (attribute_not_exists(rewardId)) so a reward is granted once ever,
and records the rewards this session granted and status "ended" on the session. A reward a
previous attempt of this session granted counts as this session's, so a retried task, a redrive
or a run after a failure records and announces it all the same."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import clock, config
from functions.vr import rules, wiring
from functions.vr.catalog import catalog
from functions.vr.models import GrantRewardsTask

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=GrantRewardsTask)
def handler(task: GrantRewardsTask, context: LambdaContext) -> dict:
    progress = wiring.progress()
    counted_now = progress.count_session_once(
        task.player_id, task.session_id, task.execution_id, task.counts, task.event_count
    )
    earned = rules.earned_rewards(catalog(), task.counts, progress.of_player(task.player_id))
    rewards = wiring.rewards()
    held = {item["rewardId"]: item["sessionId"] for item in rewards.of_player(task.player_id)}
    granted_at = clock.iso_ms(clock.now_ms())
    granted = []
    for reward_id in rules.rewards_to_grant(earned, held, task.session_id):
        # The put decides: another session of the player may have granted it since the read.
        if rewards.grant(task.player_id, reward_id, task.session_id, granted_at) == task.session_id:
            granted.append(reward_id)
    recorded = wiring.sessions().finish(task.player_id, task.session_id, task.execution_id, granted)
    metrics.add_metric(name="VrRewardsGranted", unit=MetricUnit.Count, value=len(recorded))
    logger.info(
        "vr session ended",
        extra={"session_id": task.session_id, "rewards": recorded, "progress_counted_now": counted_now},
    )
    return {"rewards": recorded}
