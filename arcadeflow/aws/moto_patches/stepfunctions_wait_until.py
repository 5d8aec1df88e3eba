"""A Wait with Timestamp or TimestampPath waits until that time, not up to two seconds less.

moto computes the wait as `int(timestamp - datetime.now())`: the timestamp's fraction of a
second is dropped, the difference truncated to whole seconds, and `now()` is the machine's
local time compared with a UTC timestamp (on a machine not set to UTC the wait is off by the
zone's offset). Its wait loop then counts what it waited in whole seconds, so a wait of a
fraction of a second would be re-entered for ever. AWS leaves the Wait state at the time it
names (developer guide, "Wait workflow state"). Here the wait is the exact UTC difference and
the loop waits against a deadline.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_WAIT = "moto.stepfunctions.parser.asl.component.state.wait.wait_function"


def parsed_utc(timestamp: str) -> datetime.datetime:
    """An ASL timestamp (`2026-01-02T03:04:05Z`, optional fraction) as an aware UTC datetime."""
    whole, _, fraction = timestamp.removesuffix("Z").partition(".")
    moment = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.UTC)
    if fraction:
        moment += datetime.timedelta(seconds=float(f"0.{fraction}"))
    return moment


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    def get_wait_seconds(self: Any, env: Any) -> float:
        self.string.eval(env=env)
        timestamp: str = env.stack.pop()
        # moto's own check of the format (and its failure event, which TimestampPath overrides).
        if self._from_timestamp_string(timestamp=timestamp) is None:
            raise FailureEventException(self._create_failure_event(env, timestamp))
        return (parsed_utc(timestamp) - datetime.datetime.now(datetime.UTC)).total_seconds()

    def wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
        deadline = time.monotonic() + wait_seconds
        # The event is set when the execution stops: a stop ends the wait at once.
        while env.is_running() and (left := deadline - time.monotonic()) > 0:
            env.program_state_event.wait(left)

    patcher.replace(Timestamp, "_get_wait_seconds", get_wait_seconds)  # TimestampPath inherits it
    patcher.replace(WaitFunction, "_wait_interval", wait_interval)


PATCH = MotoPatch(
    name="stepfunctions_wait_until",
    fixes=(
        "a Wait until a Timestamp leaves up to 2 s early (fractions and the difference truncated,"
        " local time compared with UTC); a sub-second wait is re-entered for ever"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_WAIT}.timestamp.Timestamp._get_wait_seconds",
        f"{_WAIT}.timestamp.Timestamp._from_timestamp_string",
        f"{_WAIT}.timestamp.Timestamp._create_failure_event",
        f"{_WAIT}.wait_function.WaitFunction._wait_interval",
        "moto.stepfunctions.parser.asl.eval.environment.Environment.is_running",
    ),
    kind="fix",
    apply=apply,
    signatures={
        f"{_WAIT}.timestamp.Timestamp._get_wait_seconds": ("self", "env"),
        f"{_WAIT}.wait_function.WaitFunction._wait_interval": ("self", "env", "wait_seconds"),
        f"{_WAIT}.timestamp.Timestamp._create_failure_event": ("self", "env", "timestamp_str"),
    },
)
