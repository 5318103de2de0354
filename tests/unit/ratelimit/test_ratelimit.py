"""The fixed-window limiter: counting, windows moved by the injected clock, isolation of keys,
thread safety, the Redis backend shared by two limiters, and failing open when Redis is gone."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis

from hikeshi.clock import FrozenClock
from hikeshi.ratelimit import (
    KEY_PREFIX,
    MemoryBackend,
    RateLimiter,
    RedisBackend,
    build_limiter,
)
from tests.conftest import require_or_skip

REDIS_URL = os.environ.get("HIKESHI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def clock() -> FrozenClock:
    # 10 seconds into a minute, so the window boundary is 50 seconds away.
    return FrozenClock(datetime(2026, 11, 20, 1, 0, 10, tzinfo=UTC))


def memory_limiter(clock: FrozenClock, limit: int = 3) -> RateLimiter:
    return RateLimiter(limit=limit, window_seconds=60, clock=clock, backend=MemoryBackend(clock))


def test_allows_up_to_the_limit_then_refuses_with_time_to_wait(clock: FrozenClock) -> None:
    limiter = memory_limiter(clock)
    answers = [limiter.hit("serial-check", "slug1|203.0.113.9") for _ in range(4)]
    assert [a.allowed for a in answers] == [True, True, True, False]
    assert [a.count for a in answers] == [1, 2, 3, 4]
    assert answers[-1].retry_after == 50


def test_next_window_allows_again(clock: FrozenClock) -> None:
    limiter = memory_limiter(clock, limit=1)
    assert limiter.hit("p", "a").allowed
    assert not limiter.hit("p", "a").allowed
    clock.advance(timedelta(seconds=49))
    refused = limiter.hit("p", "a")
    assert not refused.allowed and refused.retry_after == 1
    clock.advance(timedelta(seconds=1))
    assert limiter.hit("p", "a").allowed


def test_purposes_and_subjects_are_counted_apart(clock: FrozenClock) -> None:
    limiter = memory_limiter(clock, limit=1)
    assert limiter.hit("serial-check:1", "a").allowed
    assert limiter.hit("serial-check:2", "a").allowed
    assert limiter.hit("serial-check:1", "b").allowed
    assert not limiter.hit("serial-check:1", "a").allowed


def test_keys_do_not_contain_the_client_address(clock: FrozenClock) -> None:
    limiter = memory_limiter(clock)
    key = limiter.key("login", "198.51.100.7", 123)
    assert key.startswith(f"{KEY_PREFIX}login:") and key.endswith(":123")
    assert "198.51.100.7" not in key


def test_memory_backend_is_thread_safe(clock: FrozenClock) -> None:
    limiter = memory_limiter(clock, limit=100)
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            decision = limiter.hit("p", "a")
            with lock:
                allowed.append(decision.allowed)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 100
    assert len(allowed) == 400


def test_memory_backend_drops_expired_windows(clock: FrozenClock) -> None:
    backend = MemoryBackend(clock)
    for i in range(10_001):
        backend.incr(f"k{i}", 60)
    clock.advance(timedelta(seconds=61))
    backend.incr("fresh", 60)
    backend.incr("fresh2", 60)  # past the size threshold: expired keys are pruned
    assert len(backend._counts) <= 2


def test_bad_configuration_is_refused(clock: FrozenClock) -> None:
    with pytest.raises(ValueError):
        RateLimiter(limit=0, window_seconds=60, clock=clock, backend=MemoryBackend(clock))


def test_build_limiter_picks_the_backend(clock: FrozenClock) -> None:
    local = build_limiter(limit=5, window_seconds=60, clock=clock, redis_url=None)
    assert isinstance(local._backend, MemoryBackend)
    shared = build_limiter(limit=5, window_seconds=60, clock=clock, redis_url=REDIS_URL)
    assert isinstance(shared._backend, RedisBackend)


def test_unreachable_redis_fails_open(clock: FrozenClock) -> None:
    dead = RedisBackend.from_url("redis://127.0.0.1:1/0")
    limiter = RateLimiter(limit=1, window_seconds=60, clock=clock, backend=dead)
    assert limiter.hit("p", "a").allowed
    assert limiter.hit("p", "a").allowed


@pytest.mark.redis
def test_redis_backend_is_shared_between_limiters(clock: FrozenClock) -> None:
    require_or_skip(redis_available(), "Redis")
    purpose = f"test-{uuid.uuid4().hex}"  # never collides with another run
    one = build_limiter(limit=3, window_seconds=60, clock=clock, redis_url=REDIS_URL)
    two = build_limiter(limit=3, window_seconds=60, clock=clock, redis_url=REDIS_URL)
    assert one.hit(purpose, "a").allowed
    assert two.hit(purpose, "a").allowed
    assert one.hit(purpose, "a").allowed
    refused = two.hit(purpose, "a")
    assert not refused.allowed and refused.count == 4 and refused.retry_after == 50
    assert one.hit(purpose, "other").allowed  # another client is not affected

    client = redis.Redis.from_url(REDIS_URL)
    key = one.key(purpose, "a", int(clock.now().timestamp()) // 60)
    assert int(client.get(key) or 0) == 4
    assert 0 < client.ttl(key) <= 61  # cleaned up by Redis, never left behind

    clock.advance(timedelta(seconds=50))
    assert two.hit(purpose, "a").allowed
    client.delete(key)
