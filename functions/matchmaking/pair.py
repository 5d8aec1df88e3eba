"""queue_pairing's PairWaitingPlayers: pairs the two longest-waiting players, again and again,
until fewer than two wait (or it has made PAIRS_PER_TASK pairs: the flow then loops back).

Each pair is one transaction (functions/matchmaking/repositories.py TicketsRepository.pair):
both tickets still waiting with the join keys read, the game created. Every join starts an
execution, so concurrent executions race for the same two oldest tickets: the loser raises
PairingConflict and the ASL retries it with backoff and full jitter, reading the queue afresh.
A waiting player none of whose connections is live is a ghost: its ticket leaves the queue
instead of being paired.
"""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.matchmaking import rules, wiring
from functions.matchmaking.errors import PairingConflict
from functions.matchmaking.models import PairedFrame, Pairing, QueuePairingInput, QueuePairingOutput, to_wire
from functions.shared import clock, config

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())

PRESENCE_PLAYING = "playing"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    task = parse(event=event, model=QueuePairingInput)
    logger.append_keys(joiner=task.user_id)
    tickets, connections = wiring.tickets(), wiring.connections()
    games_table, lifetime = wiring.games_table(), wiring.game_ttl_seconds()
    pairs: list[Pairing] = []
    waiting: list[dict[str, Any]] = []
    while True:
        now_ms = clock.now_ms()
        waiting = tickets.waiting(now_ms, limit=2)
        if len(waiting) < 2 or len(pairs) >= wiring.pairs_per_task():
            break
        x, o = rules.markers(waiting[0], waiting[1])
        ghosts = [t for t in (x, o) if not connections.live(t["userId"], now_ms // 1000)]
        if ghosts:
            for ghost in ghosts:
                tickets.remove_waiting(ghost["userId"], ghost["joinKey"], now_ms)
            metrics.add_metric(name="GhostTicketRemoved", unit=MetricUnit.Count, value=len(ghosts))
            continue
        game = rules.new_game(str(uuid.uuid4()), x, o, now_ms, lifetime)
        if not tickets.pair(dict(x), dict(o), game, games_table, now_ms):
            metrics.add_metric(name="PairingConflict", unit=MetricUnit.Count, value=1)
            raise PairingConflict(f"{x['userId']} or {o['userId']} was taken by another pairing")
        pairs.append(Pairing(gameId=game["gameId"], playerX=game["playerX"], playerO=game["playerO"]))
        metrics.add_metric(name="PlayersPaired", unit=MetricUnit.Count, value=2)
        announce(game, now_ms)
    return QueuePairingOutput(pairs=pairs, waiting=len(waiting)).model_dump(by_alias=True)


def announce(game: dict[str, Any], now_ms: int) -> None:
    """paired to both players (every tab), and their presence reads playing this game."""
    frames = {
        game["playerX"]: to_wire(
            PairedFrame(
                gameId=game["gameId"], opponent=game["playerO"], opponentName=game["nameO"], marker="X"
            )
        ),
        game["playerO"]: to_wire(
            PairedFrame(
                gameId=game["gameId"], opponent=game["playerX"], opponentName=game["nameX"], marker="O"
            )
        ),
    }
    wiring.pusher().to_users(frames)
    presence = wiring.presence()
    presence.put(game["playerX"], game["nameX"], PRESENCE_PLAYING, game["gameId"], now_ms)
    presence.put(game["playerO"], game["nameO"], PRESENCE_PLAYING, game["gameId"], now_ms)
