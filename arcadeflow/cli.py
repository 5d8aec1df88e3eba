"""The arcadeflow command: run the backend locally and work with it."""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arcadeflow.commands import ENTRY_POINT_GROUP, add_state_dir

if TYPE_CHECKING:
    from arcadeflow.deployment import Deployment, Setting

log = logging.getLogger("arcadeflow")


class _SetVariable(argparse.Action):
    """Collects function settings into `args.environment_overrides` (variable -> value), whether
    given as a setting's own flag (--invite-timeout 3) or as --set INVITE_TIMEOUT_SECONDS=3."""

    def __init__(self, *args: Any, variable: str | None = None, **kwargs: Any):
        self.variable = variable
        super().__init__(*args, **kwargs)

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any, option: Any = None) -> None:
        variable, value = (self.variable, values) if self.variable else values
        overrides = dict(getattr(namespace, "environment_overrides", None) or {})
        overrides[variable] = value
        namespace.environment_overrides = overrides


def _setting_value(setting: Setting) -> Any:
    def parse(text: str) -> str:
        try:
            return str(setting.parse(text))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = setting.type  # argparse names the type in its error message
    return parse


def _variable_assignment(deployment: Deployment) -> Any:
    """--set VARIABLE=VALUE: VARIABLE must be declared in some function's environment."""
    by_variable = {s.variable: s for s in deployment.settings.values()}
    declared = sorted({v for fn in deployment.functions.values() for v in fn.environment})

    def parse(text: str) -> tuple[str, str]:
        variable, sep, value = text.partition("=")
        if not sep or not variable:
            raise argparse.ArgumentTypeError(f"expected VARIABLE=VALUE, got {text!r}")
        if variable not in declared:
            raise argparse.ArgumentTypeError(
                f"no function declares {variable} in infra/deployment.json; settable: {', '.join(declared)}"
            )
        if variable in by_variable:
            try:
                value = by_variable[variable].parse(value)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(f"{variable}: {exc}") from None
        return variable, value

    parse.__name__ = "VARIABLE=VALUE"
    return parse


def _add_function_settings(up: argparse.ArgumentParser) -> None:
    """One flag per setting of the description, and the generic --set."""
    from arcadeflow import deployment as deployment_module

    try:
        deployment = deployment_module.load()
    except Exception as exc:  # `up` reports it; `token` and the rest must keep working
        up.set_defaults(description_error=exc)
        return
    group = up.add_argument_group(
        "function settings",
        "declared under `settings` in infra/deployment.json; defaults from the functions' environment there",
    )
    for name, setting in sorted(deployment.settings.items()):
        defaults = sorted(set(deployment.environment_defaults(setting.variable).values()))
        try:
            group.add_argument(
                f"--{name}",
                action=_SetVariable,
                variable=setting.variable,
                type=_setting_value(setting),
                metavar=setting.type.upper(),
                help=f"{setting.help} (sets {setting.variable}; default {' or '.join(defaults)})",
            )
        except argparse.ArgumentError:
            clash = ValueError(f"setting {name}: --{name} is an option of up itself")
            up.set_defaults(description_error=clash)
    group.add_argument(
        "--set",
        action=_SetVariable,
        type=_variable_assignment(deployment),
        metavar="VARIABLE=VALUE",
        help="override a variable in every function whose environment declares it (repeatable)",
    )


def _table_wcu(value: str) -> tuple[str, int]:
    table, sep, wcu = value.partition("=")
    if not sep or not wcu.isdigit() or int(wcu) < 1:
        raise argparse.ArgumentTypeError(f"expected TABLE=WCU with WCU >= 1, got {value!r}")
    return table, int(wcu)


def _cors_origin(value: str) -> str:
    """An origin is scheme://host[:port] and nothing else: a browser sends exactly that, so a
    trailing / or a path would never match."""
    if value in ("*", "none") or re.fullmatch(r"https?://[^/\s?#]+", value):
        return value
    raise argparse.ArgumentTypeError(f"expected an origin such as http://localhost:5173, or *, got {value!r}")


def _cors_origins(given: list[str]) -> list[str] | None:
    from arcadeflow.commands import CommandError

    if not given:
        return None  # the default: the local pages' origin
    if "none" in given and len(given) > 1:
        raise CommandError("--cors-origin none means no CORS configuration: give it alone")
    return [] if given == ["none"] else list(given)


