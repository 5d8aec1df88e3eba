"""A Choice rule that compares a field the input does not have fails with States.Runtime.

AWS fails the execution (States.Runtime: "Invalid path '$.x': The choice state's condition
path references an invalid value.") when a comparison's Variable selects nothing; the
developer guide's "Choice workflow state" has rules test IsPresent first for that reason. moto
takes the missing field for a value that compares false, so the Choice silently goes to its
Default (or the next rule) and a bug in the input shape passes locally. Only the comparison
operators (String*, Numeric*, Boolean*, Timestamp*) fail here: the Is* type tests keep moto's
answer (IsPresent is made for a missing field; what AWS answers for IsNull and the others on
one, we cannot tell).
"""

from __future__ import annotations

from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher
from arcadeflow.aws.moto_patches.states_failure import states_failure

_COMPARISON = "moto.stepfunctions.parser.asl.component.state.choice.comparison"


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_variable import (
        ComparisonVariable,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.variable import NoSuchVariable

    original_eval_body = ComparisonVariable._eval_body

    def eval_body(self: Any, env: Any) -> None:
        operator = getattr(self.comparison_function, "operator_type", None)
        if operator is None or str(getattr(operator, "name", "")).startswith("Is"):
            original_eval_body(self, env)
            return
        self.variable.eval(env)
        if isinstance(env.stack[-1], NoSuchVariable):
            env.stack.pop()
            path = self.variable.string_sampler.literal_value
            error = StatesErrorNameType.StatesRuntime
            cause = f"Invalid path '{path}': The choice state's condition path references an invalid value."
            raise states_failure(env, error, cause)
        self.comparison_function.eval(env)

    patcher.replace(ComparisonVariable, "_eval_body", eval_body)


PATCH = MotoPatch(
    name="stepfunctions_choice_missing_variable",
    fixes=(
        "a Choice comparison of a field the input lacks counts as no match,"
        " where AWS fails with States.Runtime"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_COMPARISON}.comparison_variable.ComparisonVariable._eval_body",
        f"{_COMPARISON}.variable.NoSuchVariable",
        f"{_COMPARISON}.variable.Variable._eval_body",
    ),
    kind="fix",
    apply=apply,
    signatures={f"{_COMPARISON}.comparison_variable.ComparisonVariable._eval_body": ("self", "env")},
)
