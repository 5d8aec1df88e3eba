"""The Lambda package of arcadeflow's own functions: one reproducible zip of functions/.

One builder for every place that deploys it: infra/package_functions.py writes it for Terraform,
and the embedded deployer (`arcadeflow up`) uploads the same bytes, so the code that runs locally
is the code a `terraform apply` ships. It reads files; it imports nothing of functions/.

The zip is byte-for-byte reproducible (sorted entries, fixed timestamps and modes), so Terraform's
source_code_hash changes only when the code does, and the local runner unpacks one copy for all
the functions that share it (lambda_code.py keys unpacked code by CodeSha256).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from arcadeflow.deployment import REPO_ROOT

FUNCTION_PACKAGE_DIR = REPO_ROOT / "functions"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", "tests"}


def source_files(root: Path) -> list[tuple[Path, str]]:
    """(file, name in the zip) of every file under root that belongs in a package, sorted."""
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or SKIPPED_PARTS.intersection(rel.parts) or path.suffix in {".pyc", ".pyo"}:
            continue
        out.append((path, rel.as_posix()))
    return out


def zip_bytes(trees: list[tuple[Path, str]]) -> bytes:
    """(root, prefix) trees as one reproducible zip."""
    entries: dict[str, Path] = {}
    for root, prefix in trees:
        for path, name in source_files(root):
            entries[f"{prefix}{name}"] = path
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name].read_bytes())
    return buffer.getvalue()


def function_package(root: Path = FUNCTION_PACKAGE_DIR) -> bytes:
    """The zip of functions/ (no bundled dependencies: on AWS they come from the Powertools layer)."""
    return zip_bytes([(root, "functions/")])
