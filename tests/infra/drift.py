"""What Terraform declares vs what arcadeflow.deployment (and the embedded deployer) derive.

terraform_view() reads a `terraform show -json` state (here: of a mocked `terraform test` apply);
expected_view() derives the same shape from the deployment description with the Python loader and
the embedded deployer's own request builders. compare() lists every difference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from arcadeflow.asl import render_definition
from arcadeflow.deployer import table_request
from arcadeflow.deployment import Deployment, ResourceRefs


def resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from resources(child)


def managed(state: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [r for r in resources(state["root_module"]) if r["mode"] == "managed" and r["type"] == rtype]


def account_and_region(state: dict[str, Any]) -> tuple[str, str, str]:
    data = {r["type"]: r["values"] for r in resources(state["root_module"]) if r["mode"] == "data"}
    return (
        data["aws_partition"]["partition"],
        data["aws_region"]["name"],
        data["aws_caller_identity"]["account_id"],
    )


# --- Terraform's side -------------------------------------------------------------------------


def _table_shape(v: dict[str, Any]) -> dict[str, Any]:
    """A Terraform aws_dynamodb_table as the CreateTable request (+ TTL) the embedded deployer sends."""
    key_schema = [{"AttributeName": v["hash_key"], "KeyType": "HASH"}]
    if v.get("range_key"):
        key_schema.append({"AttributeName": v["range_key"], "KeyType": "RANGE"})
    provisioned = v["billing_mode"] == "PROVISIONED"
    capacity = {"ReadCapacityUnits": v["read_capacity"], "WriteCapacityUnits": v["write_capacity"]}
    gsis = []
    for g in v.get("global_secondary_index") or []:
        schema = [{"AttributeName": g["hash_key"], "KeyType": "HASH"}]
        if g.get("range_key"):
            schema.append({"AttributeName": g["range_key"], "KeyType": "RANGE"})
        gsi = {
            "IndexName": g["name"],
            "KeySchema": schema,
            "Projection": {"ProjectionType": g["projection_type"]},
        }
        if provisioned:
            gsi["ProvisionedThroughput"] = {
                "ReadCapacityUnits": g["read_capacity"],
                "WriteCapacityUnits": g["write_capacity"],
            }
        gsis.append(gsi)
    request: dict[str, Any] = {
        "TableName": v["name"],
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            {"AttributeName": a["name"], "AttributeType": a["type"]} for a in v["attribute"]
        ],
        "BillingMode": v["billing_mode"],
    }
    if provisioned:
        request["ProvisionedThroughput"] = capacity
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    if v.get("stream_enabled"):
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": v["stream_view_type"]}
    ttl = [t["attribute_name"] for t in v.get("ttl") or [] if t.get("enabled")]
    return {"request": _normalised(request), "ttl": ttl[0] if ttl else None}


def _normalised(request: dict[str, Any]) -> dict[str, Any]:
    out = dict(request)
    out["AttributeDefinitions"] = sorted(request["AttributeDefinitions"], key=lambda a: a["AttributeName"])
    if "GlobalSecondaryIndexes" in request:
        out["GlobalSecondaryIndexes"] = sorted(
            request["GlobalSecondaryIndexes"], key=lambda g: g["IndexName"]
        )
    return out


def _statements(policy: str) -> list[dict[str, Any]]:
    return json.loads(policy)["Statement"]


STREAM_LABEL = re.compile(r"/stream/[^/]+$")
LATEST_STREAM = "/stream/<latest>"  # the label is a creation timestamp only AWS knows


def _grants(policy: str) -> dict[str, set[str]]:
    """resource -> actions, over every statement of a policy."""
    out: dict[str, set[str]] = {}
    for st in _statements(policy):
        resources_ = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        for resource in (STREAM_LABEL.sub(LATEST_STREAM, r) for r in resources_):
            out.setdefault(resource, set()).update(st["Action"])
    return out


def terraform_view(state: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {}
    view["tables"] = {
        r["values"]["name"]: _table_shape(r["values"]) for r in managed(state, "aws_dynamodb_table")
    }

    functions = {}
    for r in managed(state, "aws_lambda_function"):
        v = r["values"]
        functions[v["function_name"]] = {
            "handler": v["handler"],
            "timeout": v["timeout"],
            "memory": v["memory_size"],
            "environment": (v.get("environment") or [{}])[0].get("variables") or {},
        }
    view["functions"] = functions

    # Role policies by owner: "<function or state machine name>-access".
    policies = {
        r["values"]["name"].removesuffix("-access"): r["values"]["policy"]
        for r in managed(state, "aws_iam_role_policy")
    }
    view["function_grants"] = {name: _service_grants(policies[name]) for name in functions}
    view["state_machine_grants"] = {}

    sources = {}
    for r in managed(state, "aws_lambda_event_source_mapping"):
        v = r["values"]
        source_arn = v["event_source_arn"]
        source = (
            ("queue", source_arn.rsplit(":", 1)[1])
            if source_arn.split(":")[2] == "sqs"
            else ("table", source_arn.split(":table/")[1].split("/stream/")[0])
        )
        sources[r["index"]] = {
            "function": v["function_name"].rsplit(":", 1)[-1],
            "source": source,
            "batch_size": v["batch_size"],
            "function_response_types": sorted(v.get("function_response_types") or []),
            "starting_position": v.get("starting_position"),
            "maximum_retry_attempts": v.get("maximum_retry_attempts") if source[0] == "table" else None,
            "bisect": v.get("bisect_batch_on_function_error") if source[0] == "table" else None,
        }
    view["event_sources"] = sources

    queues = {}
    for r in managed(state, "aws_sqs_queue"):
        v = r["values"]
        redrive = json.loads(v["redrive_policy"]) if v.get("redrive_policy") else None
        queues[v["name"]] = {
            "visibility_timeout": v["visibility_timeout_seconds"] if r["name"] == "this" else None,
            "dead_letter": redrive["deadLetterTargetArn"].rsplit(":", 1)[1] if redrive else None,
            "max_receive_count": redrive["maxReceiveCount"] if redrive else None,
        }
    view["queues"] = queues

    machines = {}
    for r in managed(state, "aws_sfn_state_machine"):
        v = r["values"]
        machines[v["name"]] = json.loads(v["definition"])
        view["state_machine_grants"][v["name"]] = {
            res: acts for res, acts in _grants(policies[v["name"]]).items() if res != "*"
        }
    view["state_machines"] = machines

    view["http_routes"] = _routes(state, "module.http_api")
    view["websocket_routes"] = _routes(state, "module.websocket_api[0]")
    view["websocket_authorization"] = _websocket_authorization(state)
    view["outputs"] = {k: o["value"] for k, o in state.get("outputs", {}).items()}
    return view


GRANT_SERVICES = {"dynamodb", "sqs", "states", "execute-api", "ssm"}


def _service_grants(policy: str) -> dict[str, set[str]]:
    """Grants on the services the description decides. On "*" that is only the actions without
    resource types the description implies (SendTask*); X-Ray's follow a Terraform variable."""
    out = {}
    for res, acts in _grants(policy).items():
        if res == "*":
            acts = {a for a in acts if a.split(":")[0] in GRANT_SERVICES}
            if acts:
                out[res] = acts
        elif res.split(":")[2] in GRANT_SERVICES:
            out[res] = acts
    return out


