"""A Choice state that matches no rule and has no Default fails with States.NoChoiceMatched.

AWS names the error States.NoChoiceMatched (developer guide, "Handling errors in Step Functions
workflows"), so a Catch or a Retry of an enclosing Parallel or Map can name it. moto raises a
Python RuntimeError ("No branching option reached in state ..."), which its interpreter reports
as States.Runtime with that repr as the cause. Here the rules are evaluated as moto does and the
no-match ends in a failure event carrying AWS's name.
"""

from __future__ import annotations

from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher
from arcadeflow.aws.moto_patches.states_failure import states_failure

_CHOICE = "moto.stepfunctions.parser.asl.component.state.choice.state_choice.StateChoice"


def no_choice_matched(env: Any, state_name: str) -> Exception:
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )

    error = StatesErrorNameType.StatesNoChoiceMatched
    cause = f"No Choice Rule of state '{state_name}' matched its input, and it has no Default."
    return states_failure(env, error, cause)


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice

    original_eval_state = StateChoice._eval_state

    def eval_state(self: Any, env: Any) -> None:
        if self.default_state is not None:
            original_eval_state(self, env)  # moto's way ends at the Default: nothing to fix
            return
        for rule in self.choices_decl.rules:
            rule.eval(env)
            if env.stack.pop() is True:
                if not rule.next_stmt:
                    raise RuntimeError(f"Missing Next definition for rule '{rule}' of state '{self.name}'.")
                env.stack.append(rule.next_stmt.name)
                return
        raise no_choice_matched(env, self.name)

    patcher.replace(StateChoice, "_eval_state", eval_state)


PATCH = MotoPatch(
    name="stepfunctions_no_choice_matched",
    fixes=(
        "a Choice with no matching rule and no Default fails with States.Runtime, not States.NoChoiceMatched"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_CHOICE}._eval_state",
        f"{_CHOICE}.__init__",
        "moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type"
        ".StatesErrorNameType.StatesNoChoiceMatched",
    ),
    kind="fix",
    apply=apply,
    signatures={f"{_CHOICE}._eval_state": ("self", "env")},
)
