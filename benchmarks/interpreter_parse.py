"""What the interpreter spends before and between states: parsing, with and without the caches.

    .venv/bin/python benchmarks/interpreter_parse.py [--parses 5] [--executions 20]

In this process (no server, no Lambda), with every replacing moto patch installed, alternately
without and with the two parse caches (patches stepfunctions_definition_parse_cache and
stepfunctions_jsonpath_parse_cache), so each figure is printed beside its reference of the same
run:

1. per definition in statemachines/ (placeholders filled with ARNs): what an execution's start
   costs in AmazonStateLanguageParser.parse (moto: ANTLR + the component build; cached: the
   component build from the cached tree);
2. `--executions` sequential executions of two machines without Lambda tasks, from StartExecution
   to the execution's stopDate: three Pass states (the issue's comparison with MiniStack), and a
   JSONPath-heavy machine (InputPath, Parameters with an intrinsic, Choice, Map, ResultSelector).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from arcadeflow.aws.moto_patches import REGISTRY  # noqa: E402

CACHES = ("stepfunctions_definition_parse_cache", "stepfunctions_jsonpath_parse_cache")
REGION = "us-east-1"
ACCOUNT = "123456789012"
EXECUTING: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}

THREE_PASS_STATES = {
    "StartAt": "One",
    "States": {
        "One": {"Type": "Pass", "Next": "Two"},
        "Two": {"Type": "Pass", "Next": "Three"},
        "Three": {"Type": "Pass", "End": True},
    },
}
JSONPATH_HEAVY = {
    "StartAt": "Shape",
    "States": {
        "Shape": {
            "Type": "Pass",
            "InputPath": "$.order",
            "Parameters": {
                "id.$": "$.id",
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
            "End": True,
        },
    },
}
JSONPATH_INPUT = {"order": {"id": 7, "owner": "p7", "items": [{"name": f"i{k}"} for k in range(5)]}}


@contextmanager
def caches(enabled: bool) -> Iterator[None]:
    """Every replacing patch installed; the two caches only when enabled."""
    names = [p.name for p in REGISTRY if p.apply is not None and (enabled or p.name not in CACHES)]
    for name in names:
        REGISTRY.install(name)
    try:
        yield
    finally:
        REGISTRY.uninstall_all()


def filled(text: str) -> str:
    """A definition with its ${placeholders} filled as the deployer fills them (ARNs, names)."""
    text = re.sub(r'"\$\{(\w+)\}"', f'"arn:aws:lambda:{REGION}:{ACCOUNT}:function:placeholder"', text)
    return re.sub(r"\$\{(\w+)\}", "placeholder", text)


def median_ms(run: Callable[[], Any], times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def parse_costs(parses: int) -> list[tuple[str, int, float, float]]:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    rows = []
    for path in sorted((REPO_ROOT / "statemachines").glob("*.asl.json")):
        definition = filled(path.read_text())
        with caches(False):
            AmazonStateLanguageParser.parse(definition)  # ANTLR's shared DFA warmed for both
            uncached = median_ms(lambda d=definition: AmazonStateLanguageParser.parse(d), parses)
        with caches(True):
            AmazonStateLanguageParser.parse(definition)  # the CreateStateMachine that seeds it
            cached = median_ms(lambda d=definition: AmazonStateLanguageParser.parse(d), parses)
        rows.append((path.name, len(definition), uncached, cached))
    return rows


def execution_costs(definition: dict[str, Any], execution_input: Any, executions: int) -> tuple[float, float]:
    import boto3
    from moto import mock_aws

    def run_all() -> float:
        with mock_aws(config=EXECUTING):
            sfn = boto3.client(
                "stepfunctions", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
            )
            arn = sfn.create_state_machine(
                name=f"bench-{uuid.uuid4().hex[:8]}",
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/bench",
                definition=json.dumps({**definition, "Comment": uuid.uuid4().hex}),
            )["stateMachineArn"]
            samples = []
            for index in range(executions):
                execution = sfn.start_execution(
                    stateMachineArn=arn, name=f"e{index}", input=json.dumps(execution_input)
                )["executionArn"]
                while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
                    time.sleep(0.001)
                assert described["status"] == "SUCCEEDED", described
                samples.append((described["stopDate"] - described["startDate"]).total_seconds() * 1000)
            return statistics.median(samples)

    with caches(False):
        uncached = run_all()
    with caches(True):
        cached = run_all()
    return uncached, cached


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parses", type=int, default=5, help="parses timed per definition (median)")
    parser.add_argument("--executions", type=int, default=20, help="executions timed per machine (median)")
    args = parser.parse_args()

    print("AmazonStateLanguageParser.parse at an execution's start (median ms)")
    print(f"{'definition':28} {'bytes':>6} {'moto':>9} {'cached':>9} {'ratio':>7}")
    for name, size, uncached, cached in parse_costs(args.parses):
        print(f"{name:28} {size:6d} {uncached:9.1f} {cached:9.1f} {uncached / cached:6.1f}x")
    print()
    print("an execution without Lambda, StartExecution to stopDate (median ms)")
    print(f"{'machine':28} {'':6} {'moto':>9} {'cached':>9} {'ratio':>7}")
    for name, definition, execution_input in (
        ("three Pass states", THREE_PASS_STATES, {}),
        ("JSONPath, intrinsic, Map", JSONPATH_HEAVY, JSONPATH_INPUT),
    ):
        uncached, cached = execution_costs(definition, execution_input, args.executions)
        print(f"{name:28} {'':6} {uncached:9.1f} {cached:9.1f} {uncached / cached:6.1f}x")


if __name__ == "__main__":
    main()
