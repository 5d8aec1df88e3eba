"""Each state machine definition, intrinsic function and JSONPath is parsed once, not per use.

moto's interpreter parses the whole definition with ANTLR at the start of every execution
(ExecutionWorker._get_evaluation_entrypoint), again at CreateStateMachine and in each static
analysis; every `States.*` intrinsic is parsed again (ANTLR) while the definition's components
are built; and every JSONPath (InputPath, `"x.$"` parameters, ResultPath, ResultSelector,
Choice variables) is parsed with jsonpath_ng, which builds a new yacc parser per call, at every
evaluation. Measured in the duel benchmark (py-spy of the server, 2026-12-02): 21 % of all
samples re-parsed the ASL, 11 % re-parsed JSONPath; one 10 kB definition takes ~100 ms of
ANTLR and ~25 ms to turn its tree into components on a quiet 2-core machine.

What is cached is only what is immutable once built:
- the ANTLR parse tree of a definition (and of an intrinsic function), keyed by its exact text.
  Every parse still builds FRESH evaluation components from the cached tree (the Preprocessor's
  visit), so no two executions share a component, and every patch that changes the
  Preprocessor (scopes, intrinsics, JSONata, variables) applies as before. Visiting reads the
  tree (children, token text) and writes nothing to it, so many threads can visit one tree at
  once. A definition that does not parse is not cached: it raises the same error every time.
- the text of each rule node of a cached tree (antlr4's RuleContext.getText, which joins the
  text of the node's whole subtree at every call). moto's Preprocessor calls it eagerly on
  large nodes only to word error messages it never raises (`raise_on_missing=ValueError(
  f"... {ctx.getText()}")`: twice on the whole program, and on every Map, Parallel, Task and
  Choice rule): 40 % of building a program from its cached tree. The text of a cached tree's
  node cannot change, so it is joined once. Nodes of any other tree (a parse in progress, a
  TestState definition) are answered as before.
- parsed jsonpath_ng expressions, keyed by the path text: jsonpath_ng's expression objects
  are set up in their constructors and never written after (find, update and update_or_create
  make new DatumInContext objects and change only the data), so one can be shared.

Both caches are bounded LRU maps: ~0.5 MB per cached 10 kB definition tree, so 128 definitions
hold at most ~70 MB; JSONPath expressions are small, 4,096 of them.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_ASL = "moto.stepfunctions.parser.asl"
_PARSER = f"{_ASL}.parse.asl_parser.AmazonStateLanguageParser"
_INTRINSIC_PARSER = f"{_ASL}.parse.intrinsic.intrinsic_parser.IntrinsicParser"
_JSON_PATH = f"{_ASL}.utils.json_path"
_RESULT_PATH = f"{_ASL}.component.common.path.result_path"

DEFINITION_TREES_KEPT = 128
INTRINSIC_TREES_KEPT = 1024
JSONPATHS_KEPT = 4096


def _rule_nodes(tree: Any) -> Iterator[Any]:
    """Every rule node (ParserRuleContext) of a tree; its terminals carry their own text."""
    from antlr4 import ParserRuleContext

    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ParserRuleContext):
            yield node
            pending.extend(node.children or ())


class FrozenTexts:
    """The joined text of each rule node of the cached trees, computed at the first ask.

    Keyed by id(node): antlr4's contexts have __slots__ (no attribute can be added to a node, nor
    a weak reference taken). A tree's nodes are registered when the cache keeps it and forgotten
    before the cache lets it go, so an id here always names a live node of a cached tree; a
    thread still visiting an evicted tree is answered by antlr4's own getText, the same text.
    Registering, forgetting and storing a joined text hold one lock, so a text joined while its
    tree was evicted is not stored under an id a later node may reuse; reading takes no lock.
    """

    _ABSENT: Any = object()

    def __init__(self) -> None:
        self._texts: dict[int, str | None] = {}
        self._lock = threading.Lock()

    def register(self, tree: Any) -> None:
        with self._lock:
            for node in _rule_nodes(tree):
                self._texts.setdefault(id(node), None)

    def forget(self, tree: Any) -> None:
        with self._lock:
            for node in _rule_nodes(tree):
                self._texts.pop(id(node), None)

    def get_text(self, node: Any, join: Callable[[Any], str]) -> str:
        key = id(node)
        text = self._texts.get(key, self._ABSENT)
        if text is self._ABSENT:
            return join(node)
        if text is None:
            # Two threads may join one node at once: the same text, stored twice.
            text = join(node)
            with self._lock:
                if key in self._texts:
                    self._texts[key] = text
        return text

    def __len__(self) -> int:
        return len(self._texts)


FROZEN_TEXTS = FrozenTexts()


class TreeCache:
    """A bounded, thread-safe LRU map of source text -> parse tree; builds a tree on a miss.

    Two threads missing the same text at once may both build it; either tree is right, and
    holding the lock for a parse (~100 ms) would serialise every execution start behind it.
    `texts`, when given, learns each kept tree's nodes (and forgets an evicted tree's).
    """

    def __init__(self, kept: int, build: Callable[[str], Any], texts: FrozenTexts | None = None):
        self._kept = kept
        self._build = build
        self._texts = texts
        self._trees: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.parses = 0  # how many texts were parsed (misses), for the canary and the benchmark

    def tree(self, text: str) -> Any:
        with self._lock:
            tree = self._trees.get(text)
            if tree is not None:
                self._trees.move_to_end(text)
                return tree
        tree = self._build(text)  # raises for a text that does not parse: nothing is cached
        with self._lock:
            self.parses += 1
            replaced = self._trees.get(text)
            self._trees[text] = tree
            self._trees.move_to_end(text)
            evicted = [] if replaced is None else [replaced]
            while len(self._trees) > self._kept:
                evicted.append(self._trees.popitem(last=False)[1])
            if self._texts is not None:
                for old in evicted:
                    self._texts.forget(old)
                self._texts.register(tree)
        return tree

    def __len__(self) -> int:
        return len(self._trees)


def _definition_tree(definition: str) -> Any:
    """moto's AmazonStateLanguageParser.parse up to the tree: the same lexer, parser, errors."""
    from antlr4 import CommonTokenStream, InputStream
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
    from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException, SyntaxErrorListener

    syntax_errors = SyntaxErrorListener()
    parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
    parser.removeErrorListeners()
    parser.addErrorListener(syntax_errors)
    tree = parser.state_machine()
    if syntax_errors.errors:
        raise ASLParserException(errors=syntax_errors.errors)
    return tree


