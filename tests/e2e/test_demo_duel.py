"""`arcadeflow demo duel` plays a whole duel and prints every frame and both traces."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.stack import REPO_ROOT

pytestmark = pytest.mark.e2e


def test_demo_duel_prints_the_frames_and_the_execution_traces(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "arcadeflow.cli",
            "demo",
            "duel",
            "--play-seconds",
            "0",
            "--state-dir",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for expected in (
        'alice -> {"action": "invite", "to": "bob"}',
        'bob   <- {"type": "invite"',
        '"accept": true}',
        'alice <- {"type": "start"',
        'bob   <- {"type": "stop"',
        "arcadeflow-duel-invite",
        "HowWasTheInviteAnswered",
        "StartSession",
        "arcadeflow-duel-session",
        "NotifyStop",
    ):
        assert expected in text, text
    assert text.count("SUCCEEDED") == 2, text
