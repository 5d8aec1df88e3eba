"""Fixes to moto 5.2.5's Step Functions interpreter where it departs from AWS.

`arn:aws:states:::states:startExecution` (the optimised integration that starts a nested
execution): moto's copy of the interpreter dropped the step that maps the ASL's PascalCase
parameters (`StateMachineArn`, `Name`, `Input`) onto the boto3 request (`stateMachineArn`, ...),
so every such task failed with `States.Runtime` / `KeyError: 'StateMachineArn'`. The response
also came back in boto3's casing with a datetime in it, which the execution could not serialise.
AWS returns `{"ExecutionArn": ..., "StartDate": <epoch millis>}`; so does this fix.

StopExecution right after StartExecution: moto builds an execution's environment on the
execution's own thread, and StopExecution called before that thread got that far failed with a
500 (`'NoneType' object has no attribute 'set_stop'`), and one called after that but before the
first state was silently ignored (the program is not "running" yet), so the execution ran to
its end. AWS stops the execution; so does this fix: the environment is built, running, before
the thread starts, and a program stopped before its first state only records ExecutionAborted.

Applied once, before any state machine runs (configure_moto calls apply()).
"""

from __future__ import annotations

import datetime
from functools import cache
from typing import Any


@cache
def _operation_model(service: str, snake_action: str) -> Any:
    import botocore.session
    from moto.stepfunctions.parser.utils import camel_to_snake_case

    model = botocore.session.get_session().get_service_model(service)
    for name in model.operation_names:
        if camel_to_snake_case(name) == snake_action:
            return model.operation_model(name)
    raise LookupError(f"{service} has no operation {snake_action}")


def _epoch_millis(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: _epoch_millis(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_epoch_millis(v) for v in value]
    return value


def apply() -> None:
    _build_environment_before_start()
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn as sfn_module,
    )

    service = sfn_module.StateTaskServiceSfn
    if getattr(service, "_arcadeflow_fixed", False):
        return
    original_normalise_parameters = service._normalise_parameters

    def normalise_parameters(
        self: Any,
        parameters: dict,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        # moto's own step (Input as a JSON string), then the ASL -> boto3 member names.
        original_normalise_parameters(self, parameters, boto_service_name, service_action_name)
        operation = _operation_model(
            self._get_boto_service_name(boto_service_name),
            self._get_boto_service_action(service_action_name),
        )
        self._to_boto_request(parameters, operation.input_shape)

    def normalise_response(
        self: Any,
        response: Any,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        if not isinstance(response, dict):
            return
        operation = _operation_model(
            self._get_boto_service_name(boto_service_name),
            self._get_boto_service_action(service_action_name),
        )
        self._from_boto_response(response, operation.output_shape)
        for key, value in list(response.items()):
            response[key] = _epoch_millis(value)

    service._normalise_parameters = normalise_parameters
    service._normalise_response = normalise_response
    service._arcadeflow_fixed = True


def _build_environment_before_start() -> None:
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramRunning, ProgramStopped
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    if getattr(ExecutionWorker.start, "_arcadeflow", False):
        return
    original_eval = Program.eval

    def program_eval(self: Any, env: Any) -> None:
        if isinstance(env.program_state(), ProgramStopped):
            self._eval_body(env)  # runs no state, records ExecutionAborted
            return
        original_eval(self, env)

    Program.eval = program_eval  # type: ignore[method-assign]
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

    start._arcadeflow = True  # type: ignore[attr-defined]
    ExecutionWorker._get_evaluation_environment = environment  # type: ignore[method-assign]
    ExecutionWorker.start = start  # type: ignore[method-assign]
