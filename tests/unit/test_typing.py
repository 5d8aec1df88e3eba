"""mypy holds for the runtime, the product and its tooling ([tool.mypy] in pyproject.toml), so a
`# type: ignore` that no longer silences anything, or a handler returning the wrong shape, fails CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_finds_no_type_errors():
    # The files and settings come from pyproject.toml; the cache keeps reruns to a few seconds.
    out = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
