"""The Terraform configuration is formatted, valid, and passes its own mocked `terraform test`."""

from __future__ import annotations

import pytest

from tests.infra.conftest import INFRA, Terraform, TerraformTestRun

# terraform over the whole description takes 2-5 minutes on a loaded 2-core machine.
pytestmark = [pytest.mark.infra, pytest.mark.timeout(900)]


def test_fmt_check(terraform: Terraform) -> None:
    result = terraform.run("fmt", "-check", "-recursive", "-diff", "-no-color", str(INFRA))
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


def test_validate(terraform: Terraform) -> None:
    result = terraform.run("validate", "-no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The configuration is valid" in result.stdout


def test_every_variable_is_typed_and_described() -> None:
    import re

    problems = []
    for path in INFRA.rglob("variables.tf"):
        if ".terraform" in path.parts:
            continue
        for block in re.split(r'\n(?=variable ")', path.read_text()):
            name = re.match(r'variable "([^"]+)"', block.strip())
            if not name:
                continue
            for attribute in ("type", "description"):
                if not re.search(rf"^\s+{attribute}\s+=", block, re.M):
                    problems.append(f"{path.relative_to(INFRA)}: {name.group(1)} has no {attribute}")
    assert not problems, "\n".join(problems)


def test_terraform_test_with_mocked_provider(terraform_test_run: TerraformTestRun) -> None:
    summary = terraform_test_run.summary()
    assert terraform_test_run.returncode == 0 and summary["status"] == "pass", "\n".join(
        terraform_test_run.diagnostics()
    )
    # The ten run blocks of infra/tests/arcadeflow.tftest.hcl all ran.
    assert summary["passed"] >= 10 and summary["failed"] == 0 and summary["errored"] == 0, summary