def _intrinsic_tree(src: str) -> Any:
    """moto's IntrinsicParser.parse up to the tree (moto installs no error listener of its own)."""
    from antlr4 import CommonTokenStream, InputStream
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLIntrinsicLexer import ASLIntrinsicLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLIntrinsicParser import ASLIntrinsicParser

    return ASLIntrinsicParser(CommonTokenStream(ASLIntrinsicLexer(InputStream(src)))).func_decl()


# The caches outlive an uninstall (they hold only trees) and start empty in each process.
DEFINITION_TREES = TreeCache(DEFINITION_TREES_KEPT, _definition_tree, FROZEN_TEXTS)
INTRINSIC_TREES = TreeCache(INTRINSIC_TREES_KEPT, _intrinsic_tree)


def apply_definition_trees(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic import intrinsic_parser

    def parse(definition: str) -> tuple[Any, Any]:
        tree = DEFINITION_TREES.tree(definition)
        # Looked up at call time: the Preprocessor as the other patches left it.
        return asl_parser.Preprocessor().visit(tree), tree

    def parse_intrinsic(src: str) -> tuple[Any, Any]:
        tree = INTRINSIC_TREES.tree(src)
        return intrinsic_parser.Preprocessor().visit(tree), tree

    patcher.replace(asl_parser.AmazonStateLanguageParser, "parse", staticmethod(parse))
    patcher.replace(intrinsic_parser.IntrinsicParser, "parse", staticmethod(parse_intrinsic))

    from antlr4.RuleContext import RuleContext

    join = RuleContext.getText

    def get_text(self: Any) -> str:
        return FROZEN_TEXTS.get_text(self, join)

    patcher.replace(RuleContext, "getText", get_text)


def apply_jsonpath_expressions(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    # moto reads paths with jsonpath_ng.ext (extract_json) and with plain jsonpath_ng (ResultPath):
    # two grammars, so two caches. lru_cache re-raises, and does not keep, a path that fails.
    patcher.replace(json_path, "parse", functools.lru_cache(maxsize=JSONPATHS_KEPT)(json_path.parse))
    patcher.replace(result_path, "parse", functools.lru_cache(maxsize=JSONPATHS_KEPT)(result_path.parse))


DEFINITION_PARSE_CACHE = MotoPatch(
    name="stepfunctions_definition_parse_cache",
    fixes=(
        "the interpreter parses the whole ASL definition with ANTLR at the start of every execution"
        " (and every intrinsic function in it again): 21 % of the server's time in the duel benchmark"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_PARSER}.parse",
        f"{_INTRINSIC_PARSER}.parse",
        f"{_ASL}.parse.asl_parser.Preprocessor",
        f"{_ASL}.parse.asl_parser.SyntaxErrorListener",
        f"{_ASL}.parse.intrinsic.intrinsic_parser.Preprocessor",
        f"{_ASL}.antlr.runtime.ASLParser.ASLParser.state_machine",
        f"{_ASL}.antlr.runtime.ASLIntrinsicParser.ASLIntrinsicParser.func_decl",
        "antlr4.RuleContext.RuleContext.getText",
    ),
    kind="speed",
    apply=apply_definition_trees,
    signatures={
        f"{_PARSER}.parse": ("definition",),
        f"{_INTRINSIC_PARSER}.parse": ("src",),
        "antlr4.RuleContext.RuleContext.getText": ("self",),
    },
)

JSONPATH_PARSE_CACHE = MotoPatch(
    name="stepfunctions_jsonpath_parse_cache",
    fixes=(
        "every JSONPath is parsed again (a new yacc parser each time) at every evaluation:"
        " 11 % of the server's time in the duel benchmark"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_JSON_PATH}.parse", f"{_RESULT_PATH}.parse"),
    kind="speed",
    apply=apply_jsonpath_expressions,
)
