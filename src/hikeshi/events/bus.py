"""Event buses: in-process by default, Redis pub/sub when several server processes run.

``publish`` is synchronous and thread-safe (it is called from the after-commit hook, which runs
in FastAPI's worker threads); subscribers are asyncio queues on the server's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import redis
import redis.asyncio as aioredis

log = logging.getLogger("hikeshi.events")
CHANNEL = "hikeshi:live-events"
QUEUE_LIMIT = 1000  # a stalled browser must not grow memory without bound


@dataclass(frozen=True)
class LiveEvent:
    org_id: int
    type: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> LiveEvent:
        obj = json.loads(raw)
        return cls(
            org_id=int(obj["org_id"]),
            type=str(obj["type"]),
            data=dict(obj["data"]),
            id=str(obj["id"]),
            at=str(obj["at"]),
        )


class EventBus(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def publish(self, event: LiveEvent) -> None: ...
    def subscribe(
        self, org_id: int
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[LiveEvent]]: ...


class LocalBus:
    """Fan-out to the subscribers of this process."""

    def __init__(self) -> None:
        self._subs: dict[int, set[asyncio.Queue[LiveEvent]]] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published = 0

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self._loop = None

    def publish(self, event: LiveEvent) -> None:
        self.published += 1
        self._deliver(event)

    def _deliver(self, event: LiveEvent) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with self._lock:
            queues = list(self._subs.get(event.org_id, ()))
        for queue in queues:
            loop.call_soon_threadsafe(self._put, queue, event)

    @staticmethod
    def _put(queue: asyncio.Queue[LiveEvent], event: LiveEvent) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self, org_id: int) -> AsyncIterator[AsyncIterator[LiveEvent]]:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        with self._lock:
            self._subs.setdefault(org_id, set()).add(queue)
        try:
            yield _drain(queue)
        finally:
            with self._lock:
                self._subs.get(org_id, set()).discard(queue)

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subs.values())


async def _drain(queue: asyncio.Queue[LiveEvent]) -> AsyncIterator[LiveEvent]:
    while True:
        yield await queue.get()


class RedisBus(LocalBus):
    """Publish to Redis; every process (this one too) delivers what arrives on the channel."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self._url = url
        # Pub/sub ignores Redis database numbers: deployments sharing a server need their own.
        self._channel = channel
        self._sync = redis.Redis.from_url(url)
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        await super().start()
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen(), name="hikeshi-redis-events")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await super().stop()

    def publish(self, event: LiveEvent) -> None:
        self.published += 1
        self._sync.publish(self._channel, event.to_json())

    async def _listen(self) -> None:
        while True:
            client = aioredis.Redis.from_url(self._url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    self._ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        try:
                            self._deliver(LiveEvent.from_json(message["data"]))
                        except (ValueError, KeyError, TypeError):
                            log.warning(
                                "dropped malformed live event", extra={"raw": str(message)[:200]}
                            )
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis restarts must not end live updates for good: reconnect after a pause.
                log.exception("redis event listener failed; reconnecting")
                await asyncio.sleep(1)
            finally:
                await client.aclose()


def make_bus(redis_url: str | None, channel: str = CHANNEL) -> LocalBus:
    return RedisBus(redis_url, channel) if redis_url else LocalBus()
