"""The matchmaking routes of the WebSocket API: joinQueue, leaveQueue, move and requeue.

The frame is validated (size, JSON, the `action` union) before anything else; a refused frame
gets an error frame {type: "error", code, message} on the connection that sent it and changes
nothing. One ticket per player is one conditional put; a move is one conditional update (one
transaction when it ends the game); the pairing itself is queue_pairing's.
"""

from __future__ import annotations

import uuid

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import ValidationError

from functions.matchmaking import rules, wiring
from functions.matchmaking.errors import GameOver, NotQueued
from functions.matchmaking.events import MessageEvent
from functions.matchmaking.models import (
    GameOverFrame,
    JoinQueueAction,
    LeaveQueueAction,
    MoveAction,
    MoveFrame,
    QueuedFrame,
    QueueLeftFrame,
    QueuePairingInput,
    RequeueAction,
    to_wire,
)
from functions.matchmaking.repositories import PRESENCE_HOME, PRESENCE_MATCHMAKING
from functions.shared import aws, clock, config
from functions.shared.exceptions import ArcadeflowError, Unauthenticated

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=config.metrics_namespace())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    connection_id = str((event.get("requestContext") or {}).get("connectionId") or "")
    try:
        try:
            message = parse(event=event, model=MessageEvent)
        except ValidationError as exc:
            raise Unauthenticated("this connection has no verified user") from exc
        user_id = message.request_context.authorizer.user_id
        screen_name = message.request_context.authorizer.screen_name or user_id
        logger.append_keys(userId=user_id, connectionId=connection_id)
        frame = rules.parse_frame(message.body, message.is_base64_encoded)
        if isinstance(frame, JoinQueueAction | RequeueAction):
            join(user_id, frame.username or screen_name, frame.action)
        elif isinstance(frame, LeaveQueueAction):
            leave(user_id, screen_name)
        elif isinstance(frame, MoveAction):
            move(user_id, connection_id, frame)
    except ArcadeflowError as error:
        logger.info("frame refused", extra={"code": error.code, "reason": error.message})
        metrics.add_metric(name="FrameRefused", unit=MetricUnit.Count, value=1)
        wiring.pusher().error_to(connection_id, error)
    return {"statusCode": 200}


@tracer.capture_method
def join(user_id: str, display_name: str, reason: str) -> None:
    now_ms = clock.now_ms()
    join_key = rules.join_key(now_ms, uuid.uuid4().hex)
    tickets = wiring.tickets()
    tickets.join(
        {
            "userId": user_id,
            "status": rules.WAITING,
            "waitingShard": rules.WAITING_SHARD,
            "joinKey": join_key,
            "joinedAtMs": now_ms,
            "screenName": display_name,
            "expireAt": now_ms // 1000 + wiring.ticket_ttl_seconds(),
        },
        now_ms,
    )
    position, waiting = tickets.position(join_key, now_ms)
    # A pairing may already have taken the ticket (another join's execution): its playing stands.
    wiring.presence().put(
        user_id, display_name, PRESENCE_MATCHMAKING, None, now_ms, unless_playing_since_ms=now_ms
    )
    # `queued` goes out before the pairing starts, so a client hears it before `paired`.
    wiring.pusher().to_users([user_id], to_wire(QueuedFrame(position=position, waiting=waiting)))
    flow_input = QueuePairingInput(userId=user_id, reason=reason)  # type: ignore[arg-type]
    try:
        aws.stepfunctions().start_execution(
            stateMachineArn=wiring.queue_pairing_state_machine(),
            name=f"{reason}-{uuid.uuid4().hex}",
            input=flow_input.model_dump_json(by_alias=True),
        )
    except ClientError:
        # Without its pairing the ticket would wait for someone else's join: take it back.
        tickets.remove_waiting(user_id, join_key, clock.now_ms())
        raise
    metrics.add_metric(name="QueueJoined", unit=MetricUnit.Count, value=1)


@tracer.capture_method
def leave(user_id: str, screen_name: str) -> None:
    tickets = wiring.tickets()
    now_ms = clock.now_ms()
    if not tickets.leave(user_id, now_ms):
        current = tickets.get(user_id, clock.now_ms())
        if current is not None and current["status"] == rules.PLAYING:
            raise NotQueued("you are in a game, not in the queue")
        raise NotQueued("you are not in the queue")
    wiring.presence().put(user_id, screen_name, PRESENCE_HOME, None, now_ms)
    wiring.pusher().to_users([user_id], to_wire(QueueLeftFrame()))
    metrics.add_metric(name="QueueLeft", unit=MetricUnit.Count, value=1)


@tracer.capture_method
def move(user_id: str, connection_id: str, frame: MoveAction) -> None:
    games = wiring.games()
    now_ms = clock.now_ms()
    game = games.get(frame.game_id, now_ms)
    marker = rules.check_move(game, user_id, frame.cell, now_ms)
    assert game is not None
    board = rules.play(game["board"], frame.cell, marker)
    status, winning_marker = rules.outcome(board)
    winner = rules.player_of(game, winning_marker) if winning_marker else None
    if not games.record_move(game, board, status, winner, now_ms):
        # Another move (another tab) or the opponent's departure landed first: say which.
        rules.check_move(games.get(frame.game_id, clock.now_ms()), user_id, frame.cell, clock.now_ms())
        raise GameOver("the game changed before this move landed; try again")
    metrics.add_metric(name="MovePlayed", unit=MetricUnit.Count, value=1)
    pusher = wiring.pusher()
    opponent = rules.opponent_of(game, user_id)
    moved = MoveFrame(gameId=game["gameId"], cell=frame.cell, marker=marker)  # type: ignore[arg-type]
    pusher.to_users([opponent, user_id], to_wire(moved), skip_connection=connection_id)
    if status == rules.ACTIVE:
        return
    over = GameOverFrame(
        gameId=game["gameId"],
        result="win" if status == rules.WON else "draw",
        winner=winner,
    )
    # Presence first: a player who hears gameOver and requeues at once must not be undone by it.
    presence = wiring.presence()
    for player, name in ((game["playerX"], game["nameX"]), (game["playerO"], game["nameO"])):
        presence.put(player, name, PRESENCE_HOME, None, clock.now_ms())
    pusher.to_users([game["playerX"], game["playerO"]], to_wire(over))
    metrics.add_metric(name="GameFinished", unit=MetricUnit.Count, value=1)
