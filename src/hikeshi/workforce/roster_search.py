"""The roster heuristic behind :func:`hikeshi.workforce.roster.build_roster`.

State: how many agents work (not on break) in each interval, and the shifts placed. Every move
is judged on the lexicographic objective (shortfall, overstaffing, cost), computed exactly from
the intervals a shift would work, so a move is taken only when it strictly improves the roster.

* **Greedy**: walk the horizon left to right; at the first short interval open the shift that
  covers it with the best (overstaffing added − shortfall removed), then cheapest per worked
  interval; keep opening copies while they stay as good.
* **Breaks**: each agent's breaks go where the floor has the most surplus (never where it is
  short, when there is a choice): an exact dynamic programme over the break windows, taken in
  order and without overlap.
* **Local search**: drop shifts that only overstaff, re-place each agent's breaks against the
  others, and replace a shift by the best one overlapping it, until a round changes nothing.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

LimitKey = tuple[str, str, date]  # ("pattern" | "pool", name, JST day the shift starts)
Window = tuple[int, int, int]  # first start, last start, length (intervals after shift start)
# Placing a break where the floor is short costs this much; where it has surplus, it earns
# 1000 + surplus (so breaks go where the surplus is largest).
_SHORT = 10**6
_SURPLUS_CAP = 999


@dataclass(frozen=True, slots=True)
class Candidate:
    """One pattern at one start time: the unit the search places, once per agent."""

    pattern: int
    first: int  # interval of the shift start, relative to the horizon (may be negative)
    length: int
    windows: tuple[Window, ...]
    labels: tuple[str, ...]
    limit_keys: tuple[LimitKey, ...]
    cost: float


def place_breaks(
    windows: Sequence[Window], segment_cost: Callable[[int, int], float]
) -> tuple[float, tuple[int, ...]]:
    """Cheapest ordered, non-overlapping break starts; ``segment_cost(p, size)`` prices a break
    of ``size`` intervals starting ``p`` intervals after the shift start. Ties: earliest."""
    if not windows:
        return 0.0, ()
    layer: list[tuple[float, int, tuple[int, ...]]] = []  # (cost, end, starts)
    for k, (lo, hi, size) in enumerate(windows):
        options: list[tuple[float, int, tuple[int, ...]]] = []
        for p in range(lo, hi + 1):
            here = segment_cost(p, size)
            if k == 0:
                options.append((here, p + size, (p,)))
                continue
            fits = [entry for entry in layer if entry[1] <= p]
            if fits:
                cost, _, starts = min(fits, key=lambda e: (e[0], e[2]))
                options.append((cost + here, p + size, (*starts, p)))
        layer = options
    best_cost, _, best_starts = min(layer, key=lambda e: (e[0], e[2]))
    return best_cost, best_starts


class RosterSearch:
    def __init__(
        self,
        required: Sequence[int],
        candidates: Sequence[Candidate],
        caps: dict[LimitKey, int],
    ) -> None:
        self.required = list(required)
        self.size = len(self.required)
        self.candidates = list(candidates)
        self.caps = caps
        self.used: dict[LimitKey, int] = defaultdict(int)
        self.staffed = [0] * self.size
        self._workers: dict[int, tuple[int, tuple[int, ...]]] = {}
        self._next_id = 0
        self.covering: list[list[int]] = [[] for _ in range(self.size)]
        for ci, cand in enumerate(self.candidates):
            for t in range(max(0, cand.first), min(self.size, cand.first + cand.length)):
                self.covering[t].append(ci)

    # -- state ---------------------------------------------------------------------------

    def workers(self) -> list[tuple[int, tuple[int, ...]]]:
        return sorted(self._workers.values())

    def staffed_counts(self) -> list[int]:
        return list(self.staffed)

    def worked(self, ci: int, breaks: tuple[int, ...]) -> list[int]:
        """Intervals of the horizon in which this agent is on the floor."""
        cand = self.candidates[ci]
        off: set[int] = set()
        for b, (_, _, size) in zip(breaks, cand.windows, strict=True):
            off.update(range(b, b + size))
        return [
            cand.first + u
            for u in range(cand.length)
            if u not in off and 0 <= cand.first + u < self.size
        ]

    def has_room(self, ci: int) -> bool:
        return all(self.used[k] < self.caps[k] for k in self.candidates[ci].limit_keys)

    def add(self, ci: int, breaks: tuple[int, ...]) -> int:
        for t in self.worked(ci, breaks):
            self.staffed[t] += 1
        for key in self.candidates[ci].limit_keys:
            self.used[key] += 1
        wid = self._next_id
        self._next_id += 1
        self._workers[wid] = (ci, breaks)
        return wid

    def remove(self, wid: int) -> tuple[int, tuple[int, ...]]:
        ci, breaks = self._workers.pop(wid)
        for t in self.worked(ci, breaks):
            self.staffed[t] -= 1
        for key in self.candidates[ci].limit_keys:
            self.used[key] -= 1
        return ci, breaks

    def delta(self, worked: Sequence[int]) -> tuple[int, int]:
        """(change in shortfall, change in overstaffing) if an agent worked these intervals."""
        short = sum(1 for t in worked if self.staffed[t] < self.required[t])
        return -short, len(worked) - short

    def best_breaks(self, ci: int) -> tuple[int, ...]:
        cand = self.candidates[ci]
        if not cand.windows:
            return ()
        prices = []
        for u in range(cand.length):
            t = cand.first + u
            if not 0 <= t < self.size:
                prices.append(0)
                continue
            net = self.staffed[t] - self.required[t]
            prices.append(_SHORT if net < 0 else -(1000 + min(net, _SURPLUS_CAP)))
        prefix = [0]
        for price in prices:
            prefix.append(prefix[-1] + price)
        return place_breaks(cand.windows, lambda p, n: prefix[p + n] - prefix[p])[1]

    def _judge(self, ci: int) -> tuple[tuple[int, int, float], tuple[int, ...], list[int]]:
        breaks = self.best_breaks(ci)
        worked = self.worked(ci, breaks)
        short, over = self.delta(worked)
        return (short, over, self.candidates[ci].cost), breaks, worked

    def seed_columns(self, columns: Sequence[tuple[int, tuple[int, ...], int]]) -> None:
        """Open ``n`` agents with the given break starts for each (candidate, breaks, n)."""
        for ci, breaks, n in columns:
            for _ in range(n):
                if not self.has_room(ci):
                    break
                self.add(ci, breaks)

    # -- greedy --------------------------------------------------------------------------

    def greedy(self) -> None:
        """Set-multicover greedy: repeatedly open the shift whose worked intervals are most
        often short (covered shortfall / worked intervals), then the cheapest per worked
        interval. Those ratios only fall as agents are added, so stale heap entries are merely
        re-checked (lazy evaluation) instead of re-scoring every shift after each one."""
        heap: list[tuple[float, float, int, int]] = []
        for ci in range(len(self.candidates)):
            key = self._ratio_key(ci)
            if key is not None:
                heapq.heappush(heap, (*key, ci))
        while heap:
            *_, ci = heapq.heappop(heap)
            if not self.has_room(ci):
                continue
            key = self._ratio_key(ci)
            if key is None:
                continue
            if heap and (*key, ci) > heap[0]:
                heapq.heappush(heap, (*key, ci))  # no longer the best: back in line
                continue
            self.add(ci, self.best_breaks(ci))
            heapq.heappush(heap, (*key, ci))

    def _ratio_key(self, ci: int) -> tuple[float, float, int] | None:
        """Heap key (lower is better), or None when the shift covers no shortfall."""
        worked = self.worked(ci, self.best_breaks(ci))
        short = -self.delta(worked)[0]
        if short == 0:
            return None
        return -short / len(worked), self.candidates[ci].cost / len(worked), -short

    # -- local search --------------------------------------------------------------------

    def improve(self, max_rounds: int) -> None:
        for _ in range(max_rounds):
            changed = self._drop_redundant()
            changed = self._replace_breaks() or changed
            changed = self._replace_shifts() or changed
            if not changed:
                return

    def objective(self) -> tuple[int, int, float]:
        short = over = 0
        for staffed, required in zip(self.staffed, self.required, strict=True):
            if staffed < required:
                short += required - staffed
            else:
                over += staffed - required
        cost = math.fsum(self.candidates[ci].cost for ci, _ in self._workers.values())
        return short, over, round(cost, 6)

    def ruin_and_recreate(self, iterations: int, *, floor_over: int = 0, seed: int = 0) -> None:
        """Large-neighbourhood search: take out some of the shifts overlapping a random window,
        refill with the greedy, drop what became redundant, and keep the result only if the
        roster improved. Stops early at ``floor_over`` (a lower bound: nothing to gain) or
        after ``iterations // 3`` rounds without progress."""
        rng = random.Random(seed)  # noqa: S311 (search diversity, not security)
        best = self.objective()
        idle = 0
        for _ in range(iterations):
            if (best[0] == 0 and best[1] <= floor_over) or idle > iterations // 3:
                return
            saved = (dict(self._workers), list(self.staffed), dict(self.used), self._next_id)
            width = rng.randint(4, min(self.size, 48))
            lo = rng.randrange(0, max(1, self.size - width + 1))
            share = rng.choice((0.3, 0.5, 1.0))
            for wid, (ci, _) in list(self._workers.items()):
                cand = self.candidates[ci]
                overlaps = cand.first < lo + width and cand.first + cand.length > lo
                if overlaps and rng.random() < share:
                    self.remove(wid)
            self.greedy()
            self._drop_redundant()
            now = self.objective()
            if now < best:
                best, idle = now, 0
            else:
                idle += 1
                self._workers, self.staffed, self._next_id = saved[0], saved[1], saved[3]
                self.used = defaultdict(int, saved[2])

    def _drop_redundant(self) -> bool:
        changed = False
        order = sorted(self._workers, key=lambda w: -self.candidates[self._workers[w][0]].cost)
        for wid in order:
            ci, breaks = self._workers[wid]
            if all(self.staffed[t] > self.required[t] for t in self.worked(ci, breaks)):
                self.remove(wid)
                changed = True
        return changed

    def _replace_breaks(self) -> bool:
        changed = False
        for wid in list(self._workers):
            ci, old = self.remove(wid)
            new = self.best_breaks(ci)
            if new != old and self.delta(self.worked(ci, new)) < self.delta(self.worked(ci, old)):
                self.add(ci, new)
                changed = True
            else:
                self.add(ci, old)
        return changed

    def _replace_shifts(self) -> bool:
        changed = False
        by_signature: dict[tuple[int, tuple[int, ...]], list[int]] = defaultdict(list)
        for wid, signature in self._workers.items():
            by_signature[signature].append(wid)
        for (ci, breaks), members in sorted(by_signature.items()):
            for wid in members:
                if not self._try_replace(wid, ci, breaks):
                    break  # the same move fails for every identical agent
                changed = True
        return changed

    def _try_replace(self, wid: int, ci: int, breaks: tuple[int, ...]) -> bool:
        self.remove(wid)
        old_worked = self.worked(ci, breaks)
        current = (*self.delta(old_worked), self.candidates[ci].cost)
        span = range(max(0, self.candidates[ci].first), min(self.size, self._end(ci)))
        neighbours = {other for t in span for other in self.covering[t]}
        best: tuple[tuple[int, int, float], int, tuple[int, ...]] | None = None
        for other in sorted(neighbours):
            if other == ci or not self.has_room(other):
                continue
            verdict, other_breaks, _ = self._judge(other)
            if verdict < current and (best is None or verdict < best[0]):
                best = (verdict, other, other_breaks)
        if best is None:
            self.add(ci, breaks)
            return False
        self.add(best[1], best[2])
        return True

    def _end(self, ci: int) -> int:
        cand = self.candidates[ci]
        return cand.first + cand.length


__all__ = ["Candidate", "LimitKey", "RosterSearch", "Window", "place_breaks"]
