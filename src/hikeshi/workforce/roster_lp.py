"""The roster's linear-programming relaxation, solved exactly in pure Python.

For a window of intervals [lo, hi), with every shift clipped to the window:

    minimise Σ_j w_j x_j  subject to  Σ_j a_j x_j ≥ r (inside the window),  x ≥ 0,

where column j is one agent on one candidate shift with one placement of its breaks, a_j the
intervals of the window it works and w_j = |a_j|. Any roster covering r overstaffs, inside the
window, at least this value minus Σ r; windows do not overlap, so per-window bounds add up to a
bound for the horizon.

Method: revised primal simplex (dense basis inverse, artificial start with a cost above any dual
value, Bland's rule against cycling) with column generation: the entering column is found by
pricing every candidate — a dynamic programme puts the breaks on the intervals with the lowest
duals — so the millions of break placements are never listed. Whenever the iteration cap stops
it early, the duals (negative ones set to 0, scaled down until every column prices at most its
cost) still give a valid bound, so the answer is always a true lower bound.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from hikeshi.workforce.roster_search import Candidate, place_breaks

_EPS = 1e-9


@dataclass(frozen=True)
class LpBound:
    value: float  # best lower bound found on min Σ w x (= the LP optimum when ``optimal``)
    optimal: bool
    iterations: int
    columns: tuple[tuple[int, tuple[int, ...], float], ...]  # (candidate, break starts, x)


class _Pricer:
    """Best column for given duals over the window, by candidate."""

    def __init__(self, candidates: Sequence[Candidate], lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi
        self.inside: list[tuple[int, Candidate]] = []
        self.edge: list[tuple[int, list[tuple[tuple[int, ...], tuple[int, ...]]]]] = []
        for ci, cand in enumerate(candidates):
            a, b = max(lo, cand.first), min(hi, cand.first + cand.length)
            if a >= b:
                continue
            if a == cand.first and b == cand.first + cand.length:
                self.inside.append((ci, cand))
            else:
                self.edge.append((ci, _clipped_sets(cand, a, b)))

    def best(self, y: Sequence[float]) -> tuple[float, int, tuple[int, ...], tuple[int, ...]]:
        """(max over columns of a·y − w, candidate, worked, break starts); y from ``lo``."""
        lo = self.lo
        prefix = [0.0]
        for v in y:
            prefix.append(prefix[-1] + v)
        best: tuple[float, int, tuple[int, ...], tuple[int, ...]] = (-math.inf, -1, (), ())
        for ci, cand in self.inside:
            first = cand.first - lo

            def segment(p: int, n: int, first: int = first) -> float:
                return prefix[first + p + n] - prefix[first + p]

            resting, starts = place_breaks(cand.windows, segment)
            w = cand.length - sum(n for _, _, n in cand.windows)
            gain = prefix[first + cand.length] - prefix[first] - resting - w
            if gain > best[0] + _EPS:
                off = {p + k for p, (_, _, n) in zip(starts, cand.windows, strict=True)
                       for k in range(n)}  # fmt: skip
                worked = tuple(cand.first + u for u in range(cand.length) if u not in off)
                best = (gain, ci, worked, starts)
        for ci, sets in self.edge:
            for worked, starts in sets:
                gain = math.fsum(y[t - lo] for t in worked) - len(worked)
                if gain > best[0] + _EPS:
                    best = (gain, ci, worked, starts)
        return best

    def max_ratio(self, y: Sequence[float]) -> float:
        """max over columns of a·y / w (for the scaled, always-valid bound)."""
        lo = self.lo
        prefix = [0.0]
        for v in y:
            prefix.append(prefix[-1] + v)
        ratio = 0.0
        for _, cand in self.inside:
            first = cand.first - lo

            def segment(p: int, n: int, first: int = first) -> float:
                return prefix[first + p + n] - prefix[first + p]

            resting, _ = place_breaks(cand.windows, segment)
            w = cand.length - sum(n for _, _, n in cand.windows)
            ratio = max(ratio, (prefix[first + cand.length] - prefix[first] - resting) / w)
        for _, sets in self.edge:
            for worked, _starts in sets:
                ratio = max(ratio, math.fsum(y[t - lo] for t in worked) / len(worked))
        return ratio


def _clipped_sets(cand: Candidate, a: int, b: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Distinct sets of intervals in [a, b) the shift can work, each with one break placement
    that gives it."""
    sets: dict[tuple[int, ...], tuple[int, ...]] = {}
    for starts in itertools.product(*(range(lo, hi + 1) for lo, hi, _ in cand.windows)):
        ends = [p + n for p, (_, _, n) in zip(starts, cand.windows, strict=True)]
        if any(nxt < end for nxt, end in zip(starts[1:], ends, strict=False)):
            continue
        off = {cand.first + u for p, end in zip(starts, ends, strict=True) for u in range(p, end)}
        worked = tuple(t for t in range(a, b) if t not in off)
        if worked:
            sets.setdefault(worked, starts)
    return sorted(sets.items())


