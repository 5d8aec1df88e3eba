"""Terraform fixtures for the infra tier: one init and one mocked `terraform test` run per session.

Nothing is written into the tree but infra/.terraform.lock.hcl (git-ignored): provider plugins and
modules go to a temporary TF_DATA_DIR, the Lambda package to a temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
PLUGIN_MIRROR = Path("/opt/tf-plugins")


def terraform_binary() -> str:
    found = shutil.which("terraform")
    if found is None:
        pytest.fail(
            "terraform is not on PATH: the infra tests need Terraform >= 1.11 "
            "(https://developer.hashicorp.com/terraform/install); they are not skipped on purpose",
            pytrace=False,
        )
    return found


@dataclass
class Terraform:
    """terraform against infra/, with its own data directory."""

    binary: str
    data_dir: Path
    package_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, timeout: float = 180, cwd: Path = INFRA) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def init_args(self) -> list[str]:
        """Offline from the provider mirror where the machine has one, else the registry."""
        args = ["init", "-backend=false", "-input=false", "-no-color"]
        if PLUGIN_MIRROR.is_dir():
            args.append(f"-plugin-dir={PLUGIN_MIRROR}")
        return args


def build_package(output: Path) -> Path:
    subprocess.run(
        [sys.executable, str(INFRA / "package_functions.py"), "--output", str(output)],
        check=True,
        capture_output=True,
    )
    return output


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    binary = terraform_binary()
    work = tmp_path_factory.mktemp("terraform")
    env = {
        **os.environ,
        "TF_DATA_DIR": str(work / "data"),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    tf = Terraform(binary, work / "data", build_package(work / "functions.zip"), env)
    result = tf.run(*tf.init_args())
    if result.returncode != 0:
        pytest.fail(f"terraform init failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return tf


@dataclass
class TerraformTestRun:
    returncode: int
    messages: list[dict]

    def states(self) -> dict[str, dict]:
        """State after each run block (name -> `terraform show -json` format)."""
        return {m["@testrun"]: m["test_state"] for m in self.messages if m["type"] == "test_state"}

    def diagnostics(self) -> list[str]:
        out = []
        for m in self.messages:
            if m["type"] == "diagnostic":
                d = m["diagnostic"]
                where = f"{m.get('@testrun', '')} {d.get('address', '')}".strip()
                out.append(f"[{where}] {d['summary']}: {d.get('detail', '')}")
        return out

    def summary(self) -> dict:
        return next(m["test_summary"] for m in self.messages if m["type"] == "test_summary")


FULL_FIXTURE = INFRA / "tests" / "fixtures" / "full.deployment.json"


def resolve_to(description: Path, output: Path) -> Path:
    """What Terraform reads: the description resolved by the loader, as `--write` does."""
    from arcadeflow.deployment import load

    output.write_text(load(description).resolved().to_json())
    return output


@pytest.fixture(scope="session")
def full_fixture_resolved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return resolve_to(FULL_FIXTURE, tmp_path_factory.mktemp("resolved") / "full.resolved.json")


@pytest.fixture(scope="session")
def staging_fixture_resolved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The full fixture resolved for the staging environment (`--environment staging`)."""
    from arcadeflow.deployment import load

    output = tmp_path_factory.mktemp("resolved") / "full.staging.resolved.json"
    output.write_text(load(FULL_FIXTURE).for_environment("staging").resolved().to_json())
    return output


@pytest.fixture(scope="session")
def terraform_test_run(
    terraform: Terraform, full_fixture_resolved: Path, staging_fixture_resolved: Path
) -> TerraformTestRun:
    """`terraform test` of infra/tests/*.tftest.hcl with a mocked AWS provider, states included."""
    result = terraform.run(
        "test",
        "-json",
        "-verbose",
        "-no-color",
        f"-var=package_path={terraform.package_path}",
        # A variable no module declares is read as an HCL expression: quoted, it is a string.
        f"-var=full_fixture_file={json.dumps(str(full_fixture_resolved))}",
        f"-var=staging_fixture_file={json.dumps(str(staging_fixture_resolved))}",
        timeout=240,
    )
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    if not messages:
        pytest.fail(f"terraform test printed no JSON:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return TerraformTestRun(result.returncode, messages)
