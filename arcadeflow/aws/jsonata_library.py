"""jsonata-python, the JSONata evaluator of the embedded Step Functions, imported without its
side effect: importing it raises the whole process's recursion limit to 10,000 (JavaScript's
depth). The runtime's threads do not have the stack for that, and its readers of hostile JSON
count on Python's usual limit to turn a 2,000-deep body into a clear refusal instead of a crash.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType

_lock = threading.Lock()


def jsonata() -> ModuleType:
    with _lock:
        limit = sys.getrecursionlimit()
        try:
            import jsonata as library
        finally:
            sys.setrecursionlimit(limit)
    return library
