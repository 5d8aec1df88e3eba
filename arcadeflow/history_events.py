"""Step Functions history event types, as GetExecutionHistory names them: one vocabulary for
everything that reads a history (`arcadeflow trace`, the console)."""

from __future__ import annotations

# An attempt at a state's work (a Retry makes more than one).
ATTEMPT_EVENTS = frozenset({"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"})
# A state's attempt or container failed, with an error and a cause; it stands until the state
# retries (a new attempt) or exits (a Catch).
STATE_FAILURE_EVENTS = frozenset(
    {
        "TaskFailed",
        "TaskTimedOut",
        "TaskStartFailed",
        "TaskSubmitFailed",
        "LambdaFunctionFailed",
        "LambdaFunctionTimedOut",
        "LambdaFunctionStartFailed",
        "LambdaFunctionScheduleFailed",
        "ActivityFailed",
        "ActivityTimedOut",
        "ActivityScheduleFailed",
        "MapStateFailed",
        "ParallelStateFailed",
        "EvaluationFailed",
        "MapRunFailed",
    }
)
# The execution itself ended without success.
EXECUTION_FAILURE_EVENTS = frozenset({"ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"})
