"""A small fixed-window rate limiter, keyed by ``(purpose, subject)``.

``purpose`` names what is limited (``"serial-check"``, later ``"login"``), ``subject`` who and
on what (the client address, plus e.g. the incident's slug). Each window of ``window_seconds``
allows ``limit`` hits; the window index comes from the injected :class:`~hikeshi.clock.Clock`,
so tests move time instead of sleeping. A fixed window lets a client spend up to twice the
limit across a window boundary; that is accepted for a design that is one ``INCR`` per hit.

Two backends count the hits:

* :class:`MemoryBackend` (default): in this process only, thread-safe.
* :class:`RedisBackend` (when ``HIKESHI_REDIS_URL`` is set): ``INCR`` + ``EXPIRE`` on a shared
  key, so every server process enforces one limit together.

Subjects are hashed before they become keys, so Redis never holds client addresses.

The client address is ``request.client.host``. Behind a reverse proxy that is the proxy's
address unless uvicorn is told which proxies to believe (``--forwarded-allow-ips``, or
``FORWARDED_ALLOW_IPS``); ``X-Forwarded-For`` is never read here, because any client can send it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from dataclasses import dataclass
from typing import Protocol

import redis

from hikeshi.clock import Clock

log = logging.getLogger("hikeshi.ratelimit")

KEY_PREFIX = "hikeshi:rl:"


@dataclass(frozen=True)
class Decision:
    """The answer for one hit: allowed or not, and when the current window ends."""

    allowed: bool
    count: int
    limit: int
    retry_after: int  # whole seconds until the window ends (at least 1)


class Backend(Protocol):
    def incr(self, key: str, ttl_seconds: int) -> int:
        """Add one to ``key`` (created at 0 and expiring after ``ttl_seconds``); new value."""
        ...


class MemoryBackend:
    """Counters in this process; expired windows are dropped as new ones start."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, expires at, epoch s)

    def incr(self, key: str, ttl_seconds: int) -> int:
        now = self._clock.now().timestamp()
        with self._lock:
            count, expires = self._counts.get(key, (0, now + ttl_seconds))
            if expires <= now:
                count, expires = 0, now + ttl_seconds
            count += 1
            self._counts[key] = (count, expires)
            if len(self._counts) > 10_000:
                self._prune(now)
            return count

    def _prune(self, now: float) -> None:
        for key in [k for k, (_, expires) in self._counts.items() if expires <= now]:
            del self._counts[key]


class RedisBackend:
    """Counters shared by every process that uses the same Redis database."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    @classmethod
    def from_url(cls, url: str) -> RedisBackend:
        return cls(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2))

    def incr(self, key: str, ttl_seconds: int) -> int:
        pipe = self._client.pipeline(transaction=True)
        pipe.incr(key)
        # The key name carries the window, so the TTL only cleans up and never decides;
        # refreshing it on every hit keeps this working on Redis before 7 (no EXPIRE NX).
        pipe.expire(key, ttl_seconds)
        count, _ = pipe.execute()
        return int(count)


class RateLimiter:
    """``limit`` hits per ``window_seconds`` for each ``(purpose, subject)``."""

    def __init__(self, *, limit: int, window_seconds: int, clock: Clock, backend: Backend) -> None:
        if limit < 1 or window_seconds < 1:
            raise ValueError("limit and window_seconds must be at least 1")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._backend = backend

    def key(self, purpose: str, subject: str, window: int) -> str:
        digest = hashlib.sha256(f"{purpose}\x00{subject}".encode()).hexdigest()[:32]
        return f"{KEY_PREFIX}{purpose}:{digest}:{window}"

    def hit(self, purpose: str, subject: str) -> Decision:
        """Count one hit and say whether it is within the limit.

        If the backend fails (Redis down), the hit is allowed and a warning is logged: the
        limiter guards against abuse and must not take a public page down with it.
        """
        now = self._clock.now().timestamp()
        window = math.floor(now / self.window_seconds)
        ends = (window + 1) * self.window_seconds
        retry_after = max(1, math.ceil(ends - now))
        try:
            count = self._backend.incr(self.key(purpose, subject, window), self.window_seconds + 1)
        except redis.RedisError as exc:
            log.warning("rate limiter backend unavailable; allowing", extra={"error": str(exc)})
            return Decision(allowed=True, count=0, limit=self.limit, retry_after=retry_after)
        return Decision(
            allowed=count <= self.limit, count=count, limit=self.limit, retry_after=retry_after
        )


def build_limiter(
    *, limit: int, window_seconds: int, clock: Clock, redis_url: str | None
) -> RateLimiter:
    """Redis-backed when ``redis_url`` is set (several processes), in-process otherwise."""
    backend: Backend = RedisBackend.from_url(redis_url) if redis_url else MemoryBackend(clock)
    return RateLimiter(limit=limit, window_seconds=window_seconds, clock=clock, backend=backend)
