"""A failed SQS or Lambda call of a Task fails under the name AWS gives it, so a Catch written
for AWS takes the same branch locally.

Step Functions names a failed service call `<Service>.<the SDK's exception class>` and words the
cause as the AWS SDK for Java does: `<message> (Service: AmazonSQS; Status Code: 400; Error
Code: ...; Request ID: ...; Proxy: null)`. moto's interpreter does so for DynamoDB and
`states:startExecution`, but not for:
- `arn:aws:states:::sqs:sendMessage`: every SQS error is `SQS.SdkClientException` (the name AWS
  keeps for a request that never reached SQS) with the bare message, so a Catch on
  `SQS.QueueDoesNotExistException` (a queue deleted under a running flow) is never taken.
- a Task whose Resource is a bare Lambda function ARN: a Lambda error (a missing function, a
  throttle) is `Exception`, not `Lambda.ResourceNotFoundException`.
- `arn:aws:states:::lambda:invoke`: the cause is built from the answer's request id, and an
  answer without one (the embedded AWS's Lambda front had none) killed the execution with
  `States.Runtime` / `KeyError('RequestId')` instead of the catchable Lambda error.
- `arn:aws:states:::aws-sdk:<service>:<action>`: AWS prefixes the error with the service's name
  in the AWS SDK for Java 2.x (`DynamoDb.`, `Sqs.`, `S3.`, `EventBridge.`); moto knows two such
  names (DynamoDb, Sfn) and uses the ARN's lower-case service otherwise (`sqs.`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

_TASK = "moto.stepfunctions.parser.asl.component.state.exec.state_task"
_SQS = f"{_TASK}.service.state_task_service_sqs.StateTaskServiceSqs"
_LAMBDA_SERVICE = f"{_TASK}.service.state_task_service_lambda.StateTaskServiceLambda"
_LAMBDA_RESOURCE = f"{_TASK}.state_task_lambda.StateTaskLambda"
_AWS_SDK = f"{_TASK}.service.state_task_service_aws_sdk.StateTaskServiceAwsSdk"

# The error codes SQS answers over its query protocol (and in the JSON protocol's
# x-amzn-query-error header) for the exceptions whose class name differs from them.
_SQS_QUERY_CODES = {
    "AWS.SimpleQueueService.NonExistentQueue": "QueueDoesNotExist",
    "AWS.SimpleQueueService.QueueDeletedRecently": "QueueDeletedRecently",
    "AWS.SimpleQueueService.UnsupportedOperation": "UnsupportedOperation",
    "AWS.SimpleQueueService.BatchEntryIdsNotDistinct": "BatchEntryIdsNotDistinct",
    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest": "TooManyEntriesInBatchRequest",
    "AWS.SimpleQueueService.InvalidBatchEntryId": "InvalidBatchEntryId",
    "InvalidParameterValue": "InvalidParameterValue",
}


@cache
def _error_shapes(service: str) -> frozenset[str]:
    import botocore.session

    return frozenset(s.name for s in botocore.session.get_session().get_service_model(service).error_shapes)


def exception_class(service: str, code: str, generic: str) -> str:
    """The AWS SDK's exception class for an error code: the error's shape, `Exception`-suffixed
    as the SDK names it; `generic` (the service's base exception) for a code it does not model."""
    code = code.rsplit("#", 1)[-1]
    shape = _SQS_QUERY_CODES.get(code, code) if service == "sqs" else code
    if shape not in _error_shapes(service):
        return generic
    return shape if shape.endswith("Exception") else f"{shape}Exception"


def sdk_v2_service_name(service: str) -> str | None:
    """A service's name in the AWS SDK for Java 2.x (its client's prefix: SqsClient, DynamoDbClient,
    CloudWatchLogsClient), from botocore's serviceId; None for a service botocore does not know."""
    import re

    import botocore.exceptions
    import botocore.session

    try:
        service_id = botocore.session.get_session().get_service_model(service).metadata["serviceId"]
    except (botocore.exceptions.UnknownServiceError, KeyError):
        return None
    # "DynamoDB" -> Dynamo, DB; "CloudWatch Logs" -> Cloud, Watch, Logs; "EC2" -> EC, 2.
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", service_id)
    return "".join(word.capitalize() for word in words)


def sdk_cause(client_error: Any, service_label: str) -> str:
    """A failed call's cause as Step Functions words it (the AWS SDK for Java's message)."""
    response = client_error.response
    metadata = response.get("ResponseMetadata", {})
    error = response.get("Error", {})
    details = "; ".join(
        [
            f"Service: {service_label}",
            f"Status Code: {metadata.get('HTTPStatusCode', 400)}",
            f"Error Code: {error.get('Code', '')}",
            # An answer without a request id (AWS always sends one) is no reason to fail the
            # execution: the cause says "null" where the id would be.
            f"Request ID: {metadata.get('RequestId') or 'null'}",
            "Proxy: null",
        ]
    )
    return f"{error.get('Message', '')} ({details})"


def _task_failed(task: Any, env: Any, error: str, cause: str, *, lambda_resource: bool = False) -> Any:
    from moto.stepfunctions.parser.api import (
        HistoryEventType,
        LambdaFunctionFailedEventDetails,
        TaskFailedEventDetails,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent

    details: Any
    if lambda_resource:  # a bare function ARN records LambdaFunction* events
        details = {
            "lambdaFunctionFailedEventDetails": LambdaFunctionFailedEventDetails(error=error, cause=cause)
        }
        event_type = HistoryEventType.LambdaFunctionFailed
    else:
        details = {
            "taskFailedEventDetails": TaskFailedEventDetails(
                error=error,
                cause=cause,
                resource=task._get_sfn_resource(),
                resourceType=task._get_sfn_resource_type(),
            )
        }
        event_type = HistoryEventType.TaskFailed
    return FailureEvent(
        env=env, error_name=CustomErrorName(error), event_type=event_type, event_details=details
    )


def apply_sqs(patcher: Patcher) -> None:
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs import (
        StateTaskServiceSqs,
    )

    original_from_error = StateTaskServiceSqs._from_error

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, ClientError):
            return original_from_error(self, env, ex)
        name = exception_class("sqs", str(ex.response.get("Error", {}).get("Code", "")), "AmazonSQSException")
        return _task_failed(self, env, f"SQS.{name}", sdk_cause(ex, "AmazonSQS"))

    patcher.replace(StateTaskServiceSqs, "_from_error", from_error)


def apply_lambda(patcher: Patcher) -> None:
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_lambda,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )

    def error_cause_from_client_error(client_error: Any) -> tuple[str, str]:
        code = str(client_error.response.get("Error", {}).get("Code", ""))
        return f"Lambda.{exception_class('lambda', code, 'AWSLambdaException')}", sdk_cause(
            client_error, "AWSLambda"
        )

    original_resource_from_error = StateTaskLambda._from_error

    def resource_from_error(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, ClientError):
            return original_resource_from_error(self, env, ex)
        error, cause = error_cause_from_client_error(ex)
        return _task_failed(self, env, error, cause, lambda_resource=True)

    patcher.replace(
        state_task_service_lambda.StateTaskServiceLambda,
        "_error_cause_from_client_error",
        staticmethod(error_cause_from_client_error),
    )
    patcher.replace(StateTaskLambda, "_from_error", resource_from_error)


