"""Build the Lambda package: one zip of functions/ that every function's handler points into.

    python infra/package_functions.py                        # functions/ only (Powertools: public layer)
    python infra/package_functions.py --bundle-dependencies  # also Powertools + pydantic, built for Lambda

By default Powertools (with pydantic and aws-xray-sdk) comes from AWS's public Powertools layer
(terraform variable attach_powertools_layer = true), so the zip holds only our code. With
--bundle-dependencies, pip installs the versions pinned in pyproject.toml as wheels for the Lambda
platform (manylinux, the chosen architecture and Python), and the zip works without the layer.

The zip is byte-for-byte reproducible (sorted entries, fixed timestamps and modes), so Terraform's
source_code_hash changes only when the code does. The builder is arcadeflow/lambda_package.py,
shared with the embedded deployer: `arcadeflow up` runs the same zip.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: the shared builder lives in arcadeflow/
    sys.path.insert(0, str(REPO_ROOT))

from arcadeflow.lambda_package import zip_bytes  # noqa: E402

DEFAULT_OUTPUT = REPO_ROOT / "infra" / "build" / "functions.zip"
# Lambda's runtime already has boto3/botocore; the bundle takes only these from pyproject.toml.
BUNDLED_DISTRIBUTIONS = ("aws-lambda-powertools", "pydantic")
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}


def pinned_requirements(pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[str]:
    """The pyproject.toml pins of the bundled distributions (extras kept)."""
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    wanted = []
    for dep in deps:
        name = re.split(r"[\[=<>~! ]", dep, maxsplit=1)[0].lower()
        if name in BUNDLED_DISTRIBUTIONS:
            wanted.append(dep)
    missing = set(BUNDLED_DISTRIBUTIONS) - {re.split(r"[\[=<>~! ]", d, maxsplit=1)[0].lower() for d in wanted}
    if missing:
        raise SystemExit(f"pyproject.toml pins none of {sorted(missing)}")
    return wanted


def install_dependencies(target: Path, architecture: str, python_version: str) -> None:
    """pip-install the pinned dependencies as Lambda-platform wheels into target."""
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
        "--target", str(target),
        "--platform", PLATFORMS[architecture],
        "--implementation", "cp",
        "--python-version", python_version,
        "--only-binary=:all:",
        *pinned_requirements(),
    ]  # fmt: skip
    subprocess.run(cmd, check=True)


def write_zip(output: Path, trees: list[tuple[Path, str]]) -> None:
    """Write (root, prefix) trees into one reproducible zip."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".tmp")
    tmp.write_bytes(zip_bytes(trees))
    tmp.replace(output)


def build(output: Path, bundle_dependencies: bool, architecture: str, python_version: str) -> Path:
    trees = [(REPO_ROOT / "functions", "functions/")]
    with tempfile.TemporaryDirectory(prefix="arcadeflow-package-") as tmp:
        if bundle_dependencies:
            install_dependencies(Path(tmp), architecture, python_version)
            trees.append((Path(tmp), ""))
        write_zip(output, trees)
    return output


def description_problem() -> str | None:
    """Why the description (its data files included) would not load, or None: a package is
    built only for a deployment the loader accepts."""
    from arcadeflow import deployment

    try:
        deployment.load()
    except ValueError as exc:
        return f"infra/deployment.json: {exc}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="zip to write (%(default)s)")
    parser.add_argument(
        "--bundle-dependencies",
        action="store_true",
        help="bundle Powertools and pydantic (then set attach_powertools_layer = false)",
    )
    parser.add_argument("--architecture", choices=sorted(PLATFORMS), default="x86_64")
    parser.add_argument("--python-version", default="3.11", help="Lambda runtime's Python (%(default)s)")
    args = parser.parse_args(argv)
    problem = description_problem()
    if problem:
        sys.stderr.write(f"{problem}\n")
        return 1
    output = build(args.output, args.bundle_dependencies, args.architecture, args.python_version)
    sys.stdout.write(f"{output}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
