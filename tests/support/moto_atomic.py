"""Per-request atomicity for moto's in-process DynamoDB.

DynamoDB evaluates a ConditionExpression and applies the write as one atomic step. moto 5.2.5
checks the condition and then writes with no lock, so two threads can both pass a condition
meant to let only one through (seen here: concurrent best-score posts losing the best). Tests
that race requests on purpose serialize each moto DynamoDB request (never two of ours), so
they test our code's races, not moto's.
"""

from __future__ import annotations

import functools
import threading

from moto.dynamodb.responses import DynamoHandler


def make_dynamodb_requests_atomic(monkeypatch) -> None:
    lock = threading.RLock()
    original = DynamoHandler.call_action

    @functools.wraps(original)
    def atomic(self, *args, **kwargs):
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoHandler, "call_action", atomic)
