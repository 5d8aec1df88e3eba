"""The embedded deployer: creates everything in infra/deployment.json on an AWS endpoint.

It speaks plain boto3, so it works against the embedded AWS (and, for tables, inside moto's
in-process `mock_aws` used by functional tests). Terraform creates the same resources on AWS.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from arcadeflow.deployment import Deployment, ResourceRefs, Table

ACCOUNT_ID = "123456789012"
LAMBDA_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/arcadeflow-local"


def table_request(name: str, table: Table) -> dict[str, Any]:
    """The CreateTable request for one table of the description."""
    key_schema = [{"AttributeName": table.partition_key.name, "KeyType": "HASH"}]
    if table.sort_key:
        key_schema.append({"AttributeName": table.sort_key.name, "KeyType": "RANGE"})
    req: dict[str, Any] = {
        "TableName": name,
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in table.attribute_definitions().items()
        ],
    }
    capacity = None
    if table.provisioned:
        req["BillingMode"] = "PROVISIONED"
        capacity = {
            "ReadCapacityUnits": table.provisioned.read,
            "WriteCapacityUnits": table.provisioned.write,
        }
        req["ProvisionedThroughput"] = capacity
    else:
        req["BillingMode"] = "PAY_PER_REQUEST"
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
            if capacity:
                gsi["ProvisionedThroughput"] = capacity
            req["GlobalSecondaryIndexes"].append(gsi)
    if table.stream:
        req["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return req


def create_tables(deployment: Deployment, dynamodb: Any) -> dict[str, str]:
    """Create every table (keys, GSIs, stream, TTL). Returns logical -> physical name."""
    names: dict[str, str] = {}
    for logical, table in deployment.tables.items():
        name = deployment.physical_name(logical)
        dynamodb.create_table(**table_request(name, table))
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
        names[logical] = name
    return names


def table_environment(deployment: Deployment, names: dict[str, str]) -> dict[str, str]:
    """The <TABLE>_TABLE variables of every table, for tests that call handlers directly."""
    return {f"{logical.upper()}_TABLE": physical for logical, physical in names.items()}


def placeholder_zip() -> bytes:
    """Lambda wants a code archive; the local runner runs functions/ from the checkout instead."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("README.txt", "arcadeflow runs this function from functions/ in the checkout.\n")
    return buf.getvalue()


def refs_json(refs: ResourceRefs) -> str:
    return json.dumps(refs.model_dump(), indent=2)


