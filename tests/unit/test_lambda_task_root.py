"""The task root local Lambdas import from holds the function package and nothing else of the
project, unless a file is added on purpose (at its path, with its packages' __init__.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from arcadeflow.aws.lambda_runner import stage_task_root
from tests.support.stack import REPO_ROOT


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if "functions" not in p.relative_to(root).parts}


def test_the_task_root_holds_only_the_function_package(tmp_path):
    root = stage_task_root(tmp_path / "task")
    assert sorted(p.name for p in root.iterdir()) == ["functions"]
    assert (root / "functions").resolve() == REPO_ROOT / "functions"
    assert (root / "functions" / "shared" / "__init__.py").is_file()


def test_an_added_file_keeps_its_path_and_brings_only_its_packages_init(tmp_path):
    root = stage_task_root(tmp_path / "task", [Path("tests/support/sample_handlers.py")])
    assert _tree(root) == {
        "tests",
        "tests/__init__.py",
        "tests/support",
        "tests/support/__init__.py",
        "tests/support/sample_handlers.py",
    }
    assert (
        root / "tests/support/sample_handlers.py"
    ).resolve() == REPO_ROOT / "tests/support/sample_handlers.py"


def test_staging_again_starts_from_nothing(tmp_path):
    stage_task_root(tmp_path / "task", [Path("tests/support/sample_handlers.py")])
    assert _tree(stage_task_root(tmp_path / "task")) == set()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (Path("/etc/hostname"), "outside the project"),
        (Path("tests/support/no_such_file.py"), "does not exist"),
        (Path("functions/shared"), "already in the function package"),
    ],
)
def test_added_code_must_be_a_project_file_outside_the_function_package(tmp_path, path, message):
    with pytest.raises(ValueError, match=message):
        stage_task_root(tmp_path / "task", [path])
