"""A small asyncio client of the duels WebSocket API, for the demo, the benchmark and the tests.

It keeps every frame it receives (with the monotonic time it arrived) and lets a caller wait for
the next frame of a given type without losing the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


class FrameTimeout(AssertionError):
    pass


@dataclass
class Received:
    at: float  # time.monotonic()
    frame: dict[str, Any]
    taken: bool = False


@dataclass
class DuelClient:
    name: str
    websocket: ClientConnection
    received: list[Received] = field(default_factory=list)
    # Called with (client, frame) as each frame arrives (the demo prints them).
    on_frame: Callable[[DuelClient, dict[str, Any]], None] | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def connect(
        cls,
        url: str,
        token: str,
        name: str,
        on_frame: Callable[[DuelClient, dict[str, Any]], None] | None = None,
    ) -> DuelClient:
        websocket = await connect(f"{url}?token={token}", open_timeout=30, max_size=2**20)
        client = cls(name=name, websocket=websocket, on_frame=on_frame)
        client._reader = asyncio.create_task(client._read())
        return client

    async def _read(self) -> None:
        try:
            async for message in self.websocket:
                frame = json.loads(message)
                self.received.append(Received(time.monotonic(), frame))
                if self.on_frame is not None:
                    self.on_frame(self, frame)
                self._arrived.set()
        except Exception:  # closed: waiters time out with what arrived so far
            self._arrived.set()

    async def send(self, **frame: Any) -> float:
        """Sends a frame; returns the monotonic time it left."""
        sent = time.monotonic()
        await self.websocket.send(json.dumps(frame))
        return sent

    async def send_raw(self, data: str | bytes) -> None:
        await self.websocket.send(data)

    async def next(self, frame_type: str | None = None, timeout: float = 15.0, **match: Any) -> Received:
        """The oldest frame not yet taken of that type (and with those field values)."""
        deadline = time.monotonic() + timeout
        while True:
            for item in self.received:
                if item.taken or (frame_type and item.frame.get("type") != frame_type):
                    continue
                if all(item.frame.get(k) == v for k, v in match.items()):
                    item.taken = True
                    return item
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [r.frame for r in self.received if not r.taken]
                raise FrameTimeout(
                    f"{self.name}: no {frame_type or 'frame'} {match or ''} in {timeout}s; has {seen}"
                )
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def frame(
        self, frame_type: str | None = None, timeout: float = 15.0, **match: Any
    ) -> dict[str, Any]:
        return (await self.next(frame_type, timeout, **match)).frame

    async def seen(self, frame_type: str, timeout: float = 15.0, **match: Any) -> list[dict[str, Any]]:
        """Waits until at least one frame of that type was received, taken by next() or not."""
        deadline = time.monotonic() + timeout
        while not (found := self.frames(frame_type, **match)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FrameTimeout(f"{self.name}: no {frame_type} {match or ''} in {timeout}s")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        return found

    def frames(self, frame_type: str | None = None, **match: Any) -> list[dict[str, Any]]:
        """Every frame received so far of that type, taken or not."""
        return [
            r.frame
            for r in self.received
            if (frame_type is None or r.frame.get("type") == frame_type)
            and all(r.frame.get(k) == v for k, v in match.items())
        ]

    async def close(self) -> None:
        await self.websocket.close()
        if self._reader is not None:
            await self._reader
