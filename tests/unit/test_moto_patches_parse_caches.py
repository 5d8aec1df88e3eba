"""Canaries of the speed patches that parse each definition, intrinsic and JSONPath once
(arcadeflow/aws/moto_patches/stepfunctions_parse_caches.py): without them moto parses again at
every execution and every evaluation (the canaries count the parses); with them the executions
answer exactly as before, and concurrent executions of one cached definition keep their own
data. See test_moto_patches.py for the pattern."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from moto import mock_aws

from tests.unit.test_moto_patches import (
    EXECUTING,
    client,
    finished,
    fixed_upstream,
    state_machine,
    with_patch,
    without,
)

DEFINITION_CACHE = "stepfunctions_definition_parse_cache"
JSONPATH_CACHE = "stepfunctions_jsonpath_parse_cache"
EXECUTIONS = 4


def _machine() -> dict[str, Any]:
    """JSONPath in every field that takes one, an intrinsic, a Choice and a Map; a unique Comment
    so that no earlier test has put this definition in the process's cache."""
    return {
        "Comment": f"parse-cache-{uuid.uuid4().hex}",
        "StartAt": "Shape",
        "States": {
            "Shape": {
                "Type": "Pass",
                "InputPath": "$.order",
                "Parameters": {
                    "id.$": "$.id",
                    "first.$": "$.items[0]",
                    "label.$": "States.Format('order {} of {}', $.id, $.owner)",
                    "items.$": "$.items",
                },
                "ResultPath": "$.shaped",
                "Next": "IsBig",
            },
            "IsBig": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.shaped.id", "NumericGreaterThan": 100, "Next": "Big"}],
                "Default": "Each",
            },
            "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "Next": "Each"},
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.shaped.items",
                "ItemProcessor": {
                    "StartAt": "Name",
                    "States": {"Name": {"Type": "Pass", "Parameters": {"n.$": "$.name"}, "End": True}},
                },
                "ResultSelector": {"names.$": "$[*].n"},
                "ResultPath": "$.each",
                "OutputPath": "$",
                "End": True,
            },
        },
    }


def _order(number: int) -> dict[str, Any]:
    return {
        "order": {
            "id": number,
            "owner": f"p{number}",
            "items": [{"name": f"i{number}-{k}"} for k in range(3)],
        }
    }


def _expected(number: int) -> dict[str, Any]:
    order = _order(number)
    items = order["order"]["items"]
    expected: dict[str, Any] = {
        **order,
        "shaped": {"id": number, "first": items[0], "label": f"order {number} of p{number}", "items": items},
        "each": {"names": [item["name"] for item in items]},
    }
    if number > 100:
        expected["size"] = "big"
    return expected


def _run_all(definition: dict[str, Any], numbers: list[int], concurrently: bool = False) -> list[Any]:
    """Starts one execution per number of one machine; their outputs, in the same order."""
    arn = state_machine(definition, name=uuid.uuid4().hex[:12])
    sfn = client("stepfunctions")

    def run(number: int) -> Any:
        started = sfn.start_execution(
            stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(_order(number))
        )
        described = finished(started["executionArn"])
        assert described["status"] == "SUCCEEDED", described
        return json.loads(described["output"])

    if not concurrently:
        return [run(n) for n in numbers]
    with ThreadPoolExecutor(max_workers=len(numbers)) as pool:
        return list(pool.map(run, numbers))