def cmd_up(args: argparse.Namespace) -> int:
    from arcadeflow.commands import CommandError
    from arcadeflow.stack import EmbeddedStack, StackOptions

    if getattr(args, "description_error", None) is not None:
        raise CommandError(f"infra/deployment.json: {args.description_error}")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    options = StackOptions(
        http_port=args.http_port,
        ws_port=args.ws_port,
        aws_port=args.aws_port,
        state_dir=args.state_dir,
        ttl_interval_seconds=args.ttl_interval,
        stream_retention_seconds=args.stream_retention,
        environment_overrides=dict(args.environment_overrides),
        table_wcu=dict(args.table_wcu),
        capacity_burst_seconds=args.capacity_burst_seconds,
        deploy=args.deploy,
        lambda_code=list(args.lambda_code),
        persist=args.persist,
        fresh=args.fresh,
        cors_origins=_cors_origins(args.cors_origins),
    )
    try:
        stack = EmbeddedStack(options)
    except ValueError as exc:  # e.g. a --lambda-code path outside the project: the user's to fix
        raise CommandError(str(exc)) from exc
    stop = threading.Event()

    def on_stop_signal(*_: Any) -> None:
        if stop.is_set():
            return  # already stopping
        stop.set()
        if not started.is_set():
            raise KeyboardInterrupt  # still starting: give up starting, then stop cleanly

    started = threading.Event()
    # Ctrl-C (SIGINT) and SIGTERM stop alike, even where SIGINT was ignored (a background job);
    # a second one while stopping is ignored, so the state directory is written to the end.
    signal.signal(signal.SIGTERM, on_stop_signal)
    signal.signal(signal.SIGINT, on_stop_signal)
    try:
        stack.start()
        endpoints = stack.endpoints()
        print("arcadeflow is up", flush=True)
        print(f"  HTTP API      {endpoints['http']}   (OpenAPI: {endpoints['http']}/openapi.json)")
        print(f"  WebSocket API {endpoints['websocket']}?token=<JWT>")
        print(f"  callback URL  {endpoints['websocketCallback']}   (Management API, @connections)")
        print(f"  AWS endpoint  {endpoints['aws']}   (AWS_ENDPOINT_URL for boto3 and the aws CLI)")
        if endpoints["corsOrigins"] is not None:
            allowed = ", ".join(endpoints["corsOrigins"]) or "none (no CORS configuration)"
            print(f"  CORS origins  {allowed}   (--cors-origin ORIGIN to allow a page elsewhere)")
        print(f"  tokens        arcadeflow token <userId> --name <screenName> --state-dir {args.state_dir}")
        for page in endpoints["pages"].values():
            print(f"  local page    {page}")
        print("Ctrl-C to stop.", flush=True)
        started.set()
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    import json

    from arcadeflow.auth import ISSUER, LocalIssuer
    from arcadeflow.commands import ENDPOINTS_FILE

    # A stack `arcadeflow deploy` put on another engine names its issuer in its outputs.
    outputs = Path(args.state_dir) / ENDPOINTS_FILE
    issuer_url = json.loads(outputs.read_text()).get("jwtIssuer", ISSUER) if outputs.exists() else ISSUER
    issuer = LocalIssuer(args.state_dir, issuer=issuer_url)
    print(issuer.mint(args.user_id, args.name or args.user_id, args.avatar, args.expires_in))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arcadeflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run the whole backend locally: embedded AWS + API Gateway emulators")
    up.add_argument("--http-port", type=int, default=8000, help="HTTP API port (default 8000)")
    up.add_argument("--ws-port", type=int, default=8001, help="WebSocket API port (default 8001)")
    up.add_argument("--aws-port", type=int, default=4566, help="embedded AWS endpoint port (default 4566)")
    up.add_argument("--ttl-interval", type=float, default=5.0, help="seconds between TTL sweeps (default 5)")
    up.add_argument(
        "--stream-retention",
        type=float,
        default=24 * 60 * 60,
        metavar="SECONDS",
        help="how long DynamoDB stream records are kept (default 86400: 24 hours, as on AWS)",
    )
    up.add_argument(
        "--table-wcu",
        type=_table_wcu,
        action="append",
        default=[],
        metavar="TABLE=WCU",
        help="emulate provisioned write capacity on a table, e.g. feed=100 (repeatable); "
        "writes beyond it are throttled as DynamoDB throttles them",
    )
    up.add_argument(
        "--capacity-burst-seconds",
        type=float,
        default=300.0,
        help="unused capacity an emulated table may save up, in seconds of its WCU (DynamoDB: 300; 0: none)",
    )
    up.add_argument(
        "--no-deploy",
        dest="deploy",
        action="store_false",
        help="start an empty embedded AWS (for `terraform apply` against it); the emulators serve "
        "whatever APIs it then creates",
    )
    up.add_argument(
        "--lambda-code",
        type=lambda text: Path(text).resolve(),
        action="append",
        default=[],
        metavar="PATH",
        help="a file or directory of the project added to every local function's deployed zip, at its "
        "path in the project, never over a file the zip holds (local only, for tests; repeatable; "
        "e.g. tests/support/sample_handlers.py)",
    )
    up.add_argument(
        "--fresh",
        action="store_true",
        help="start empty: forget the executions and table items the state directory kept",
    )
    up.add_argument(
        "--no-persist",
        dest="persist",
        action="store_false",
        help="keep nothing across restarts (executions and items live in memory only)",
    )
    up.add_argument(
        "--cors-origin",
        dest="cors_origins",
        type=_cors_origin,
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin the HTTP API allows, as Terraform's cors_allowed_origins, e.g. "
        "http://localhost:5173, or * (repeatable; default: the local pages' origin "
        "http://127.0.0.1:<http port>; 'none' for no CORS configuration)",
    )
    up.add_argument("--verbose", action="store_true", help="debug logging")
    add_state_dir(up)
    _add_function_settings(up)
    up.set_defaults(func=cmd_up, environment_overrides={})

    token = sub.add_parser("token", help="print a bearer token the running local stack accepts")
    token.add_argument("user_id", metavar="userId")
    token.add_argument("--name", help="screen name claim (default: the user id)")
    token.add_argument("--avatar", help="avatar URL claim (picture)")
    token.add_argument("--expires-in", type=int, default=24 * 3600, help="seconds (default 86400)")
    add_state_dir(token)
    token.set_defaults(func=cmd_token)
    _add_execution_commands(sub)
    _add_remote_commands(sub)
    _add_discovered_commands(sub)
    return parser


