"""The failure a patch raises inside moto's interpreter for a `States.*` error: what moto's own
states raise, so Retry and Catch see the error by its name and an uncaught one fails the
execution with that error and cause. Shared by the patches; not a patch itself."""

from __future__ import annotations

from typing import Any


def states_failure(env: Any, error_type: Any, cause: str) -> Exception:
    """error_type: a member of moto's StatesErrorNameType (e.g. StatesRuntime)."""
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails as EventDetailsType

    # A TypedDict of every kind of details; an event carries one of them.
    event_details_of: Any = EventDetailsType
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error_type),
            event_type=HistoryEventType.ExecutionFailed,
            event_details=event_details_of(
                executionFailedEventDetails=ExecutionFailedEventDetails(
                    error=error_type.to_name(), cause=cause
                )
            ),
        )
    )
