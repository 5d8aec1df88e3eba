"""ASL templates: statemachines/<flow>.asl.json with ${snake_case} placeholders.

A placeholder is the only way an ASL names a deployed resource, so the loader reads a state
machine's grants from them (asl_grants): `<f>_function_arn` invokes the function, `<q>_queue_url`
and `<q>_queue_arn` send to the queue, `<s>_state_machine_arn` starts the machine, and
`<t>_table` in a DynamoDB task reads (getItem, query, ...) or writes (putItem, updateItem, ...)
the table; a table named elsewhere (handed to a Lambda as data) grants nothing. A placeholder that
names no declared resource fails at load, before anything is deployed.

Terraform fills the templates with templatefile(); the embedded deployer fills them here, both
with exactly the variables of the resolved description.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from arcadeflow.paths import REPO_ROOT

if TYPE_CHECKING:
    from arcadeflow.deployment import Ref

PLACEHOLDER = re.compile(r"\$\{([a-z][a-z0-9_]*)\}")
DYNAMODB_TASK = re.compile(r"^arn:aws:states:::(?:aws-sdk:)?dynamodb:([A-Za-z]+)$")
# Step Functions' optimized and SDK DynamoDB actions, by the access their table needs.
DYNAMODB_READS = {"getitem", "query", "scan", "batchgetitem", "transactgetitems", "describetable"}
DYNAMODB_WRITES = {"putitem", "updateitem", "deleteitem", "batchwriteitem", "transactwriteitems"}
# Keys under which a state holds nested states (Parallel, Map).
NESTED = ("Branches", "Iterator", "ItemProcessor")


class MissingPlaceholder(KeyError):
    pass


class UnknownPlaceholder(ValueError):
    """An ASL names a resource the description does not declare."""


@dataclass
class AslGrants:
    placeholders: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)
    tables: dict[str, Literal["read", "readwrite"]] = field(default_factory=dict)
    queues: set[str] = field(default_factory=set)
    state_machines: set[str] = field(default_factory=set)


def _strings(value: Any, skip: tuple[str, ...] = ()) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in skip for s in _strings(v)]
    return []


def _states(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every state, nested ones included."""
    out = []
    for state in (document.get("States") or {}).values():
        out.append(state)
        for key in NESTED:
            nested = state.get(key)
            for branch in nested if isinstance(nested, list) else [nested] if nested else []:
                out += _states(branch)
    return out


def asl_grants(machine: str, relative_path: str, targets: dict[str, Ref]) -> AslGrants:
    """What the machine's ASL touches. `targets`: placeholder -> the resource it names."""
    text = (REPO_ROOT / relative_path).read_text()
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise UnknownPlaceholder(f"state machine {machine}: {relative_path} is not JSON ({exc})") from exc
    grants = AslGrants()
    unknown = sorted({p for p in PLACEHOLDER.findall(text) if p not in targets})
    if unknown:
        names = ", ".join(f"${{{p}}}" for p in unknown)
        raise UnknownPlaceholder(
            f"state machine {machine}: {relative_path} uses {names}, which names no table, function,"
            " queue or state machine of the description"
        )
    # Placeholders outside any state (a Comment, say) are only text.
    grants.placeholders.update(PLACEHOLDER.findall(text))
    for state in _states(document):
        resource = state.get("Resource") if state.get("Type") == "Task" else None
        dynamodb = DYNAMODB_TASK.match(resource) if isinstance(resource, str) else None
        for value in _strings(state, skip=NESTED):
            for placeholder in PLACEHOLDER.findall(value):
                ref = targets[placeholder]
                if ref.ref == "function_arn":
                    grants.functions.add(ref.name)
                elif ref.ref in ("queue_url", "queue_arn"):
                    grants.queues.add(ref.name)
                elif ref.ref == "state_machine_arn":
                    grants.state_machines.add(ref.name)
                elif ref.ref == "table_name" and dynamodb:
                    action = dynamodb.group(1).lower()
                    if action in DYNAMODB_WRITES:
                        grants.tables[ref.name] = "readwrite"
                    elif action in DYNAMODB_READS:
                        grants.tables.setdefault(ref.name, "read")
                    else:
                        raise UnknownPlaceholder(
                            f"state machine {machine}: DynamoDB action {dynamodb.group(1)} on"
                            f" ${{{placeholder}}} is neither a known read nor a known write"
                        )
    return grants


def render_definition(relative_path: str, variables: dict[str, str]) -> str:
    text = (REPO_ROOT / relative_path).read_text()

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise MissingPlaceholder(f"{relative_path}: no value for ${{{name}}}")
        return variables[name]

    rendered = PLACEHOLDER.sub(fill, text)
    json.loads(rendered)  # a template must stay valid JSON once filled
    return rendered
