"""Intrinsic functions as the developer guide defines them ("Intrinsic functions for JSONPath
states in Step Functions"): escaped characters in string literals, `null` arguments,
States.Format's `{}`, and States.IntrinsicFailure for a function that cannot be evaluated.

moto departs from the guide in four ways, each seen in tests/conformance/test_basics_intrinsics.py:
- It hands the intrinsic function its JSON text still escaped: `"States.Format('It\\\\'s {}', ..)"`
  in the definition reaches its intrinsic parser as `It\\\\'s`, so the literal ends early and the
  rest is dropped ("It\\\\"). The guide's escapes in a literal (`\\'`, `\\{`, `\\}`, `\\\\`) stand
  for the character itself.
- Its intrinsic grammar has no `null` argument, and its parser recovers from the syntax error
  by dropping it: the guide's `States.Array('Foo', 2020, $.someJson, null)` answers three items.
- States.Format formats with Python's str.format: a literal `{x}` is a KeyError, `{0}` a
  positional index, and escaped braces are not literal braces. AWS knows only `{}`; a count of
  `{}` other than the arguments given is an error.
- Any exception while evaluating one (ArrayGetItem past the end, StringToJson of text that is
  not JSON, Format's count) fails as States.Runtime, where AWS fails with
  States.IntrinsicFailure, which a Catch can name.
"""

from __future__ import annotations

import json
import re
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher
from arcadeflow.aws.moto_patches.states_failure import states_failure

_PARSER = "moto.stepfunctions.parser.asl.parse"
_FORMAT = (
    "moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.generic"
    ".string_format.StringFormat"
)
_STRING_INTRINSIC = (
    "moto.stepfunctions.parser.asl.component.common.string.string_expression.StringIntrinsicFunction"
)

# One piece of a literal: an escaped character, a {} placeholder, or any other character.
_PIECE = re.compile(r"\\(.)|(\{\})|(.)", re.DOTALL)
_CONTROL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
PLACEHOLDER = object()


def literal_pieces(raw: str) -> list[Any]:
    """A string literal's text (between its quotes) as characters and PLACEHOLDERs."""
    pieces: list[Any] = []
    for match in _PIECE.finditer(raw):
        escaped, placeholder, plain = match.groups()
        if placeholder is not None:
            pieces.append(PLACEHOLDER)
        elif escaped is not None:
            pieces.append(_CONTROL_ESCAPES.get(escaped, escaped))
        else:
            pieces.append(plain)
    return pieces


# `null` as an argument: after `(` or `,`, before `,` or `)`, outside string literals.
_NULL_ARGUMENT = re.compile(r"(?<=[(,])(\s*)null(\s*)(?=[,)])")
_STRING_LITERAL = re.compile(r"'(?:\\.|[^'\\])*'", re.DOTALL)
# moto's intrinsic grammar has no null literal (its parser drops the argument silently); this
# expression evaluates to null with the grammar it has.
NULL_EXPRESSION = "States.StringToJson('null')"


def with_null_arguments(derivation: str) -> str:
    """The intrinsic call with each `null` argument written as an expression moto can parse."""
    pieces, last = [], 0
    for literal in _STRING_LITERAL.finditer(derivation):
        pieces.append(_NULL_ARGUMENT.sub(rf"\1{NULL_EXPRESSION}\2", derivation[last : literal.start()]))
        pieces.append(literal.group())
        last = literal.end()
    pieces.append(_NULL_ARGUMENT.sub(rf"\1{NULL_EXPRESSION}\2", derivation[last:]))
    return "".join(pieces)


