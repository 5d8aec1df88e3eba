"""queue_pairing's PairWaitingPlayers: pairs the two longest-waiting players, again and again,
until fewer than two wait (or it has made PAIRS_PER_TASK pairs: the flow then loops back).

Every join starts an execution, so many run at once. One at a time holds the pairing lease (one
conditional put, renewed before each pair, expiring after LEASE_SECONDS if its holder dies) and
pairs; one that finds it held ends, since the holder looks at the queue again after releasing
it. Without the lease, every execution raced for the same two oldest tickets: 100 concurrent
joins cost 228 lost transactions for 50 pairs, each followed by a backoff.

Each pair is still one transaction (functions/matchmaking/repositories.py TicketsRepository.pair):
both tickets still waiting with the join keys read, the game created: a leave, a disconnect or a
holder whose lease expired can still win the race, and then this task raises PairingConflict,
which the ASL retries with backoff and full jitter, reading the queue afresh.
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
from botocore.exceptions import ClientError

from functions.matchmaking import rules, wiring
from functions.matchmaking.errors import PairingConflict
from functions.matchmaking.models import PairedFrame, Pairing, QueuePairingInput, QueuePairingOutput, to_wire
from functions.matchmaking.repositories import PRESENCE_PLAYING
from functions.shared import clock, config

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    task = parse(event=event, model=QueuePairingInput)
    logger.append_keys(joiner=task.user_id)
    tickets = wiring.tickets()
    holder = uuid.uuid4().hex
    pairs: list[Pairing] = []
    waiting = tickets.waiting(clock.now_ms(), limit=2)
    # Hold the pairing lease while pairing; release it, then look again: a join whose execution
    # found the lease held (and ended) is seen by that second look.
    while len(waiting) >= 2 and len(pairs) < wiring.pairs_per_task():
        if not tickets.acquire_lease(holder, clock.now_ms(), wiring.lease_seconds()):
            logger.info("another execution holds the pairing lease: it pairs this queue")
            metrics.add_metric(name="PairingHandedOver", unit=MetricUnit.Count, value=1)
            break
        try:
            waiting = pair_while_holding(tickets, holder, pairs)
        finally:
            tickets.release_lease(holder)
        if len(waiting) < 2:
            waiting = tickets.waiting(clock.now_ms(), limit=2)
    limit_reached = len(pairs) >= wiring.pairs_per_task() and len(waiting) >= 2
    return QueuePairingOutput(pairs=pairs, waiting=len(waiting), pairLimitReached=limit_reached).model_dump(
        by_alias=True
    )


def pair_while_holding(tickets: Any, holder: str, pairs: list[Pairing]) -> list[dict[str, Any]]:
    """Pairs the two oldest again and again until fewer than two wait, the task's pair limit, or
    the lease is lost (renewed before each pair). Returns the last read of the queue."""
    connections = wiring.connections()
    games_table, lifetime = wiring.games_table(), wiring.game_ttl_seconds()
    while True:
        now_ms = clock.now_ms()
        waiting: list[dict[str, Any]] = tickets.waiting(now_ms, limit=2)
        if len(waiting) < 2 or len(pairs) >= wiring.pairs_per_task():
            return waiting
        if not tickets.acquire_lease(holder, now_ms, wiring.lease_seconds()):
            return waiting  # it expired and another execution took it: that one goes on
        x, o = rules.markers(waiting[0], waiting[1])
        ghosts = [t for t in (x, o) if not connections.live(t["userId"], now_ms // 1000)]
        if ghosts:
            for ghost in ghosts:
                tickets.remove_waiting(ghost["userId"], ghost["joinKey"], now_ms)
            metrics.add_metric(name="GhostTicketRemoved", unit=MetricUnit.Count, value=len(ghosts))
            continue
        game = rules.new_game(str(uuid.uuid4()), x, o, now_ms, lifetime)
        if not tickets.pair(dict(x), dict(o), game, games_table, now_ms):
            # A leave, a disconnect or a pairing without the lease (it expired) got there first.
            metrics.add_metric(name="PairingConflict", unit=MetricUnit.Count, value=1)
            raise PairingConflict(f"{x['userId']} or {o['userId']} was taken before this pairing")
        pairs.append(Pairing(gameId=game["gameId"], playerX=game["playerX"], playerO=game["playerO"]))
        metrics.add_metric(name="PlayersPaired", unit=MetricUnit.Count, value=2)
        announce(game, now_ms)


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
    # Presence first, so a client that hears paired reads playing.
    presence = wiring.presence()
    presence.put(game["playerX"], game["nameX"], PRESENCE_PLAYING, game["gameId"], now_ms)
    presence.put(game["playerO"], game["nameO"], PRESENCE_PLAYING, game["gameId"], now_ms)
    try:
        wiring.pusher().frames_to_users(frames)
    except ClientError:
        # The game is recorded and both tickets name it; failing here would stop this execution
        # pairing the rest of the queue. The players' clients can still play it (their next
        # move is validated against it), so log it loudly and go on.
        logger.exception("paired not delivered", extra={"gameId": game["gameId"]})
        metrics.add_metric(name="PairedUndelivered", unit=MetricUnit.Count, value=1)
