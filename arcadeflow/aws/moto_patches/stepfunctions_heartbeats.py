"""Heartbeats of callback tasks as AWS has them: a missed heartbeat fails with
States.HeartbeatTimeout, and SendTaskHeartbeat is accepted for any waiting task.

Two departures of moto's interpreter, both seen in tests/conformance/test_basics_timeouts.py:
- A task that misses its HeartbeatSeconds fails with States.Timeout: moto's HeartbeatTimeoutError
  is a TimeoutError, and the Task state turns every TimeoutError into States.Timeout. AWS names
  it States.HeartbeatTimeout (developer guide, "Handling errors in Step Functions workflows"), so
  a Catch of States.HeartbeatTimeout never matched locally.
- SendTaskHeartbeat answers InvalidToken until the task's own request has returned (moto starts
  the heartbeat clock only then) and for a task with no HeartbeatSeconds. On AWS the token is
  valid from the moment the task is scheduled (API reference, SendTaskHeartbeat), which is
  when a worker that got it from the payload first reports.
"""

from __future__ import annotations

from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_CALLBACK_TASK = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
    ".state_task_service_callback.StateTaskServiceCallback"
)
_ENDPOINT = "moto.stepfunctions.parser.asl.eval.callback.callback.CallbackEndpoint"


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskTimedOutEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint, HeartbeatTimeoutError
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails as EventDetailsType

    # A TypedDict of every kind of details; an event carries one of them.
    event_details_of: Any = EventDetailsType

    StateTaskServiceCallback = state_task_service_callback.StateTaskServiceCallback  # noqa: N806
    original_from_error = StateTaskServiceCallback._from_error

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, HeartbeatTimeoutError):
            return original_from_error(self, env, ex)
        error = StatesErrorNameType.StatesHeartbeatTimeout
        return FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error),
            event_type=HistoryEventType.TaskTimedOut,
            event_details=event_details_of(
                taskTimedOutEventDetails=TaskTimedOutEventDetails(
                    resourceType=self._get_sfn_resource_type(),
                    resource=self._get_sfn_resource(),
                    error=error.to_name(),
                )
            ),
        )

    original_notify_heartbeat = CallbackEndpoint.notify_heartbeat

    def notify_heartbeat(self: Any) -> bool:
        original_notify_heartbeat(self)
        return True  # the token is the waiting task's: a heartbeat before its clock runs is harmless

    patcher.replace(StateTaskServiceCallback, "_from_error", from_error)
    patcher.replace(CallbackEndpoint, "notify_heartbeat", notify_heartbeat)


PATCH = MotoPatch(
    name="stepfunctions_heartbeats",
    fixes=(
        "a missed heartbeat fails with States.Timeout, not States.HeartbeatTimeout; SendTaskHeartbeat"
        " answers InvalidToken while the task's request is in flight or when it has no HeartbeatSeconds"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_CALLBACK_TASK}._from_error",
        f"{_CALLBACK_TASK}._get_sfn_resource_type",
        f"{_CALLBACK_TASK}._get_sfn_resource",
        f"{_ENDPOINT}.notify_heartbeat",
        "moto.stepfunctions.parser.asl.eval.callback.callback.HeartbeatTimeoutError",
        "moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type"
        ".StatesErrorNameType.StatesHeartbeatTimeout",
    ),
    kind="fix",
    apply=apply,
    signatures={
        f"{_CALLBACK_TASK}._from_error": ("self", "env", "ex"),
        f"{_ENDPOINT}.notify_heartbeat": ("self",),
    },
)
