"""moto stops keeping every model instance it ever made, so a runtime's memory levels off.

moto's BaseModel appends every instance of every model class to a class-level list,
`instances_tracked`, for its dashboard (`/moto-api/data.json`) and never removes one: every
DynamoDB item (and each copy moto makes of one on a read or a write), stream record, shard
iterator, SQS message and execution stays reachable for as long as the runtime runs. Under
mixed traffic `arcadeflow up` grew by ~17 MB a minute with no end (benchmarks/soak.py). Only S3's
keys and multipart uploads need the list (S3's reset disposes of their temporary files through
it), so they alone are still tracked; the moto dashboard's data page then lists only those.
"""

from __future__ import annotations

from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher

# Model classes whose instances moto must still reach through `instances_tracked`.
TRACKED_MODULE_PREFIX = "moto.s3."


def apply(patcher: Patcher) -> None:
    from moto.core.common_models import BaseModel

    def new(cls: Any, *args: Any, **kwargs: Any) -> Any:
        instance = super(BaseModel, cls).__new__(cls)
        if cls.__module__.startswith(TRACKED_MODULE_PREFIX):
            cls.instances_tracked.append(instance)
        return instance

    patcher.replace(BaseModel, "__new__", staticmethod(new))


PATCH = MotoPatch(
    name="moto_instance_tracking",
    fixes="every model instance moto ever made (each item copy, stream record, message) is kept for ever",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=("moto.core.common_models.BaseModel.__new__", "moto.core.model_instances.model_data"),
    kind="fix",
    apply=apply,
)
