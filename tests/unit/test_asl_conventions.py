"""The ASL conventions every flow keeps (STYLE.md), checked on every statemachines/*.asl.json,
Parallel branches and Map iterations included:

- state names are PascalCase;
- every Choice has a Default;
- every Fail says what failed: Error (or ErrorPath) and Cause (or CausePath);
- every Lambda task retries the transient Lambda errors with backoff and full jitter (the four
  Lambda.* errors AWS documents as transient, and Runtime.ExitError: a crashed sandbox, which the
  next attempt's fresh sandbox does not share), and invokes the one way all flows do
  (arn:aws:states:::lambda:invoke, the result picked by ResultSelector);
- no state is copied three times in a flow (one state reached from several places instead);
- a Catch of States.ALL never ends the execution SUCCEEDED: every path from it ends in a Fail
  (after telling whoever waits), or hands the work to a queue that holds failures (it alarms on
  its own depth, infra/deployment.json `holdsFailures`). Otherwise a wiring bug is caught, the
  execution succeeds and the ExecutionsFailed alarm never trips.

The walk from a Catch follows every transition (Next, each Choice rule, Default, the Catches of
the states it passes). It knows one thing about the data: the Catch's ResultPath is present on
its paths until a state overwrites it, so a Choice rule `{"Variable": <that path>, "IsPresent":
true}` is taken for certain there. That is how a failure path shares the states that tell the
players what was recorded and still ends in a Fail.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_MACHINES = sorted((REPO_ROOT / "statemachines").glob("*.asl.json"))

PASCAL_CASE = re.compile(r"^(?:[A-Z][a-z0-9]+)+$")
TRANSIENT_LAMBDA_ERRORS = frozenset(
    {
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        # A crashed sandbox (killed, out of memory): transient, the retry gets a fresh one.
        "Runtime.ExitError",
    }
)
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
# A copy beyond this many is a state to share (a Parallel branch may need its own copy of one).
MAX_COPIES_OF_A_STATE = 2
_FUNCTION_ARN_PLACEHOLDER = re.compile(r"^\$\{[a-z][a-z0-9_]*_function_arn\}$")
_QUEUE_URL_PLACEHOLDER = re.compile(r"^\$\{([a-z][a-z0-9_]*)_queue_url\}$")


def failure_queues() -> frozenset[str]:
    """Queues of the description that hold failed work (each alarms on its depth)."""
    queues = json.loads((REPO_ROOT / "infra" / "deployment.json").read_text()).get("queues", {})
    return frozenset(name for name, queue in queues.items() if queue.get("holdsFailures"))


@dataclass(frozen=True)
class Scope:
    """One list of states: the machine's, a Parallel branch's or a Map iteration's."""

    states: dict[str, Any]
    label: str  # prefix naming where the scope sits, "" at the top
    parent: tuple[Scope, str] | None  # the enclosing scope and its Parallel/Map state


def scopes(definition: dict[str, Any]) -> list[Scope]:
    found: list[Scope] = []

    def visit(scope: Scope) -> None:
        found.append(scope)
        for name, state in scope.states.items():
            if state.get("Type") == "Parallel":
                for index, branch in enumerate(state.get("Branches", [])):
                    visit(Scope(branch["States"], f"{scope.label}{name}[{index}]/", (scope, name)))
            elif state.get("Type") == "Map":
                processor = state.get("ItemProcessor") or state.get("Iterator") or {}
                visit(Scope(processor.get("States", {}), f"{scope.label}{name}/", (scope, name)))

    visit(Scope(definition["States"], "", None))
    return found


def is_lambda_task(state: dict[str, Any]) -> bool:
    resource = state.get("Resource", "")
    return state.get("Type") == "Task" and (
        resource.startswith(LAMBDA_INVOKE)
        or resource.startswith("arn:aws:lambda:")
        or bool(_FUNCTION_ARN_PLACEHOLDER.match(resource))
    )


def has_transient_lambda_retry(state: dict[str, Any]) -> bool:
    return any(
        set(retrier.get("ErrorEquals", [])) >= TRANSIENT_LAMBDA_ERRORS
        and retrier.get("BackoffRate", 2.0) > 1
        and retrier.get("MaxAttempts", 3) >= 2
        and retrier.get("JitterStrategy") == "FULL"
        for retrier in state.get("Retry", [])
    )


def sends_to_failure_queue(state: dict[str, Any], queues: frozenset[str]) -> bool:
    if state.get("Type") != "Task" or not state.get("Resource", "").startswith(
        "arn:aws:states:::sqs:sendMessage"
    ):
        return False
    match = _QUEUE_URL_PLACEHOLDER.match(str(state.get("Parameters", {}).get("QueueUrl", "")))
    return bool(match and match.group(1) in queues)


