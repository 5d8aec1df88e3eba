"""arcadeflow subcommands beyond `up` and `token`, and what every command shares.

Product tooling (tools/, e.g. `demo duel`, `populate`) plugs into the CLI through the
`arcadeflow.commands` entry point group; it finds the running stack with the helpers below,
so the runtime never has to know what those commands do.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

DEFAULT_STATE_DIR = Path(os.environ.get("ARCADEFLOW_HOME", ".arcadeflow"))
# Written by the running stack (arcadeflow.stack) into its state directory, removed on stop.
ENDPOINTS_FILE = "endpoints.json"
# Entry point group of commands the CLI discovers: each entry is a function taking the CLI's
# subparsers action and adding its own subparser (with `func` set to what runs it).
ENTRY_POINT_GROUP = "arcadeflow.commands"


class CommandError(Exception):
    """An error the user can act on: the CLI prints its message, not a traceback."""


class StackNotRunning(CommandError):
    pass


def add_state_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="local signing key, logs and endpoints (default: $ARCADEFLOW_HOME or .arcadeflow)",
    )


def running_stack_endpoints(state_dir: Path) -> dict[str, Any]:
    """What the `arcadeflow up` using `state_dir` serves: http, aws, websocket, region, tables..."""
    endpoints_path = Path(state_dir) / ENDPOINTS_FILE
    if not endpoints_path.exists():
        raise StackNotRunning(
            f"no running stack found ({endpoints_path} is missing): start `arcadeflow up` first"
        )
    endpoints: dict[str, Any] = json.loads(endpoints_path.read_text())
    return endpoints


def stack_client(endpoints: dict[str, Any], service: str, **kwargs: Any) -> Any:
    """A boto3 client of the running stack's embedded AWS (any credentials are accepted)."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoints["aws"],
        region_name=endpoints["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        **kwargs,
    )
