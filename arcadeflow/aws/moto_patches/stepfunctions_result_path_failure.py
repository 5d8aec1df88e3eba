"""A ResultPath that cannot be applied to the state's input fails with
States.ResultPathMatchFailure, as AWS names it.

AWS: developer guide, "Handling errors in Step Functions workflows": States.ResultPathMatchFailure,
"Step Functions failed to apply a state's ResultPath field to the input the state received". A
Catch or Retry can name it. moto applies the path with jsonpath_ng: into an input that is a
number or a string (`"ResultPath": "$.a.b"` with `{"a": 1}`) it raises a Python TypeError
("argument of type 'int' is not iterable"), reported as States.Runtime, and into an input that
is an array it writes nothing and goes on. Here both fail with AWS's error name.
"""

from __future__ import annotations

import json
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher
from arcadeflow.aws.moto_patches.states_failure import states_failure

_RESULT_PATH = "moto.stepfunctions.parser.asl.component.common.path.result_path.ResultPath"


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.common.path.result_path import ResultPath

    original_eval_body = ResultPath._eval_body

    def failure(env: Any, path: str, state_input: Any) -> Exception:
        error = StatesErrorNameType.StatesResultPathMatchFailure
        cause = f"Unable to apply ResultPath '{path}' to input '{json.dumps(state_input, default=str)}'"
        return states_failure(env, error, cause)

    def eval_body(self: Any, env: Any) -> None:
        path = self.result_path_src
        if path is None or path == ResultPath.DEFAULT_PATH:
            original_eval_body(self, env)
            return
        state_input = env.states.get_input()
        if path.startswith("$.") and not isinstance(state_input, dict):
            raise failure(env, path, state_input)  # a field of what is not an object
        try:
            original_eval_body(self, env)
        except FailureEventException:
            raise
        except Exception as exc:
            raise failure(env, path, state_input) from exc

    patcher.replace(ResultPath, "_eval_body", eval_body)


PATCH = MotoPatch(
    name="stepfunctions_result_path_failure",
    fixes=(
        "a ResultPath into an input that is not an object fails with States.Runtime (a TypeError)"
        " or writes nothing, not States.ResultPathMatchFailure"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_RESULT_PATH}._eval_body", f"{_RESULT_PATH}.DEFAULT_PATH"),
    kind="fix",
    apply=apply,
    signatures={f"{_RESULT_PATH}._eval_body": ("self", "env")},
)
