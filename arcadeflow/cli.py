"""The arcadeflow command: run the backend locally and work with it."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

DEFAULT_STATE_DIR = Path(os.environ.get("ARCADEFLOW_HOME", ".arcadeflow"))


def _add_state_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="local signing key, logs and endpoints (default: $ARCADEFLOW_HOME or .arcadeflow)",
    )


def _environment_overrides(args: argparse.Namespace) -> dict[str, str]:
    """`up` options that change a function setting reach the functions as environment overrides."""
    overrides = {}
    if args.presence_ttl is not None:
        overrides["PRESENCE_TTL_SECONDS"] = str(args.presence_ttl)
    if args.invite_timeout is not None:
        overrides["INVITE_TIMEOUT_SECONDS"] = str(args.invite_timeout)
    if args.session_duration is not None:
        overrides["SESSION_DURATION_SECONDS"] = str(args.session_duration)
    if args.feed_write_budget is not None:
        overrides["FEED_WRITE_BUDGET_WCU"] = str(args.feed_write_budget)
    return overrides


def _table_wcu(value: str) -> tuple[str, int]:
    table, sep, wcu = value.partition("=")
    if not sep or not wcu.isdigit() or int(wcu) < 1:
        raise argparse.ArgumentTypeError(f"expected TABLE=WCU with WCU >= 1, got {value!r}")
    return table, int(wcu)


def cmd_up(args: argparse.Namespace) -> int:
    from arcadeflow.stack import EmbeddedStack, StackOptions

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
        environment_overrides=_environment_overrides(args),
        table_wcu=dict(args.table_wcu),
        capacity_burst_seconds=args.capacity_burst_seconds,
        deploy=args.deploy,
    )
    stack = EmbeddedStack(options)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stack.start()
        endpoints = stack.endpoints()
        print("arcadeflow is up", flush=True)
        print(f"  HTTP API      {endpoints['http']}   (OpenAPI: {endpoints['http']}/openapi.json)")
        print(f"  WebSocket API {endpoints['websocket']}?token=<JWT>")
        print(f"  callback URL  {endpoints['websocketCallback']}   (Management API, @connections)")
        print(f"  AWS endpoint  {endpoints['aws']}   (AWS_ENDPOINT_URL for boto3 and the aws CLI)")
        print(f"  tokens        arcadeflow token <userId> --name <screenName> --state-dir {args.state_dir}")
        print("Ctrl-C to stop.", flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def cmd_token(args: argparse.Namespace) -> int:
    from arcadeflow.auth import LocalIssuer

    issuer = LocalIssuer(args.state_dir)
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
        "--invite-timeout",
        type=_positive_int,
        help="seconds an invitee has to answer a duel invite (default 60)",
    )
    up.add_argument(
        "--session-duration", type=_positive_int, help="seconds a duel session lasts (default 600)"
    )
    up.add_argument(
        "--presence-ttl",
        type=int,
        help="seconds a presence update keeps a user online (production: 120); short values for tests",
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
        "--feed-write-budget",
        type=int,
        help="write units a second the status fan-out may spend on the feed table (default 100)",
    )
    up.add_argument(
        "--no-deploy",
        dest="deploy",
        action="store_false",
        help="start an empty embedded AWS (for `terraform apply` against it); the emulators serve "
        "whatever APIs it then creates",
    )
    up.add_argument("--verbose", action="store_true", help="debug logging")
    _add_state_dir(up)
    up.set_defaults(func=cmd_up)

    token = sub.add_parser("token", help="print a bearer token the running local stack accepts")
    token.add_argument("user_id", metavar="userId")
    token.add_argument("--name", help="screen name claim (default: the user id)")
    token.add_argument("--avatar", help="avatar URL claim (picture)")
    token.add_argument("--expires-in", type=int, default=24 * 3600, help="seconds (default 86400)")
    _add_state_dir(token)
    token.set_defaults(func=cmd_token)
    _add_execution_commands(sub)
    _add_demo_commands(sub)
    _add_fanout_commands(sub)
    return parser


def _add_demo_commands(sub: Any) -> None:
    demo = sub.add_parser("demo", help="scripted demonstrations against a stack started for them")
    demos = demo.add_subparsers(dest="demo", required=True)
    duel = demos.add_parser(
        "duel", help="two simulated players: invite, accept, start, stop; each frame and the execution traces"
    )
    duel.add_argument("--play-seconds", type=float, default=1.0, help="how long they play before alice stops")
    duel.add_argument("--state-dir", type=Path, help="state directory (default: a new temporary one)")

    def run(args: argparse.Namespace) -> int:
        from arcadeflow.commands.demo_duel import main_demo_duel

        return main_demo_duel(args)

    duel.set_defaults(func=run)


def _add_fanout_commands(sub: Any) -> None:
    from arcadeflow.commands import populate

    fill = sub.add_parser("populate", help="create users who all follow one celebrity (idempotent)")
    fill.add_argument("--users", type=int, default=10_000, help="followers to create (default 10000)")
    fill.add_argument("--celebrity", default="testUser1", help="the user they all follow (default testUser1)")
    fill.add_argument("--prefix", default="testUser", help="follower ids are <prefix><n> (default testUser)")
    fill.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_state_dir(fill)
    fill.set_defaults(func=populate.main)

    redrive = sub.add_parser("redrive-fanout", help="write the fan-out's dead-lettered feed batches again")
    _add_state_dir(redrive)
    redrive.set_defaults(func=populate.main_redrive)


def _add_execution_commands(sub: Any) -> None:
    from arcadeflow.commands import executions

    def common(parser: argparse.ArgumentParser) -> None:
        _add_state_dir(parser)
        parser.add_argument(
            "--endpoint-url",
            help="Step Functions endpoint; default: the running local stack; 'aws' for your AWS account",
        )

    listing = sub.add_parser("executions", help="list a state machine's executions")
    listing.add_argument("state_machine", help="state machine name (e.g. duel_invite) or ARN")
    listing.add_argument("--status", choices=["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"])
    common(listing)
    listing.set_defaults(func=executions.main_executions)

    trace = sub.add_parser("trace", help="print an execution's history as a readable trace")
    trace.add_argument("execution_arn")
    trace.add_argument("--verbose", action="store_true", help="every state's input and output, untruncated")
    common(trace)
    trace.set_defaults(func=executions.main_trace)

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
