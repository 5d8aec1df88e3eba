"""The code a local Lambda runs: the zip that was deployed, unpacked, with its layers.

A function's task root is its deployment package (the ZipFile or S3 object of CreateFunction /
UpdateFunctionCode) unpacked once per code version, keyed by its CodeSha256, so a package that
lacks a module fails here with Runtime.ImportModuleError as it does on AWS, and a function that
`terraform apply` created from a user's own zip runs the user's code. Functions that share a
package (all of arcadeflow's own do) share one unpacked copy.

Layers are unpacked the way Lambda extracts them into /opt: in the function's layer order, a later
layer's file replacing an earlier one's. The worker puts <opt>/python/lib/python3.11/site-packages
and <opt>/python on its path after the task root, where AWS's Python runtime puts them.

`extra_code` is a local-only addition (`arcadeflow up --lambda-code`, the test suites): project
files linked into every task root at their relative path, beside what the zip holds and never over
it. Tests use it to run their handlers in functions whose zip holds nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from arcadeflow.deployment import REPO_ROOT

# Where AWS's Python 3.11 runtime looks inside /opt (Lambda developer guide, "Working with layers
# for Python Lambda functions"): site-packages first, then python/.
LAYER_PATHS = ("python/lib/python3.11/site-packages", "python")


class CodeUnavailable(RuntimeError):
    """The deployed package cannot be unpacked (not a zip): the function cannot start."""


@dataclass(frozen=True)
class LayerRef:
    arn: str
    code_sha256: str


@dataclass(frozen=True)
class FunctionCode:
    """Where one function's code version lives on disk."""

    task_root: Path
    layer_paths: tuple[Path, ...]


def _folder_name(code_sha256: str) -> str:
    # CodeSha256 is base64 (with / and +): a hex digest of it names a folder safely.
    return hashlib.sha256(code_sha256.encode()).hexdigest()[:32]


def sha256_of(data: bytes) -> str:
    """CodeSha256 as Lambda reports it: the base64 of the package's SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class DeployedCode:
    """Unpacks deployed packages under `root`, once per code version.

    function_zip(name) and layer_zip(arn) return the bytes Lambda holds for them."""

    def __init__(
        self,
        root: Path,
        function_zip: Callable[[str], bytes],
        layer_zip: Callable[[str], bytes],
        extra_code: Sequence[Path] = (),
        project_root: Path = REPO_ROOT,
    ):
        self.root = Path(root)
        self._function_zip = function_zip
        self._layer_zip = layer_zip
        self.project_root = Path(project_root).resolve()
        self.extra_code = tuple(Path(p) for p in extra_code)
        for path in self.extra_code:
            _project_relative(path, self.project_root)  # refuse a bad --lambda-code at once
        self._lock = threading.Lock()
        self.unpack_count = 0
        # What an earlier session unpacked may hold another --lambda-code set: start clean.
        for sub in ("functions", "layers"):
            shutil.rmtree(self.root / sub, ignore_errors=True)

    def for_function(self, name: str, code_sha256: str, layers: Sequence[LayerRef]) -> FunctionCode:
        with self._lock:
            task_root = self.root / "functions" / _folder_name(code_sha256)
            if not task_root.is_dir():
                self._unpack([self._function_zip(name)], task_root, overlay=True)
            layer_paths: tuple[Path, ...] = ()
            if layers:
                key = "-".join(_folder_name(layer.code_sha256) for layer in layers)
                opt = self.root / "layers" / hashlib.sha256(key.encode()).hexdigest()[:32]
                if not opt.is_dir():
                    self._unpack([self._layer_zip(layer.arn) for layer in layers], opt, overlay=False)
                layer_paths = tuple(opt / sub for sub in LAYER_PATHS)
            return FunctionCode(task_root, layer_paths)

    def _unpack(self, archives: list[bytes], target: Path, overlay: bool) -> None:
        """Unpacks archives in order into target, atomically: a half-unpacked folder never shows."""
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=target.parent))
        try:
            for data in archives:
                try:
                    with zipfile.ZipFile(BytesIO(data)) as archive:
                        # extractall keeps every member inside staging (it drops "..", roots).
                        archive.extractall(staging)
                except zipfile.BadZipFile as exc:
                    raise CodeUnavailable(f"the deployment package is not a zip file ({exc})") from None
            if overlay:
                link_project_files(staging, self.extra_code, self.project_root)
            staging.rename(target)
            self.unpack_count += 1
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


def _project_relative(path: Path, project_root: Path) -> Path:
    source = (project_root / path).resolve()
    try:
        relative = source.relative_to(project_root)
    except ValueError:
        raise ValueError(f"extra Lambda code {path} is outside the project ({project_root})") from None
    if not source.exists():
        raise ValueError(f"extra Lambda code {path} does not exist")
    return relative


def link_project_files(directory: Path, extra_code: Sequence[Path], project_root: Path = REPO_ROOT) -> None:
    """Links project files into `directory` at their relative path (with the `__init__.py` of
    the packages above them), as `zip` run at the project root would add them. What the
    directory already holds is kept: the deployed zip wins over the local-only addition."""
    project_root = Path(project_root).resolve()
    for path in extra_code:
        relative = _project_relative(path, project_root)
        source = project_root / relative
        for depth in range(1, len(relative.parts)):
            package = relative.parents[len(relative.parts) - 1 - depth]
            (directory / package).mkdir(exist_ok=True)
            init = project_root / package / "__init__.py"
            if init.exists() and not (directory / package / "__init__.py").exists():
                (directory / package / "__init__.py").symlink_to(init)
        target = directory / relative
        if not target.exists():
            target.symlink_to(source, target_is_directory=source.is_dir())
