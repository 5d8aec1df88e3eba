"""The product's `arcadeflow` subcommands, registered through the `arcadeflow.commands` entry points.

Each function adds one subparser to the CLI's subparsers action. Registering imports nothing
heavy: what a command runs is imported when it runs, so `arcadeflow --help` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from arcadeflow.commands import add_state_dir


def register_demo(sub: Any) -> None:
    demo = sub.add_parser("demo", help="scripted demonstrations against a stack started for them")
    demos = demo.add_subparsers(dest="demo", required=True)
    duel = demos.add_parser(
        "duel", help="two simulated players: invite, accept, start, stop; each frame and the execution traces"
    )
    duel.add_argument("--play-seconds", type=float, default=1.0, help="how long they play before alice stops")
    duel.add_argument("--state-dir", type=Path, help="state directory (default: a new temporary one)")

    def run(args: argparse.Namespace) -> int:
        from tools.demo_duel import main_demo_duel

        return main_demo_duel(args)

    duel.set_defaults(func=run)


def register_populate(sub: Any) -> None:
    fill = sub.add_parser("populate", help="create users who all follow one celebrity (idempotent)")
    fill.add_argument("--users", type=int, default=10_000, help="followers to create (default 10000)")
    fill.add_argument("--celebrity", default="testUser1", help="the user they all follow (default testUser1)")
    fill.add_argument("--prefix", default="testUser", help="follower ids are <prefix><n> (default testUser)")
    fill.add_argument("--quiet", action="store_true", help="no progress bar")
    add_state_dir(fill)

    def run(args: argparse.Namespace) -> int:
        from tools.populate import main

        return main(args)

    fill.set_defaults(func=run)


def register_redrive_fanout(sub: Any) -> None:
    redrive = sub.add_parser("redrive-fanout", help="write the fan-out's dead-lettered feed batches again")
    add_state_dir(redrive)

    def run(args: argparse.Namespace) -> int:
        from tools.populate import main_redrive

        return main_redrive(args)

    redrive.set_defaults(func=run)