def apply_sdk(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk,
    )

    service_class = state_task_service_aws_sdk.StateTaskServiceAwsSdk
    original_name = service_class._normalise_service_error_name

    def normalise_service_error_name(service_name: str) -> str:
        if service_name.lower() in state_task_service_aws_sdk._SERVICE_ERROR_NAMES:
            return str(original_name(service_name))
        return sdk_v2_service_name(service_name.lower()) or str(original_name(service_name))

    patcher.replace(
        service_class, "_normalise_service_error_name", staticmethod(normalise_service_error_name)
    )


SQS_ERROR_NAMES = MotoPatch(
    name="stepfunctions_sqs_error_names",
    fixes="a failed sqs:sendMessage task is SQS.SdkClientException (bare cause), not AWS's SQS.<Exception>",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(f"{_SQS}._from_error",),
    kind="fix",
    apply=apply_sqs,
    signatures={f"{_SQS}._from_error": ("self", "env", "ex")},
)

LAMBDA_ERROR_NAMES = MotoPatch(
    name="stepfunctions_lambda_error_names",
    fixes=(
        "a Lambda error of a bare function ARN Task is 'Exception', not Lambda.<Exception>; lambda:invoke"
        " of an answer without a request id fails States.Runtime KeyError('RequestId')"
    ),
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_LAMBDA_SERVICE}._error_cause_from_client_error",
        f"{_LAMBDA_RESOURCE}._from_error",
    ),
    kind="fix",
    apply=apply_lambda,
    signatures={
        f"{_LAMBDA_SERVICE}._error_cause_from_client_error": ("client_error",),
        f"{_LAMBDA_RESOURCE}._from_error": ("self", "env", "ex"),
    },
)

SDK_ERROR_NAMES = MotoPatch(
    name="stepfunctions_sdk_error_names",
    fixes="aws-sdk task errors are prefixed with the ARN's lower-case service (sqs.), not the SDK's (Sqs.)",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        f"{_AWS_SDK}._normalise_service_error_name",
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk"
        "._SERVICE_ERROR_NAMES",
    ),
    kind="fix",
    apply=apply_sdk,
    signatures={f"{_AWS_SDK}._normalise_service_error_name": ("service_name",)},
)
