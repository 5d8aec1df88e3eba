"""A `States.*` error leaving a Parallel branch or a Map iteration, or raised again by a Fail
state, keeps its name and cause.

When a branch or an iteration fails, moto's interpreter re-raises the error at the Parallel or
Map state as a "custom" error name, and a custom name may not begin with `States.` (the ASL
specification reserves the prefix for the errors the interpreter raises itself). So a
States.Timeout, States.TaskFailed, States.DataLimitExceeded, ... of a branch became
`States.Runtime` with the cause "Custom Error Names MUST NOT begin with the prefix 'States.'":
a Parallel failed the whole execution past its Catch, a Map was caught under the wrong name.
AWS hands the branch's own error and cause on (developer guide, "Parallel workflow state",
"Map workflow state"). The same check broke a Fail state that raises a caught error again
(`"ErrorPath": "$.error.Error"` after a Catch of States.Timeout): the execution ended
States.Runtime instead of States.Timeout. Here such a name is the `States.*` error it is; every
other name stays a custom one.
"""

from __future__ import annotations

from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_ITERATION = "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker"
_BRANCHES = "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branches_decl"
_FAIL = "moto.stepfunctions.parser.asl.component.state.fail.state_fail"


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        ILLEGAL_CUSTOM_ERROR_PREFIX,
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl
    from moto.stepfunctions.parser.asl.component.state.fail import state_fail

    class ReservedErrorName(ErrorName):
        """A `States.` name the interpreter does not know (a newer AWS error): kept as it is."""

    def error_name_of(error_name: str | None) -> Any:
        # Called as CustomErrorName(...) where a branch's final error or a Fail state's error is raised.
        if error_name is None or not error_name.startswith(ILLEGAL_CUSTOM_ERROR_PREFIX):
            return CustomErrorName(error_name=error_name)
        try:
            return StatesErrorName.from_name(error_name)
        except ValueError:
            return ReservedErrorName(error_name=error_name)

    patcher.replace(iteration_worker, "CustomErrorName", error_name_of)
    patcher.replace(branches_decl, "CustomErrorName", error_name_of)
    patcher.replace(state_fail, "CustomErrorName", error_name_of)


PATCH = MotoPatch(
    name="stepfunctions_branch_states_errors",
    fixes=(
        "a States.* error (States.Timeout, States.TaskFailed, ...) leaving a Map iteration or a Parallel"
        " branch, or raised by a Fail state, arrives as States.Runtime ('Custom Error Names MUST NOT begin"
        " with the prefix States.')"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_ITERATION}.CustomErrorName",
        f"{_BRANCHES}.CustomErrorName",
        f"{_FAIL}.CustomErrorName",
        "moto.stepfunctions.parser.asl.component.common.error_name.states_error_name.StatesErrorName.from_name",
    ),
    kind="fix",
    apply=apply,
)
