"""moto's own event source mapping delivery, switched off: arcadeflow's pollers deliver instead.

moto delivers stream records and SQS messages to mapped functions synchronously inside the
write (PutItem, SendMessage), through Docker. For a stream it then empties the table's stream
shard once the function answered, so no other reader (and no retry) ever sees the records; for
SQS it receives the batch itself (counting a receive) before delivering. Lambda polls
asynchronously, in batches, with retries: arcadeflow/aws/event_sources.py does that, reading the
records moto leaves on the stream and the messages it leaves on the queue.
"""

from __future__ import annotations

from typing import Any

from arcadeflow.aws.moto_patches.registry import MotoPatch, Patcher


def apply_stream_delivery_off(patcher: Patcher) -> None:
    from moto.awslambda.models import LambdaBackend

    def send_dynamodb_items(self: Any, function_arn: str, items: list[Any], source: str) -> bool:
        return False  # "not delivered": moto then leaves the records on the shard

    patcher.replace(LambdaBackend, "send_dynamodb_items", send_dynamodb_items)


class _NoMappings(dict):
    """Accepts and forgets mappings: arcadeflow's pollers deliver instead (event_sources.py)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def __delitem__(self, key: Any) -> None:
        pass

    def pop(self, key: Any, default: Any = None) -> Any:
        return default


def apply_queue_mappings_hidden(patcher: Patcher) -> None:
    from moto.sqs.models import Queue

    # moto sets the attribute per queue in __init__; a class property with a setter that drops
    # the value wins over that assignment, so every queue, old or new, shows moto no mappings.
    patcher.replace(
        Queue, "lambda_event_source_mappings", property(lambda self: _NoMappings(), lambda self, value: None)
    )


STREAM_DELIVERY_OFF = MotoPatch(
    name="lambda_stream_delivery_off",
    fixes="stream records are delivered inside the write, then emptied from the stream",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=(
        "moto.awslambda.models.LambdaBackend.send_dynamodb_items",
        "moto.dynamodb.models.table.StreamShard.add",
    ),
    kind="fix",
    apply=apply_stream_delivery_off,
    signatures={
        "moto.awslambda.models.LambdaBackend.send_dynamodb_items": ("self", "function_arn", "items", "source")
    },
)

QUEUE_MAPPINGS_HIDDEN = MotoPatch(
    name="sqs_queue_mappings_hidden",
    fixes="SendMessage receives and delivers the message to a mapped function inside the send",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=("moto.sqs.models.Queue", "moto.sqs.models.Queue.add_message"),
    kind="fix",
    apply=apply_queue_mappings_hidden,
)
