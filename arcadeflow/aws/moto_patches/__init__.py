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
    server_speed,
    stepfunctions_data_limit,
    stepfunctions_early_stop,
    stepfunctions_execution_names,
    stepfunctions_jsonpath,
    stepfunctions_redrive,
    stepfunctions_start_execution,
    stepfunctions_synchronous_stop,
    stepfunctions_thread_list,
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
        stepfunctions_redrive.PATCH,
        stepfunctions_redrive.KEEPS_SUCCEEDED_WORK,
        stepfunctions_thread_list.PATCH,
        server_speed.ROUTING_CACHE,
        server_speed.CLIENT_REUSE,
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
