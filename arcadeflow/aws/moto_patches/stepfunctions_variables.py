"""Workflow variables (`Assign`) in moto's Step Functions interpreter, where they depart from AWS.

Developer guide, "Passing data between states with variables":
- A state's Assign and its Output are evaluated together, against the variables as they were
  when the state was entered; the new values are seen from the next state on. moto sets them
  at once, so the state's own Output already reads the new values.
- A Choice state's top-level Assign applies when no rule matched (the Default). moto decides by
  the next state's name, so a matched rule whose Next is also the Default runs both Assigns.
- A string literal in Assign is the JSON string it is written as: moto kept its escapes
  (`"say \\"hi\\""` was assigned with the backslashes).
- Sizes: a variable holds at most 256 KiB, one Assign at most 256 KiB, an execution's
  variables at most 10 MiB (as UTF-8 JSON); moto checks none. Over a limit the state fails with
  States.DataLimitExceeded (the guide gives the limits, not the error's name: ours is the error
  AWS documents for data over a size limit).
"""

from __future__ import annotations

import json
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher
from arcadeflow.aws.moto_patches.stepfunctions_jsonata import as_event_details

VARIABLE_MAX_BYTES = 256 * 1024
ASSIGN_MAX_BYTES = 256 * 1024
EXECUTION_VARIABLES_MAX_BYTES = 10 * 1024 * 1024

# Assignments evaluated in the current state, applied when it exits (kept on its VariableStore).
PENDING = "_arcadeflow_pending_assignments"


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