# --- the walk from a Catch of States.ALL --------------------------------------------------------


def _overlaps(path: str, written: str) -> bool:
    return (
        written == "$" or path == written or path.startswith(written + ".") or written.startswith(path + ".")
    )


def facts_after(state: dict[str, Any], facts: frozenset[str]) -> frozenset[str]:
    """Which of the known-present paths a state's output still carries."""
    if state.get("OutputPath", "$") != "$":
        return frozenset()
    kind = state.get("Type")
    if kind in ("Choice", "Wait") or (kind == "Pass" and "Parameters" not in state and "Result" not in state):
        return facts
    if "ResultPath" not in state:
        return frozenset()  # the result replaces the input
    written = state["ResultPath"]
    if written is None:
        return facts
    return frozenset(path for path in facts if not _overlaps(path, written))


def facts_of_catch(catcher: dict[str, Any], facts: frozenset[str]) -> frozenset[str]:
    written = catcher.get("ResultPath", "$")
    if written is None:
        return facts
    kept = frozenset(path for path in facts if not _overlaps(path, written))
    return kept | {written} if written != "$" else kept


def choice_targets(state: dict[str, Any], facts: frozenset[str]) -> list[str]:
    targets = []
    for rule in state.get("Choices", []):
        if rule.get("Variable") in facts and "IsPresent" in rule:
            if rule["IsPresent"] is True:
                return [*targets, rule["Next"]]  # taken for certain: later rules never run
            continue  # IsPresent false on a present path: never taken
        targets.append(rule["Next"])
    if "Default" in state:
        targets.append(state["Default"])
    return targets


def succeeded_paths_from_catch(
    scope: Scope, catching_state: str, catcher: dict[str, Any], queues: frozenset[str]
) -> list[list[str]]:
    """Every path from the Catch that ends the execution SUCCEEDED without a Fail or a failure
    queue on the way (each as the names of the states it passes)."""
    found: list[list[str]] = []
    seen: set[tuple[int, str, frozenset[str]]] = set()
    start = facts_of_catch(catcher, frozenset())
    pending: list[tuple[Scope, str, frozenset[str], list[str]]] = [
        (scope, catcher["Next"], start, [scope.label + catching_state])
    ]

    def ended(scope: Scope, trail: list[str]) -> None:
        """The scope's path ended successfully: the machine succeeds, or the enclosing
        Parallel/Map state goes on with its results (the catch's facts do not survive)."""
        if scope.parent is None:
            found.append(trail)
            return
        outer, name = scope.parent
        state = outer.states[name]
        if "Next" in state:
            pending.append((outer, state["Next"], frozenset(), [*trail, f"(after {outer.label}{name})"]))
        else:
            ended(outer, trail)

    while pending:
        current, name, facts, trail = pending.pop()
        if (id(current), name, facts) in seen:
            continue
        seen.add((id(current), name, facts))
        state = current.states[name]
        trail = [*trail, current.label + name]
        if state["Type"] == "Fail" or sends_to_failure_queue(state, queues):
            continue
        if state["Type"] == "Succeed" or state.get("End"):
            ended(current, trail)
            continue
        out = facts_after(state, facts)
        targets = choice_targets(state, facts) if state["Type"] == "Choice" else [state["Next"]]
        pending += [(current, target, out, trail) for target in targets]
        pending += [(current, c["Next"], facts_of_catch(c, facts), trail) for c in state.get("Catch", [])]
    return found


# --- the conventions ----------------------------------------------------------------------------


def copied_states(definition: dict[str, Any]) -> dict[str, list[str]]:
    """States whose bodies are the same (Comment and transition aside), by the first copy's name,
    when there are more than MAX_COPIES_OF_A_STATE of them."""
    copies: dict[str, list[str]] = {}
    for scope in scopes(definition):
        for name, state in scope.states.items():
            if state.get("Type") in ("Succeed", "Fail", "Choice"):
                continue  # small by nature; a Fail names its own failure
            body = {k: v for k, v in state.items() if k not in ("Comment", "Next", "End")}
            copies.setdefault(json.dumps(body, sort_keys=True), []).append(scope.label + name)
    return {names[0]: names for names in copies.values() if len(names) > MAX_COPIES_OF_A_STATE}


