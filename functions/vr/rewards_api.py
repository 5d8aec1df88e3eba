"""GET /vr/players/{playerId}/rewards: a player's rewards, kept forever; public to any signed-in
player, like scores."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from functions.shared import config
from functions.shared.exceptions import InvalidRequest
from functions.shared.http import create_app, respond
from functions.shared.identity import caller_from_event
from functions.shared.models import USER_ID
from functions.vr import wiring
from functions.vr.catalog import catalog
from functions.vr.models import PlayerRewards, RewardEntry

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())
app = create_app(logger)


@app.get("/vr/players/<player_id>/rewards")
@tracer.capture_method
def player_rewards(player_id: str):
    if player_id == "me":
        player_id = caller_from_event(app.current_event.raw_event).user_id
    try:
        player_id = USER_ID.validate_python(player_id)
    except ValidationError as exc:
        raise InvalidRequest(f"playerId {player_id[:140]!r} is not a valid player id") from exc
    rewards = catalog()
    items = sorted(wiring.rewards().of_player(player_id), key=lambda i: (i["grantedAt"], i["rewardId"]))
    entries = []
    for item in items:
        reward = rewards.get(item["rewardId"])
        entries.append(
            RewardEntry(
                reward_id=item["rewardId"],
                # A reward since removed from the catalog stays granted; its id is its title then.
                title=reward.title if reward else item["rewardId"],
                granted_at=item["grantedAt"],
                session_id=item["sessionId"],
            )
        )
    return respond(HTTPStatus.OK, PlayerRewards(player_id=player_id, items=entries))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
