"""The embedded AWS alone (no deployment, no API Gateway emulators), in its own process, for the
ASL-branch tests: moto's interpreter runs the real ASL and the Lambda runner runs scripted
handlers. A process of its own, because starting it installs arcadeflow's changes to moto, which
must not leak into the other tests of the same pytest run.

    python -m tests.functional.branches.embedded_aws_process <port> <log dir> [<lambda code file>...]

Prints "ready" once it serves; stops when its stdin closes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from arcadeflow.aws.embedded import EmbeddedAws

# Added to every function's deployed zip (a local-only addition, arcadeflow/aws/lambda_code.py):
# the scripted handlers, so a bench function's zip need hold nothing else.
SCRIPTED_HANDLERS = Path("tests/functional/branches/scripted_handlers.py")


def main() -> None:
    port, log_dir = int(sys.argv[1]), Path(sys.argv[2])
    extra_code = [Path(p) for p in sys.argv[3:]]
    aws = EmbeddedAws(
        port, log_dir=log_dir, code_dir=log_dir / "lambda-code", extra_code=[SCRIPTED_HANDLERS, *extra_code]
    )
    aws.start()
    print("ready", flush=True)
    sys.stdin.read()
    aws.stop()


if __name__ == "__main__":
    main()