def deploy(
    deployment: Deployment,
    aws: Any,
    *,
    websocket_callback_url: str = "",
    jwt_jwks_url: str = "",
    region: str = "us-east-1",
    environment_overrides: dict[str, str] | None = None,
) -> ResourceRefs:
    """Create every resource of the description on the embedded AWS, in dependency order.

    `aws` is an EmbeddedAws (anything with .client(service)). State machine ASL comes from
    statemachines/ with its ${placeholders} filled from the same variables Terraform passes to
    templatefile(). `environment_overrides` replaces the value of a variable in every function
    that declares it (how `arcadeflow up --invite-timeout` and the like reach the handlers).
    `jwt_jwks_url` is where the local issuer's key is served (the WebSocket authorizer fetches it).
    """
    overrides = environment_overrides or {}
    from arcadeflow.asl import render_definition
    from arcadeflow.auth import AUDIENCE, ISSUER

    # The local issuer stands in for Cognito; its key is published at jwt_jwks_url.
    refs = ResourceRefs(
        websocket_callback_url=websocket_callback_url,
        jwt_issuer=ISSUER,
        jwt_audiences=[AUDIENCE],
        jwt_jwks_url=jwt_jwks_url,
    )
    iam, dynamodb, sqs = aws.client("iam"), aws.client("dynamodb"), aws.client("sqs")
    lam, sfn = aws.client("lambda"), aws.client("stepfunctions")

    iam.create_role(
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
    )
    refs.tables = create_tables(deployment, dynamodb)

    for logical, queue in deployment.all_queues().items():
        name = deployment.physical_name(logical)
        attributes: dict[str, str] = {}
        if queue is not None:
            attributes["VisibilityTimeout"] = str(queue.visibility_timeout_seconds)
            if queue.holds_failures:
                attributes["MessageRetentionPeriod"] = str(14 * 24 * 3600)  # SQS's maximum, as infra/
        else:
            attributes["MessageRetentionPeriod"] = str(14 * 24 * 3600)  # dead-letter queues, as infra/
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        refs.queue_urls[logical] = url
        refs.queue_arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
    for logical, queue in deployment.queues.items():
        if queue.dead_letter:
            sqs.set_queue_attributes(
                QueueUrl=refs.queue_urls[logical],
                Attributes={
                    "RedrivePolicy": json.dumps(
                        {
                            "deadLetterTargetArn": refs.queue_arns[f"{logical}_dlq"],
                            "maxReceiveCount": str(queue.max_receive_count),
                        }
                    )
                },
            )

    refs.state_machine_arns = {
        logical: f"arn:aws:states:{region}:{ACCOUNT_ID}:stateMachine:{deployment.physical_name(logical)}"
        for logical in deployment.state_machines
    }
    for logical in deployment.functions:
        refs.function_arns[logical] = (
            f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{deployment.physical_name(logical)}"
        )

    code = placeholder_zip()
    for logical, fn in deployment.functions.items():
        lam.create_function(
            FunctionName=deployment.physical_name(logical),
            Runtime="python3.11",
            Role=LAMBDA_ROLE_ARN,
            Handler=fn.handler,
            Code={"ZipFile": code},
            Description=fn.description,
            Timeout=fn.timeout_seconds,
            MemorySize=fn.memory_mb,
            Environment={
                "Variables": {
                    k: overrides.get(k, v) for k, v in deployment.function_environment(logical, refs).items()
                }
            },
        )

    streams = {
        logical: dynamodb.describe_table(TableName=name)["Table"].get("LatestStreamArn")
        for logical, name in refs.tables.items()
    }
    for es in deployment.event_sources.values():
        source_arn = streams[es.table] if es.table else refs.queue_arns[es.queue]  # type: ignore[index]
        request: dict[str, Any] = {
            "FunctionName": deployment.physical_name(es.function),
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

    create_http_api(deployment, aws, refs)

    variables = deployment.template_variables(refs)
    for logical, sm in deployment.state_machines.items():
        sfn.create_state_machine(
            name=deployment.physical_name(logical),
            definition=render_definition(sm.definition, variables),
            roleArn=LAMBDA_ROLE_ARN,
            type="STANDARD",
        )
    return refs


def create_http_api(deployment: Deployment, aws: Any, refs: ResourceRefs) -> str:
    """The HTTP API as Terraform declares it: JWT authorizer, one Lambda proxy integration per
    function (payload 2.0), StepFunctions-StartExecution integrations, routes, $default stage.
    The API Gateway emulator serves whatever this registry holds."""
    from arcadeflow.auth import AUDIENCE, ISSUER

    apigw = aws.client("apigatewayv2")
    api_id = apigw.create_api(Name=f"{deployment.name}-http", ProtocolType="HTTP")["ApiId"]
    authorizer_id = apigw.create_authorizer(
        ApiId=api_id,
        AuthorizerType="JWT",
        Name="jwt",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Audience": [AUDIENCE], "Issuer": ISSUER},
    )["AuthorizerId"]
    integrations: dict[str, str] = {}
    for route_key, route in deployment.http_api.routes.items():
        target = route.function or f"sfn:{route.start_execution}"
        if target not in integrations:
            if route.function:
                request: dict[str, Any] = {
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": refs.function_arns[route.function],
                    "PayloadFormatVersion": "2.0",
                }
            else:
                request = {
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationSubtype": "StepFunctions-StartExecution",
                    "CredentialsArn": LAMBDA_ROLE_ARN,
                    "PayloadFormatVersion": "1.0",
                    "RequestParameters": {
                        "StateMachineArn": refs.state_machine_arns[route.start_execution or ""],
                        "Input": "$request.body",
                    },
                }
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
