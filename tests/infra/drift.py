"""What Terraform declares vs what the resolved description (arcadeflow.deployment) says.

terraform_view() reads a `terraform show -json` state (here: of a mocked `terraform test` apply);
expected_view() puts the resolved description the loader wrote into the same shape, with the
embedded deployer's own request builders. It derives nothing: every name, environment variable
and grant is read from the resolved file, so this checks that Terraform maps it faithfully.
compare() lists every difference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from arcadeflow.asl import render_definition
from arcadeflow.deployer import start_execution_integration, table_request
from arcadeflow.deployment import ResolvedDeployment, ResourceRefs


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
    pitr = any(b.get("enabled") for b in v.get("point_in_time_recovery") or [])
    return {"request": _normalised(request), "ttl": ttl[0] if ttl else None, "pitr": pitr}


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
    view["http_cors"] = {
        r["values"]["name"]: _cors_shape((r["values"].get("cors_configuration") or [{}])[0])
        for r in managed(state, "aws_apigatewayv2_api")
        if r["values"].get("protocol_type") == "HTTP"
    }
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


def _cors_shape(block: dict[str, Any]) -> dict[str, Any]:
    """A CORS configuration in Terraform's terms (cors_configuration); {} for none."""
    if not block or not block.get("allow_origins"):
        return {}
    return {
        "allow_origins": sorted(block["allow_origins"]),
        "allow_methods": sorted(block.get("allow_methods") or []),
        "allow_headers": sorted(block.get("allow_headers") or []),
        "expose_headers": sorted(block.get("expose_headers") or []),
        "max_age": block.get("max_age"),
        "allow_credentials": bool(block.get("allow_credentials")),
    }


