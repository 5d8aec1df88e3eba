"""`arcadeflow deploy` / `arcadeflow destroy`: the resolved description on another engine.

The same deployer `arcadeflow up` uses (arcadeflow/deployer.py, plain boto3) creates every table,
queue, function (the real package zip), state machine and both APIs on any AWS-compatible
endpoint: MiniStack, LocalStack, or AWS itself with a profile. What differs per target is only
what the embedded AWS let pass: the account id in ARNs (asked of STS), the Lambda permissions API
Gateway needs, and the URL forms of execute-api. The outputs go to `<state-dir>/endpoints.json`,
the file `arcadeflow up` writes, with the same keys (`http`, `websocket`, `websocketCallback`,
`tables`, `stateMachines`, ...) plus the target's (`target`, `endpoint`, `jwtIssuer`,
`jwtJwksUrl`, `resources`): the CLI and the test suite read one file whatever the engine.
`destroy` deletes by the names recorded there.

Identity: on AWS, Cognito issues the tokens (Terraform creates the pool: infra/main.tf), so
`--target aws` takes `--jwt-issuer` and `--jwt-jwks-url`. On a local engine the local issuer
(arcadeflow/auth.py) signs them, and its public key must be fetchable both by the engine's HTTP
API JWT authorizer (MiniStack reads `<issuer>/.well-known/openid-configuration` or
`<issuer>/.well-known/jwks.json`) and by the $connect authorizer Lambda (JWT_JWKS_URL): the
issuer is therefore an http://127.0.0.1 URL served by `JwksServer` (`arcadeflow issuer` runs one
in the foreground; the test suite runs one in-process).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from arcadeflow import deployment as deployment_module
from arcadeflow.auth import JWKS_PATH, LocalIssuer
from arcadeflow.commands import ENDPOINTS_FILE, CommandError
from arcadeflow.deployer import create_secrets, deploy

TARGETS = ("ministack", "localstack", "aws")
DEFAULT_ENDPOINTS = {"ministack": "http://127.0.0.1:4566", "localstack": "http://localhost:4566"}
DEFAULT_JWKS_PORT = 8002
OPENID_CONFIGURATION_PATH = "/.well-known/openid-configuration"
# The stage of the WebSocket API on every target (the callback URL ends in it).
REMOTE_STAGE = "live"


@dataclass
class RemoteAws:
    """Clients of one AWS-compatible endpoint (None: AWS itself, through the profile)."""

    endpoint_url: str | None
    region: str
    profile: str | None = None

    def client(self, service: str, **kwargs: Any) -> Any:
        import boto3

        if self.endpoint_url is None:
            session = boto3.Session(profile_name=self.profile, region_name=self.region)
            return session.client(service, **kwargs)
        # A local engine accepts any credentials; the ambient ones may be real and must not leak.
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            **kwargs,
        )

    def account_id(self) -> str:
        return str(self.client("sts").get_caller_identity()["Account"])


def execute_api_urls(target: str, aws: RemoteAws, api_id: str, stage: str) -> tuple[str, str]:
    """(base URL of the API, WebSocket-style URL) as clients on this machine reach it.

    AWS: the API's own https host. MiniStack and LocalStack: their path form
    `<endpoint>/_aws/execute-api/<id>/<stage>`, since `<id>.execute-api.localhost` does not
    resolve everywhere (it does not on this CI machine)."""
    if target == "aws":
        base = f"https://{api_id}.execute-api.{aws.region}.amazonaws.com"
    else:
        assert aws.endpoint_url is not None
        base = f"{aws.endpoint_url.rstrip('/')}/_aws/execute-api/{api_id}"
    with_stage = base if stage == "$default" else f"{base}/{stage}"
    return with_stage, with_stage.replace("https://", "wss://", 1).replace("http://", "ws://", 1)


def deploy_to_target(
    target: str,
    state_dir: Path,
    *,
    endpoint_url: str | None = None,
    profile: str | None = None,
    region: str = "us-east-1",
    jwt_issuer: str = "",
    jwt_jwks_url: str = "",
    environment_overrides: dict[str, str] | None = None,
    description: Path = deployment_module.DEFAULT_DESCRIPTION,
) -> dict[str, Any]:
    """Deploy the description to `target`; writes and returns the outputs (endpoints.json)."""
    if target not in TARGETS:
        raise CommandError(f"unknown target {target!r} (one of {', '.join(TARGETS)})")
    if target == "aws":
        if endpoint_url:
            raise CommandError("--target aws talks to AWS itself: no --endpoint-url")
        if not (jwt_issuer and jwt_jwks_url):
            raise CommandError(
                "--target aws needs --jwt-issuer and --jwt-jwks-url (the Cognito user pool Terraform "
                "creates: infra/main.tf); `terraform apply` in infra/ deploys the whole stack with IAM "
                "per function, alarms and logs, which this deployer does not"
            )
    else:
        endpoint_url = endpoint_url or DEFAULT_ENDPOINTS[target]
    outputs_path = Path(state_dir) / ENDPOINTS_FILE
    if outputs_path.exists():
        raise CommandError(f"{outputs_path} exists: `arcadeflow destroy` (or stop the running stack) first")
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    aws = RemoteAws(endpoint_url if target != "aws" else None, region, profile)
    if not jwt_issuer:
        jwt_issuer = f"http://127.0.0.1:{DEFAULT_JWKS_PORT}"
    jwt_jwks_url = jwt_jwks_url or jwt_issuer.rstrip("/") + JWKS_PATH
    description_model = deployment_module.load(description)
    account_id = aws.account_id()

    def callback_url(api_id: str) -> str:
        # What the functions' apigatewaymanagementapi client posts @connections to.
        return execute_api_urls(target, aws, api_id, REMOTE_STAGE)[0]

    refs = deploy(
        description_model,
        aws,
        websocket_callback_url=callback_url,
        jwt_jwks_url=jwt_jwks_url,
        jwt_issuer=jwt_issuer,
        region=region,
        environment_overrides=environment_overrides,
        cors_origins=[],
        account_id=account_id,
        stage=REMOTE_STAGE,
        grant_api_invoke=True,
    )
    parameters = create_secrets(description_model, aws)
    apigw = aws.client("apigatewayv2")
    apis = {api["Name"]: api["ApiId"] for api in apigw.get_apis()["Items"]}
    resolved = description_model.resolved()
    http_api_id = apis[resolved.http_api.name]
    websocket_api_id = apis.get(resolved.web_socket_api.name, "") if resolved.web_socket_api.enabled else ""
    http_url = execute_api_urls(target, aws, http_api_id, "$default")[0]
    websocket_url = (
        execute_api_urls(target, aws, websocket_api_id, REMOTE_STAGE)[1] if websocket_api_id else None
    )
    lam = aws.client("lambda")
    mappings = [
        m["UUID"]
        for fn in resolved.functions.values()
        for m in lam.list_event_source_mappings(FunctionName=fn.name).get("EventSourceMappings", [])
    ]
    outputs: dict[str, Any] = {
        "http": http_url,
        "aws": endpoint_url if target != "aws" else None,
        "websocket": websocket_url,
        "websocketCallback": refs.websocket_callback_url or None,
        "pages": {},
        "region": region,
        "stateMachines": dict(refs.state_machine_arns),
        "tables": dict(refs.tables),
        "corsOrigins": [],
        "target": target,
        "endpoint": endpoint_url,
        "profile": profile,
        "accountId": account_id,
        "jwtIssuer": jwt_issuer,
        "jwtAudiences": list(refs.jwt_audiences),
        "jwtJwksUrl": jwt_jwks_url,
        "stage": REMOTE_STAGE,
        # What `arcadeflow destroy` deletes.
        "resources": {
            "httpApiId": http_api_id,
            "websocketApiId": websocket_api_id,
            "functions": [fn.name for fn in resolved.functions.values()],
            "eventSourceMappings": mappings,
            "queueUrls": dict(refs.queue_urls),
            "parameters": sorted(parameters.values()),
            "role": "arcadeflow-local",
        },
    }
    outputs_path.write_text(json.dumps(outputs, indent=2))
    return outputs


def destroy_target(state_dir: Path) -> dict[str, int]:
    """Delete what `deploy_to_target` recorded in `<state-dir>/endpoints.json`; returns counts."""
    from botocore.exceptions import ClientError

    outputs_path = Path(state_dir) / ENDPOINTS_FILE
    if not outputs_path.exists():
        raise CommandError(f"nothing to destroy: {outputs_path} is missing")
    outputs = json.loads(outputs_path.read_text())
    if "target" not in outputs:
        raise CommandError(f"{outputs_path} belongs to a running `arcadeflow up`: stop it instead")
    aws = RemoteAws(
        outputs["endpoint"] if outputs["target"] != "aws" else None, outputs["region"], outputs["profile"]
    )
    res = outputs["resources"]
    deleted: dict[str, int] = {}

    def each(kind: str, calls: list[Any]) -> None:
        for call in calls:
            try:
                call()
                deleted[kind] = deleted.get(kind, 0) + 1
            except ClientError as exc:  # gone already: destroy is repeatable
                if "NotFound" not in exc.response.get("Error", {}).get("Code", ""):
                    raise

    lam, apigw, sfn = aws.client("lambda"), aws.client("apigatewayv2"), aws.client("stepfunctions")
    sqs, dynamodb, ssm, iam = aws.client("sqs"), aws.client("dynamodb"), aws.client("ssm"), aws.client("iam")
    each(
        "event source mappings",
        [lambda u=u: lam.delete_event_source_mapping(UUID=u) for u in res["eventSourceMappings"]],
    )
    each(
        "APIs",
        [lambda a=a: apigw.delete_api(ApiId=a) for a in (res["httpApiId"], res["websocketApiId"]) if a],
    )
    each(
        "state machines",
        [lambda a=a: sfn.delete_state_machine(stateMachineArn=a) for a in outputs["stateMachines"].values()],
    )
    each("functions", [lambda f=f: lam.delete_function(FunctionName=f) for f in res["functions"]])
    each("queues", [lambda q=q: sqs.delete_queue(QueueUrl=q) for q in res["queueUrls"].values()])
    each("tables", [lambda t=t: dynamodb.delete_table(TableName=t) for t in outputs["tables"].values()])
    each("parameters", [lambda p=p: ssm.delete_parameter(Name=p) for p in res["parameters"]])
    each("roles", [lambda: iam.delete_role(RoleName=res["role"])])
    outputs_path.unlink()
    return deleted


class JwksServer:
    """The local issuer's public key on 127.0.0.1, under its issuer URL, for another engine."""

    def __init__(self, state_dir: Path, port: int = DEFAULT_JWKS_PORT):
        bodies: dict[str, bytes] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = bodies.get(self.path.split("?", 1)[0])
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:  # one line per key fetch is noise
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = LocalIssuer(state_dir, issuer=self.url)
        bodies[JWKS_PATH] = json.dumps(self.issuer.jwks()).encode()
        bodies[OPENID_CONFIGURATION_PATH] = json.dumps(
            {"issuer": self.url, "jwks_uri": self.url + JWKS_PATH}
        ).encode()
        self._thread = threading.Thread(target=self._server.serve_forever, name="jwks", daemon=True)

    def start(self) -> JwksServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