def _websocket_authorization(state: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """route key -> ("CUSTOM", authorizer function, identity sources) or ("NONE",)."""
    module = "module.websocket_api[0]."
    in_module = [r for r in resources(state["root_module"]) if r["address"].startswith(module)]
    authorizers = {
        r["values"]["id"]: r["values"] for r in in_module if r["type"] == "aws_apigatewayv2_authorizer"
    }
    # The function is named by the permission that lets API Gateway invoke it (the mocked
    # invoke ARN is the same for every function).
    permitted = [
        r["values"]["function_name"]
        for r in in_module
        if r["type"] == "aws_lambda_permission" and r["name"] == "authorizer"
    ]
    out: dict[str, tuple[Any, ...]] = {}
    for r in in_module:
        if r["type"] != "aws_apigatewayv2_route":
            continue
        v = r["values"]
        if v.get("authorization_type") == "CUSTOM":
            authorizer = authorizers.get(v.get("authorizer_id"), {})
            out[v["route_key"]] = (
                authorizer.get("authorizer_type"),
                permitted[0] if len(permitted) == 1 else permitted,
                sorted(authorizer.get("identity_sources") or []),
            )
        else:
            out[v["route_key"]] = (v.get("authorization_type") or "NONE",)
    return out


def _routes(state: dict[str, Any], module: str) -> dict[str, tuple[str, str]]:
    """route key -> ("function", name) or ("startExecution", state machine name)."""
    in_module = [r for r in resources(state["root_module"]) if r["address"].startswith(module + ".")]
    integrations = {}
    for r in in_module:
        if r["type"] != "aws_apigatewayv2_integration":
            continue
        v = r["values"]
        if v.get("integration_subtype") == "StepFunctions-StartExecution":
            integrations[v["id"]] = (
                "startExecution",
                v["request_parameters"]["StateMachineArn"].rsplit(":", 1)[1],
            )
        else:
            integrations[v["id"]] = ("function", r["index"])
    return {
        r["values"]["route_key"]: integrations.get(
            r["values"]["target"].removeprefix("integrations/"), ("?", "?")
        )
        for r in in_module
        if r["type"] == "aws_apigatewayv2_route"
    }


# --- Python's side ----------------------------------------------------------------------------

TABLE_READ = {
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
}
QUEUE_CONSUME = {
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
}
STREAM_READ = {
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
}
TABLE_WRITE = {"dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}


def expected_view(
    d: Deployment, tf: dict[str, Any], arn_parts: tuple[str, str, str], stage: str
) -> dict[str, Any]:
    """What the loader derives. Only values AWS alone knows (queue URLs, the API id) come from tf."""
    partition, region, account = arn_parts

    def arn(service: str, resource: str) -> str:
        return f"arn:{partition}:{service}:{region}:{account}:{resource}"

    queues = d.all_queues()
    refs = ResourceRefs(
        stage=stage,
        tables={t: d.physical_name(t) for t in d.tables},
        function_arns={f: arn("lambda", f"function:{d.physical_name(f)}") for f in d.functions},
        queue_urls={q: tf["outputs"]["queue_urls"].get(q, "?") for q in queues},
        queue_arns={q: arn("sqs", d.physical_name(q)) for q in queues},
        state_machine_arns={s: arn("states", f"stateMachine:{d.physical_name(s)}") for s in d.state_machines},
        websocket_callback_url=tf["outputs"].get("websocket_callback_url") or "",
        # The user pool is created by Terraform (or given): its issuer and client id only AWS knows.
        jwt_issuer=tf["outputs"].get("jwt_issuer") or "",
        jwt_audiences=tf["outputs"].get("jwt_audiences") or [],
        jwt_jwks_url=tf["outputs"].get("jwt_jwks_url") or "",
    )
    table_arn = {t: arn("dynamodb", f"table/{d.physical_name(t)}") for t in d.tables}

    def table_grants(tables: dict[str, str]) -> dict[str, set[str]]:
        out = {}
        for t, access in tables.items():
            actions = TABLE_READ | (TABLE_WRITE if access == "readwrite" else set())
            for resource in [table_arn[t], *(f"{table_arn[t]}/index/{i}" for i in d.tables[t].indexes)]:
                out[resource] = set(actions)
        return out

    view: dict[str, Any] = {}
    view["tables"] = {}
    for logical, table in d.tables.items():
        name = d.physical_name(logical)
        view["tables"][name] = {
            "request": _normalised(table_request(name, table)),
            "ttl": table.ttl_attribute,
        }

    view["functions"] = {
        d.physical_name(f): {
            "handler": fn.handler,
            "timeout": fn.timeout_seconds,
            "memory": fn.memory_mb,
            "environment": d.function_environment(f, refs),
        }
        for f, fn in d.functions.items()
    }

    connections = (
        [
            f"{arn('execute-api', tf['outputs']['websocket_callback_url'].split('//')[1].split('.')[0])}"
            f"/{stage}/{method}/@connections/*"
            for method in ("POST", "GET", "DELETE")
        ]
        if tf["outputs"].get("websocket_callback_url")
        else []
    )

    function_grants = {}
    for f, fn in d.functions.items():
        grants = table_grants(fn.tables)
        consumed = {q for q, use in fn.queues.items() if use == "consume"}
        consumed |= {es.queue for es in d.event_sources.values() if es.function == f and es.queue}
        for q, use in fn.queues.items():
            if use == "send":
                grants.setdefault(refs.queue_arns[q], set()).update(
                    {"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"}
                )
        for q in consumed:
            grants.setdefault(refs.queue_arns[q], set()).update(QUEUE_CONSUME)
        for es in d.event_sources.values():
            if es.function == f and es.table:
                grants[table_arn[es.table] + LATEST_STREAM] = set(STREAM_READ)
        for s, use in fn.state_machines.items():
            if use in ("start", "start_and_callback"):
                grants.setdefault(refs.state_machine_arns[s], set()).add("states:StartExecution")
            if use in ("callback", "start_and_callback"):
                # No resource type exists for these: granted on "*" (infra/README.md, IAM).
                grants.setdefault("*", set()).update(
                    {"states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"}
                )
        if fn.websocket_push:
            for c in connections:
                grants[c] = {"execute-api:ManageConnections"}
        for x in fn.secrets:
            grants[arn("ssm", f"parameter{d.parameter_name(x)}")] = {"ssm:GetParameter"}
        function_grants[d.physical_name(f)] = grants
    view["function_grants"] = function_grants

    view["event_sources"] = {
        key: {
            "function": d.physical_name(es.function),
            "source": ("table", d.physical_name(es.table))
            if es.table
            else ("queue", d.physical_name(es.queue)),
            "batch_size": es.batch_size,
            # arcadeflow.deployer.deploy() asks for partial batch responses on every mapping.
            "function_response_types": ["ReportBatchItemFailures"],
            "starting_position": es.starting_position if es.table else None,
            "maximum_retry_attempts": es.maximum_retry_attempts if es.table else None,
            "bisect": es.bisect_batch_on_function_error if es.table else None,
        }
        for key, es in d.event_sources.items()
    }

    view["queues"] = {}
    for q, queue in queues.items():
        view["queues"][d.physical_name(q)] = {
            "visibility_timeout": queue.visibility_timeout_seconds if queue else None,
            "dead_letter": d.physical_name(f"{q}_dlq") if queue and queue.dead_letter else None,
            "max_receive_count": queue.max_receive_count if queue and queue.dead_letter else None,
        }

    variables = d.template_variables(refs)
    view["state_machines"] = {
        d.physical_name(s): json.loads(render_definition(sm.definition, variables))
        for s, sm in d.state_machines.items()
    }
    view["state_machine_grants"] = {}
    for s, sm in d.state_machines.items():
        grants = table_grants(sm.tables)
        for f in sm.functions:
            grants[refs.function_arns[f]] = {"lambda:InvokeFunction"}
        for q in sm.queues:
            grants[refs.queue_arns[q]] = {"sqs:SendMessage"}
        for m in sm.state_machines:
            grants[refs.state_machine_arns[m]] = {"states:StartExecution"}
        if sm.websocket_push:
            for c in connections:
                grants[c] = {"execute-api:Invoke", "execute-api:ManageConnections"}
        view["state_machine_grants"][d.physical_name(s)] = grants

    view["http_routes"] = {
        key: ("function", d.physical_name(r.function))
        if r.function
        else ("startExecution", d.physical_name(r.start_execution))
        for key, r in d.http_api.routes.items()
    }
    view["websocket_routes"] = {
        key: ("function", d.physical_name(r.function)) for key, r in d.web_socket_api.routes.items()
    }
    authorizer = d.web_socket_api.authorizer
    view["websocket_authorization"] = {
        key: ("REQUEST", d.physical_name(authorizer.function), sorted(authorizer.identity_source))
        if authorizer and key == "$connect"
        else ("NONE",)
        for key in d.web_socket_api.routes
    }
    return view


def compare(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Every difference, as '<kind> <name>: python=... terraform=...'."""
    problems = []
    for kind, want in expected.items():
        got = actual.get(kind, {})
        for name in sorted(set(want) | set(got)):
            if name not in got:
                problems.append(f"{kind} {name}: derived by arcadeflow.deployment, not declared by Terraform")
            elif name not in want:
                problems.append(f"{kind} {name}: declared by Terraform, not derived by arcadeflow.deployment")
            elif want[name] != got[name]:
                problems.append(f"{kind} {name}:\n  python    = {want[name]!r}\n  terraform = {got[name]!r}")
    return problems
