"""The one validator of state machine definitions: what AWS refuses, with AWS's diagnostics.

CreateStateMachine, UpdateStateMachine (moto_patches/stepfunctions_definitions.py) and
ValidateStateMachineDefinition (stepfunctions_extra_apis.py) all ask `diagnose`, so a definition
refused by one is refused by all three, under the same codes and locations.

Three layers, in the order AWS reports them:
- arcadeflow's own checks of what statelint predates or misses: the query language of each
  state (JSONPath-only fields in a JSONata state and the reverse), `{% %}` expressions where a
  JSONata state needs one and their syntax (jsonata-python, the evaluator the interpreter
  runs), Assign and variable names, intrinsic functions (their names, their string escapes,
  their parentheses), and the integrations an EXPRESS machine cannot run;
- statelint (the States Language schema) on a copy of the definition from which the fields it
  does not know (Assign, variables, JSONata expressions in typed fields) have been checked here
  and taken out, so it neither refuses what AWS accepts nor reports twice;
- moto's ASL parser, the interpreter that will run it, which must accept it too.

Locations are JSON pointers into the definition ("/States/A/Next"), as AWS gives them; messages
follow AWS's wording where AWS's is known (the developer guide quotes few of them verbatim).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from statelint.linter import Linter

from arcadeflow.aws.jsonata_library import jsonata

# statelint names a place as "State Machine.States.A.Next"; AWS as a JSON path "/States/A/Next".
STATELINT_PLACE = re.compile(r"State Machine((?:\.[^\s,.\"]+)*)")
# JSON has one number type: AWS takes "BackoffRate": 2 where statelint insists on a float.
STATELINT_INTEGER_AS_FLOAT = re.compile(r" is -?\d+ but should be a Float$")
# ...and a percentage of tolerated failures may have decimals ("ToleratedFailurePercentage": 2.5).
STATELINT_PERCENTAGE_AS_INTEGER = re.compile(
    r"\.ToleratedFailurePercentage is -?[\d.]+ but should be an Integer$"
)
STATELINT_DUPLICATE = re.compile(r'^State "(?P<name>[^"]*)", defined at .*, is also defined at ')
STATELINT_NO_STATE = re.compile(r'^No state found named "(?P<name>[^"]*)"')
STATELINT_UNREACHABLE = re.compile(r"^No transition found to state State Machine\.(?P<name>.+)$")

JSONPATH, JSONATA = "JSONPath", "JSONata"
# Fields of the JSONPath query language only (developer guide, "Transforming data with JSONata
# in Step Functions": JSONata states use Arguments and Output instead).
JSONPATH_ONLY_FIELDS = (
    "InputPath",
    "Result",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
)
JSONATA_ONLY_FIELDS = ("Arguments", "Output", "Items")
# Choice rule fields of JSONPath (a JSONata rule is {"Condition": ..., "Next": ...}).
JSONPATH_RULE_FIELDS = ("Variable", "And", "Or", "Not")
# Fields of a JSONata state that take a number (or a JSONata expression giving one).
JSONATA_NUMBER_FIELDS = (
    "TimeoutSeconds",
    "HeartbeatSeconds",
    "Seconds",
    "MaxConcurrency",
    "ToleratedFailureCount",
    "ToleratedFailurePercentage",
)
ASSIGNING_TYPES = ("Pass", "Task", "Map", "Parallel", "Choice", "Wait")
# Wait "Seconds": "an integer value from 0 to 99999999" (developer guide, "Wait workflow state").
MAX_WAIT_SECONDS = 99_999_999
MAX_VARIABLE_NAME_LENGTH = 80
RESERVED_VARIABLE = "states"

INTRINSIC_FUNCTIONS = frozenset(
    {
        "Format",
        "StringToJson",
        "JsonToString",
        "Array",
        "ArrayPartition",
        "ArrayContains",
        "ArrayRange",
        "ArrayGetItem",
        "ArrayLength",
        "ArrayUnique",
        "Base64Encode",
        "Base64Decode",
        "Hash",
        "JsonMerge",
        "MathRandom",
        "MathAdd",
        "StringSplit",
        "UUID",
    }
)
# "Intrinsic functions": in a string literal argument, ' { } \ are escaped with a backslash;
# no other escape exists.
INTRINSIC_ESCAPABLE = "'{}\\"

# A service integration's pattern, from its Resource ARN.
INTEGRATION_PATTERN = re.compile(r"^arn:aws[a-z-]*:states:::[^:]+:[^.]+\.(?P<pattern>sync|waitForTaskToken)")
ACTIVITY_ARN = re.compile(r"^arn:aws[a-z-]*:states:[^:]+:\d{12}:activity:")


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    location: str | None = None
    severity: str = "ERROR"

    def as_api(self) -> dict[str, Any]:
        """As ValidateStateMachineDefinition lists it."""
        out: dict[str, Any] = {"severity": self.severity, "code": self.code, "message": self.message}
        if self.location:
            out["location"] = self.location
        return out

    def as_problem(self) -> str:
        """As CreateStateMachine's InvalidDefinition quotes it: "CODE: message at /location"."""
        where = f" at {self.location}" if self.location else ""
        return f"{self.code}: {self.message}{where}"


