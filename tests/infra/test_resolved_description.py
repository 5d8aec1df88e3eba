"""Terraform fails at plan time when an ASL names a resource its resolved entry does not grant,
or a data file changed since the loader validated it.

The loader derives a state machine's grants and template variables from its ASL's placeholders,
and refuses a placeholder that names nothing declared (tests/unit/test_deployment_description.py).
Terraform's side: it fills each template with exactly the variables the loader resolved for it,
so an ASL edited after the file was resolved fails `templatefile()` naming the placeholder, before
anything is created, instead of rendering and then failing on AWS with AccessDenied.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.infra.conftest import FULL_FIXTURE, INFRA, Terraform, resolve_to

pytestmark = pytest.mark.infra

PLAN_ONLY = """
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

run "plan" {
  command = plan
  variables {
    deployment_file = "%s"
  }
}
"""


def plan_with(terraform: Terraform, tmp_path: Path, edit_asl, edit_data_file=None) -> tuple[int, str]:
    """`terraform test` (plan only, mocked provider) of a copy of infra/ whose full-fixture
    duel_invite ASL (and, with edit_data_file, its data file) was edited after the fixture was
    resolved."""
    work = tmp_path / "repo" / "infra"
    shutil.copytree(INFRA, work, ignore=shutil.ignore_patterns(".terraform", "build", "terraform.tfstate*"))
    for existing in (work / "tests").glob("*.tftest.hcl"):
        existing.unlink()
    resolved = resolve_to(FULL_FIXTURE, tmp_path / "full.resolved.json")
    asl = work / "tests" / "fixtures" / "statemachines" / "duel_invite.asl.json"
    asl.write_text(json.dumps(edit_asl(json.loads(asl.read_text())), indent=2))
    if edit_data_file:
        data_file = work / "tests" / "fixtures" / "data" / "started_execution.json"
        data_file.write_text(json.dumps(edit_data_file(json.loads(data_file.read_text()))))
    (work / "tests" / "plan.tftest.hcl").write_text(PLAN_ONLY % resolved)
    init = terraform.run(*terraform.init_args(), cwd=work)
    assert init.returncode == 0, init.stdout + init.stderr
    result = terraform.run("test", "-no-color", f"-var=package_path={terraform.package_path}", cwd=work)
    return result.returncode, result.stdout + result.stderr


def test_an_asl_using_a_placeholder_it_was_not_resolved_with_fails_the_plan(
    terraform: Terraform, tmp_path: Path
) -> None:
    def read_users(document: dict) -> dict:
        document["States"]["AnnounceDuel"]["Next"] = "ReadPlayer"
        document["States"]["AnnounceDuel"].pop("End")
        document["States"]["ReadPlayer"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:getItem",
            "Parameters": {"TableName": "${users_table}", "Key": {"userId": {"S.$": "$.userId"}}},
            "End": True,
        }
        return document

    returncode, output = plan_with(terraform, tmp_path, read_users)
    assert returncode != 0, output
    assert "users_table" in output, output


def test_the_unedited_asl_plans(terraform: Terraform, tmp_path: Path) -> None:
    # The same plan passes when the ASL is what was resolved: the failure above is the edit's.
    returncode, output = plan_with(terraform, tmp_path, lambda document: document)
    assert returncode == 0, output


def test_a_data_file_changed_since_resolving_fails_the_plan_naming_it(
    terraform: Terraform, tmp_path: Path
) -> None:
    # Valid or not, an edited data file was not validated by the loader: run --write first.
    def bad_start_date(document: dict) -> dict:
        return {**document, "startDate": "yesterday"}

    returncode, output = plan_with(terraform, tmp_path, lambda document: document, bad_start_date)
    assert returncode != 0, output
    said = " ".join(output.split())  # Terraform wraps its messages
    assert "data files changed since the description was resolved" in said, output
    assert "(started_execution: infra/tests/fixtures/data/started_execution.json)" in said, output