@pytest.fixture
def antlr_parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How often ANTLR parsed a whole definition and an intrinsic function."""
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLIntrinsicParser import ASLIntrinsicParser
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser

    counts = {"definitions": 0, "intrinsics": 0}
    state_machine_rule, func_decl_rule = ASLParser.state_machine, ASLIntrinsicParser.func_decl

    def counted_state_machine(self: Any) -> Any:
        counts["definitions"] += 1
        return state_machine_rule(self)

    def counted_func_decl(self: Any) -> Any:
        counts["intrinsics"] += 1
        return func_decl_rule(self)

    monkeypatch.setattr(ASLParser, "state_machine", counted_state_machine)
    monkeypatch.setattr(ASLIntrinsicParser, "func_decl", counted_func_decl)
    yield counts


@pytest.fixture
def jsonpath_parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every path text jsonpath_ng parsed (both of moto's grammars share this parse method)."""
    from jsonpath_ng.parser import JsonPathParser

    parsed: list[str] = []
    original = JsonPathParser.parse

    def counted(self: Any, string: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(string)
        return original(self, string, *args, **kwargs)

    monkeypatch.setattr(JsonPathParser, "parse", counted)
    yield parsed


# --- stepfunctions_definition_parse_cache ----------------------------------------------------------


def test_canary_stepfunctions_definition_parse_cache(antlr_parses: dict[str, int]) -> None:
    """moto parses the whole definition (and its intrinsic) again at every execution."""
    with without(DEFINITION_CACHE), mock_aws(config=EXECUTING):
        _run_all(_machine(), list(range(EXECUTIONS)))
    assert antlr_parses["definitions"] >= EXECUTIONS, fixed_upstream(DEFINITION_CACHE)
    assert antlr_parses["intrinsics"] >= EXECUTIONS, fixed_upstream(DEFINITION_CACHE)


def test_stepfunctions_definition_parse_cache_parses_a_definition_once_and_answers_the_same(
    antlr_parses: dict[str, int],
) -> None:
    numbers = [7, 150, 7, 3]
    with without(DEFINITION_CACHE), mock_aws(config=EXECUTING):
        reference = _run_all(_machine(), numbers)
    assert reference == [_expected(n) for n in numbers]
    antlr_parses.update(definitions=0, intrinsics=0)
    with with_patch(DEFINITION_CACHE), mock_aws(config=EXECUTING):
        answers = _run_all(_machine(), numbers)
    assert answers == reference
    # CreateStateMachine parsed it; every execution visited the cached tree.
    assert antlr_parses == {"definitions": 1, "intrinsics": 1}


def test_stepfunctions_definition_parse_cache_builds_fresh_components_for_every_parse() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    text = json.dumps(_machine())
    with with_patch(DEFINITION_CACHE):
        first_program, first_tree = AmazonStateLanguageParser.parse(text)
        second_program, second_tree = AmazonStateLanguageParser.parse(text)
    assert first_tree is second_tree
    assert first_program is not second_program
    first_states = first_program.states.states
    second_states = second_program.states.states
    assert first_states.keys() == second_states.keys()
    assert all(first_states[name] is not second_states[name] for name in first_states)


def test_stepfunctions_definition_parse_cache_keeps_concurrent_executions_apart() -> None:
    # One cached tree, eight executions at once on the server's threads: each ends with its own data.
    numbers = [1, 200, 3, 400, 5, 600, 7, 800]
    with with_patch(DEFINITION_CACHE), with_patch(JSONPATH_CACHE), mock_aws(config=EXECUTING):
        answers = _run_all(_machine(), numbers, concurrently=True)
    assert answers == [_expected(n) for n in numbers]


def test_stepfunctions_definition_parse_cache_refuses_a_bad_definition_every_time() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

    from arcadeflow.aws.moto_patches.stepfunctions_parse_caches import DEFINITION_TREES

    broken = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": tru}}}'
    with without(DEFINITION_CACHE):
        for _ in range(2):  # ANTLR words its recovery differently until its DFA has seen the text
            with pytest.raises(ASLParserException) as reference:
                AmazonStateLanguageParser.parse(broken)
    kept = len(DEFINITION_TREES)
    with with_patch(DEFINITION_CACHE):
        for _ in range(2):
            with pytest.raises(ASLParserException) as refused:
                AmazonStateLanguageParser.parse(broken)
            assert refused.value.errors == reference.value.errors
    assert len(DEFINITION_TREES) == kept  # nothing cached for it


def test_stepfunctions_definition_parse_cache_keeps_integer_percentages_accepted() -> None:
    # Registry order: the integer-percentage fix wraps the cached parse.
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "End": True}},
                },
                "ToleratedFailurePercentage": 50,
                "Comment": uuid.uuid4().hex,
                "End": True,
            }
        },
    }
    with (
        with_patch(DEFINITION_CACHE),
        with_patch("stepfunctions_map_integer_percentage"),
        mock_aws(config=EXECUTING),
    ):
        assert state_machine(definition, name=uuid.uuid4().hex[:12])


def test_tree_cache_keeps_only_the_most_recently_used() -> None:
    from arcadeflow.aws.moto_patches.stepfunctions_parse_caches import TreeCache

    built: list[str] = []

    def build(text: str) -> object:
        built.append(text)
        return object()

    cache = TreeCache(2, build)
    a = cache.tree("a")
    cache.tree("b")
    assert cache.tree("a") is a  # a hit; "b" is now the least recently used
    cache.tree("c")
    assert cache.tree("a") is a
    cache.tree("b")  # dropped, so built again
    assert built == ["a", "b", "c", "b"]
    assert len(cache) == 2


def _rule_nodes(tree: Any) -> list[Any]:
    from antlr4 import ParserRuleContext

    nodes, pending = [], [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ParserRuleContext):
            nodes.append(node)
            pending.extend(node.children or ())
    return nodes


def _joined(node: Any) -> str:
    """antlr4's own RuleContext.getText, walked without any patch: every token's text in order."""
    from antlr4 import ParserRuleContext

    if not isinstance(node, ParserRuleContext):
        return str(node.getText())
    return "".join(_joined(child) for child in node.children or ())