def _routes(state: dict[str, Any], module: str) -> dict[str, tuple[Any, ...]]:
    """route key -> ("function", name) or ("startExecution", state machine name, the integration's
    request parameters as sorted (name, value) pairs)."""
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
                tuple(sorted(v["request_parameters"].items())),
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
    r: ResolvedDeployment, tf: dict[str, Any], arn_parts: tuple[str, str, str], stage: str
) -> dict[str, Any]:
    """The resolved description, in Terraform state's terms. Names, environments and grants come
    from the resolved file as the loader wrote them; only values AWS alone knows (queue URLs, the
    API id, the user pool) come from tf, and ARNs are put together as AWS forms them."""
    partition, region, account = arn_parts

    def arn(service: str, resource: str) -> str:
        return f"arn:{partition}:{service}:{region}:{account}:{resource}"

    queue_names = r.queue_names()
    refs = ResourceRefs(
        stage=stage,
        tables={t: table.name for t, table in r.tables.items()},
        function_arns={f: arn("lambda", f"function:{fn.name}") for f, fn in r.functions.items()},
        queue_urls={q: tf["outputs"]["queue_urls"].get(q, "?") for q in queue_names},
        queue_arns={q: arn("sqs", name) for q, name in queue_names.items()},
        state_machine_arns={
            s: arn("states", f"stateMachine:{sm.name}") for s, sm in r.state_machines.items()
        },
        secret_parameters={x: secret.parameter_name for x, secret in r.secrets.items()},
        websocket_callback_url=tf["outputs"].get("websocket_callback_url") or "",
        jwt_issuer=tf["outputs"].get("jwt_issuer") or "",
        jwt_audiences=tf["outputs"].get("jwt_audiences") or [],
        jwt_jwks_url=tf["outputs"].get("jwt_jwks_url") or "",
    )
    table_arn = {t: arn("dynamodb", f"table/{table.name}") for t, table in r.tables.items()}

    def table_grants(tables: Mapping[str, str]) -> dict[str, set[str]]:
        out = {}
        for t, access in tables.items():
            actions = TABLE_READ | (TABLE_WRITE if access == "readwrite" else set())
            for resource in [table_arn[t], *(f"{table_arn[t]}/index/{i}" for i in r.tables[t].indexes)]:
                out[resource] = set(actions)
        return out

    view: dict[str, Any] = {}
    view["tables"] = {
        # PITR as the description opts in (the runs leave point_in_time_recovery null).
        table.name: {
            "request": _normalised(table_request(table)),
            "ttl": table.ttl_attribute,
            "pitr": table.point_in_time_recovery,
        }
        for table in r.tables.values()
    }
    view["functions"] = {
        fn.name: {
            "handler": fn.handler,
            "timeout": fn.timeout_seconds,
            "memory": fn.memory_mb,
            "environment": fn.environment_with(refs),
        }
        for fn in r.functions.values()
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
    for fn in r.functions.values():
        g = fn.grants
        grants = table_grants(g.tables)
        for q in g.queues_send:
            grants.setdefault(refs.queue_arns[q], set()).update(
                {"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"}
            )
        for q in g.queues_consume:
            grants.setdefault(refs.queue_arns[q], set()).update(QUEUE_CONSUME)
        for t in g.streams:
            grants[table_arn[t] + LATEST_STREAM] = set(STREAM_READ)
        for s in g.state_machines_start:
            grants.setdefault(refs.state_machine_arns[s], set()).add("states:StartExecution")
        for s in g.state_machines_describe:
            grants[arn("states", f"execution:{r.state_machines[s].name}:*")] = {
                "states:DescribeExecution",
                "states:GetExecutionHistory",
            }
        if g.state_machines_callback:
            # No resource type exists for these: granted on "*" (infra/README.md, IAM).
            grants.setdefault("*", set()).update(
                {"states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"}
            )
        if g.websocket_push:
            for c in connections:
                grants[c] = {"execute-api:ManageConnections"}
        for x in g.secrets:
            grants[arn("ssm", f"parameter{r.secrets[x].parameter_name}")] = {"ssm:GetParameter"}
        function_grants[fn.name] = grants
    view["function_grants"] = function_grants

    view["event_sources"] = {
        key: {
            "function": r.functions[es.function].name,
            "source": ("table", r.tables[es.table].name)
            if es.table
            else ("queue", queue_names[es.queue or ""]),
            "batch_size": es.batch_size,
            # arcadeflow.deployer.deploy() asks for partial batch responses on every mapping.
            "function_response_types": ["ReportBatchItemFailures"],
            "starting_position": es.starting_position,
            "maximum_retry_attempts": es.maximum_retry_attempts,
            "bisect": es.bisect_batch_on_function_error,
        }
        for key, es in r.event_sources.items()
    }

    view["queues"] = {}
    for queue in r.queues.values():
        view["queues"][queue.name] = {
            "visibility_timeout": queue.visibility_timeout_seconds,
            "dead_letter": queue.dead_letter.name if queue.dead_letter else None,
            "max_receive_count": queue.max_receive_count if queue.dead_letter else None,
        }
        if queue.dead_letter:
            view["queues"][queue.dead_letter.name] = {
                "visibility_timeout": None,
                "dead_letter": None,
                "max_receive_count": None,
            }

    view["state_machines"] = {
        sm.name: json.loads(
            render_definition(
                sm.definition, {p: refs.lookup(ref) for p, ref in sm.template_variables.items()}
            )
        )
        for sm in r.state_machines.values()
    }
    view["state_machine_grants"] = {}
    for sm in r.state_machines.values():
        uses = sm.grants
        grants = table_grants(uses.tables)
        for f in uses.functions:
            grants[refs.function_arns[f]] = {"lambda:InvokeFunction"}
        for q in uses.queues_send:
            grants[refs.queue_arns[q]] = {"sqs:SendMessage"}
        for m in uses.state_machines_start:
            grants[refs.state_machine_arns[m]] = {"states:StartExecution"}
        if uses.websocket_push:
            for c in connections:
                grants[c] = {"execute-api:Invoke", "execute-api:ManageConnections"}
        view["state_machine_grants"][sm.name] = grants

    # A StartExecution route's integration as the embedded deployer creates it.
    view["http_routes"] = {
        key: ("function", r.functions[route.function].name)
        if route.function
        else (
            "startExecution",
            r.state_machines[route.start_execution or ""].name,
            tuple(sorted(start_execution_integration(route, refs)["RequestParameters"].items())),
        )
        for key, route in r.http_api.routes.items()
    }
    # The deployer's CreateApi CorsConfiguration for the origins Terraform was given (a
    # per-environment variable, like the JWKS URL): the rest must be the description's.
    tf_origins = next(iter(tf.get("http_cors", {}).values()), {}).get("allow_origins", [])
    request = r.http_api.cors.cors_configuration(list(tf_origins))
    view["http_cors"] = {
        r.http_api.name: _cors_shape(
            {
                "allow_origins": request.get("AllowOrigins"),
                "allow_methods": request.get("AllowMethods"),
                "allow_headers": request.get("AllowHeaders"),
                "expose_headers": request.get("ExposeHeaders"),
                "max_age": request.get("MaxAge"),
                "allow_credentials": request.get("AllowCredentials"),
            }
        )
    }
    ws = r.web_socket_api
    view["websocket_routes"] = {
        key: ("function", r.functions[route.function].name) for key, route in ws.routes.items()
    }
    view["websocket_authorization"] = {
        key: ("REQUEST", r.functions[ws.authorizer.function].name, sorted(ws.authorizer.identity_sources))
        if ws.authorizer and key == "$connect"
        else ("NONE",)
        for key in ws.routes
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
