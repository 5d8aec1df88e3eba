"""StopExecution right after StartExecution stops the execution, as on AWS.

moto builds an execution's environment on the execution's own thread, and StopExecution called
before that thread got that far failed with a 500 (`'NoneType' object has no attribute
'set_stop'`), and one called after that but before the first state was silently ignored (the
program is not "running" yet), so the execution ran to its end. The status fan-out benchmark's
"stopped" fan-outs ran behind later posts this way. Here the environment is built, running,
before the thread starts, and a program stopped before its first state only records
ExecutionAborted.
"""

from __future__ import annotations

from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_WORKER = "moto.stepfunctions.parser.backend.execution_worker.ExecutionWorker"
_PROGRAM = "moto.stepfunctions.parser.asl.component.program.program.Program"


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramRunning, ProgramStopped
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original_eval = Program.eval

    def program_eval(self: Any, env: Any) -> None:
        if isinstance(env.program_state(), ProgramStopped):
            self._eval_body(env)  # runs no state, records ExecutionAborted
            return
        original_eval(self, env)

    original_start = ExecutionWorker.start
    original_environment = ExecutionWorker._get_evaluation_environment

    def environment(self: Any) -> Any:
        prebuilt = getattr(self, "_arcadeflow_env", None)
        return prebuilt if prebuilt is not None else original_environment(self)

    def start(self: Any) -> None:
        env = original_environment(self)
        env._program_state = ProgramRunning()  # so that a StopExecution from now on stops it
        self._arcadeflow_env = self.env = env
        original_start(self)

    patcher.replace(Program, "eval", program_eval)
    patcher.replace(ExecutionWorker, "_get_evaluation_environment", environment)
    patcher.replace(ExecutionWorker, "start", start)


PATCH = MotoPatch(
    name="stepfunctions_early_stop",
    fixes="StopExecution before the execution's first state fails with a 500 or is ignored",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_WORKER}.start",
        f"{_WORKER}._get_evaluation_environment",
        f"{_WORKER}.stop",
        f"{_PROGRAM}.eval",
        f"{_PROGRAM}._eval_body",
        "moto.stepfunctions.parser.asl.eval.environment.Environment.program_state",
        "moto.stepfunctions.parser.asl.eval.program_state.ProgramRunning",
        "moto.stepfunctions.parser.asl.eval.program_state.ProgramStopped",
    ),
    kind="fix",
    apply=apply,
    signatures={
        f"{_WORKER}.start": ("self",),
        f"{_WORKER}._get_evaluation_environment": ("self",),
        f"{_PROGRAM}.eval": ("self", "env"),
        f"{_PROGRAM}._eval_body": ("self", "env"),
    },
)