# Set on the environment when a Choice rule matched (moto told rule from Default by the name).
RULE_MATCHED = "_arcadeflow_choice_rule_matched"


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.assign.assign_decl import AssignDecl
    from moto.stepfunctions.parser.asl.component.common.assign.assign_template_value_terminal import (
        AssignTemplateValueTerminalLit,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.common.query_language import QueryLanguageMode
    from moto.stepfunctions.parser.asl.component.state.choice.choice_rule import ChoiceRule
    from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    def task_failure(env: Any, error_type: Any, cause: str) -> FailureEventException:
        error = StatesErrorName(typ=error_type)
        return FailureEventException(
            failure_event=FailureEvent(
                env=env,
                error_name=error,
                event_type=HistoryEventType.TaskFailed,
                event_details=as_event_details(
                    {"executionFailedEventDetails": {"error": error.error_name, "cause": cause}}
                ),
            )
        )

    def data_limit_exceeded(env: Any, cause: str) -> FailureEventException:
        return task_failure(env, StatesErrorNameType.StatesStatesDataLimitExceeded, cause)

    def outer_scope_write(env: Any, name: str) -> FailureEventException:
        cause = (
            f"The variable '{name}' belongs to an outer scope: a Parallel branch or Map iteration "
            "cannot assign it."
        )
        return task_failure(env, StatesErrorNameType.StatesRuntime, cause)

    def assign_eval_body(self: Any, env: Any) -> None:
        declarations: dict[str, Any] = {}
        for binding in self.declaration_bindings:
            binding.eval(env=env)
            declarations.update(env.stack.pop())
        sizes = {name: json_size(value) for name, value in declarations.items()}
        for name, size in sizes.items():
            if size > VARIABLE_MAX_BYTES:
                raise data_limit_exceeded(
                    env, f"The value assigned to the variable '{name}' exceeds the maximum size of 256 KiB."
                )
        if sum(sizes.values()) > ASSIGN_MAX_BYTES:
            raise data_limit_exceeded(
                env, "The variables of one Assign exceed the maximum combined size of 256 KiB."
            )
        store = env.variable_store
        pending = getattr(store, PENDING, None)
        if pending is None:
            pending = {}
            setattr(store, PENDING, pending)
        pending.update(declarations)

    def apply_pending(env: Any) -> None:
        store = env.variable_store
        pending = getattr(store, PENDING, None)
        if not pending:
            return
        setattr(store, PENDING, None)
        visible = dict(store._outer_scope)
        visible.update(store._inner_scope)
        visible.update(pending)
        if sum(json_size(value) for value in visible.values()) > EXECUTION_VARIABLES_MAX_BYTES:
            raise data_limit_exceeded(
                env, "The execution's variables exceed the maximum total size of 10 MiB."
            )
        for name in pending:
            if name in store._outer_scope:
                raise outer_scope_write(env, name)
        for name, value in pending.items():
            store.set(variable_identifier=name, variable_value=value)

    original_exited_details = CommonStateField._get_state_exited_event_details

    def state_exited_event_details(self: Any, env: Any) -> Any:
        apply_pending(env)  # the state's Output is done: its assignments take effect now
        return original_exited_details(self, env)

    original_state_body = CommonStateField._eval_body

    def state_eval_body(self: Any, env: Any) -> None:
        setattr(env.variable_store, PENDING, None)
        setattr(env, RULE_MATCHED, False)
        original_state_body(self, env)

    original_handle_catch = ExecutionState._handle_catch

    def handle_catch(self: Any, env: Any, failure_event: Any) -> None:
        # The state failed: what its own Assign evaluated is dropped; the Catch's Assign counts.
        setattr(env.variable_store, PENDING, None)
        original_handle_catch(self, env, failure_event)

    original_rule_body = ChoiceRule._eval_body

    def choice_rule_body(self: Any, env: Any) -> None:
        original_rule_body(self, env)
        if env.stack[-1] is True:
            setattr(env, RULE_MATCHED, True)

    def choice_eval_state_output(self: Any, env: Any) -> None:
        next_state_name = env.stack.pop()
        rule_matched = getattr(env, RULE_MATCHED, False)
        setattr(env, RULE_MATCHED, False)
        if not rule_matched and self.default_state is not None:
            if self.assign_decl:
                self.assign_decl.eval(env=env)
            if self.output:
                self.output.eval(env=env)
        if self._is_language_query_jsonpath():
            if self.output_path:
                self.output_path.eval(env=env)
            else:
                env.states.reset(input_value=env.stack.pop())
        env.next_state_name = next_state_name

    def assign_string_literal(self: Any, ctx: Any) -> Any:
        return AssignTemplateValueTerminalLit(value=json.loads(ctx.string_literal().getText()))

    original_assign_string_jsonata = Preprocessor.visitAssign_template_value_terminal_string_jsonata

    def assign_string_jsonata(self: Any, ctx: Any) -> Any:
        if self._get_current_query_language().query_language_mode == QueryLanguageMode.JSONata:
            return original_assign_string_jsonata(self, ctx)
        # In a JSONPath state a "{% ... %}" string is a plain string.
        return AssignTemplateValueTerminalLit(value=json.loads(ctx.string_jsonata().getText()))

    patcher.replace(AssignDecl, "_eval_body", assign_eval_body)
    patcher.replace(CommonStateField, "_get_state_exited_event_details", state_exited_event_details)
    patcher.replace(CommonStateField, "_eval_body", state_eval_body)
    patcher.replace(ExecutionState, "_handle_catch", handle_catch)
    patcher.replace(ChoiceRule, "_eval_body", choice_rule_body)
    patcher.replace(StateChoice, "_eval_state_output", choice_eval_state_output)
    patcher.replace(Preprocessor, "visitAssign_template_value_terminal_string_literal", assign_string_literal)
    patcher.replace(Preprocessor, "visitAssign_template_value_terminal_string_jsonata", assign_string_jsonata)


_ASSIGN = "moto.stepfunctions.parser.asl.component.common.assign.assign_decl.AssignDecl._eval_body"
_STATE = "moto.stepfunctions.parser.asl.component.state.state.CommonStateField"
_EXEC = "moto.stepfunctions.parser.asl.component.state.exec.execute_state.ExecutionState._handle_catch"
_CHOICE = "moto.stepfunctions.parser.asl.component.state.choice.state_choice.StateChoice"
_PRE = "moto.stepfunctions.parser.asl.parse.preprocessor.Preprocessor"

PATCH = MotoPatch(
    name="stepfunctions_variables",
    fixes=(
        "a state's Output reads the values its own Assign sets; a Choice rule whose Next is the Default also "
        "runs the Default's Assign; Assign string literals keep their escapes; no variable size limits"
    ),
    upstream=None,  # not reported upstream; see upstream/stepfunctions_variables.md
    moto_versions=("5.2.5",),
    targets=(
        _ASSIGN,
        f"{_STATE}._get_state_exited_event_details",
        f"{_STATE}._eval_body",
        _EXEC,
        "moto.stepfunctions.parser.asl.component.state.choice.choice_rule.ChoiceRule._eval_body",
        f"{_CHOICE}._eval_state_output",
        f"{_PRE}.visitAssign_template_value_terminal_string_literal",
        f"{_PRE}.visitAssign_template_value_terminal_string_jsonata",
    ),
    kind="fix",
    apply=apply,
    signatures={
        _ASSIGN: ("self", "env"),
        f"{_STATE}._get_state_exited_event_details": ("self", "env"),
        f"{_STATE}._eval_body": ("self", "env"),
        _EXEC: ("self", "env", "failure_event"),
        "moto.stepfunctions.parser.asl.component.state.choice.choice_rule.ChoiceRule._eval_body": (
            "self",
            "env",
        ),
        f"{_CHOICE}._eval_state_output": ("self", "env"),
        f"{_PRE}.visitAssign_template_value_terminal_string_literal": ("self", "ctx"),
        f"{_PRE}.visitAssign_template_value_terminal_string_jsonata": ("self", "ctx"),
    },
)


# Events that open and close a Parallel's branches or a Map's iterations (inner scopes).
_INNER_SCOPE_OPENS = {"MapStateStarted", "ParallelStateStarted"}
_INNER_SCOPE_CLOSES = {
    "MapStateSucceeded",
    "MapStateFailed",
    "MapStateAborted",
    "ParallelStateSucceeded",
    "ParallelStateFailed",
    "ParallelStateAborted",
}


def restore_variables(env: Any, events: list[dict[str, Any]]) -> None:
    """Gives a redriven execution's new environment the top-level variables its recorded history
    assigned (stateExited's assignedVariables outside any branch or iteration), in order."""
    depth = 0
    scope = env.variable_store._inner_scope
    for event in events:
        kind = getattr(event.get("type"), "value", event.get("type"))  # moto's enum or its text
        if kind in _INNER_SCOPE_OPENS:
            depth += 1
        elif kind in _INNER_SCOPE_CLOSES:
            depth = max(0, depth - 1)
        details = event.get("stateExitedEventDetails") or {}
        if depth == 0 and details.get("assignedVariables"):
            for name, text in details["assignedVariables"].items():
                scope[name] = json.loads(text)
