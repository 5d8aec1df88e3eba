"""GET /users/{id} (profile, presence, counts, best and recent games), PUT /users/me."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import clock, config
from functions.shared.exceptions import UserNotFound
from functions.shared.http import create_app, parse_body, respond
from functions.shared.models import USER_ID
from functions.social import domain, wiring
from functions.social.models import ProfileUpdate
from functions.social.responses import Profile, UserProfile

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())
app = create_app(logger)

ME = "me"


@app.put("/users/me")
@tracer.capture_method
def update_profile():
    caller = wiring.register_caller(app)
    update = parse_body(app, ProfileUpdate)
    avatar = str(update.avatar) if update.avatar is not None else None
    user = wiring.users().update_profile(caller["userId"], update.screen_name, avatar)
    logger.info("profile updated")
    return respond(HTTPStatus.OK, _profile(user))


@app.get("/users/<user_id>")
@tracer.capture_method
def get_user(user_id: str):
    caller = wiring.register_caller(app)
    user: dict[str, Any] | None
    if user_id == ME:
        user = caller
    else:
        user_id = wiring.path_value(USER_ID, user_id, "userId")
        user = caller if user_id == caller["userId"] else wiring.users().get(user_id)
    if user is None:
        raise UserNotFound(f"user {user_id!r} does not exist")
    stats = wiring.game_stats()
    presence = domain.presence_view(
        wiring.presence().get(user["userId"]), clock.epoch_seconds(clock.now()), user.get("lastSeenAt")
    )
    view = domain.profile_view(
        user,
        presence,
        stats.of_user(user["userId"], domain.BEST_SCORES_SHOWN),
        stats.recent_of_user(user["userId"], domain.RECENT_GAMES_SHOWN),
    )
    return respond(HTTPStatus.OK, UserProfile.model_validate(view))


def _profile(user: dict) -> Profile:
    return Profile(user_id=user["userId"], screen_name=user.get("screenName"), avatar=user.get("avatar"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
