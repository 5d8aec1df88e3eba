"""The import contracts of DESIGN.md's layout hold: import-linter checks each one of
pyproject.toml's [tool.importlinter] contracts, and a failure names the contract and the import.

- the runtime (arcadeflow) imports no product code, tools, tests or benchmarks;
- the product (functions, the Lambda package) imports neither the runtime nor tools nor tests;
- a flow's package imports only functions.shared besides itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONFIG = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {contract["id"]: contract for contract in CONFIG["contracts"]}


def lint_imports(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    # Wide columns: the report's lines are not wrapped, so a message reads in one piece.
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _broken_part(report: str) -> str:
    """The "Broken contracts" section of lint-imports' report: which contract, which import."""
    _, marker, broken = report.partition("Broken contracts")
    return broken.strip("-\n ") if marker else report


@pytest.mark.parametrize("contract_id", sorted(CONTRACTS))
def test_import_contract_is_kept(contract_id):
    result = lint_imports("--contract", contract_id)
    if result.returncode != 0:
        pytest.fail(
            f"import contract {contract_id!r} ({CONTRACTS[contract_id]['name']}) is broken:\n"
            f"{_broken_part(result.stdout + result.stderr)}",
            pytrace=False,
        )


def test_a_new_flow_is_held_by_the_independence_contract_without_listing_it(tmp_path):
    """The contract names no flow: a package added under functions/ that imports another flow
    breaks it, while importing functions.shared does not."""
    for package in ("functions", "functions/shared", "functions/duels", "functions/matchmaking"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "functions" / "shared" / "dynamo.py").write_text("")
    (tmp_path / "functions" / "duels" / "models.py").write_text("")
    (tmp_path / "functions" / "matchmaking" / "queue.py").write_text(
        "import functions.shared.dynamo\nimport functions.duels.models\n"
    )
    contract = CONTRACTS["flows-are-independent"]
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_packages =\n    functions\n\n"
        f"[importlinter:contract:{contract['id']}]\nname = {contract['name']}\ntype = independence\n"
        "modules =\n"
        + "".join(f"    {m}\n" for m in contract["modules"])
        + "ignore_imports =\n"
        + "".join(f"    {i}\n" for i in contract["ignore_imports"])
    )
    broken = _broken_part(lint_imports(cwd=tmp_path).stdout)
    assert "functions.matchmaking.queue -> functions.duels.models" in broken
    assert "-> functions.shared" not in broken


def test_a_broken_contract_fails_and_names_the_import(tmp_path):
    """The check itself can fail: a copy of the config over a tiny project where the runtime
    imports the product."""
    (tmp_path / "arcadeflow").mkdir()
    (tmp_path / "functions").mkdir()
    (tmp_path / "arcadeflow" / "__init__.py").write_text("")
    (tmp_path / "functions" / "__init__.py").write_text("")
    (tmp_path / "functions" / "handler.py").write_text("")
    (tmp_path / "arcadeflow" / "cli.py").write_text("import functions.handler\n")
    contract = CONTRACTS["runtime-knows-no-product"]
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_packages =\n    arcadeflow\n    functions\n\n"
        f"[importlinter:contract:{contract['id']}]\nname = {contract['name']}\ntype = forbidden\n"
        "source_modules =\n    arcadeflow\nforbidden_modules =\n    functions\n"
    )
    result = lint_imports(cwd=tmp_path)
    assert result.returncode == 1
    assert "arcadeflow.cli -> functions.handler" in _broken_part(result.stdout)