def _add_remote_commands(sub: Any) -> None:
    """`deploy` / `destroy` on another engine (arcadeflow/remote.py) and the issuer it trusts."""
    from arcadeflow import remote

    deploy = sub.add_parser(
        "deploy",
        help="deploy the description to another engine (MiniStack, LocalStack, AWS); outputs to "
        "<state-dir>/endpoints.json",
    )
    deploy.add_argument("--target", choices=remote.TARGETS, required=True)
    deploy.add_argument(
        "--endpoint-url",
        help="the engine's endpoint (default: ministack http://127.0.0.1:4566, localstack "
        "http://localhost:4566; none for aws)",
    )
    deploy.add_argument("--profile", help="AWS profile (--target aws)")
    deploy.add_argument("--region", default="us-east-1")
    deploy.add_argument(
        "--jwt-issuer",
        default="",
        help=f"token issuer URL (default: the local issuer at http://127.0.0.1:{remote.DEFAULT_JWKS_PORT}, "
        "served by `arcadeflow issuer`; --target aws: the Cognito user pool's)",
    )
    deploy.add_argument(
        "--jwt-jwks-url", default="", help="its JWKS (default: <issuer>/.well-known/jwks.json)"
    )
    add_state_dir(deploy)
    _add_function_settings(deploy)
    deploy.set_defaults(func=cmd_deploy, environment_overrides={})

    destroy = sub.add_parser(
        "destroy", help="delete what `arcadeflow deploy` created (names from its outputs)"
    )
    add_state_dir(destroy)
    destroy.set_defaults(func=cmd_destroy)

    issuer = sub.add_parser(
        "issuer", help="serve the local issuer's JWKS on 127.0.0.1 for a stack on another engine"
    )
    issuer.add_argument("--port", type=int, default=remote.DEFAULT_JWKS_PORT)
    add_state_dir(issuer)
    issuer.set_defaults(func=cmd_issuer)


def cmd_deploy(args: argparse.Namespace) -> int:
    from arcadeflow.remote import deploy_to_target

    outputs = deploy_to_target(
        args.target,
        args.state_dir,
        endpoint_url=args.endpoint_url,
        profile=args.profile,
        region=args.region,
        jwt_issuer=args.jwt_issuer,
        jwt_jwks_url=args.jwt_jwks_url,
        environment_overrides=args.environment_overrides,
    )
    print(f"deployed to {args.target} ({outputs['endpoint'] or 'AWS'}): HTTP API {outputs['http']}")
    print(f"  WebSocket {outputs['websocket']}  issuer {outputs['jwtIssuer']}")
    print(f"  outputs: {Path(args.state_dir) / 'endpoints.json'}")
    return 0


