"""JSONata and workflow variables in moto's Step Functions interpreter, evaluated as AWS does.

moto's interpreter (a port of LocalStack's) parses `{% ... %}` expressions and `$name` variable
references, but its evaluator is a Java bridge that moto never starts (`_eval_jsonata = None`):
every JSONata state, and every JSONPath path reading a variable set by `Assign`, fails with
States.Runtime ('NoneType' object is not callable). Even with an evaluator, moto hands values to
it by pasting them into the expression's text as JSON literals, and a string is pasted without
escaping, so a value holding a quote breaks the expression.

This patch evaluates in-process with jsonata-python (JSONata 2.x, AWS runs 2.0.6), binding
values instead of pasting them:
- `$states` (input, result, errorOutput, context) and every variable in scope, as AWS binds them;
- Step Functions' own functions (developer guide "Transforming data with JSONata", "JSONata
  functions provided by Step Functions"): `$partition`, `$range`, `$hash`, `$random` (with an
  optional seed), `$uuid`, `$parse`; `$eval`, which AWS does not offer, fails the state;
- an expression that fails, returns nothing (undefined) or a value JSON cannot hold fails the
  state with States.QueryEvaluationError (an EvaluationFailed event, a catchable error).
A JSONPath `"x.$": "$name.a[0]"` reads variable `name` and applies the rest as JSONPath.
The history's `assignedVariables` hold each value as JSON (moto wrote strings unescaped).
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import random
import re
import sys
import threading
import uuid
from typing import Any

from arcadeflow.aws.jsonata_library import jsonata
from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

# AWS's $hash algorithms (developer guide, "JSONata functions provided by Step Functions").
HASH_ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}
# States.ArrayRange's limit, which $range replaces.
RANGE_MAX_ITEMS = 1000
# "$name" then an optional JSONPath tail: ".a", "[0]", ...
VARIABLE_PATH = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)(.*)$", re.DOTALL)


class JsonataEvaluationError(Exception):
    """An expression failed: the message is the cause text (without AWS's state prefix)."""


class _Undefined:
    """JSONata's "nothing": distinct from null (AWS fails a field that evaluates to it)."""


UNDEFINED = _Undefined()


def _sfn_error(message: str) -> Exception:
    return JsonataEvaluationError(message)


def _partition(array: Any, size: Any) -> list[Any]:
    if not isinstance(array, list) or isinstance(size, bool) or not isinstance(size, int | float):
        raise _sfn_error("$partition takes an array and a chunk size")
    if size <= 0 or int(size) != size:
        raise _sfn_error("the chunk size of $partition must be a positive integer")
    items = list(array)
    chunk = int(size)
    return [items[i : i + chunk] for i in range(0, len(items), chunk)]


def _range(start: Any, end: Any, step: Any = 1) -> list[Any]:
    for value in (start, end, step):
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            raise _sfn_error("$range takes integer start, end and step")
    start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise _sfn_error("the step of $range must not be 0")
    values = list(range(start, end + (1 if step > 0 else -1), step))
    if len(values) > RANGE_MAX_ITEMS:
        raise _sfn_error(f"$range may produce at most {RANGE_MAX_ITEMS} items")
    return values


def _hash(data: Any, algorithm: Any) -> str:
    if not isinstance(data, str):
        raise _sfn_error("the data of $hash must be a string")
    name = HASH_ALGORITHMS.get(algorithm) if isinstance(algorithm, str) else None
    if name is None:
        raise _sfn_error(f"$hash supports the algorithms {', '.join(HASH_ALGORITHMS)}")
    return hashlib.new(name, data.encode("utf-8")).hexdigest()


def _random(seed: Any = None) -> float:
    # AWS documents only that a seed gives a repeatable number; its generator is its own.
    if seed is None:
        return random.random()
    if isinstance(seed, bool) or not isinstance(seed, int | float):
        raise _sfn_error("the seed of $random must be a number")
    return random.Random(seed).random()


def _uuid() -> str:
    return str(uuid.uuid4())


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise _sfn_error("$parse takes a string")
    try:
        return _to_jsonata(json.loads(text))
    except ValueError as exc:
        raise _sfn_error(f"$parse could not parse its argument as JSON: {exc}") from exc


def _eval_refused(*_: Any) -> Any:
    raise _sfn_error("the function $eval is not supported by Step Functions; use $parse")


def _sfn_functions() -> dict[str, Any]:
    from jsonata import Jsonata

    return {
        "partition": Jsonata.JLambda(_partition),
        "range": Jsonata.JLambda(_range),
        "hash": Jsonata.JLambda(_hash),
        "random": Jsonata.JLambda(_random),
        "uuid": Jsonata.JLambda(_uuid),
        "parse": Jsonata.JLambda(_parse),
        "eval": Jsonata.JLambda(_eval_refused),
    }


def _to_jsonata(value: Any) -> Any:
    """A top-level JSON null bound as a variable must stay null, not become undefined."""
    from jsonata import Utils

    return Utils.NULL_VALUE if value is None else value


def _to_json(value: Any, expression: str) -> Any:
    """The result as plain JSON values; a function or regex result is unsupported, as on AWS."""
    from jsonata import Utils

    # Inside a value, None is a JSON null of the data (JSONata itself drops undefined members).
    if value is Utils.NULL_VALUE or value is None:
        return None
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, dict):
        return {str(k): _to_json(v, expression) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v, expression) for v in value]
    raise JsonataEvaluationError(
        f"The JSONata expression '{expression}' returned an unsupported result type."
    )