def formatted(pieces: list[Any], values: list[str]) -> str:
    wanted = sum(1 for p in pieces if p is PLACEHOLDER)
    if wanted != len(values):
        raise ValueError(
            f"States.Format: the template has {wanted} placeholders '{{}}'"
            f" but {len(values)} arguments were given"
        )
    supplied = iter(values)
    return "".join(next(supplied) if p is PLACEHOLDER else p for p in pieces)


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
        StringIntrinsicFunction,
    )
    from moto.stepfunctions.parser.asl.component.intrinsic.argument.argument import ArgumentLiteral
    from moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.generic import (
        string_format,
    )
    from moto.stepfunctions.parser.asl.parse.intrinsic.intrinsic_parser import IntrinsicParser
    from moto.stepfunctions.parser.asl.parse.intrinsic.preprocessor import (
        Preprocessor as IntrinsicPreprocessor,
    )
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    StringFormat = string_format.StringFormat  # noqa: N806

    def visit_string_intrinsic_function(self: Any, ctx: Any) -> Any:
        # The token is a JSON string: its JSON escapes undone, the intrinsic's own remain.
        token = ctx.STRINGINTRINSICFUNC().getText()
        try:
            derivation = json.loads(token)
        except ValueError:
            derivation = token[1:-1]
        function, _ = IntrinsicParser.parse(with_null_arguments(derivation))
        return StringIntrinsicFunction(intrinsic_function_derivation=derivation, function=function)

    def visit_func_arg_string(self: Any, ctx: Any) -> Any:
        raw = ctx.STRING().getText()[1:-1]
        pieces = literal_pieces(raw)
        argument: Any = ArgumentLiteral(
            definition_value="".join("{}" if p is PLACEHOLDER else p for p in pieces)
        )
        argument._arcadeflow_pieces = pieces  # States.Format tells an escaped \{\} from a placeholder
        return argument

    def format_eval_body(self: Any, env: Any) -> None:
        self.argument_list.eval(env=env)
        args = env.stack.pop()
        template, values = args[0], [StringFormat._to_str_repr(v) for v in args[1:]]
        first = self.argument_list.arguments[0]
        pieces = getattr(first, "_arcadeflow_pieces", None)
        if pieces is None:  # a template read from the input: only {} is special
            if not isinstance(template, str):
                raise ValueError(f"States.Format: the template is not a string: {template!r}")
            parts = template.split("{}")
            pieces = [piece for part in parts for piece in (*part, PLACEHOLDER)][:-1]
        env.stack.append(formatted(pieces, values))

    original_eval_body = StringIntrinsicFunction._eval_body

    def intrinsic_eval_body(self: Any, env: Any) -> None:
        try:
            original_eval_body(self, env)
        except FailureEventException:
            raise
        except Exception as exc:
            error = StatesErrorNameType.StatesIntrinsicFailure
            cause = f"The evaluation of '{self.intrinsic_function_derivation}' failed: {exc}"
            raise states_failure(env, error, cause) from exc

    patcher.replace(Preprocessor, "visitString_intrinsic_function", visit_string_intrinsic_function)
    patcher.replace(IntrinsicPreprocessor, "visitFunc_arg_string", visit_func_arg_string)
    patcher.replace(StringFormat, "_eval_body", format_eval_body)
    patcher.replace(StringIntrinsicFunction, "_eval_body", intrinsic_eval_body)


PATCH = MotoPatch(
    name="stepfunctions_intrinsic_functions",
    fixes=(
        "escapes in intrinsic string literals are read wrong (the literal ends early), States.Format"
        " uses str.format ({x} is a KeyError), and a failing intrinsic is States.Runtime, not"
        " States.IntrinsicFailure"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_PARSER}.preprocessor.Preprocessor.visitString_intrinsic_function",
        f"{_PARSER}.intrinsic.preprocessor.Preprocessor.visitFunc_arg_string",
        f"{_PARSER}.intrinsic.intrinsic_parser.IntrinsicParser.parse",
        f"{_FORMAT}._eval_body",
        f"{_FORMAT}._to_str_repr",
        f"{_STRING_INTRINSIC}._eval_body",
        f"{_STRING_INTRINSIC}.__init__",
    ),
    kind="fix",
    apply=apply,
    signatures={
        f"{_PARSER}.preprocessor.Preprocessor.visitString_intrinsic_function": ("self", "ctx"),
        f"{_PARSER}.intrinsic.preprocessor.Preprocessor.visitFunc_arg_string": ("self", "ctx"),
        f"{_FORMAT}._eval_body": ("self", "env"),
        f"{_STRING_INTRINSIC}._eval_body": ("self", "env"),
        f"{_STRING_INTRINSIC}.__init__": ("self", "intrinsic_function_derivation", "function"),
    },
)
