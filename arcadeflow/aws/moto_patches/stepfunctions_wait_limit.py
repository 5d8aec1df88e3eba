"""A Wait that would outlast the execution's maximum duration fails at once.

AWS bounds every execution: a Standard one runs at most one year (an Express one five minutes),
and "the maximum wait time that you can specify" is bounded the same way (developer guide,
"Wait workflow state"; "Step Functions service quotas"). moto's Wait simply sleeps for whatever
it computed: a Timestamp ten years ahead, or a SecondsPath of 10**12, leaves the execution
RUNNING for ever, where on AWS it cannot outlive its bound. Here a Wait whose end lies beyond
the execution's bound (counted from its start) fails the execution at once with States.Runtime,
naming the limit. AWS's
documentation gives the bound but not the error of such a Wait: States.Runtime is our choice,
the error the interpreter gives every other Wait it cannot honour (a negative SecondsPath, a
Timestamp that is not one).

A Wait that ends within the bound but after the machine's own TimeoutSeconds still times the
execution out as moto does. An Express execution is left to the Express time limit (the
"testapi" part's, configurable for tests), which ends it TIMED_OUT at five minutes as AWS does:
this patch bounds Standard executions only.
"""

from __future__ import annotations

import datetime
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_WAIT_FUNCTION = "moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function.WaitFunction"
# Step Functions service quotas: the maximum execution time of a Standard workflow.
MAX_STANDARD_SECONDS = 365 * 24 * 3600


def _started_at(env: Any) -> datetime.datetime:
    now = datetime.datetime.now(datetime.UTC)
    started = env.states.context_object.context_object_data.get("Execution", {}).get("StartTime")
    if not isinstance(started, str):
        return now
    try:
        parsed = datetime.datetime.fromisoformat(started.replace("Z", "+00:00"))
    except ValueError:
        return now
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def seconds_left(env: Any) -> int:
    """The seconds a Standard execution has left of its year."""
    elapsed = (datetime.datetime.now(datetime.UTC) - _started_at(env)).total_seconds()
    return int(MAX_STANDARD_SECONDS - elapsed)


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    def eval_body(self: Any, env: Any) -> None:
        wait_seconds = self._get_wait_seconds(env=env)
        is_express = str(getattr(env.execution_type, "value", env.execution_type)) == "EXPRESS"
        left = seconds_left(env)
        if wait_seconds > left and not is_express:
            error = StatesErrorNameType.StatesRuntime
            cause = (
                f"The Wait state would wait {wait_seconds} seconds, beyond the {MAX_STANDARD_SECONDS} seconds"
                f" a STANDARD execution may run ({max(left, 0)} seconds left)"
            )
            # EventDetails is a TypedDict of every kind of details; an event carries one of them.
            details: Any = {
                "executionFailedEventDetails": ExecutionFailedEventDetails(error=error.to_name(), cause=cause)
            }
            raise FailureEventException(
                failure_event=FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=error),
                    event_type=HistoryEventType.ExecutionFailed,
                    event_details=details,
                )
            )
        self._wait_interval(env=env, wait_seconds=wait_seconds)

    patcher.replace(WaitFunction, "_eval_body", eval_body)


PATCH = MotoPatch(
    name="stepfunctions_wait_limit",
    fixes=(
        "a Wait beyond a Standard execution's maximum duration (one year) keeps the execution"
        " RUNNING for ever, where AWS bounds it"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_WAIT_FUNCTION}._eval_body",
        f"{_WAIT_FUNCTION}._get_wait_seconds",
        f"{_WAIT_FUNCTION}._wait_interval",
    ),
    kind="fix",
    apply=apply,
    signatures={
        f"{_WAIT_FUNCTION}._eval_body": ("self", "env"),
        f"{_WAIT_FUNCTION}._wait_interval": ("self", "env", "wait_seconds"),
    },
)