def evaluate(expression: str, bindings: dict[str, Any]) -> Any:
    """Evaluates one JSONata expression with these variables (names without `$`); UNDEFINED when
    it returns nothing. Raises JsonataEvaluationError with a cause text on any failure."""
    from jsonata import Jsonata

    all_bindings = _sfn_functions()
    all_bindings.update({name: _to_jsonata(value) for name, value in bindings.items()})
    try:
        # A new instance per evaluation: jsonata-python keeps per-thread evaluation state on the
        # instance last made in a thread, and executions evaluate on many threads at once.
        compiled = Jsonata(expression)
        compiled.set_output_convert_nulls(False)
        result = compiled.evaluate(None, all_bindings)
    except JsonataEvaluationError as exc:
        raise JsonataEvaluationError(f"The JSONata expression '{expression}' failed: {exc}") from exc
    except Exception as exc:  # jsonata-python raises JException and plain Python errors alike
        raise JsonataEvaluationError(
            f"Unable to evaluate the JSONata expression '{expression}': {exc}"
        ) from exc
    if result is None:
        return UNDEFINED
    return _to_json(result, expression)


# The field an expression is written in, as AWS names it in a cause ('Arguments/Input/id'): each
# thread evaluates one state's fields at a time, so a per-thread stack of segments is enough.
_field_path = threading.local()

# moto's components that stand for an ASL field -> the field's name (None: the binding's key).
FIELD_COMPONENTS: tuple[tuple[str, str, str | None], ...] = (
    ("moto.stepfunctions.parser.asl.component.common.outputdecl", "Output", "Output"),
    ("moto.stepfunctions.parser.asl.component.common.parargs", "Arguments", "Arguments"),
    ("moto.stepfunctions.parser.asl.component.common.assign.assign_decl", "AssignDecl", "Assign"),
    (
        "moto.stepfunctions.parser.asl.component.common.assign.assign_template_binding",
        "AssignTemplateBinding",
        None,
    ),
    (
        "moto.stepfunctions.parser.asl.component.common.jsonata.jsonata_template_binding",
        "JSONataTemplateBinding",
        None,
    ),
    (
        "moto.stepfunctions.parser.asl.component.common.timeouts.timeout",
        "TimeoutSecondsJSONata",
        "TimeoutSeconds",
    ),
    (
        "moto.stepfunctions.parser.asl.component.common.timeouts.heartbeat",
        "HeartbeatSecondsJSONata",
        "HeartbeatSeconds",
    ),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_map.items.items", "ItemsJSONata", "Items"),
    (
        "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_selector",
        "ItemSelector",
        "ItemSelector",
    ),
    (
        "moto.stepfunctions.parser.asl.component.state.exec.state_map.max_concurrency",
        "MaxConcurrencyJSONata",
        "MaxConcurrency",
    ),
    ("moto.stepfunctions.parser.asl.component.state.wait.wait_function.seconds", "SecondsJSONata", "Seconds"),
    ("moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp", "Timestamp", "Timestamp"),
    (
        "moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison",
        "ConditionStringJSONata",
        "Condition",
    ),
    ("moto.stepfunctions.parser.asl.component.state.fail.error_decl", "Error", "Error"),
    ("moto.stepfunctions.parser.asl.component.state.fail.cause_decl", "Cause", "Cause"),
)