def invalid_definition_message(diagnostics: list[Diagnostic]) -> str:
    """InvalidDefinition's message: the problems joined by ", " inside one pair of quotes, as AWS
    answers (e.g. "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next'
    target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State "pass2" is not
    reachable. at /States/pass2'", AWS's answer quoted in localstack/localstack#11978)."""
    errors = [d for d in diagnostics if d.severity == "ERROR"]
    return f"Invalid State Machine Definition: '{', '.join(d.as_problem() for d in errors)}'"


def diagnose(
    definition: str, machine_type: str = "STANDARD", *, interpreter: bool = True
) -> list[Diagnostic]:
    """Every problem AWS would report for `definition` as a state machine of `machine_type`.

    interpreter=False leaves out moto's parser, for callers about to hand the definition to moto,
    which parses it again anyway (the parse is nearly all of the cost: ~450 ms of ~470 ms for
    status_fanout's 10 kB under load)."""
    try:
        parsed = json.loads(definition)
    except json.JSONDecodeError as exc:
        return [Diagnostic("INVALID_JSON_DESCRIPTION", str(exc))]
    if not isinstance(parsed, dict):
        return [Diagnostic("SCHEMA_VALIDATION_FAILED", "The definition must be a JSON object", "/")]
    checker = _Checker(machine_type)
    for_statelint = checker.check_machine(parsed)
    diagnostics = checker.found + [
        _statelint_diagnostic(p)
        for p in Linter.validate(for_statelint)
        if not STATELINT_INTEGER_AS_FLOAT.search(p) and not STATELINT_PERCENTAGE_AS_INTEGER.search(p)
    ]
    if diagnostics or not interpreter:
        return diagnostics
    return _interpreter_diagnostics(definition)


def _statelint_diagnostic(problem: str) -> Diagnostic:
    place = STATELINT_PLACE.search(problem)
    location = None
    if place:
        location = "/" + "/".join(re.sub(r"\[(\d+)\]", r".\1", place.group(1)).split(".")[1:])
    duplicate = STATELINT_DUPLICATE.match(problem)
    if duplicate:
        # State names are unique in the whole machine, branches and iterations included.
        return Diagnostic("DUPLICATE_STATE_NAME", f"Duplicate State name: {duplicate['name']}", location)
    unreachable = STATELINT_UNREACHABLE.match(problem)
    if unreachable:
        name = unreachable["name"]
        return Diagnostic(
            "MISSING_TRANSITION_TARGET", f'State "{name}" is not reachable.', _pointer("States", name)
        )
    missing = STATELINT_NO_STATE.match(problem)
    if missing:
        return Diagnostic("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {missing['name']}", location)
    if problem.startswith("No terminal state"):
        return Diagnostic("NO_TERMINAL_STATE", "No terminal state found in machine", location)
    return Diagnostic("SCHEMA_VALIDATION_FAILED", problem, location)


