"""POST /scores, GET /games/{gameId}/leaderboard."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import clock, config
from functions.shared.http import create_app, parse_body, parse_query, respond
from functions.social import domain, wiring
from functions.social.models import GAME_ID, LeaderboardQuery, ScoreSubmission
from functions.social.responses import Leaderboard, ScoreRecorded

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())
app = create_app(logger)


@app.post("/scores")
@tracer.capture_method
def post_score():
    player = wiring.register_caller(app)
    submission = parse_body(app, ScoreSubmission)
    played_at = clock.iso(clock.now())
    # A retried POST writes the same best and last again: best is a maximum, last the same score.
    stats, new_best = wiring.game_stats().record_score(
        player,
        submission.game_id,
        submission.score,
        played_at,
        domain.recent_key(played_at, submission.game_id),
    )
    metrics.add_metric(name="ScoreRecorded", unit=MetricUnit.Count, value=1)
    if new_best:
        metrics.add_metric(name="BestScoreRaised", unit=MetricUnit.Count, value=1)
    logger.info("score recorded", extra={"game_id": submission.game_id, "new_best": new_best})
    return respond(
        HTTPStatus.OK, ScoreRecorded.model_validate({**domain.game_stats_entry(stats), "newBest": new_best})
    )


@app.get("/games/<game_id>/leaderboard")
@tracer.capture_method
def get_leaderboard(game_id: str):
    wiring.register_caller(app)
    game_id = wiring.path_value(GAME_ID, game_id, "gameId")
    query = parse_query(app, LeaderboardQuery)
    rows = wiring.game_stats().top_scores(game_id, query.limit)
    return respond(
        HTTPStatus.OK, Leaderboard.model_validate({"gameId": game_id, "entries": domain.leaderboard(rows)})
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
