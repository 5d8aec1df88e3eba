"""Lambda handlers of the conformance suite: each does what its event asks, so one function
serves every template. The event is the Task's payload:

    {"return": value}                 answer value
    {"raise": "Name", "message": m}   fail with an exception of that class name (the ASL error)
    {"sleep": seconds, "return": v}   wait, then answer (timeouts, heartbeats)
    anything else                     answered back unchanged (echo)
"""

from __future__ import annotations

import time
from typing import Any


def handler(event: Any, context: Any) -> Any:
    if not isinstance(event, dict):
        return event
    if "sleep" in event:
        time.sleep(float(event["sleep"]))
    if "raise" in event:
        error = type(str(event["raise"]), (Exception,), {})
        raise error(event.get("message", ""))
    if "return" in event:
        return event["return"]
    return event