def _interpreter_diagnostics(definition: str) -> list[Diagnostic]:
    """What moto's ASL parser (the embedded interpreter) rejects that the checks above let by."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as exc:  # the parser raises bare ANTLR and value errors
        return [interpreter_diagnostic(str(exc))]
    return []


def interpreter_diagnostic(reason: str) -> Diagnostic:
    return Diagnostic("SCHEMA_VALIDATION_FAILED", f"The embedded interpreter cannot parse it: {reason}")


def is_jsonata_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}") and len(value) >= 4


def jsonata_problem(expression: str) -> str | None:
    """Why the JSONata expression of a `{% ... %}` string does not parse, or None."""
    library = jsonata()  # jsonata-python, the evaluator the embedded interpreter runs JSONata with

    try:
        library.Jsonata(expression[2:-2].strip())
    except library.JException as exc:  # its one error type, for every syntax error
        return str(exc)
    return None


def variable_name_problem(name: str) -> str | None:
    """Why `name` cannot be a workflow variable, or None.

    Developer guide, "Passing data between states with variables": names follow Unicode Standard
    Annex #31 (an ID_Start character, then ID_Continue characters), at most 80 characters, and
    `states` is reserved.
    """
    if name == RESERVED_VARIABLE:
        return f"The variable name '{name}' is reserved"
    if not 1 <= len(name) <= MAX_VARIABLE_NAME_LENGTH:
        return f"A variable name is 1 to {MAX_VARIABLE_NAME_LENGTH} characters, '{name}' has {len(name)}"
    first = unicodedata.category(name[0])
    # ID_Start is the letters and letter numbers; Python's identifiers also allow "_" first.
    if not (first.startswith("L") or first == "Nl") or not ("a" + name[1:]).isidentifier():
        return f"The variable name '{name}' is not valid"
    return None


def intrinsic_problem(text: str) -> str | None:
    """Why `text` (a string starting with "States.") is not a valid intrinsic function call."""
    try:
        end = _IntrinsicParser(text).call(0)
    except _IntrinsicError as exc:
        return str(exc)
    if text[end:].strip():
        return f"unexpected {text[end:].strip()!r} after the call"
    return None


class _IntrinsicError(Exception):
    pass


class _IntrinsicParser:
    """A recogniser of intrinsic function calls: States.Name(arg, ...), arguments being string
    literals, numbers, true/false/null, paths ($..., $$...) and nested calls."""

    NAME = re.compile(r"States\.([A-Za-z0-9]+)\(")
    NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
    WORD = re.compile(r"(true|false|null)\b")

    def __init__(self, text: str) -> None:
        self.text = text

    def _skip(self, at: int) -> int:
        while at < len(self.text) and self.text[at] == " ":
            at += 1
        return at

    def call(self, at: int) -> int:
        match = self.NAME.match(self.text, at)
        if match is None:
            raise _IntrinsicError(f"expected States.<function>( at position {at}")
        if match[1] not in INTRINSIC_FUNCTIONS:
            raise _IntrinsicError(f"States.{match[1]} is not an intrinsic function")
        at = self._skip(match.end())
        if at < len(self.text) and self.text[at] == ")":
            return at + 1
        while True:
            at = self._skip(self.argument(self._skip(at)))
            if at >= len(self.text):
                raise _IntrinsicError(f"States.{match[1]}( is never closed")
            if self.text[at] == ")":
                return at + 1
            if self.text[at] != ",":
                raise _IntrinsicError(f"expected ',' or ')' at position {at}")
            at += 1

    def argument(self, at: int) -> int:
        text = self.text
        if at >= len(text):
            raise _IntrinsicError("an argument is missing")
        if text[at] == "'":
            return self.string(at)
        if text.startswith("States.", at):
            return self.call(at)
        if text[at] == "$":
            end = at
            depth = 0
            while end < len(text) and (depth or text[end] not in ",)"):
                depth += {"[": 1, "]": -1, "(": 1, ")": -1}.get(text[end], 0)
                end += 1
            return end
        for pattern in (self.NUMBER, self.WORD):
            match = pattern.match(text, at)
            if match:
                return match.end()
        raise _IntrinsicError(f"unexpected {text[at]!r} at position {at}")

    def string(self, at: int) -> int:
        text = self.text
        at += 1
        while at < len(text):
            char = text[at]
            if char == "\\":
                escaped = text[at + 1 : at + 2]
                if not escaped or escaped not in INTRINSIC_ESCAPABLE:
                    raise _IntrinsicError(f"illegal escape '\\{escaped}' in a string argument")
                at += 2
                continue
            if char == "'":
                return at + 1
            at += 1
        raise _IntrinsicError("a string argument is never closed")


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class _Checker:
    """Walks a definition; records diagnostics in `found`, returns the copy statelint checks."""

    def __init__(self, machine_type: str) -> None:
        self.machine_type = machine_type
        self.found: list[Diagnostic] = []

    def problem(self, message: str, *where: str, code: str = "SCHEMA_VALIDATION_FAILED") -> None:
        self.found.append(Diagnostic(code, message, _pointer(*where)))

    def check_machine(self, machine: dict[str, Any]) -> dict[str, Any]:
        language = machine.get("QueryLanguage", JSONPATH)
        if language not in (JSONPATH, JSONATA):
            self.problem(
                f"The field 'QueryLanguage' should have one of these values: [{JSONPATH}, {JSONATA}]",
                "QueryLanguage",
            )
            language = JSONPATH
        out = self.check_states(machine, language, ())
        out.pop("QueryLanguage", None)
        return out

    def check_states(self, machine: dict[str, Any], language: str, where: tuple[str, ...]) -> dict[str, Any]:
        out = dict(machine)
        states = machine.get("States")
        if isinstance(states, dict):
            out["States"] = {
                name: self.check_state(state, language, (*where, "States", name))
                if isinstance(state, dict)
                else state
                for name, state in states.items()
            }
        return out

    def check_state(self, state: dict[str, Any], inherited: str, where: tuple[str, ...]) -> dict[str, Any]:
        out = dict(state)
        language = state.get("QueryLanguage", inherited)
        if language not in (JSONPATH, JSONATA):
            self.problem(
                f"The field 'QueryLanguage' should have one of these values: [{JSONPATH}, {JSONATA}]",
                *where,
                "QueryLanguage",
            )
            language = inherited
        elif inherited == JSONATA and language == JSONPATH:
            # The interpreter refuses it too ("Cannot downgrade from JSONata context").
            self.problem(
                "A state cannot use QueryLanguage 'JSONPath' inside a JSONata state machine or state",
                *where,
                "QueryLanguage",
            )
        kind = state.get("Type")
        if language == JSONATA:
            self._jsonata_state(state, out, where)
        else:
            self._jsonpath_state(state, out, where)
        if "Assign" in state:
            self._assign(state["Assign"], language, kind, (*where, "Assign"))
            out.pop("Assign")
        if kind == "Task":
            self._task_resource(state.get("Resource"), (*where, "Resource"))
        if (
            kind == "Wait"
            and isinstance(state.get("Seconds"), int)
            and not isinstance(state["Seconds"], bool)
        ) and not 0 <= state["Seconds"] <= MAX_WAIT_SECONDS:
            self.problem(
                f"The value of the field 'Seconds' must be between 0 and {MAX_WAIT_SECONDS}",
                *where,
                "Seconds",
            )
        if kind == "Choice" and isinstance(state.get("Choices"), list):
            out["Choices"] = [
                self._choice_rule(rule, language, (*where, "Choices", str(i)))
                if isinstance(rule, dict)
                else rule
                for i, rule in enumerate(state["Choices"])
            ]
        if kind == "Parallel" and isinstance(state.get("Branches"), list):
            out["Branches"] = [
                self.check_states(branch, language, (*where, "Branches", str(i)))
                if isinstance(branch, dict)
                else branch
                for i, branch in enumerate(state["Branches"])
            ]
        if kind == "Map":
            for processor in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(processor), dict):
                    out[processor] = self.check_states(state[processor], language, (*where, processor))
        for handlers in ("Catch",):
            if isinstance(state.get(handlers), list):
                out[handlers] = [
                    self._catcher(catcher, language, (*where, handlers, str(i)))
                    if isinstance(catcher, dict)
                    else catcher
                    for i, catcher in enumerate(state[handlers])
                ]
        return out

    # --- per query language -------------------------------------------------------------------

    def _jsonata_state(self, state: dict[str, Any], out: dict[str, Any], where: tuple[str, ...]) -> None:
        out.pop("QueryLanguage", None)
        for field in JSONPATH_ONLY_FIELDS:
            if field in state:
                self.problem(f"The field '{field}' is not supported for JSONata states", *where, field)
                out.pop(field)
        for field in JSONATA_NUMBER_FIELDS:
            value = state.get(field)
            if isinstance(value, str):
                if is_jsonata_expression(value):
                    self._jsonata_syntax(value, (*where, field))
                    out[field] = 1  # its value is known only at run time; statelint checks the rest
                else:
                    self.problem(
                        f"The value of the field '{field}' must be a number or a JSONata expression"
                        " enclosed in {% %}",
                        *where,
                        field,
                    )
                    out.pop(field)
        timestamp = state.get("Timestamp")
        if isinstance(timestamp, str) and is_jsonata_expression(timestamp):
            self._jsonata_syntax(timestamp, (*where, "Timestamp"))
            out["Timestamp"] = "2024-01-01T00:00:00Z"
        items = state.get("Items")
        if items is not None and not isinstance(items, list) and not is_jsonata_expression(items):
            self.problem(
                "The value of the field 'Items' must be an array or a JSONata expression", *where, "Items"
            )
        for field in ("Arguments", "Output", "Items", "Error", "Cause"):
            if field in state:
                self._expressions(state[field], (*where, field))
        for field in ("Arguments", "Output", "Items"):
            out.pop(field, None)
        if isinstance(state.get("Error"), str):
            out["Error"] = "E"
        if isinstance(state.get("Cause"), str):
            out["Cause"] = "C"

    def _jsonpath_state(self, state: dict[str, Any], out: dict[str, Any], where: tuple[str, ...]) -> None:
        out.pop("QueryLanguage", None)
        for field in JSONATA_ONLY_FIELDS:
            if field in state:
                self.problem(
                    f"The field '{field}' is supported only when the QueryLanguage is JSONata", *where, field
                )
                out.pop(field)
        for field in ("Parameters", "ResultSelector", "ItemSelector"):
            if field in state:
                out[field] = self._payload_template(state[field], (*where, field))

    def _expressions(self, value: Any, where: tuple[str, ...]) -> None:
        """A string that opens a JSONata expression must close it."""
        if isinstance(value, str):
            if value.startswith("{%") and not is_jsonata_expression(value):
                self.problem("The JSONata expression is not enclosed in {% %}", *where)
            elif is_jsonata_expression(value):
                self._jsonata_syntax(value, where)
        elif isinstance(value, dict):
            for key, inner in value.items():
                self._expressions(inner, (*where, key))
        elif isinstance(value, list):
            for i, inner in enumerate(value):
                self._expressions(inner, (*where, str(i)))

    def _jsonata_syntax(self, expression: str, where: tuple[str, ...]) -> None:
        reason = jsonata_problem(expression)
        if reason:
            self.problem(f"The JSONata expression '{expression}' is not valid: {reason}", *where)

    def _payload_template(self, value: Any, where: tuple[str, ...]) -> Any:
        """Checks the "key.$" values of a JSONPath payload template; a copy statelint accepts."""
        if isinstance(value, list):
            return [self._payload_template(v, (*where, str(i))) for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for key, inner in value.items():
            if key.endswith(".$") and isinstance(inner, str):
                out[key] = self._dynamic_value(key, inner, where)
            else:
                out[key] = self._payload_template(inner, (*where, key))
        return out

    def _dynamic_value(self, key: str, value: str, where: tuple[str, ...]) -> str:
        """A "key.$" value: a path, a variable, or an intrinsic function call."""
        invalid = (
            f"The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call"
        )
        if value.startswith("States."):
            reason = intrinsic_problem(value)
            if reason:
                self.problem(f"{invalid} ({reason})", *where)
            return "$"  # statelint's own intrinsic check is weaker: this one decides
        variable = re.match(r"^\$([^.\[$]+)", value)
        if variable and not value.startswith("$$"):
            reason = variable_name_problem(variable[1])
            if reason:
                self.problem(f"{invalid} ({reason})", *where)
            return "$"
        return value

    def _assign(self, assign: Any, language: str, kind: Any, where: tuple[str, ...]) -> None:
        if kind not in ASSIGNING_TYPES:
            self.problem(f"The field 'Assign' is not supported by Step Functions in a {kind} state", *where)
            return
        if not isinstance(assign, dict):
            self.problem("The value of the field 'Assign' must be an object", *where)
            return
        for key, value in assign.items():
            name = key[:-2] if language == JSONPATH and key.endswith(".$") else key
            reason = variable_name_problem(name)
            if reason:
                self.problem(reason, *where, key)
            if language == JSONPATH and key.endswith(".$") and isinstance(value, str):
                self._dynamic_value(key, value, where)
            elif language == JSONPATH:
                self._payload_template(value, (*where, key))
            else:
                self._expressions(value, (*where, key))

    def _choice_rule(self, rule: dict[str, Any], language: str, where: tuple[str, ...]) -> dict[str, Any]:
        out = dict(rule)
        if "Assign" in rule:
            self._assign(rule["Assign"], language, "Choice", (*where, "Assign"))
            out.pop("Assign")
        if language == JSONATA:
            for field in JSONPATH_RULE_FIELDS:
                if field in rule:
                    self.problem(f"The field '{field}' is not supported for JSONata states", *where, field)
            condition = rule.get("Condition")
            if condition is None:
                self.problem("The field 'Condition' is required but was missing", *where)
            elif isinstance(condition, str) and is_jsonata_expression(condition):
                self._jsonata_syntax(condition, (*where, "Condition"))
            elif not isinstance(condition, bool):
                self.problem(
                    "The value of the field 'Condition' must be a boolean or a JSONata expression"
                    " enclosed in {% %}",
                    *where,
                    "Condition",
                )
            # statelint sees a JSONPath rule of the same shape, to check Next.
            return {"Variable": "$", "IsPresent": True, **({"Next": rule["Next"]} if "Next" in rule else {})}
        if "Condition" in rule:
            self.problem(
                "The field 'Condition' is supported only when the QueryLanguage is JSONata",
                *where,
                "Condition",
            )
            out.pop("Condition")
        variable = rule.get("Variable")
        if isinstance(variable, str) and re.match(r"^\$[^.\[$]", variable):
            reason = variable_name_problem(re.split(r"[.\[]", variable[1:], maxsplit=1)[0])
            if reason:
                self.problem(reason, *where, "Variable")
            out["Variable"] = "$"
        for field, value in rule.items():
            # A comparison with another value ("StringEqualsPath": "$limit") may read a variable.
            if field.endswith("Path") and isinstance(value, str) and re.match(r"^\$[^.\[$]", value):
                reason = variable_name_problem(re.split(r"[.\[]", value[1:], maxsplit=1)[0])
                if reason:
                    self.problem(reason, *where, field)
                out[field] = "$"
        for field in ("And", "Or"):
            if isinstance(rule.get(field), list):
                out[field] = [
                    self._choice_rule(r, language, (*where, field, str(i))) if isinstance(r, dict) else r
                    for i, r in enumerate(rule[field])
                ]
        if isinstance(rule.get("Not"), dict):
            out["Not"] = self._choice_rule(rule["Not"], language, (*where, "Not"))
        return out

    def _catcher(self, catcher: dict[str, Any], language: str, where: tuple[str, ...]) -> dict[str, Any]:
        out = dict(catcher)
        if "Assign" in catcher:
            self._assign(catcher["Assign"], language, "Task", (*where, "Assign"))
            out.pop("Assign")
        if language == JSONATA:
            if "ResultPath" in catcher:
                self.problem(
                    "The field 'ResultPath' is not supported for JSONata states", *where, "ResultPath"
                )
                out.pop("ResultPath")
            if "Output" in catcher:
                self._expressions(catcher["Output"], (*where, "Output"))
                out.pop("Output")
        elif "Output" in catcher:
            self.problem(
                "The field 'Output' is supported only when the QueryLanguage is JSONata", *where, "Output"
            )
            out.pop("Output")
        return out

    def _task_resource(self, resource: Any, where: tuple[str, ...]) -> None:
        if self.machine_type != "EXPRESS" or not isinstance(resource, str):
            return
        # Developer guide, "Discover service integration patterns in Step Functions": Express
        # workflows support neither .sync nor .waitForTaskToken, nor activities.
        pattern = INTEGRATION_PATTERN.match(resource)
        if pattern:
            self.problem(
                f"Express state machine does not support '.{pattern['pattern']}' service integration", *where
            )
        elif ACTIVITY_ARN.match(resource):
            self.problem("Express state machine does not support Activity ARN", *where)
