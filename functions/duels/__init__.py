"""Duels over the WebSocket API: invites answered within a window, timed sessions either player
can stop. Flows: statemachines/duel_invite.asl.json and statemachines/duel_session.asl.json."""
