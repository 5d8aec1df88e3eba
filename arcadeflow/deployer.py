"""The embedded deployer: creates the resolved description on an AWS endpoint.

It deploys exactly what arcadeflow.deployment resolved (the form Terraform reads too) and speaks
plain boto3, so it works against the embedded AWS (and, for tables, inside moto's in-process
`mock_aws` used by functional tests). Terraform creates the same resources on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from arcadeflow.deployment import (
    Deployment,
    ResolvedDeployment,
    ResolvedHttpRoute,
    ResolvedTable,
    ResourceRefs,
)
from arcadeflow.lambda_package import function_package

ACCOUNT_ID = "123456789012"
LAMBDA_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/arcadeflow-local"
# The embedded WebSocket API's stage: its callback URL ends in it, as on AWS.
LOCAL_STAGE = "local"


def table_request(table: ResolvedTable) -> dict[str, Any]:
    """The CreateTable request for one table of the resolved description."""
    key_schema = [{"AttributeName": table.partition_key.name, "KeyType": "HASH"}]
    if table.sort_key:
        key_schema.append({"AttributeName": table.sort_key.name, "KeyType": "RANGE"})
    attributes = {table.partition_key.name: table.partition_key.type}
    if table.sort_key:
        attributes[table.sort_key.name] = table.sort_key.type
    for index in table.indexes.values():
        attributes[index.partition_key.name] = index.partition_key.type
        if index.sort_key:
            attributes[index.sort_key.name] = index.sort_key.type
    req: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": key_schema,
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attributes.items()],
        "BillingMode": table.billing_mode,
    }
    if table.billing_mode == "PROVISIONED":
        req["ProvisionedThroughput"] = {
            "ReadCapacityUnits": table.read_capacity,
            "WriteCapacityUnits": table.write_capacity,
        }
    if table.indexes:
        req["GlobalSecondaryIndexes"] = []
        for index_name, index in table.indexes.items():
            schema = [{"AttributeName": index.partition_key.name, "KeyType": "HASH"}]
            if index.sort_key:
                schema.append({"AttributeName": index.sort_key.name, "KeyType": "RANGE"})
            gsi: dict[str, Any] = {
                "IndexName": index_name,
                "KeySchema": schema,
                "Projection": {"ProjectionType": index.projection},
            }
            if table.billing_mode == "PROVISIONED":
                # Each index its own capacity, as the loader resolved it.
                gsi["ProvisionedThroughput"] = {
                    "ReadCapacityUnits": index.read_capacity,
                    "WriteCapacityUnits": index.write_capacity,
                }
            req["GlobalSecondaryIndexes"].append(gsi)
    if table.stream:
        req["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return req


def _resolved(deployment: Deployment | ResolvedDeployment) -> ResolvedDeployment:
    return deployment if isinstance(deployment, ResolvedDeployment) else deployment.resolved()


def create_tables(deployment: Deployment | ResolvedDeployment, dynamodb: Any) -> dict[str, str]:
    """Create every table (keys, GSIs, stream, TTL). Returns logical -> physical name."""
    names: dict[str, str] = {}
    for logical, table in _resolved(deployment).tables.items():
        dynamodb.create_table(**table_request(table))
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
        names[logical] = table.name
    return names


def table_environment(deployment: Deployment | ResolvedDeployment, names: dict[str, str]) -> dict[str, str]:
    """The <TABLE>_TABLE variables of every table, for tests that call handlers directly."""
    return {f"{logical.upper()}_TABLE": physical for logical, physical in names.items()}


def refs_json(refs: ResourceRefs) -> str:
    return json.dumps(refs.model_dump(), indent=2)


def deploy(
    deployment: Deployment | ResolvedDeployment,
    aws: Any,
    *,
    websocket_callback_url: str | Callable[[str], str] = "",
    jwt_jwks_url: str = "",
    jwt_issuer: str = "",
    region: str = "us-east-1",
    environment_overrides: dict[str, str] | None = None,
    cors_origins: list[str] | None = None,
    account_id: str = ACCOUNT_ID,
    stage: str = LOCAL_STAGE,
    grant_api_invoke: bool = False,
    function_runtime: str = "python3.11",
) -> ResourceRefs:
    """Create every resource of the resolved description on the embedded AWS, in dependency order.

    `aws` is an EmbeddedAws (anything with .client(service)). State machine ASL comes from
    statemachines/ with its ${placeholders} filled from its resolved template variables, as
    Terraform's templatefile() fills them. `environment_overrides` replaces the value of a
    variable in every function that has it (how `arcadeflow up --invite-timeout` and the like
    reach the handlers). `jwt_jwks_url` is where the local issuer's key is served (the WebSocket
    authorizer fetches it). `cors_origins` are the browser origins the HTTP API's CORS
    configuration allows, as Terraform's `cors_allowed_origins` (none: no CORS configuration).

    Another engine (`arcadeflow deploy`, arcadeflow/remote.py) needs what the embedded AWS lets
    pass: its own `account_id` in the ARNs, a callback URL that names the WebSocket API's id
    (`websocket_callback_url` as a function of it: the API is created before the functions that
    push through it), `grant_api_invoke` (the Lambda permissions API Gateway needs, as
    infra/modules/*_api declare them) and `jwt_issuer` (an issuer URL its JWT authorizer can
    fetch keys under).
    """
    resolved = _resolved(deployment)
    overrides = environment_overrides or {}
    from arcadeflow.asl import render_definition
    from arcadeflow.auth import AUDIENCE, ISSUER

    iam, dynamodb, sqs = aws.client("iam"), aws.client("dynamodb"), aws.client("sqs")
    lam, sfn = aws.client("lambda"), aws.client("stepfunctions")
    websocket_api_id = ""
    if callable(websocket_callback_url):
        ws = resolved.web_socket_api
        websocket_api_id = aws.client("apigatewayv2").create_api(
            Name=ws.name, ProtocolType="WEBSOCKET", RouteSelectionExpression=ws.route_selection_expression
        )["ApiId"]
        websocket_callback_url = websocket_callback_url(websocket_api_id)

    # The local issuer stands in for Cognito; its key is published at jwt_jwks_url.
    refs = ResourceRefs(
        stage=stage,
        websocket_callback_url=websocket_callback_url,
        jwt_issuer=jwt_issuer or ISSUER,
        jwt_audiences=[AUDIENCE],
        jwt_jwks_url=jwt_jwks_url,
        secret_parameters={x: s.parameter_name for x, s in resolved.secrets.items()},
    )
    role_arn = iam.create_role(
        RoleName="arcadeflow-local",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    refs.tables = create_tables(resolved, dynamodb)

    def create_queue(logical: str, name: str, attributes: dict[str, str]) -> None:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        refs.queue_urls[logical] = url
        refs.queue_arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    fourteen_days = str(14 * 24 * 3600)  # SQS's maximum retention, as infra/modules/queue
    for logical, queue in resolved.queues.items():
        attributes = {"VisibilityTimeout": str(queue.visibility_timeout_seconds)}
        if queue.holds_failures:
            attributes["MessageRetentionPeriod"] = fourteen_days
        create_queue(logical, queue.name, attributes)
        if queue.dead_letter:
            create_queue(
                queue.dead_letter.logical, queue.dead_letter.name, {"MessageRetentionPeriod": fourteen_days}
            )
            sqs.set_queue_attributes(
                QueueUrl=refs.queue_urls[logical],
                Attributes={
                    "RedrivePolicy": json.dumps(
                        {
                            "deadLetterTargetArn": refs.queue_arns[queue.dead_letter.logical],
                            "maxReceiveCount": str(queue.max_receive_count),
                        }
                    )
                },
            )

    refs.state_machine_arns = {
        logical: f"arn:aws:states:{region}:{account_id}:stateMachine:{sm.name}"
        for logical, sm in resolved.state_machines.items()
    }
    refs.function_arns = {
        logical: f"arn:aws:lambda:{region}:{account_id}:function:{fn.name}"
        for logical, fn in resolved.functions.items()
    }

    # The package Terraform deploys (infra/package_functions.py builds the same bytes): the local
    # runner unpacks and runs exactly this, once for all the functions that share it.
    code = function_package()
    for fn in resolved.functions.values():
        lam.create_function(
            FunctionName=fn.name,
            Runtime=function_runtime,
            Role=role_arn,
            Handler=fn.handler,
            Code={"ZipFile": code},
            Description=fn.description,
            Timeout=fn.timeout_seconds,
            MemorySize=fn.memory_mb,
            Environment={"Variables": {k: overrides.get(k, v) for k, v in fn.environment_with(refs).items()}},
        )

    streams = {
        logical: dynamodb.describe_table(TableName=name)["Table"].get("LatestStreamArn")
        for logical, name in refs.tables.items()
    }
    for es in resolved.event_sources.values():
        source_arn = streams[es.table] if es.table else refs.queue_arns[es.queue or ""]
        request: dict[str, Any] = {
            "FunctionName": resolved.functions[es.function].name,
            "EventSourceArn": source_arn,
            "BatchSize": es.batch_size,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        }
        if es.table:
            request.update(
                StartingPosition=es.starting_position,
                MaximumRetryAttempts=es.maximum_retry_attempts,
                BisectBatchOnFunctionError=es.bisect_batch_on_function_error,
            )
        lam.create_event_source_mapping(**request)

    http_api_id = create_http_api(resolved, aws, refs, cors_origins=cors_origins, role_arn=role_arn)
    if resolved.web_socket_api.enabled:
        websocket_api_id = create_websocket_api(resolved, aws, refs, api_id=websocket_api_id)
    if grant_api_invoke:
        grant_api_gateway_invoke(resolved, aws, refs, region, account_id, http_api_id, websocket_api_id)

    for sm in resolved.state_machines.values():
        variables = {placeholder: refs.lookup(ref) for placeholder, ref in sm.template_variables.items()}
        sfn.create_state_machine(
            name=sm.name,
            definition=render_definition(sm.definition, variables),
            roleArn=role_arn,
            type="STANDARD",
        )
    return refs


def create_secrets(deployment: Deployment, aws: Any) -> dict[str, str]:
    """Each secret of the description as an SSM SecureString holding a fresh random key (Terraform
    generates one on AWS). Returns secret -> parameter name."""
    import secrets

    ssm = aws.client("ssm")
    names: dict[str, str] = {}
    for secret in sorted(deployment.secrets):
        names[secret] = deployment.parameter_name(secret)
        ssm.put_parameter(
            Name=names[secret], Value=secrets.token_hex(32), Type="SecureString", Overwrite=False
        )
    return names


def _invoke_arn(region: str, function_arn: str) -> str:
    """What API Gateway integrations name a Lambda by, as Terraform's invoke_arn."""
    return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def grant_api_gateway_invoke(
    resolved: ResolvedDeployment,
    aws: Any,
    refs: ResourceRefs,
    region: str,
    account_id: str,
    http_api_id: str,
    websocket_api_id: str,
) -> None:
    """Lambda permissions for API Gateway to invoke each function an API names, scoped to that
    API's ARN, as infra/modules/http_api and websocket_api declare them (the embedded AWS invokes
    without asking; AWS refuses)."""
    lam = aws.client("lambda")
    apis = [(http_api_id, {r.function for r in resolved.http_api.routes.values() if r.function})]
    if websocket_api_id:
        ws = resolved.web_socket_api
        names = {r.function for r in ws.routes.values()}
        if ws.authorizer:
            names.add(ws.authorizer.function)
        apis.append((websocket_api_id, names))
    for api_id, functions in apis:
        for logical in sorted(functions):
            lam.add_permission(
                FunctionName=resolved.functions[logical].name,
                StatementId=f"apigateway-{api_id}",
                Action="lambda:InvokeFunction",
                Principal="apigateway.amazonaws.com",
                SourceArn=f"arn:aws:execute-api:{region}:{account_id}:{api_id}/*",
            )


def start_execution_integration(
    route: ResolvedHttpRoute, refs: ResourceRefs, role_arn: str = LAMBDA_ROLE_ARN
) -> dict[str, Any]:
    """The CreateIntegration request of a startExecution route, as infra/modules/http_api makes it."""
    return {
        "IntegrationType": "AWS_PROXY",
        "IntegrationSubtype": "StepFunctions-StartExecution",
        "CredentialsArn": role_arn,
        "PayloadFormatVersion": "1.0",
        "RequestParameters": {
            **route.request_parameters,
            "StateMachineArn": refs.state_machine_arns[route.start_execution or ""],
        },
    }


def create_http_api(
    deployment: Deployment | ResolvedDeployment,
    aws: Any,
    refs: ResourceRefs,
    *,
    cors_origins: list[str] | None = None,
    role_arn: str = LAMBDA_ROLE_ARN,
) -> str:
    """The HTTP API as Terraform declares it: JWT authorizer, one Lambda proxy integration per
    function (payload 2.0), StepFunctions-StartExecution integrations with each route's
    request parameters (Name, Input mappings), routes, $default stage, and the CORS configuration
    for `cors_origins`. The API Gateway emulator serves whatever this registry holds."""
    from arcadeflow.auth import AUDIENCE, ISSUER

    resolved = _resolved(deployment)
    apigw = aws.client("apigatewayv2")
    cors = resolved.http_api.cors.cors_configuration(list(cors_origins or []))
    api_id = apigw.create_api(
        Name=resolved.http_api.name, ProtocolType="HTTP", **({"CorsConfiguration": cors} if cors else {})
    )["ApiId"]
    authorizer_id = apigw.create_authorizer(
        ApiId=api_id,
        AuthorizerType="JWT",
        Name="jwt",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Audience": [AUDIENCE], "Issuer": refs.jwt_issuer or ISSUER},
    )["AuthorizerId"]
    integrations: dict[str, str] = {}
    for route_key, route in resolved.http_api.routes.items():
        # A function's routes share its integration; a StartExecution integration carries its
        # mapping, so routes share one only when they map the request the same way.
        mapping = [route.start_execution, route.request_parameters]
        target = route.function or json.dumps(mapping, sort_keys=True)
        if target not in integrations:
            if route.function:
                request: dict[str, Any] = {
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": refs.function_arns[route.function],
                    "PayloadFormatVersion": "2.0",
                }
            else:
                request = start_execution_integration(route, refs, role_arn)
            integrations[target] = apigw.create_integration(ApiId=api_id, **request)["IntegrationId"]
        auth: dict[str, Any] = (
            {"AuthorizationType": "JWT", "AuthorizerId": authorizer_id}
            if route.auth
            else {"AuthorizationType": "NONE"}
        )
        apigw.create_route(
            ApiId=api_id, RouteKey=route_key, Target=f"integrations/{integrations[target]}", **auth
        )
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    return api_id


def create_websocket_api(
    deployment: Deployment | ResolvedDeployment, aws: Any, refs: ResourceRefs, *, api_id: str = ""
) -> str:
    """The WebSocket API as infra/modules/websocket_api declares it: route selection, one Lambda
    proxy integration per function, the $connect REQUEST authorizer, the stage. The WebSocket
    emulator serves whatever this registry holds, so an API `terraform apply` created is served
    the same way. `api_id`: an API created already (its id was needed first), else a new one."""
    resolved = _resolved(deployment)
    ws = resolved.web_socket_api
    apigw = aws.client("apigatewayv2")
    api_id = (
        api_id
        or apigw.create_api(
            Name=ws.name, ProtocolType="WEBSOCKET", RouteSelectionExpression=ws.route_selection_expression
        )["ApiId"]
    )
    region = aws.region if hasattr(aws, "region") else "us-east-1"
    authorizer_id = None
    if ws.authorizer:
        authorizer_id = apigw.create_authorizer(
            ApiId=api_id,
            AuthorizerType="REQUEST",
            Name=ws.authorizer.name,
            AuthorizerUri=_invoke_arn(region, refs.function_arns[ws.authorizer.function]),
            IdentitySource=list(ws.authorizer.identity_sources),
        )["AuthorizerId"]
    integrations: dict[str, str] = {}
    for route_key, route in ws.routes.items():
        if route.function not in integrations:
            integrations[route.function] = apigw.create_integration(
                ApiId=api_id,
                IntegrationType="AWS_PROXY",
                IntegrationMethod="POST",
                IntegrationUri=_invoke_arn(region, refs.function_arns[route.function]),
            )["IntegrationId"]
        # WebSocket APIs authorize the handshake only; messages inherit the connection's identity.
        auth: dict[str, Any] = (
            {"AuthorizationType": "CUSTOM", "AuthorizerId": authorizer_id}
            if route_key == "$connect" and authorizer_id
            else {"AuthorizationType": "NONE"}
        )
        apigw.create_route(
            ApiId=api_id, RouteKey=route_key, Target=f"integrations/{integrations[route.function]}", **auth
        )
    apigw.create_stage(ApiId=api_id, StageName=refs.stage, AutoDeploy=True)
    return api_id