def test_stepfunctions_definition_parse_cache_answers_every_node_text_of_a_cached_tree_as_antlr() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    from arcadeflow.aws.moto_patches.stepfunctions_parse_caches import FROZEN_TEXTS

    text = json.dumps(_machine())
    with with_patch(DEFINITION_CACHE):
        _, tree = AmazonStateLanguageParser.parse(text)
        nodes = _rule_nodes(tree)
        for _ in range(2):  # the first ask joins and keeps the text, the second reads it
            assert [node.getText() for node in nodes] == [_joined(node) for node in nodes]
        # The whole machine's text: the definition's tokens without whitespace, then ANTLR's EOF.
        assert tree.getText() == json.dumps(json.loads(text), separators=(",", ":")) + "<EOF>"
        registered = len(FROZEN_TEXTS)
        assert registered >= len(nodes)
        # A tree that is not cached (a parse's own, TestState's) is joined at every call.
        other = json.dumps(_machine())
        from arcadeflow.aws.moto_patches.stepfunctions_parse_caches import _definition_tree

        loose = _definition_tree(other)
        assert loose.getText() == _joined(loose)
        assert len(FROZEN_TEXTS) == registered


def test_frozen_texts_forget_the_nodes_of_an_evicted_tree() -> None:
    from arcadeflow.aws.moto_patches.stepfunctions_parse_caches import (
        FrozenTexts,
        TreeCache,
        _definition_tree,
    )

    texts = FrozenTexts()
    cache = TreeCache(1, _definition_tree, texts)
    first = cache.tree(json.dumps(_machine()))
    in_first = len(_rule_nodes(first))
    assert len(texts) == in_first
    second = cache.tree(json.dumps(_machine()))  # evicts the first
    assert len(texts) == len(_rule_nodes(second))
    # The evicted tree still answers (a thread may be visiting it), by joining its tokens.
    assert texts.get_text(first, _joined) == _joined(first)
    assert len(texts) == len(_rule_nodes(second))


# --- stepfunctions_jsonpath_parse_cache ------------------------------------------------------------


def test_canary_stepfunctions_jsonpath_parse_cache(jsonpath_parses: list[str]) -> None:
    """moto parses every JSONPath again (a new yacc parser) at every evaluation."""
    with without(JSONPATH_CACHE), mock_aws(config=EXECUTING):
        _run_all(_machine(), list(range(EXECUTIONS)))
    assert jsonpath_parses.count("$.order") >= EXECUTIONS, fixed_upstream(JSONPATH_CACHE)


def test_stepfunctions_jsonpath_parse_cache_parses_each_path_once_and_answers_the_same(
    jsonpath_parses: list[str],
) -> None:
    numbers = [9, 300, 9]
    with without(JSONPATH_CACHE), mock_aws(config=EXECUTING):
        reference = _run_all(_machine(), numbers)
    jsonpath_parses.clear()
    with with_patch(JSONPATH_CACHE), mock_aws(config=EXECUTING):
        answers = _run_all(_machine(), numbers)
    assert answers == reference == [_expected(n) for n in numbers]
    # Each path text once per grammar (ResultPath reads "$.shaped" with plain jsonpath_ng too).
    assert jsonpath_parses, "the machine's paths were never parsed"
    assert max(jsonpath_parses.count(path) for path in set(jsonpath_parses)) <= 2


def test_stepfunctions_jsonpath_parse_cache_shares_expressions_safely() -> None:
    """A shared expression answers for each datum as a fresh one does, updates included."""
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    data = [{"a": [{"b": 1}, {"b": 2}], "c": {"d": "x"}}, {"a": [{"b": 3}], "c": {"d": "y"}}]
    paths = ["$.a[0].b", "$.a[*].b", "$.c.d", "$.a[?(@.b > 1)].b", "$..b", "$"]
    with without(JSONPATH_CACHE):
        reference = [[json_path.extract_json(p, d) for p in paths] for d in data]
        reference_updates = [
            result_path.parse("$.c.new").update_or_create(d, {"n": i})
            for i, d in enumerate(json.loads(json.dumps(data)))
        ]
    with with_patch(JSONPATH_CACHE):
        for _ in range(2):
            assert [[json_path.extract_json(p, d) for p in paths] for d in data] == reference
            updates = [
                result_path.parse("$.c.new").update_or_create(d, {"n": i})
                for i, d in enumerate(json.loads(json.dumps(data)))
            ]
            assert updates == reference_updates
        assert json_path.parse("$.c.d") is json_path.parse("$.c.d")
        with pytest.raises(Exception, match="Parse error|Unexpected|Lexical"):
            json_path.parse("$.[")
