"""Where the checkout's parts are: the description, the ASL files, the schemas.

A module of its own so that the loader (deployment.py) and the ASL reader (asl.py) can both use
it without importing each other."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DESCRIPTION = REPO_ROOT / "infra" / "deployment.json"
