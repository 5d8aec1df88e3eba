"""The `states:startExecution` integration of moto's Step Functions interpreter, as on AWS.

`arn:aws:states:::states:startExecution` (the optimised integration that starts a nested
execution): moto's copy of the interpreter dropped the step that maps the ASL's PascalCase
parameters (`StateMachineArn`, `Name`, `Input`) onto the boto3 request (`stateMachineArn`, ...),
so every such task failed with `States.Runtime` / `KeyError: 'StateMachineArn'`. The response
also came back in boto3's casing with a datetime in it, which the execution could not serialise.
AWS returns `{"ExecutionArn": ..., "StartDate": <epoch millis>}`; so does this fix.
"""

from __future__ import annotations

import datetime
from functools import cache
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_SFN_SERVICE = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn"
    ".StateTaskServiceSfn"
)
_NORMALISE_PARAMETERS = ("self", "parameters", "boto_service_name", "service_action_name")
_NORMALISE_RESPONSE = ("self", "response", "boto_service_name", "service_action_name")


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


def apply(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn as sfn_module,
    )

    service = sfn_module.StateTaskServiceSfn
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

    patcher.replace(service, "_normalise_parameters", normalise_parameters)
    patcher.replace(service, "_normalise_response", normalise_response)


PATCH = MotoPatch(
    name="stepfunctions_start_execution_parameters",
    fixes="states:startExecution tasks fail (KeyError 'StateMachineArn'): parameters never mapped to boto3",
    upstream="getmoto/moto#10076",
    moto_versions=("5.2.5",),
    targets=(
        f"{_SFN_SERVICE}._normalise_parameters",
        f"{_SFN_SERVICE}._normalise_response",
        f"{_SFN_SERVICE}._to_boto_request",
        f"{_SFN_SERVICE}._from_boto_response",
        f"{_SFN_SERVICE}._get_boto_service_name",
        f"{_SFN_SERVICE}._get_boto_service_action",
    ),
    kind="fix",
    apply=apply,
    signatures={
        f"{_SFN_SERVICE}._normalise_parameters": _NORMALISE_PARAMETERS,
        f"{_SFN_SERVICE}._normalise_response": _NORMALISE_RESPONSE,
    },
)
