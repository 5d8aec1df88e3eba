"""`terraform apply` of the real root configuration against the embedded AWS, then a flow on it.

`arcadeflow up` serves the AWS endpoint (moto plus the Step Functions APIs moto lacks and the local
Lambda runner). Terraform creates, from a fixture description (its handlers live in
tests/infra/apply_handlers.py, but for the product's WebSocket authorizer): a table with a GSI,
TTL and a stream, functions with their own roles, a state machine with its role, logging and
tracing, the HTTP API with a JWT authorizer and two direct StartExecution routes (one mapping its
execution's name and input from a path parameter, the JWT subject and the body), a function
granted to describe the machine's executions, a WebSocket API
with the $connect authorizer, an SNS topic and every alarm. The test then invokes the function,
runs the state machine to SUCCEEDED, calls both APIs through the emulators (which serve what
Terraform created), and destroys everything. The issuer is the local one (the jwt_* variables),
so no Cognito pool is created. Only the Powertools layer is left off: moto resolves layers from
its own account only, and the public layer lives in AWS's.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests

from tests.infra.conftest import INFRA, Terraform, resolve_to

# terraform over the whole description takes 2-5 minutes on a loaded 2-core machine.
pytestmark = [pytest.mark.infra, pytest.mark.timeout(900)]

SERVICES = [
    "apigatewayv2",
    "cloudwatch",
    "cognitoidp",
    "dynamodb",
    "iam",
    "lambda",
    "logs",
    "sfn",
    "sns",
    "sqs",
    "sts",
]
DESCRIPTION = INFRA / "tests" / "fixtures" / "embedded_apply.deployment.json"
FRONT_END_ORIGIN = "http://localhost:5173"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def embedded_aws(tmp_path: Path):
    """`arcadeflow up` on free ports; yields the AWS endpoint URL."""
    state_dir = tmp_path / "up"
    aws_port = free_port()
    cmd = [
        str(Path(sys.executable).parent / "arcadeflow"), "up",
        "--http-port", str(free_port()), "--ws-port", str(free_port()), "--aws-port", str(aws_port),
        "--state-dir", str(state_dir), "--no-deploy",
        # The fixture's handler lives in tests/, which local Lambdas see only when added.
        "--lambda-code", str(INFRA.parent / "tests/infra/apply_handlers.py"),
    ]  # fmt: skip
    log = (tmp_path / "up.log").open("w")
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 90
        while not (state_dir / "endpoints.json").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"arcadeflow up did not come up:\n{(tmp_path / 'up.log').read_text()}", pytrace=False
                )
            time.sleep(0.3)
        endpoints = json.loads((state_dir / "endpoints.json").read_text())
        yield f"http://127.0.0.1:{aws_port}", endpoints["http"], endpoints["websocket"], state_dir
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def provider_override(endpoint: str) -> str:
    endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in SERVICES)
    return f"""
provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {{
{endpoints}
  }}
}}
"""


def test_apply_then_run_a_flow_then_destroy(terraform: Terraform, embedded_aws, tmp_path: Path) -> None:
    embedded_aws, http_url, websocket_url, state_dir = embedded_aws
    # A copy of infra/ (the fixture ASL travels with it), so the override and state stay out of the tree.
    work = tmp_path / "repo" / "infra"
    shutil.copytree(INFRA, work, ignore=shutil.ignore_patterns(".terraform", "build", "terraform.tfstate*"))
    (work / "embedded_override.tf").write_text(provider_override(embedded_aws))
    state = tmp_path / "terraform.tfstate"
    # Terraform reads the fixture as the loader resolved it, as it reads deployment.resolved.json.
    resolved = resolve_to(DESCRIPTION, tmp_path / "embedded_apply.resolved.json")
    variables = [
        f"-var=deployment_file={resolved}",
        f"-var=package_path={terraform.package_path}",
        "-var=attach_powertools_layer=false",
        "-var=stage=test",
        # The $connect authorizer Terraform creates trusts the local issuer (README: applying
        # Terraform against the embedded AWS).
        "-var=jwt_issuer=https://arcadeflow.local/auth",
        '-var=jwt_audiences=["arcadeflow"]',
        f"-var=jwt_jwks_url={http_url}/.well-known/jwks.json",
        # Terraform's cors_configuration is what the emulator answers browsers with.
        f'-var=cors_allowed_origins=["{FRONT_END_ORIGIN}"]',
    ]

    def tf(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        result = terraform.run(*args, timeout=timeout, cwd=work)
        assert result.returncode == 0, (
            f"terraform {args[0]} failed:\n{result.stdout[-6000:]}\n{result.stderr}"
        )
        return result

    tf(*terraform.init_args())
    started = time.monotonic()
    tf("apply", "-auto-approve", "-input=false", "-no-color", f"-state={state}", *variables)
    apply_seconds = time.monotonic() - started
    outputs = {k: v["value"] for k, v in json.loads(tf("output", "-json", f"-state={state}").stdout).items()}

    def client(service: str):
        return boto3.client(
            service, endpoint_url=embedded_aws, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
        )  # fmt: skip

    try:
        table = outputs["table_names"]["scores"]
        assert table == "tfapply-scores"
        dynamodb = client("dynamodb")
        described = dynamodb.describe_table(TableName=table)["Table"]
        assert [i["IndexName"] for i in described["GlobalSecondaryIndexes"]] == ["ScoresByGame"]
        assert described["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        assert ttl["AttributeName"] == "expiresAt"
        # The fixture opts scores into point-in-time recovery (data kept forever).
        backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

        # The function Terraform created runs with the environment Terraform gave it.
        lam = client("lambda")
        config = lam.get_function_configuration(FunctionName="tfapply-record-score")
        assert config["Environment"]["Variables"]["SCORES_TABLE"] == table
        assert config["Role"].endswith(":role/tfapply-record-score")
        answer = lam.invoke(
            FunctionName="tfapply-record-score",
            Payload=json.dumps({"body": json.dumps({"userId": "alice", "gameId": "g1", "score": 42})}),
        )
        assert "FunctionError" not in answer, answer["Payload"].read()
        item = dynamodb.get_item(TableName=table, Key={"userId": {"S": "alice"}, "gameId": {"S": "g1"}})[
            "Item"
        ]
        assert item["bestScore"] == {"N": "42"}

        # The state machine Terraform created runs end to end: Lambda task, then a direct DynamoDB read.
        sfn = client("stepfunctions")
        arn = outputs["state_machine_arns"]["record_flow"]
        execution = sfn.start_execution(
            stateMachineArn=arn, input=json.dumps({"userId": "bob", "gameId": "g2", "score": 7})
        )["executionArn"]
        deadline = time.monotonic() + 60
        while (status := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the execution did not finish in 60 s"
            time.sleep(0.5)
        assert status["status"] == "SUCCEEDED", status
        assert json.loads(status["output"])["stored"] == {"bestScore": "7"}
        machine = sfn.describe_state_machine(stateMachineArn=arn)
        assert machine["roleArn"].endswith(":role/tfapply-record-flow")
        assert machine["tracingConfiguration"] == {"enabled": True}
        assert machine["loggingConfiguration"]["level"] == "ALL"

        # POST /flows starts the machine through API Gateway's own Step Functions integration.
        apis = {a["Name"]: a["ApiId"] for a in client("apigatewayv2").get_apis()["Items"]}
        integrations = client("apigatewayv2").get_integrations(ApiId=apis["tfapply-http"])["Items"]
        direct = [i for i in integrations if i.get("IntegrationSubtype") == "StepFunctions-StartExecution"]
        assert len(direct) == 2 and {i["RequestParameters"]["StateMachineArn"] for i in direct} == {arn}
        mapped = [i["RequestParameters"] for i in direct if "Name" in i["RequestParameters"]]
        assert mapped == [
            {
                "StateMachineArn": arn,
                "Name": "${request.path.gameId}_${context.authorizer.claims.sub}",
                "Input": '{"userId":"${context.authorizer.claims.sub}","gameId":"${request.path.gameId}",'
                '"score":${request.body.score}}',
            }
        ]
        # The describe grant: the function may read the executions of record_flow, and only those.
        policy = client("iam").get_role_policy(
            RoleName="tfapply-record-score", PolicyName="tfapply-record-score-access"
        )
        document = policy["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        describe = [st for st in document["Statement"] if st.get("Sid") == "DescribeExecutions"]
        assert describe == [
            {
                "Sid": "DescribeExecutions",
                "Effect": "Allow",
                "Action": ["states:DescribeExecution", "states:GetExecutionHistory"],
                "Resource": ["arn:aws:states:us-east-1:123456789012:execution:tfapply-record-flow:*"],
            }
        ]
        assert "tfapply-websocket" in apis and outputs["websocket_callback_url"].endswith("/test")

        # The HTTP emulator serves the API Terraform created: a Lambda route and the direct route,
        # behind the JWT authorizer.
        from arcadeflow.auth import LocalIssuer

        token = LocalIssuer(state_dir).mint("carol", "Carol")
        body = {"userId": "carol", "gameId": "g3", "score": 9}
        assert requests.post(f"{http_url}/scores", json=body, timeout=30).status_code == 401
        via_api = requests.post(
            f"{http_url}/scores", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert via_api.status_code == 200, via_api.text
        item = dynamodb.get_item(TableName=table, Key={"userId": {"S": "carol"}, "gameId": {"S": "g3"}})[
            "Item"
        ]
        assert item["bestScore"] == {"N": "9"}
        # A browser on the origin Terraform allowed: the preflight is the gateway's, the answer
        # carries the origin.
        preflight = requests.options(
            f"{http_url}/scores",
            headers={
                "Origin": FRONT_END_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
            timeout=30,
        )
        assert preflight.status_code == 204, preflight.text
        assert preflight.headers["Access-Control-Allow-Origin"] == FRONT_END_ORIGIN
        assert preflight.headers["Access-Control-Allow-Headers"] == "authorization,content-type"
        cross_origin = requests.post(
            f"{http_url}/scores",
            json=body,
            headers={"Authorization": f"Bearer {token}", "Origin": FRONT_END_ORIGIN},
            timeout=30,
        )
        assert cross_origin.headers["Access-Control-Allow-Origin"] == FRONT_END_ORIGIN
        started_by_api = requests.post(
            f"{http_url}/flows",
            json={"userId": "dan", "gameId": "g4", "score": 3},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert started_by_api.status_code == 200, started_by_api.text
        execution = started_by_api.json()["executionArn"]
        deadline = time.monotonic() + 60
        while (status := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the API-started execution did not finish in 60 s"
            time.sleep(0.5)
        assert status["status"] == "SUCCEEDED", status

        # The mapped route: the execution is named after the path parameter and the caller's
        # JWT subject, its input built from them and a body field, as API Gateway maps them.
        ended = requests.post(
            f"{http_url}/games/g5/flows",
            json={"score": 5},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert ended.status_code == 200, ended.text
        execution = ended.json()["executionArn"]
        assert execution == "arn:aws:states:us-east-1:123456789012:execution:tfapply-record-flow:g5_carol"
        deadline = time.monotonic() + 60
        while (status := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the mapped execution did not finish in 60 s"
            time.sleep(0.5)
        assert status["status"] == "SUCCEEDED", status
        assert json.loads(status["input"]) == {"userId": "carol", "gameId": "g5", "score": 5}
        again = requests.post(
            f"{http_url}/games/g5/flows",
            json={"score": 5},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert again.status_code == 400 and again.json()["__type"] == "ExecutionAlreadyExists", again.text

        # The WebSocket emulator serves the API Terraform created: its stage, its $connect
        # authorizer (the product's, trusting the local issuer) and a route's Lambda, whose frame
        # comes back over @connections with the identity the authorizer gave the connection.
        from websockets.exceptions import InvalidStatus
        from websockets.sync.client import connect

        stage_url = websocket_url.rsplit("/", 1)[0] + "/test"
        with pytest.raises(InvalidStatus) as refused:
            connect(stage_url, open_timeout=30).close()
        assert refused.value.response.status_code == 401
        with pytest.raises(InvalidStatus) as forged:
            connect(f"{stage_url}?token=not-a-jwt", open_timeout=30).close()
        assert forged.value.response.status_code in (401, 403)
        with connect(f"{stage_url}?token={token}", open_timeout=30) as ws:
            ws.send(json.dumps({"action": "echo", "say": "hello"}))
            frame = json.loads(ws.recv(timeout=30))
        assert frame == {"type": "echo", "said": "hello", "userId": "carol", "stage": "test"}

        alarms = {a["AlarmName"] for a in client("cloudwatch").describe_alarms()["MetricAlarms"]}
        assert {"tfapply-record-flow-ExecutionsFailed", "tfapply-scores-WriteThrottleEvents"} <= alarms
    finally:
        tf("destroy", "-auto-approve", "-input=false", "-no-color", f"-state={state}", *variables)

    assert not [t for t in client("dynamodb").list_tables()["TableNames"] if t.startswith("tfapply-")]
    assert not [
        f for f in client("lambda").list_functions()["Functions"] if f["FunctionName"].startswith("tfapply-")
    ]
    # Budget: the whole infra tier stays well under four minutes.
    assert apply_seconds < 150, f"apply took {apply_seconds:.0f} s"
