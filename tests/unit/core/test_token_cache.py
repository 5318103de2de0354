from __future__ import annotations

from hikeshi.auth.token_cache import TokenCache


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_token_is_trusted_for_the_ttl_then_looked_up_again() -> None:
    ticks = Ticks()
    cache: TokenCache[str] = TokenCache(5.0, monotonic=ticks)
    assert cache.get("hk_a") is None
    cache.put("hk_a", "principal-a")
    ticks.now += 4.99
    assert cache.get("hk_a") == "principal-a"
    assert cache.get("hk_b") is None
    ticks.now += 0.01
    assert cache.get("hk_a") is None  # expired at exactly the ttl


def test_clear_forgets_everything_and_zero_ttl_caches_nothing() -> None:
    cache: TokenCache[str] = TokenCache(5.0)
    cache.put("hk_a", "a")
    cache.clear()
    assert cache.get("hk_a") is None
    off: TokenCache[str] = TokenCache(0)
    off.put("hk_a", "a")
    assert off.get("hk_a") is None


def test_the_cache_is_bounded() -> None:
    cache: TokenCache[int] = TokenCache(60.0, max_entries=3)
    for n in range(3):
        cache.put(f"hk_{n}", n)
    cache.put("hk_new", 99)
    assert cache.get("hk_new") == 99
    assert sum(cache.get(f"hk_{n}") is not None for n in range(3)) == 0