def covering_lp(
    required: Sequence[int],
    candidates: Sequence[Candidate],
    lo: int,
    hi: int,
    max_iterations: int,
) -> LpBound:
    """Lower bound on min Σ w x for the window [lo, hi) (see the module docstring)."""
    demand = [float(r) for r in required[lo:hi]]
    m = len(demand)
    pricer = _Pricer(candidates, lo, hi)
    if m == 0 or not any(demand):
        return LpBound(0.0, True, 0, ())
    widest = max([c.length for _, c in pricer.inside] + [hi - lo])
    big = float(widest + 1)  # above any dual value, so artificials leave a feasible LP
    # Basis: artificial t at row t. Variable ids: ("a", t) artificial, ("s", t) surplus,
    # ("c", k) generated column k.
    inverse = [[1.0 if i == k else 0.0 for k in range(m)] for i in range(m)]
    basic: list[tuple[str, int]] = [("a", t) for t in range(m)]
    cost_b = [big] * m
    x_b = list(demand)
    columns: list[tuple[int, tuple[int, ...]]] = []  # (candidate, break starts)
    best_bound = 0.0
    optimal = False
    iteration = 0
    y: list[float] = []
    for iteration in range(1, max_iterations + 1):
        if iteration % 50 == 1:  # y = c_B B⁻¹ afresh now and then; updated in O(m) between
            y = [0.0] * m
            for i in range(m):
                if cost_b[i]:
                    y = [v + cost_b[i] * b for v, b in zip(y, inverse[i], strict=True)]
        gain, ci, worked, starts = pricer.best(y)
        surplus_row = min(range(m), key=lambda k: y[k])
        if gain <= 1e-7 and y[surplus_row] >= -1e-7:
            optimal = True
            break
        if iteration % 25 == 1:
            best_bound = max(best_bound, _scaled_bound(y, demand, pricer))
        if gain > -y[surplus_row]:
            rows = [t - lo for t in worked]
            entering: tuple[str, int] = ("c", len(columns))
            columns.append((ci, starts))
            direction = [math.fsum(inverse[i][t] for t in rows) for i in range(m)]
            entering_cost = float(len(rows))
            reduced = -gain
        else:
            entering = ("s", surplus_row)
            direction = [-inverse[i][surplus_row] for i in range(m)]
            entering_cost = 0.0
            reduced = y[surplus_row]
        leave = -1
        for i in range(m):  # ratio test, ties to the smallest basic id (Bland)
            if direction[i] > 1e-11:
                ratio = x_b[i] / direction[i]
                if (
                    leave < 0
                    or ratio < x_b[leave] / direction[leave] - 1e-12
                    or (
                        abs(ratio - x_b[leave] / direction[leave]) <= 1e-12
                        and basic[i] < basic[leave]
                    )
                ):
                    leave = i
        if leave < 0:  # unbounded cannot happen in a covering LP with costs >= 0
            break
        pivot = direction[leave]
        step = x_b[leave] / pivot
        pivot_row = [v / pivot for v in inverse[leave]]
        for i in range(m):
            factor = direction[i]
            if i != leave and factor != 0.0:
                inverse[i] = [a - factor * b for a, b in zip(inverse[i], pivot_row, strict=True)]
                x_b[i] -= factor * step
        # The entering column's reduced cost goes to 0: y ← y + d_q · (B⁻¹ row p) / α_p.
        y = [v + reduced * b for v, b in zip(y, pivot_row, strict=True)]
        inverse[leave] = pivot_row
        x_b[leave] = step
        basic[leave] = entering
        cost_b[leave] = entering_cost
    if optimal:
        value = math.fsum(c * x for c, x in zip(cost_b, x_b, strict=True))
        used = tuple(
            (columns[k][0], columns[k][1], x_b[i])
            for i, (kind, k) in enumerate(basic)
            if kind == "c" and x_b[i] > 1e-9
        )
        return LpBound(max(value, best_bound), True, iteration, used)
    return LpBound(best_bound, False, iteration, ())


def _scaled_bound(y: Sequence[float], demand: Sequence[float], pricer: _Pricer) -> float:
    """Σ r y⁺ / ρ(y⁺): y⁺ = max(y, 0) scaled to dual feasibility, a valid bound at any step."""
    positive = [max(0.0, v) for v in y]
    rho = pricer.max_ratio(positive)
    if rho <= 0:
        return 0.0
    return math.fsum(r * v for r, v in zip(demand, positive, strict=True)) / rho


__all__ = ["LpBound", "covering_lp"]
