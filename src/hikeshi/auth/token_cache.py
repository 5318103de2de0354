"""A short-lived in-process cache of verified API tokens.

Integrations send a token with every request; looking it up (and stamping ``last_used_at``)
each time costs a transaction per request and makes every request of one integration contend
for the same row. A verified token is trusted for ``ttl`` seconds, so revoking a token takes
effect within that time on every server (documented in the README). Keys are the SHA-256 of
the raw token, never the token itself.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TokenCache(Generic[T]):
    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(raw: str) -> str:
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def get(self, raw: str) -> T | None:
        if self._ttl <= 0:
            return None
        key = self._key(raw)
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            if hit[0] <= self._monotonic():
                del self._entries[key]
                return None
            return hit[1]

    def put(self, raw: str, value: T) -> None:
        if self._ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()  # crude but bounded; a refill costs one lookup per token
            self._entries[self._key(raw)] = (self._monotonic() + self._ttl, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
