"""The code store of the local Lambda runner (arcadeflow/aws/lambda_code.py): a deployed zip is
unpacked once per code version, layers as Lambda extracts them into /opt, the local-only
--lambda-code files beside the zip's and never over them; and the package `arcadeflow up`
deploys is the one infra/package_functions.py builds for Terraform."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from arcadeflow.aws.lambda_code import CodeUnavailable, DeployedCode, LayerRef, sha256_of
from arcadeflow.lambda_package import function_package
from tests.support.stack import REPO_ROOT


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


class Packages:
    """What Lambda holds: function name -> zip, layer ARN -> zip; counts each fetch."""

    def __init__(self) -> None:
        self.functions: dict[str, bytes] = {}
        self.layers: dict[str, bytes] = {}
        self.fetches = 0

    def function_zip(self, name: str) -> bytes:
        self.fetches += 1
        return self.functions[name]

    def layer_zip(self, arn: str) -> bytes:
        return self.layers[arn]

    def store(self, root: Path, extra_code: tuple[Path, ...] = ()) -> DeployedCode:
        return DeployedCode(root, self.function_zip, self.layer_zip, extra_code=extra_code)


def test_functions_sharing_a_package_share_one_unpacked_copy(tmp_path):
    packages = Packages()
    package = zip_of({"app.py": "X = 1\n"})
    packages.functions = {"a": package, "b": package}
    store = packages.store(tmp_path)
    first = store.for_function("a", sha256_of(package), ())
    second = store.for_function("b", sha256_of(package), ())
    assert first.task_root == second.task_root
    assert (first.task_root / "app.py").read_text() == "X = 1\n"
    assert (store.unpack_count, packages.fetches) == (1, 1)


def test_a_new_code_version_is_unpacked_beside_the_old_one(tmp_path):
    packages = Packages()
    store = packages.store(tmp_path)
    packages.functions["a"] = zip_of({"app.py": "V = 1\n"})
    old = store.for_function("a", sha256_of(packages.functions["a"]), ())
    packages.functions["a"] = zip_of({"app.py": "V = 2\n"})
    new = store.for_function("a", sha256_of(packages.functions["a"]), ())
    assert old.task_root != new.task_root
    assert (new.task_root / "app.py").read_text() == "V = 2\n"


def test_layers_are_merged_in_order_a_later_layer_replacing_an_earlier_file(tmp_path):
    packages = Packages()
    packages.functions["a"] = zip_of({"app.py": ""})
    packages.layers = {
        "arn:first": zip_of({"python/common.py": "WHO = 'first'\n", "python/only_first.py": ""}),
        "arn:second": zip_of({"python/common.py": "WHO = 'second'\n"}),
    }
    layers = (LayerRef("arn:first", "s1"), LayerRef("arn:second", "s2"))
    code = packages.store(tmp_path).for_function("a", "sha", layers)
    site_packages, python = code.layer_paths
    assert site_packages.as_posix().endswith("python/lib/python3.11/site-packages")
    assert (python / "common.py").read_text() == "WHO = 'second'\n"
    assert (python / "only_first.py").exists()


def test_a_package_that_is_not_a_zip_cannot_start_and_leaves_nothing_half_unpacked(tmp_path):
    packages = Packages()
    packages.functions["a"] = b"not a zip"
    store = packages.store(tmp_path)
    with pytest.raises(CodeUnavailable, match="not a zip file"):
        store.for_function("a", "sha", ())
    assert list((tmp_path / "functions").iterdir()) == []


def test_lambda_code_files_sit_beside_the_zips_and_never_over_them(tmp_path):
    packages = Packages()
    packages.functions["a"] = zip_of({"tests/support/sample_handlers.py": "FROM_THE_ZIP = True\n"})
    packages.functions["b"] = zip_of({"app.py": ""})
    extra = (Path("tests/support/sample_handlers.py"),)
    store = packages.store(tmp_path, extra_code=extra)
    from_zip = store.for_function("a", "sha-a", ()).task_root / "tests/support/sample_handlers.py"
    assert from_zip.read_text() == "FROM_THE_ZIP = True\n"
    added = store.for_function("b", "sha-b", ()).task_root / "tests/support/sample_handlers.py"
    assert added.resolve() == REPO_ROOT / "tests/support/sample_handlers.py"


def test_lambda_code_outside_the_project_is_refused_at_once(tmp_path):
    with pytest.raises(ValueError, match="outside the project"):
        Packages().store(tmp_path, extra_code=(Path("/etc/hostname"),))


def test_a_new_session_starts_from_no_unpacked_code(tmp_path):
    packages = Packages()
    packages.functions["a"] = zip_of({"app.py": ""})
    packages.store(tmp_path).for_function("a", "sha", ())
    packages.store(tmp_path)
    assert not (tmp_path / "functions").exists()


def test_arcadeflow_up_deploys_the_zip_terraform_deploys(tmp_path):
    """One builder: infra/package_functions.py writes the very bytes the embedded deployer uploads."""
    output = tmp_path / "functions.zip"
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "infra/package_functions.py"), "--output", str(output)],
        check=True,
        capture_output=True,
    )
    assert output.read_bytes() == function_package()
    names = zipfile.ZipFile(output).namelist()
    assert "functions/shared/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n or not n.startswith("functions/")]
