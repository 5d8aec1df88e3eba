"""The connections table's stream (REMOVE of a player's last connection) -> the player leaves.

A waiting ticket leaves the queue; a game in play is recorded abandoned (if no last move ended
it first: one conditional transaction), both tickets are freed and the opponent gets
opponentLeft. A player who still has another tab connected stays. The duels' ws_connections
writes the table on $connect/$disconnect; a 410 from @connections and TTL remove records too,
and every one of those REMOVEs comes through here.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.matchmaking import rules, wiring
from functions.matchmaking.models import OpponentLeftFrame, to_wire
from functions.matchmaking.repositories import PRESENCE_HOME
from functions.shared import clock, config
from functions.shared.dynamo import stream_images

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    departed: list[str] = []
    for record in event.get("Records") or []:
        if record.get("eventName") != "REMOVE":
            continue
        old, _ = stream_images(record)
        user = (old or {}).get("userId") or ((record.get("dynamodb") or {}).get("Keys") or {}).get(
            "userId", {}
        ).get("S")
        if user:
            departed.append(str(user))
    connections = wiring.connections()
    for user in dict.fromkeys(departed):
        if connections.live(user, clock.now_ms() // 1000):
            continue  # another tab is still connected
        leave(user)
    return {"batchItemFailures": []}


def leave(user_id: str) -> None:
    tickets, now_ms = wiring.tickets(), clock.now_ms()
    ticket = tickets.get(user_id, now_ms)
    if ticket is None:
        return
    if ticket["status"] == rules.WAITING:
        if tickets.remove_waiting(user_id, ticket["joinKey"], now_ms):
            metrics.add_metric(name="DisconnectedFromQueue", unit=MetricUnit.Count, value=1)
            logger.info("left the queue on disconnect", extra={"userId": user_id})
        return
    games = wiring.games()
    game = games.get(str(ticket.get("gameId")), now_ms)
    if game is None or game["status"] != rules.ACTIVE:
        return
    if not games.abandon(game, user_id, now_ms):
        return  # a last move ended the game first: gameOver was sent
    opponent = rules.opponent_of(game, user_id)
    name = game["nameO"] if opponent == game["playerO"] else game["nameX"]
    wiring.presence().put(opponent, name, PRESENCE_HOME, None, clock.now_ms())
    wiring.pusher().to_users([opponent], to_wire(OpponentLeftFrame(gameId=game["gameId"])))
    metrics.add_metric(name="GameAbandoned", unit=MetricUnit.Count, value=1)
    logger.info("game abandoned", extra={"userId": user_id, "gameId": game["gameId"]})