def cmd_destroy(args: argparse.Namespace) -> int:
    from arcadeflow.remote import destroy_target

    deleted = destroy_target(args.state_dir)
    print("destroyed: " + ", ".join(f"{n} {kind}" for kind, n in deleted.items()))
    return 0


def cmd_issuer(args: argparse.Namespace) -> int:
    from arcadeflow.remote import JwksServer

    server = JwksServer(args.state_dir, args.port).start()
    print(f"local issuer {server.url} (JWKS {server.url}/.well-known/jwks.json); Ctrl-C stops", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _add_discovered_commands(sub: Any) -> None:
    """Commands other packages declare in the `arcadeflow.commands` entry point group (the
    product's tooling in tools/, see pyproject.toml); the runtime knows none of them."""
    from importlib.metadata import entry_points

    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            register = entry.load()
            register(sub)
        except Exception as exc:  # one broken plugin must not take `up` and `token` down with it
            log.warning(
                "command %s (%s) not available: %s: %s", entry.name, entry.value, type(exc).__name__, exc
            )


def _since(text: str) -> Any:
    from arcadeflow.commands.executions import parse_since

    try:
        return parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _statuses(text: str) -> tuple[str, ...]:
    from arcadeflow.commands.executions import parse_statuses

    try:
        return parse_statuses(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_execution_commands(sub: Any) -> None:
    from arcadeflow.commands import executions

    def common(parser: argparse.ArgumentParser) -> None:
        add_state_dir(parser)
        parser.add_argument(
            "--endpoint-url",
            help="Step Functions endpoint; default: the running local stack; 'aws' for your AWS account",
        )
        parser.add_argument("--profile", help="with --endpoint-url aws: the AWS profile to use")
        parser.add_argument("--region", help="region (with --endpoint-url aws: default from the profile)")

    listing = sub.add_parser("executions", help="list a state machine's executions")
    listing.add_argument("state_machine", help="state machine name (e.g. duel_invite) or ARN")
    listing.add_argument("--status", choices=["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"])
    common(listing)
    listing.set_defaults(func=executions.main_executions)

    trace = sub.add_parser("trace", help="print an execution's history as a readable trace")
    trace.add_argument("execution_arn")
    trace.add_argument("--verbose", action="store_true", help="inputs, outputs and full causes")
    trace.add_argument("--json", action="store_true", help="the same timeline as JSON, for tools")
    common(trace)
    trace.set_defaults(func=executions.main_trace)

    redrive = sub.add_parser(
        "redrive",
        help="resume failed executions from the states that failed (RedriveExecution), one or in bulk",
    )
    redrive.add_argument("execution_arns", nargs="*", metavar="executionArn")
    redrive.add_argument(
        "--failed", action="store_true", help="redrive every execution that did not succeed (see --machine)"
    )
    redrive.add_argument(
        "--machine",
        action="append",
        metavar="NAME",
        help="with --failed: only this state machine (name, e.g. duel_invite, or ARN; repeatable)",
    )
    redrive.add_argument(
        "--since", type=_since, metavar="DURATION", help="with --failed: ended within, e.g. 30m, 1h, 2d"
    )
    redrive.add_argument(
        "--status",
        type=_statuses,
        metavar="STATUSES",
        help="with --failed: which of FAILED,TIMED_OUT,ABORTED (default: all three)",
    )
    redrive.add_argument("--wait", action="store_true", help="wait for the redriven executions to finish")
    redrive.add_argument("--wait-timeout", type=float, default=300.0, help="seconds (default 300)")
    redrive.add_argument("--json", action="store_true", help="the report as JSON")
    common(redrive)
    redrive.set_defaults(func=executions.main_redrive)

    replay = sub.add_parser("replay", help="run a finished (e.g. failed) execution again with its input")
    replay.add_argument("execution_arn")
    replay.add_argument("--wait", action="store_true", help="wait for it and print its trace")
    common(replay)
    replay.set_defaults(func=executions.main_replay)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from botocore.exceptions import ClientError

    from arcadeflow.commands import CommandError

    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"arcadeflow {args.command}: {exc}", file=sys.stderr)
        return 2
    except ClientError as exc:
        error = exc.response.get("Error", {})
        print(f"arcadeflow {args.command}: {error.get('Code')}: {error.get('Message')}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
