"""Lower bounds that tell how far a roster can be from the best one.

**Overstaffing.** The horizon is cut into windows (one day each by default). Inside a window, any
roster that covers the requirement overstaffs at least the optimum of the window's linear
programming relaxation minus the window's demand (:func:`hikeshi.workforce.roster_lp.covering_lp`,
shifts clipped to the window, per-day limits dropped — both relaxations, so still bounds).
Overstaffing is a whole number, so each window's bound is rounded up; windows do not overlap, so
their bounds add up. The windows' LP solutions also seed the roster search.

**Shortfall.** In each interval, at most Σ (per-day caps) agents can be on the floor, one cap per
candidate covering it (its smallest); any requirement above that is short whatever the roster.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from hikeshi.workforce.roster_lp import LpBound, covering_lp
from hikeshi.workforce.roster_search import Candidate, LimitKey


def under_lower_bound(
    required: Sequence[int], candidates: Sequence[Candidate], caps: dict[LimitKey, int]
) -> int:
    size = len(required)
    unlimited = [False] * size
    keys_at: list[set[LimitKey]] = [set() for _ in range(size)]
    for cand in candidates:
        key = min(cand.limit_keys, key=lambda k: caps[k], default=None)
        for t in range(max(0, cand.first), min(size, cand.first + cand.length)):
            if key is None:
                unlimited[t] = True
            else:
                keys_at[t].add(key)
    return sum(
        max(0, required[t] - sum(caps[k] for k in keys_at[t]))
        for t in range(size)
        if not unlimited[t]
    )


def window_bounds(size: int, candidates: Sequence[Candidate], target: int) -> list[int]:
    """Cut points for windows of about ``target`` intervals (between 1/2 and 3/2 of it), each
    placed where the fewest candidate shifts run across it: where none does (e.g. 7:00 when the
    night shift ends as the early one starts) the windows' LPs lose nothing by the cut."""
    crossing = [0] * (size + 1)
    for cand in candidates:
        for b in range(max(1, cand.first + 1), min(size, cand.first + cand.length)):
            crossing[b] += 1
    cuts = [0]
    while size - cuts[-1] > target * 3 // 2:
        lo = cuts[-1]
        choices = range(lo + target // 2, min(size, lo + target * 3 // 2) + 1)
        cuts.append(min(choices, key=lambda b: (crossing[b], abs(b - lo - target), b)))
    return [*cuts, size]


def lp_windows(
    required: Sequence[int],
    candidates: Sequence[Candidate],
    window: int,
    max_iterations: int,
) -> list[tuple[int, int, LpBound]]:
    """The LP relaxation of each window [lo, hi) of about ``window`` intervals."""
    cuts = window_bounds(len(required), candidates, window)
    return [
        (lo, hi, covering_lp(required, candidates, lo, hi, max_iterations))
        for lo, hi in itertools.pairwise(cuts)
    ]


def over_lower_bound(required: Sequence[int], windows: Sequence[tuple[int, int, LpBound]]) -> int:
    """Overstaffing no roster that covers every interval can go below."""
    total = 0
    for lo, hi, bound in windows:
        total += max(0, math.ceil(bound.value - math.fsum(required[lo:hi]) - 1e-6))
    return total


__all__ = ["lp_windows", "over_lower_bound", "under_lower_bound"]
