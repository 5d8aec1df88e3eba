"""A Distributed Map fails when its failed items exceed the tolerated failure threshold, as on
AWS, and `ToleratedFailurePercentage` may be written as an integer.

AWS (developer guide, "Using Map state in Distributed mode", "Setting failure thresholds for
Distributed Map states"): the Map Run fails with States.ExceedToleratedFailureThreshold once
the items that failed or timed out exceed ToleratedFailureCount or ToleratedFailurePercentage;
with neither set, one failed item fails it. moto counts failed items in its Map Run record and
never looks at the count ("ToleratedFailure... declarations currently have no effect"): a
Distributed Map whose items all fail SUCCEEDS with nulls in its output. And moto's grammar
takes the percentage only as a decimal number: `"ToleratedFailurePercentage": 50` is refused
at CreateStateMachine with a parser error, where AWS accepts it.

The threshold here: a threshold given as 0 counts as not given (the two cannot be told apart
in moto's model), so `ToleratedFailureCount: 0` with a percentage tolerates by the percentage.
"""

from __future__ import annotations

import json
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_DISTRIBUTED = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration"
    ".distributed_iteration_component.DistributedIterationComponent"
)
_PARSER = "moto.stepfunctions.parser.asl.parse.asl_parser.AmazonStateLanguageParser"
_PERCENTAGE = "ToleratedFailurePercentage"


def threshold_exceeded(failed: int, total: int, count: int, percentage: float) -> bool:
    if failed == 0:
        return False
    if count <= 0 and percentage <= 0:
        return True  # no tolerance given: one failure fails the Map Run
    return (count > 0 and failed > count) or (percentage > 0 and failed * 100.0 / max(total, 1) > percentage)


def _with_decimal_percentages(node: Any) -> tuple[Any, bool]:
    """The definition with every integer ToleratedFailurePercentage written as a decimal."""
    changed = False
    if isinstance(node, dict):
        rewritten = {}
        for key, value in node.items():
            if key == _PERCENTAGE and isinstance(value, int) and not isinstance(value, bool):
                rewritten[key], changed = float(value), True
                continue
            rewritten[key], inner = _with_decimal_percentages(value)
            changed = changed or inner
        return rewritten, changed
    if isinstance(node, list):
        items = [_with_decimal_percentages(item) for item in node]
        return [item for item, _ in items], any(inner for _, inner in items)
    return node, False


def decimal_percentages(definition: str) -> str:
    if _PERCENTAGE not in definition:
        return definition
    try:
        parsed = json.loads(definition)
    except ValueError:
        return definition  # moto's parser reports what is wrong with it
    rewritten, changed = _with_decimal_percentages(parsed)
    return json.dumps(rewritten) if changed else definition


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails as EventDetailsType

    # A TypedDict of every kind of details; an event carries one of them.
    event_details_of: Any = EventDetailsType

    DistributedIterationComponent = distributed_iteration_component.DistributedIterationComponent  # noqa: N806
    original_map_run = DistributedIterationComponent._map_run

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        original_map_run(self, env, eval_input)
        record = eval_input.map_run_record
        counter = record.item_counter
        failed = counter.failed.get() + counter.timed_out.get()
        total = counter.total.get()
        count, percentage = record.tolerated_failure_count, record.tolerated_failure_percentage
        if not threshold_exceeded(failed, total, int(count or 0), float(percentage or 0)):
            return
        env.stack.pop()  # the items' outputs: the Map Run failed instead
        error = StatesErrorNameType.StatesExceedToleratedFailureThreshold
        cause = f"The number of failed items ({failed} of {total}) exceeds the tolerated failure threshold"
        raise FailureEventException(
            failure_event=FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=error),
                event_type=HistoryEventType.ExecutionFailed,
                event_details=event_details_of(
                    executionFailedEventDetails=ExecutionFailedEventDetails(
                        error=error.to_name(), cause=cause
                    )
                ),
            )
        )

    patcher.replace(DistributedIterationComponent, "_map_run", map_run)


def apply_integer_percentages(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    original_parse = AmazonStateLanguageParser.parse

    def parse(definition: str) -> Any:
        return original_parse(decimal_percentages(definition))

    patcher.replace(AmazonStateLanguageParser, "parse", staticmethod(parse))


# Main's stepfunctions_map_tolerated_failures (part "errors" of issue 13) fixes the threshold
# too: at the merge keep one of the two records, not both (both replace _map_run).
PATCH = MotoPatch(
    name="stepfunctions_map_failure_threshold",
    fixes=(
        "a Distributed Map ignores failed items (it succeeds with nulls) instead of failing with"
        " States.ExceedToleratedFailureThreshold"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_DISTRIBUTED}._map_run",
        "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor"
        ".map_run_record.MapRunRecord",
    ),
    kind="fix",
    apply=apply,
    signatures={f"{_DISTRIBUTED}._map_run": ("self", "env", "eval_input")},
)

INTEGER_PERCENTAGES = MotoPatch(
    name="stepfunctions_map_integer_percentage",
    fixes="an integer ToleratedFailurePercentage (50) is refused at CreateStateMachine with a parser error",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_PARSER}.parse",),
    kind="fix",
    apply=apply_integer_percentages,
    signatures={f"{_PARSER}.parse": ("definition",)},
)