def violations(file_name: str, definition: dict[str, Any], queues: frozenset[str] = frozenset()) -> list[str]:
    """Each broken convention as "<file>: <state>: <rule>"."""
    problems: list[str] = []
    for scope in scopes(definition):
        for name, state in scope.states.items():
            where = f"{file_name}: {scope.label}{name}"
            kind = state.get("Type")
            if not PASCAL_CASE.match(name):
                problems.append(f"{where}: state names are PascalCase (e.g. NotifyInvitee)")
            if kind == "Choice" and "Default" not in state:
                problems.append(f"{where}: a Choice has a Default")
            if kind == "Fail" and not (
                ("Error" in state or "ErrorPath" in state) and ("Cause" in state or "CausePath" in state)
            ):
                problems.append(f"{where}: a Fail has an Error and a Cause (or ErrorPath/CausePath)")
            if is_lambda_task(state) and not has_transient_lambda_retry(state):
                problems.append(
                    f"{where}: a Lambda task retries {', '.join(sorted(TRANSIENT_LAMBDA_ERRORS))} "
                    "with backoff and JitterStrategy FULL"
                )
            if is_lambda_task(state) and not state["Resource"].startswith(LAMBDA_INVOKE):
                problems.append(f"{where}: a Lambda task invokes through {LAMBDA_INVOKE}, as every flow does")
            for catcher in state.get("Catch", []):
                if "States.ALL" not in catcher.get("ErrorEquals", []):
                    continue
                for path in succeeded_paths_from_catch(scope, name, catcher, queues):
                    problems.append(
                        f"{where}: a Catch of States.ALL ends in a Fail (or a queue that holds failures), "
                        f"never SUCCEEDED; this one can succeed: {' -> '.join(path)}"
                    )
    for first, names in copied_states(definition).items():
        problems.append(
            f"{file_name}: {first}: a state is not copied {len(names)} times ({', '.join(names)}): "
            "reach one state from several places"
        )
    return problems


@pytest.mark.parametrize("path", STATE_MACHINES, ids=lambda p: p.name)
def test_state_machine_keeps_the_asl_conventions(path: Path):
    problems = violations(path.name, json.loads(path.read_text()), failure_queues())
    assert problems == [], "\n".join(problems)


def test_every_flow_is_checked():
    assert {p.name for p in STATE_MACHINES} >= {
        "duel_invite.asl.json",
        "duel_session.asl.json",
        "status_fanout.asl.json",
    }


# --- each rule catches what it is for -------------------------------------------------------------

RETRY = [
    {
        "ErrorEquals": sorted(TRANSIENT_LAMBDA_ERRORS),
        "IntervalSeconds": 1,
        "MaxAttempts": 3,
        "BackoffRate": 2,
        "JitterStrategy": "FULL",
    }
]


def _lambda_task(**fields: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${some_function_arn}", "Payload.$": "$"},
        "Retry": RETRY,
        **fields,
    }


def _machine(states: dict[str, Any], start: str | None = None) -> dict[str, Any]:
    return {"StartAt": start or next(iter(states)), "States": states}


def test_a_state_name_that_is_not_pascal_case_is_named():
    (problem,) = violations("f.asl.json", _machine({"notify_invitee": {"Type": "Succeed"}}))
    assert problem.startswith("f.asl.json: notify_invitee: state names are PascalCase")


