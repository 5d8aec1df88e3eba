"""The queue's WebSocket routes act on the connection's user's own ticket only: a frame cannot
name another player to join, leave or requeue."""

from __future__ import annotations

import pytest


def _ticket(world, user: str):
    return world.item("queue_tickets", userId=user)


def _last_code(world, connection: str) -> str:
    frame = world.frames(connection)[-1]
    assert frame["type"] == "error", frame
    return str(frame["code"])


IMPERSONATIONS = ({"userId": "otto"}, {"playerId": "otto"})


@pytest.mark.authorization("WS joinQueue", "WS requeue")
@pytest.mark.parametrize("action", ["joinQueue", "requeue"])
def test_a_join_is_for_the_connections_user_and_a_frame_naming_another_player_is_refused(
    world, time_machine, action
):
    mallory = world.connect("mallory")
    world.connect("otto")
    for impersonation in IMPERSONATIONS:
        world.send("mallory", mallory, {"action": action, **impersonation})
        assert _last_code(world, mallory) == "invalid_frame", impersonation
    assert world.scan("queue_tickets") == []
    assert world.pairing_inputs() == []
    world.send("mallory", mallory, {"action": action})
    assert [t["userId"] for t in world.scan("queue_tickets")] == ["mallory"]


@pytest.mark.authorization("WS leaveQueue")
def test_a_leave_removes_only_the_callers_ticket(world, time_machine):
    otto = world.connect("otto")
    world.send("otto", otto, {"action": "joinQueue"})
    otto_ticket = _ticket(world, "otto")
    assert otto_ticket is not None
    mallory = world.connect("mallory")
    for impersonation in IMPERSONATIONS:
        world.send("mallory", mallory, {"action": "leaveQueue", **impersonation})
        assert _last_code(world, mallory) == "invalid_frame", impersonation
    # Mallory, who waits for nothing, leaving takes nobody else out.
    world.send("mallory", mallory, {"action": "leaveQueue"})
    assert _last_code(world, mallory) == "not_queued"
    assert _ticket(world, "otto") == otto_ticket