# Arrays in Output/Arguments and in Assign: each element evaluated under its index.
ARRAY_COMPONENTS = (
    "moto.stepfunctions.parser.asl.component.common.jsonata.jsonata_template_value_array.JSONataTemplateValueArray",
    "moto.stepfunctions.parser.asl.component.common.assign.assign_template_value_array.AssignTemplateValueArray",
)


def current_field() -> str | None:
    segments = getattr(_field_path, "segments", None)
    if not segments:
        return None
    # AWS's shape: "/" before each key, an array index right after its field ("Output/a[0]").
    return "".join(s if i == 0 or s.startswith("[") else f"/{s}" for i, s in enumerate(segments))


def _push_segment(segment: str) -> list[str]:
    segments = getattr(_field_path, "segments", None)
    if segments is None:
        segments = _field_path.segments = []
    segments.append(segment)
    return segments


def as_event_details(details: dict[str, Any]) -> Any:
    """moto's EventDetails TypedDict names every event's key as required: a plain dict is what it is."""
    return details


def scope_variables(variable_store: Any) -> dict[str, Any]:
    """Every variable visible in a scope: the outer scopes' values, overridden by its own."""
    visible = dict(variable_store._outer_scope)
    visible.update(variable_store._inner_scope)
    return visible


def apply(patcher: Patcher) -> None:
    jsonata()  # first import here, keeping the recursion limit (arcadeflow/aws/jsonata_library.py)
    from moto.stepfunctions.parser.api import HistoryEventType
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
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.eval import variable_store
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
    from moto.stepfunctions.parser.asl.utils.json_path import extract_json

    def query_evaluation_failure(env: Any, cause: str) -> FailureEventException:
        error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
        details: Any = {"error": error_name.error_name, "cause": cause}
        field = current_field()
        if field:
            details["location"] = field
        failure = FailureEventException(
            failure_event=FailureEvent(
                env=env,
                error_name=error_name,
                event_type=HistoryEventType.EvaluationFailed,
                event_details=as_event_details({"evaluationFailedEventDetails": details}),
            )
        )
        # AWS records the failed evaluation in the history before the state fails.
        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=HistoryEventType.EvaluationFailed,
            event_details={"evaluationFailedEventDetails": failure.get_evaluation_failed_event_details()},
        )
        return failure

    def field_words(env: Any) -> str:
        field = current_field()
        return f" specified for the field '{field}'" if field else ""

    def eval_jsonata_body(self: Any, env: Any) -> None:
        bindings = scope_variables(env.variable_store)
        # $states is reserved: a variable cannot be named "states" (AWS refuses it at create).
        bindings["states"] = env.states._states_data
        try:
            result = evaluate(self.expression, bindings)
        except JsonataEvaluationError as exc:
            raise query_evaluation_failure(env, str(exc)) from None
        if result is UNDEFINED:
            raise query_evaluation_failure(
                env,
                f"The JSONata expression '{self.expression}'{field_words(env)} returned nothing (undefined).",
            )
        env.stack.append(copy.deepcopy(result))

    def eval_variable_sample_body(self: Any, env: Any) -> None:
        if self.query_language_mode == QueryLanguageMode.JSONata:
            eval_jsonata_body(self, env)
            return
        # A JSONPath state: `$name` then a JSONPath tail, e.g. `$order.items[0].sku`.
        match = VARIABLE_PATH.match(self.expression)
        if match is None:
            raise ValueError(f"not a variable reference: {self.expression}")
        name, tail = match.groups()
        value = env.variable_store.get(name)  # NoSuchVariable: States.Runtime names it
        if tail:
            value = extract_json("$" + tail, value)
        env.stack.append(copy.deepcopy(value))

    def eval_jsonata_expression(expression: str) -> Any:
        # moto's own entry point (its text-pasting callers): evaluate the composed text as is.
        try:
            result = evaluate(expression, {})
        except JsonataEvaluationError as exc:
            raise moto_jsonata.JSONataException("UNKNOWN", str(exc)) from None
        return None if result is UNDEFINED else result

    def get_assigned_variables(self: Any) -> dict[str, str]:
        # What AWS records in stateExited's assignedVariables: each value as JSON text.
        return {
            name: json.dumps(self.get(name), separators=(",", ":"), ensure_ascii=False)
            for name in self._declaration_tracing
        }

    def naming_eval(original_eval: Any, segment: str | None) -> Any:
        def eval(self: Any, env: Any) -> None:
            segments = _push_segment(segment or self.identifier)
            try:
                original_eval(self, env)
            finally:
                segments.pop()

        return eval

    def indexed_array_body(self: Any, env: Any) -> None:
        values = []
        for index, value in enumerate(self.values):
            segments = _push_segment(f"[{index}]")
            try:
                value.eval(env)
            finally:
                segments.pop()
            values.append(env.stack.pop())
        env.stack.append(values)

    from moto.stepfunctions.parser.asl.component.state.choice.choice_rule import ChoiceRule
    from moto.stepfunctions.parser.asl.component.state.choice.choices_decl import ChoicesDecl

    original_choices_init = ChoicesDecl.__init__

    def choices_init(self: Any, rules: list[Any]) -> None:
        original_choices_init(self, rules)
        for index, rule in enumerate(rules):
            rule._arcadeflow_field = f"Choices[{index}]"  # a rule knows not its place otherwise

    original_rule_eval = ChoiceRule.eval

    def rule_eval(self: Any, env: Any) -> None:
        segments = _push_segment(getattr(self, "_arcadeflow_field", "Choices"))
        try:
            original_rule_eval(self, env)
        finally:
            segments.pop()

    patcher.replace(ChoicesDecl, "__init__", choices_init)
    patcher.replace(ChoiceRule, "eval", rule_eval)

    for array_class in ARRAY_COMPONENTS:
        module_name, class_name = array_class.rsplit(".", 1)
        patcher.replace(
            getattr(importlib.import_module(module_name), class_name), "_eval_body", indexed_array_body
        )

    for module_name, class_name, segment in FIELD_COMPONENTS:
        component = getattr(importlib.import_module(module_name), class_name)
        patcher.replace(component, "eval", naming_eval(component.eval, segment))

    patcher.replace(string_expression.StringJSONata, "_eval_body", eval_jsonata_body)
    patcher.replace(string_expression.StringVariableSample, "_eval_body", eval_variable_sample_body)
    patcher.replace(variable_store.VariableStore, "get_assigned_variables", get_assigned_variables)
    original = moto_jsonata.eval_jsonata_expression
    patcher.replace(moto_jsonata, "eval_jsonata_expression", eval_jsonata_expression)
    # Modules that imported the function by name keep their own reference.
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("moto.stepfunctions.parser") and (
            getattr(module, "eval_jsonata_expression", None) is original
        ):
            patcher.replace(module, "eval_jsonata_expression", eval_jsonata_expression)


