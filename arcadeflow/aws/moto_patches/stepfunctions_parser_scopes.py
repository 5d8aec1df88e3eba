"""Each parse of a definition has its own query-language scopes.

moto's ASL Preprocessor keeps the stack of query-language scopes (JSONPath or JSONata, one per
state machine, branch and state) in a list defined on the class, so every parse shares it. A
parse that raises inside a scope (a refused definition: a JSONPath state inside a JSONata
machine, a Timestamp that is not one) leaves its scopes on the shared stack, and every later
parse in the process inherits them: a plain JSONPath machine is then refused with "Unsupported
declaration in QueryLanguage=JSONPath block", or a JSONata one is read as JSONPath. Seen in
the suite: one InvalidDefinition answered, the next valid CreateStateMachine refused. Two
threads parsing at once (the embedded AWS serves requests on threads, and an execution parses
its machine when it starts) share it too.

Here each Preprocessor gets a list of its own when it is made.
"""

from __future__ import annotations

from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_PREPROCESSOR = "moto.stepfunctions.parser.asl.parse.preprocessor.Preprocessor"


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    original_init = Preprocessor.__init__

    def init_with_scopes_of_its_own(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self._query_language_per_scope = []

    patcher.replace(Preprocessor, "__init__", init_with_scopes_of_its_own)


PATCH = MotoPatch(
    name="stepfunctions_parser_scopes",
    fixes=(
        "the ASL preprocessor's query-language scopes live on the class: after one refused definition"
        " every later parse inherits its scopes and valid definitions are refused"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_PREPROCESSOR}._query_language_per_scope", f"{_PREPROCESSOR}._open_query_language_scope"),
    kind="fix",
    apply=apply,
)
