"""VR sessions: interaction events kept for the retention after a session's end, rewards from a
catalog granted once ever (flow vr_session_end, statemachines/vr_session_end.asl.json)."""
