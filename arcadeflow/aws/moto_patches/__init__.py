"""Every change the embedded AWS makes to moto, in one registry (see registry.py).

One module per concern; each declares its patch record(s). REGISTRY lists them in install
order. `install_all` is what the runtime calls (EmbeddedAws.start): it refuses a moto version
the registry does not know before changing anything. Tests install and uninstall single patches
through REGISTRY.installed(name) / REGISTRY.uninstalled(name), never at import time.
"""

from __future__ import annotations

from arcadeflow.aws.interceptor import Forward, Interceptor
from arcadeflow.aws.moto_patches import (
    dynamodb_atomic_writes,
    dynamodb_speed,
    dynamodb_stream_retention,
    dynamodb_ttl_identity,
    event_source_delivery,
    instance_tracking,
    lambda_zip_validation,
    response_speed,
    server_speed,
    stepfunctions_api_answers,
    stepfunctions_branch_errors,
    stepfunctions_choice_missing_variable,
    stepfunctions_context_object,
    stepfunctions_data_limit,
    stepfunctions_definitions,
    stepfunctions_early_stop,
    stepfunctions_execution_names,
    stepfunctions_express,
    stepfunctions_heartbeats,
    stepfunctions_intrinsic_functions,
    stepfunctions_jsonata,
    stepfunctions_jsonpath,
    stepfunctions_lambda_direct,
    stepfunctions_map_integer_percentage,
    stepfunctions_map_tolerated_failures,
    stepfunctions_no_choice_matched,
    stepfunctions_parse_caches,
    stepfunctions_parser_scopes,
    stepfunctions_redrive,
    stepfunctions_result_path_failure,
    stepfunctions_service_errors,
    stepfunctions_start_execution,
    stepfunctions_string_matches,
    stepfunctions_string_output,
    stepfunctions_synchronous_stop,
    stepfunctions_task_output_errors,
    stepfunctions_thread_list,
    stepfunctions_variables,
    stepfunctions_wait_limit,
    stepfunctions_wait_until,
)
from arcadeflow.aws.moto_patches.registry import (
    MotoPatch,
    MotoPatchError,
    PatchTargetChanged,
    Registry,
    UnsupportedMotoVersion,
)

REGISTRY = Registry(
    (
        instance_tracking.PATCH,
        event_source_delivery.STREAM_DELIVERY_OFF,
        event_source_delivery.QUEUE_MAPPINGS_HIDDEN,
        dynamodb_ttl_identity.PATCH,
        dynamodb_speed.PATCH,
        dynamodb_atomic_writes.PATCH,
        dynamodb_stream_retention.PATCH,
        # Before every StartExecution interceptor that forwards: an oversized input never reaches moto.
        stepfunctions_data_limit.OVERSIZED_PAYLOADS,
        stepfunctions_start_execution.PATCH,
        stepfunctions_early_stop.PATCH,
        stepfunctions_synchronous_stop.PATCH,
        stepfunctions_jsonpath.PATCH,
        stepfunctions_execution_names.INPUT_ERRORS,
        stepfunctions_execution_names.PATCH,
        stepfunctions_execution_names.NAMED_STARTS,
        # Before redrive's interceptor, which forwards DescribeExecution/ListExecutions itself.
        stepfunctions_express.HISTORY_REFUSED,
        stepfunctions_redrive.PATCH,
        stepfunctions_redrive.KEEPS_SUCCEEDED_WORK,
        stepfunctions_thread_list.PATCH,
        server_speed.ROUTING_CACHE,
        server_speed.DIRECT_DISPATCH,
        server_speed.QUIET_REQUEST_LOG,
        server_speed.CLIENT_REUSE,
        # Before stepfunctions_map_integer_percentage, which wraps the parse this one replaces.
        stepfunctions_parse_caches.DEFINITION_PARSE_CACHE,
        stepfunctions_parse_caches.JSONPATH_PARSE_CACHE,
        stepfunctions_lambda_direct.PATCH,
        response_speed.METHOD_NAMES_CACHE,
        response_speed.ATTRIBUTE_VALUE_SERIALIZATION,
        stepfunctions_express.PATCH,
        stepfunctions_service_errors.SQS_ERROR_NAMES,
        stepfunctions_service_errors.LAMBDA_ERROR_NAMES,
        stepfunctions_api_answers.SEND_TASK_FAILURE_CAUSE,
        stepfunctions_api_answers.DESCRIBE_INPUT_DETAILS,
        stepfunctions_context_object.PATCH,
        stepfunctions_branch_errors.PATCH,
        stepfunctions_map_tolerated_failures.PATCH,
        stepfunctions_service_errors.SDK_ERROR_NAMES,
        stepfunctions_jsonata.PATCH,
        stepfunctions_variables.PATCH,
        stepfunctions_no_choice_matched.PATCH,
        stepfunctions_wait_until.PATCH,
        stepfunctions_string_output.PATCH,
        stepfunctions_string_matches.PATCH,
        stepfunctions_heartbeats.PATCH,
        stepfunctions_task_output_errors.PATCH,
        stepfunctions_choice_missing_variable.PATCH,
        stepfunctions_map_integer_percentage.INTEGER_PERCENTAGES,
        stepfunctions_intrinsic_functions.PATCH,
        stepfunctions_result_path_failure.PATCH,
        stepfunctions_parser_scopes.PATCH,
        stepfunctions_definitions.PATCH,
        stepfunctions_wait_limit.PATCH,
        stepfunctions_data_limit.STATES_ALL_SPARES_DATA_LIMIT,
        stepfunctions_data_limit.TASK_INPUT_LIMIT,
        lambda_zip_validation.PATCH,
    )
)


def install_all(interceptors: list[Interceptor], forward: Forward) -> None:
    REGISTRY.install_all(interceptors, forward)


__all__ = [
    "REGISTRY",
    "MotoPatch",
    "MotoPatchError",
    "PatchTargetChanged",
    "UnsupportedMotoVersion",
    "install_all",
]