_STRING = "moto.stepfunctions.parser.asl.component.common.string.string_expression"

PATCH = MotoPatch(
    name="stepfunctions_jsonata",
    fixes=(
        "JSONata is parsed but never evaluated: every JSONata state, and every JSONPath path reading a "
        "variable set by Assign, fails with States.Runtime ('NoneType' object is not callable)"
    ),
    upstream="getmoto/moto#10105",  # see upstream/stepfunctions_jsonata.md (and getmoto/moto#10112)
    moto_versions=("5.2.5",),
    targets=tuple(f"{module}.{name}.eval" for module, name, _ in FIELD_COMPONENTS)
    + tuple(f"{array}._eval_body" for array in ARRAY_COMPONENTS)
    + (
        "moto.stepfunctions.parser.asl.component.state.choice.choices_decl.ChoicesDecl.__init__",
        "moto.stepfunctions.parser.asl.component.state.choice.choice_rule.ChoiceRule.eval",
    )
    + (
        f"{_STRING}.StringJSONata._eval_body",
        f"{_STRING}.StringVariableSample._eval_body",
        "moto.stepfunctions.parser.asl.eval.variable_store.VariableStore.get_assigned_variables",
        "moto.stepfunctions.parser.asl.jsonata.jsonata.eval_jsonata_expression",
        "moto.stepfunctions.parser.asl.eval.states.States",
    ),
    kind="fix",
    apply=apply,
    signatures={
        f"{_STRING}.StringJSONata._eval_body": ("self", "env"),
        f"{_STRING}.StringVariableSample._eval_body": ("self", "env"),
        "moto.stepfunctions.parser.asl.jsonata.jsonata.eval_jsonata_expression": ("jsonata_expression",),
        "moto.stepfunctions.parser.asl.component.state.choice.choices_decl.ChoicesDecl.__init__": (
            "self",
            "rules",
        ),
    },
)
