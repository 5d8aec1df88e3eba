"""A Wait with Timestamp or TimestampPath waits until that time, not up to a second less, and
takes a timestamp with a UTC offset.

moto computes the wait as `int(timestamp - datetime.now())`: the difference is truncated to
whole seconds, and `now()` is the machine's local time compared with a UTC timestamp (on a
machine not set to UTC the wait is off by the zone's offset). Its wait loop counts what it
waited in whole seconds, so a wait of a fraction of a second would be re-entered for ever. And
it refuses `2026-01-02T03:04:05+01:00` (only a `Z` suffix passes its pattern), which AWS accepts
(localstack/localstack#10523, the same interpreter). AWS leaves the Wait state at the time it
names (developer guide, "Wait workflow state"); a fraction of a second in the timestamp it
ignores (as recorded by localstack/localstack#9813), and so does this. Here the wait is the
UTC difference to the whole second and the loop waits against a deadline.
"""

from __future__ import annotations

import datetime
import re
import time
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_WAIT = "moto.stepfunctions.parser.asl.component.state.wait.wait_function"


TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parsed_utc(timestamp: str) -> datetime.datetime | None:
    """An ASL timestamp (`Z` or a `+hh:mm` offset, any fraction dropped) as an aware UTC
    datetime, or None when it is not one."""
    match = TIMESTAMP.match(timestamp) if isinstance(timestamp, str) else None
    if match is None:
        return None
    whole, zone = match.groups()
    try:
        moment = datetime.datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None  # e.g. month 13
    return moment.astimezone(datetime.UTC)


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    def get_wait_seconds(self: Any, env: Any) -> float:
        self.string.eval(env=env)
        timestamp: str = env.stack.pop()
        moment = parsed_utc(timestamp)
        if moment is None:  # moto's failure event (TimestampPath words its own)
            raise FailureEventException(self._create_failure_event(env, timestamp))
        return (moment - datetime.datetime.now(datetime.UTC)).total_seconds()

    def wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
        deadline = time.monotonic() + wait_seconds
        # The event is set when the execution stops: a stop ends the wait at once.
        while env.is_running() and (left := deadline - time.monotonic()) > 0:
            env.program_state_event.wait(left)

    patcher.replace(Timestamp, "_get_wait_seconds", get_wait_seconds)  # TimestampPath inherits it
    # Also what a literal Timestamp is checked with when the definition is parsed.
    patcher.replace(Timestamp, "_from_timestamp_string", staticmethod(parsed_utc))
    patcher.replace(WaitFunction, "_wait_interval", wait_interval)


PATCH = MotoPatch(
    name="stepfunctions_wait_until",
    fixes=(
        "a Wait until a Timestamp leaves up to 1 s early (the difference truncated, local time"
        " compared with UTC); a sub-second wait is re-entered for ever; a +hh:mm offset is refused"
    ),
    upstream=None,  # the offset: localstack/localstack#10523 (same interpreter); the rest not reported
    moto_versions=("5.2.5",),
    targets=(
        f"{_WAIT}.timestamp.Timestamp._get_wait_seconds",
        f"{_WAIT}.timestamp.Timestamp._create_failure_event",
        f"{_WAIT}.timestamp.Timestamp._from_timestamp_string",
        f"{_WAIT}.wait_function.WaitFunction._wait_interval",
        "moto.stepfunctions.parser.asl.eval.environment.Environment.is_running",
    ),
    kind="fix",
    apply=apply,
    signatures={
        f"{_WAIT}.timestamp.Timestamp._get_wait_seconds": ("self", "env"),
        f"{_WAIT}.wait_function.WaitFunction._wait_interval": ("self", "env", "wait_seconds"),
        f"{_WAIT}.timestamp.Timestamp._create_failure_event": ("self", "env", "timestamp_str"),
        f"{_WAIT}.timestamp.Timestamp._from_timestamp_string": ("timestamp",),
    },
)
