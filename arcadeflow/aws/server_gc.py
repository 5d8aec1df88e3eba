"""Garbage collection of the embedded AWS's process, where it sat on the hot path.

The embedded AWS keeps every item of every table as Python objects (~3 million after a few
10,000-follower fan-outs). CPython's full collections walk all of them with every thread
stopped: 0.4 s at 450,000 objects, 1.5-2.2 s at 2-3.5 million, measured with gc.callbacks
during the status fan-out benchmark, where they were the slow posts (the p99). After each full
collection the survivors are frozen (gc.freeze): later collections walk only what was allocated
since. Frozen objects are still freed by reference counting (a deleted item is); only a
reference cycle among objects that were alive at a full collection and die later is never
reclaimed, which for a local server means a few finished executions' interpreter objects.

Not a moto patch (moto is untouched), so not in moto_patches/.
"""

from __future__ import annotations

import gc

_freezing = False


def freeze_survivors_of_full_collections() -> None:
    """Called by the embedded server's process only (not by a test process importing moto)."""
    global _freezing
    if _freezing:
        return
    _freezing = True

    def after_collection(phase: str, info: dict[str, int]) -> None:
        # A full collection has just freed every unreachable cycle: what is left is alive.
        if phase == "stop" and info.get("generation") == 2:
            gc.freeze()

    gc.callbacks.append(after_collection)