def test_a_choice_without_default_is_named():
    choice = {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": True, "Next": "Done"}]}
    (problem,) = violations("f.asl.json", _machine({"IsItThere": choice, "Done": {"Type": "Succeed"}}))
    assert problem == "f.asl.json: IsItThere: a Choice has a Default"


def test_a_fail_without_cause_is_named_and_paths_count():
    assert violations("f.asl.json", _machine({"Broke": {"Type": "Fail", "Error": "Broke"}})) == [
        "f.asl.json: Broke: a Fail has an Error and a Cause (or ErrorPath/CausePath)"
    ]
    with_paths = {"Type": "Fail", "ErrorPath": "$.error", "CausePath": "States.Format('{}', $.cause)"}
    assert violations("f.asl.json", _machine({"Broke": with_paths})) == []


@pytest.mark.parametrize(
    "task",
    [
        _lambda_task(Retry=[], End=True),
        _lambda_task(Retry=[{**RETRY[0], "JitterStrategy": "NONE"}], End=True),
        _lambda_task(Retry=[{**RETRY[0], "ErrorEquals": ["Lambda.ServiceException"]}], End=True),
        _lambda_task(
            Retry=[{**RETRY[0], "ErrorEquals": sorted(TRANSIENT_LAMBDA_ERRORS - {"Runtime.ExitError"})}],
            End=True,
        ),
        {"Type": "Task", "Resource": "${page_reader_function_arn}", "End": True},
    ],
    ids=["no retry", "no jitter", "not every transient error", "no crashed sandbox", "bare function ARN"],
)
def test_a_lambda_task_without_the_transient_retry_is_named(task):
    problem = violations("f.asl.json", _machine({"ReadPage": task}))[0]
    assert problem.startswith("f.asl.json: ReadPage: a Lambda task retries Lambda.AWSLambdaException")


def test_a_lambda_task_invoked_another_way_is_named():
    bare = {"Type": "Task", "Resource": "${page_reader_function_arn}", "Retry": RETRY, "End": True}
    (problem,) = violations("f.asl.json", _machine({"ReadPage": bare}))
    assert (
        problem == f"f.asl.json: ReadPage: a Lambda task invokes through {LAMBDA_INVOKE}, as every flow does"
    )


def test_a_state_copied_three_times_is_named():
    states = {f"ReadPage{n}": _lambda_task(Next=f"ReadPage{n + 1}") for n in (1, 2)}
    states["ReadPage3"] = _lambda_task(End=True, Comment="the same, said differently")
    (problem,) = violations("f.asl.json", _machine(states))
    assert problem == (
        "f.asl.json: ReadPage1: a state is not copied 3 times (ReadPage1, ReadPage2, ReadPage3): "
        "reach one state from several places"
    )
    del states["ReadPage3"]
    states["ReadPage2"] = _lambda_task(End=True)
    assert violations("f.asl.json", _machine(states)) == []


def test_a_lambda_task_inside_a_map_is_checked_too():
    iteration = {"StartAt": "WriteBatch", "States": {"WriteBatch": _lambda_task(Retry=[], End=True)}}
    fan = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": iteration, "End": True}
    (problem,) = violations("f.asl.json", _machine({"WriteAll": fan}))
    assert problem.startswith("f.asl.json: WriteAll/WriteBatch: a Lambda task retries")


def _catch_all(next_state: str, result_path: str = "$.failure") -> list[dict[str, Any]]:
    return [{"ErrorEquals": ["States.ALL"], "ResultPath": result_path, "Next": next_state}]


def test_a_catch_of_everything_that_ends_succeeded_through_passes_and_tasks_is_named():
    states = {
        "Deliver": _lambda_task(Catch=_catch_all("Tidy"), Next="Delivered"),
        "Tidy": {"Type": "Pass", "Next": "TellPlayers"},
        "TellPlayers": _lambda_task(Next="Delivered"),
        "Delivered": {"Type": "Succeed"},
    }
    (problem,) = violations("f.asl.json", _machine(states))
    assert problem == (
        "f.asl.json: Deliver: a Catch of States.ALL ends in a Fail (or a queue that holds failures), "
        "never SUCCEEDED; this one can succeed: Deliver -> Tidy -> TellPlayers -> Delivered"
    )


def test_a_catch_of_everything_that_tells_the_players_then_fails_passes():
    states = {
        "Deliver": _lambda_task(Catch=_catch_all("TellPlayers"), Next="TellPlayers"),
        "TellPlayers": _lambda_task(ResultPath="$.told", Next="DidDeliveryFail"),
        "DidDeliveryFail": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.failure", "IsPresent": True, "Next": "DeliveryFailed"}],
            "Default": "Delivered",
        },
        "DeliveryFailed": {"Type": "Fail", "Error": "DeliveryFailed", "CausePath": "$.failure.Cause"},
        "Delivered": {"Type": "Succeed"},
    }
    assert violations("f.asl.json", _machine(states)) == []
    # A state that overwrites the whole input on the way loses the marker: the walk says so.
    states["TellPlayers"] = _lambda_task(Next="DidDeliveryFail")
    (problem,) = violations("f.asl.json", _machine(states))
    assert problem.endswith("Deliver -> TellPlayers -> DidDeliveryFail -> Delivered")


def test_a_catch_inside_a_map_is_followed_out_of_the_iteration_unless_it_dead_letters():
    iteration = {
        "StartAt": "WriteBatch",
        "States": {
            "WriteBatch": _lambda_task(Catch=_catch_all("CountFailed"), End=True),
            "CountFailed": {"Type": "Pass", "Result": {"failed": 1}, "End": True},
        },
    }
    states = {
        "WriteAll": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": iteration, "Next": "Report"},
        "Report": {"Type": "Pass", "End": True},
    }
    (problem,) = violations("f.asl.json", _machine(states))
    assert problem.endswith("WriteAll/WriteBatch -> WriteAll/CountFailed -> (after WriteAll) -> Report")
    iteration["States"]["WriteBatch"]["Catch"] = _catch_all("DeadLetterBatch")
    iteration["States"]["DeadLetterBatch"] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": "${batch_failures_queue_url}", "MessageBody.$": "$"},
        "Next": "CountFailed",
    }
    assert violations("f.asl.json", _machine(states), frozenset({"batch_failures"})) == []
    # A queue that does not hold failures (no alarm on its depth) does not count.
    assert len(violations("f.asl.json", _machine(states), frozenset())) == 1
