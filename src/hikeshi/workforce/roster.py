"""24-hour roster (シフト表): shifts from patterns, with breaks, covering the agents needed.

Input: the agents needed on the floor (not on break) per 15-minute interval from ``start``, and
shift patterns — own staff, temporary staff and BPO, each with its start times, length, breaks
(each with a window, wall-clock or minutes after the shift start), hourly cost, a per-day limit
and the moment it becomes available (a BPO needs lead time). Night shifts may cross midnight.

Objective, lexicographic: (1) the fewest agent-intervals short of the requirement, (2) then the
fewest agent-intervals over it, (3) then the lowest cost. Only intervals inside the horizon count;
a shift may start before or run past it.

Method (no integer-programming library is in the project's dependencies):

1. The horizon is cut into windows of about a day, each where the fewest shifts run across (with
   the default patterns, 7:00). The LP relaxation of each window is solved exactly by a small
   column-generation simplex (:mod:`hikeshi.workforce.roster_lp`); the windows' optima add up to
   a lower bound on the overstaffing of any roster that covers every interval.
2. The LP solution is rounded (to nearest, down, up and a dozen seeded random roundings); each
   rounding is completed by a set-cover greedy and improved by a local search (drop redundant
   shifts, re-place each agent's breaks where the floor has the most surplus by a dynamic
   programme, replace a shift by a better one); the best is kept
   (:mod:`hikeshi.workforce.roster_search`).
3. A ruin-and-recreate search then tries to improve it, stopping early at the lower bound.

The roster reports the bound (``over_lower_bound``) and ``optimality_gap`` = overstaffing − bound,
so how far a roster can be from the best is known for every roster, not assumed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from hikeshi.clock import JST
from hikeshi.workforce.roster_bound import lp_windows, over_lower_bound, under_lower_bound
from hikeshi.workforce.roster_lp import LpBound
from hikeshi.workforce.roster_search import Candidate, LimitKey, RosterSearch

INTERVAL_MINUTES = 15
INTERVAL = timedelta(minutes=INTERVAL_MINUTES)
INTERVALS_PER_DAY = 24 * 60 // INTERVAL_MINUTES
SOURCES: tuple[str, ...] = ("own", "temp", "bpo")
METHOD = "LP relaxation (column generation) + rounding, greedy and local search"


class RosterError(ValueError):
    """Invalid roster input; the message names the pattern, break or interval."""


def _minutes_of(value: time) -> int:
    return value.hour * 60 + value.minute


@dataclass(frozen=True)
class BreakRule:
    """One break of ``minutes``, to be taken inside [``earliest``, ``latest_end``].

    The window is either wall-clock JST times (``time(11, 30)``, ``time(13, 30)``: resolved to
    the first such moment at or after the shift start, so night windows work) or whole minutes
    after the shift start (the form to use when a pattern has many start times). Breaks of one
    shift are taken in the order of their windows and never overlap.
    """

    minutes: int
    earliest: time | int
    latest_end: time | int
    label: str = "休憩"

    def window(self, shift_start: time) -> tuple[int, int]:
        """(earliest start, latest end) in minutes after a shift starting at ``shift_start``."""

        def offset(value: time | int) -> int:
            if isinstance(value, time):
                return (_minutes_of(value) - _minutes_of(shift_start)) % (24 * 60)
            return value

        return offset(self.earliest), offset(self.latest_end)


@dataclass(frozen=True)
class ShiftPattern:
    """A kind of shift that may be worked any day, at any of ``starts`` (JST wall clock).

    ``minutes`` includes the breaks. ``max_per_day`` caps how many shifts of this pattern start
    on one JST day (None: no cap); ``pool`` groups patterns that share a per-day cap given to
    :func:`build_roster` (e.g. all own-staff patterns drawing on 40 people). ``available_from``:
    no shift of this pattern starts earlier (e.g. BPO agents 24 hours after the call-off).
    ``cost_per_hour`` is paid for the whole shift, breaks included.
    """

    name: str
    starts: tuple[time, ...]
    minutes: int
    breaks: tuple[BreakRule, ...] = ()
    source: str = "own"
    cost_per_hour: float = 0.0
    max_per_day: int | None = None
    available_from: datetime | None = None
    pool: str | None = None

    def __post_init__(self) -> None:
        where = f"pattern {self.name!r}"
        if not self.name.strip():
            raise RosterError("pattern: name must not be blank")
        if self.source not in SOURCES:
            raise RosterError(f"{where}: source must be one of {', '.join(SOURCES)}")
        if not self.starts:
            raise RosterError(f"{where}: needs at least one start time")
        for st in self.starts:
            if st.tzinfo is not None or st.second or st.microsecond:
                raise RosterError(f"{where}: start {st} must be a naive whole-minute JST time")
            if st.minute % INTERVAL_MINUTES:
                raise RosterError(f"{where}: start {st:%H:%M} is not on the 15-minute grid")
        if self.minutes % INTERVAL_MINUTES or not 0 < self.minutes <= 24 * 60:
            raise RosterError(
                f"{where}: minutes must be a multiple of 15 in 15..1440, got {self.minutes}"
            )
        if self.cost_per_hour < 0 or not math.isfinite(self.cost_per_hour):
            raise RosterError(f"{where}: cost_per_hour must be >= 0")
        if self.max_per_day is not None and self.max_per_day < 0:
            raise RosterError(f"{where}: max_per_day must be >= 0")
        if self.available_from is not None and self.available_from.tzinfo is None:
            raise RosterError(f"{where}: available_from must be timezone-aware")
        for st in self.starts:
            self.break_windows(st)  # raises on a window that does not fit

    @property
    def length(self) -> int:
        """Length in 15-minute intervals."""
        return self.minutes // INTERVAL_MINUTES

    def break_windows(self, start: time) -> tuple[tuple[int, int, int, str], ...]:
        """For a shift starting at ``start``: (first start, last start, length, label) of each
        break, in intervals after the shift start, in the order they are taken."""
        resolved: list[tuple[int, int, int, str]] = []
        for rule in self.breaks:
            where = f"pattern {self.name!r} start {start:%H:%M} break {rule.label!r}"
            lo, hi = rule.window(start)
            if rule.minutes <= 0 or rule.minutes % INTERVAL_MINUTES:
                raise RosterError(f"{where}: minutes must be a positive multiple of 15")
            if lo % INTERVAL_MINUTES or hi % INTERVAL_MINUTES:
                raise RosterError(f"{where}: window must be on the 15-minute grid")
            if not (0 <= lo <= hi <= self.minutes):
                raise RosterError(
                    f"{where}: window {lo}..{hi} min after the start falls outside the shift"
                )
            if hi - lo < rule.minutes:
                raise RosterError(f"{where}: window is shorter than the break")
            size = rule.minutes // INTERVAL_MINUTES
            resolved.append((lo // 15, (hi - rule.minutes) // 15, size, rule.label))
        resolved.sort()
        free_from = 0
        for lo, hi, size, label in resolved:
            first = max(lo, free_from)
            if first > hi:
                raise RosterError(
                    f"pattern {self.name!r} start {start:%H:%M}: break {label!r} cannot fit "
                    "after the breaks before it"
                )
            free_from = first + size
        return tuple(resolved)


@dataclass(frozen=True)
class BreakSlot:
    label: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ShiftAssignment:
    """One person's shift: pattern, staff source, JST start/end and the breaks placed."""

    pattern: str
    source: str
    start: datetime
    end: datetime
    breaks: tuple[BreakSlot, ...]
    cost: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "source": self.source,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "breaks": [
                {"label": b.label, "start": b.start.isoformat(), "end": b.end.isoformat()}
                for b in self.breaks
            ],
            "cost": self.cost,
        }


@dataclass(frozen=True)
class Roster:
    """Shifts placed over the horizon and how well they cover it, interval by interval.

    ``gap[i]`` = staffed − required (negative: short). ``over_lower_bound``: no roster that
    covers every interval can overstaff less (None when this one leaves a shortfall or the LP
    was skipped);
    ``optimality_gap`` = ``over_total − over_lower_bound`` (0 proves the roster optimal).
    ``under_lower_bound``: shortfall that the patterns' limits make unavoidable.
    """

    start: datetime
    interval_minutes: int
    required: tuple[int, ...]
    staffed: tuple[int, ...]
    staffed_by_source: Mapping[str, tuple[int, ...]]
    assignments: tuple[ShiftAssignment, ...]
    under_total: int
    over_total: int
    cost: float
    under_lower_bound: int
    over_lower_bound: int | None
    method: str = METHOD
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def gap(self) -> tuple[int, ...]:
        return tuple(s - r for s, r in zip(self.staffed, self.required, strict=True))

    @property
    def under(self) -> tuple[int, ...]:
        return tuple(max(0, -g) for g in self.gap)

    @property
    def over(self) -> tuple[int, ...]:
        return tuple(max(0, g) for g in self.gap)

    @property
    def optimality_gap(self) -> int | None:
        if self.over_lower_bound is None:
            return None
        return self.over_total - self.over_lower_bound

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "interval_minutes": self.interval_minutes,
            "required": list(self.required),
            "staffed": list(self.staffed),
            "staffed_by_source": {k: list(v) for k, v in self.staffed_by_source.items()},
            "gap": list(self.gap),
            "assignments": [a.to_dict() for a in self.assignments],
            "under_total": self.under_total,
            "over_total": self.over_total,
            "cost": self.cost,
            "under_lower_bound": self.under_lower_bound,
            "over_lower_bound": self.over_lower_bound,
            "optimality_gap": self.optimality_gap,
            "method": self.method,
            "notes": list(self.notes),
        }


# -- default patterns ------------------------------------------------------------------------


def default_patterns(
    *, bpo_available_from: datetime | None = None, part_time_limit: int | None = None
) -> tuple[ShiftPattern, ...]:
    """A 24-hour desk: own staff on 早番 7:00, 日勤 9:00, 遅番 13:00 and 夜勤 22:00 (9-hour shifts
    with a 60-minute meal break and two 15-minute breaks, each in a window), 4-hour part-time
    (temp) shifts at any half hour 7:00–19:00, and BPO agents on the four long shifts at 1.6× the
    cost once ``bpo_available_from``. Costs are placeholders in yen per hour: set your own.
    """

    def nine_hours(name: str, start: int, breaks: Sequence[tuple[int, str, str, str]]) -> Any:
        return ShiftPattern(
            name=name,
            starts=(time(start, 0),),
            minutes=540,
            breaks=tuple(
                BreakRule(minutes, time.fromisoformat(lo), time.fromisoformat(hi), label)
                for minutes, lo, hi, label in breaks
            ),
            cost_per_hour=2500 if start >= 22 else 2000,
        )

    # (break minutes, window from, window to, label)
    early = nine_hours(
        "早番",
        7,
        [(15, "08:00", "09:30", "小休憩"), (60, "10:30", "12:30", "昼休憩"),
         (15, "13:00", "15:00", "小休憩")],
    )  # fmt: skip
    day = nine_hours(
        "日勤",
        9,
        [(15, "10:00", "11:30", "小休憩"), (60, "11:30", "13:30", "昼休憩"),
         (15, "15:00", "17:00", "小休憩")],
    )  # fmt: skip
    late = nine_hours(
        "遅番",
        13,
        [(15, "14:30", "16:30", "小休憩"), (60, "17:00", "19:30", "夕食休憩"),
         (15, "20:00", "21:30", "小休憩")],
    )  # fmt: skip
    night = nine_hours(
        "夜勤",
        22,
        [(15, "23:30", "01:00", "小休憩"), (60, "01:00", "04:00", "仮眠・休憩"),
         (15, "04:30", "06:00", "小休憩")],
    )  # fmt: skip
    part_time = ShiftPattern(
        name="パート4h",
        starts=(*(time(h, m) for h in range(7, 19) for m in (0, 30)), time(19, 0)),
        minutes=240,
        source="temp",
        cost_per_hour=1800,
        max_per_day=part_time_limit,
    )
    bpo = tuple(
        ShiftPattern(
            name=f"BPO{p.name}",
            starts=p.starts,
            minutes=p.minutes,
            breaks=p.breaks,
            source="bpo",
            cost_per_hour=p.cost_per_hour * 1.6,
            available_from=bpo_available_from,
        )
        for p in (early, day, late, night)
    )
    return (early, day, late, night, part_time, *bpo)


# -- building ----------------------------------------------------------------------------------


def _candidates(
    patterns: Sequence[ShiftPattern],
    start: datetime,
    intervals: int,
    pool_limits: Mapping[str, int],
) -> tuple[list[Candidate], dict[LimitKey, int]]:
    end = start + intervals * INTERVAL
    caps: dict[LimitKey, int] = {}
    found: list[Candidate] = []
    first_day = (start - timedelta(days=1)).date()
    for index, pattern in enumerate(patterns):
        day = first_day
        while datetime.combine(day, time(0), tzinfo=JST) < end:
            for st in pattern.starts:
                begins = datetime.combine(day, st, tzinfo=JST)
                finishes = begins + timedelta(minutes=pattern.minutes)
                if finishes <= start or begins >= end:
                    continue
                if pattern.available_from is not None and begins < pattern.available_from:
                    continue
                keys: list[LimitKey] = []
                if pattern.max_per_day is not None:
                    keys.append(("pattern", pattern.name, day))
                    caps[keys[-1]] = pattern.max_per_day
                if pattern.pool is not None and pattern.pool in pool_limits:
                    keys.append(("pool", pattern.pool, day))
                    caps[keys[-1]] = pool_limits[pattern.pool]
                resolved = pattern.break_windows(st)
                found.append(
                    Candidate(
                        pattern=index,
                        first=round((begins - start) / INTERVAL),
                        length=pattern.length,
                        windows=tuple((lo, hi, size) for lo, hi, size, _ in resolved),
                        labels=tuple(label for *_, label in resolved),
                        limit_keys=tuple(keys),
                        cost=pattern.cost_per_hour * pattern.minutes / 60,
                    )
                )
            day += timedelta(days=1)
    return found, caps


def _check_inputs(
    required: Sequence[int], start: datetime, patterns: Sequence[ShiftPattern]
) -> tuple[int, ...]:
    if start.tzinfo is None or start.utcoffset() is None:
        raise RosterError("start: must be a timezone-aware datetime")
    local = start.astimezone(JST)
    if local.minute % INTERVAL_MINUTES or local.second or local.microsecond:
        raise RosterError(f"start {local.isoformat()}: must be on the 15-minute grid")
    if not required:
        raise RosterError("required: needs at least one interval")
    for i, value in enumerate(required):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RosterError(f"interval {i}: required agents must be a whole number >= 0")
    if not patterns:
        raise RosterError("patterns: need at least one shift pattern")
    names = [p.name for p in patterns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RosterError(f"patterns: duplicate names {', '.join(duplicates)}")
    return tuple(required)


def _lp_columns(
    candidates: Sequence[Candidate], windows: Sequence[tuple[int, int, LpBound]], size: int
) -> list[tuple[int, tuple[int, ...], float]]:
    """The windows' LP columns (candidate, break starts, x). A shift cut by a window boundary
    inside the horizon would be counted in two windows, so only shifts inside their window or
    cut by the horizon's ends are taken."""
    return [
        column
        for lo, hi, relaxation in windows
        for column in relaxation.columns
        if (lo == 0 or candidates[column[0]].first >= lo)
        and (hi == size or candidates[column[0]].first + candidates[column[0]].length <= hi)
    ]


def _best_start(
    required: Sequence[int],
    candidates: Sequence[Candidate],
    caps: dict[LimitKey, int],
    windows: Sequence[tuple[int, int, LpBound]],
    max_rounds: int,
    samples: int,
) -> RosterSearch:
    """Round the LP solution (each column keeps its break placement) to nearest, down, up and
    ``samples`` times at random (up with probability equal to the fraction), since none wins
    on every shape; complete each with the greedy, improve it with the local search and keep
    the best. Seeded, so the same input gives the same roster. Without an LP, the greedy
    alone."""
    columns = _lp_columns(candidates, windows, len(required))
    rng = random.Random(len(required))  # noqa: S311 (rounding samples, not security)
    roundings: list[list[int]] = []
    if columns:
        roundings += [
            [math.floor(x + 0.5) for _, _, x in columns],
            [math.floor(x + 1e-9) for _, _, x in columns],
            [math.ceil(x - 1e-9) for _, _, x in columns],
        ]
        for _ in range(samples):
            roundings.append(
                [math.floor(x) + (rng.random() < x - math.floor(x)) for _, _, x in columns]
            )
    starts = []
    for counts in roundings or [[]]:
        search = RosterSearch(required, candidates, caps)
        search.seed_columns(
            [(ci, breaks, n) for (ci, breaks, _), n in zip(columns, counts, strict=False)]
        )
        search.greedy()
        search.improve(max_rounds)
        starts.append(search)
    return min(starts, key=lambda search: search.objective())


def build_roster(
    required: Sequence[int],
    start: datetime,
    patterns: Sequence[ShiftPattern] | None = None,
    *,
    pool_limits: Mapping[str, int] | None = None,
    max_rounds: int = 20,
    lns_iterations: int = 200,
    lp_iterations: int = 3000,
    rounding_samples: int = 12,
) -> Roster:
    """Place shifts so that at least ``required[i]`` agents are working (not on break) in each
    15-minute interval ``i`` from ``start``, overstaffing as little as possible.

    ``pool_limits`` caps shifts per JST day for patterns sharing a ``pool``. ``max_rounds``
    bounds the local search, ``lns_iterations`` the ruin-and-recreate rounds, ``lp_iterations``
    the simplex pivots per window of the LP relaxation (0 skips it: greedy start, no lower
    bound), ``rounding_samples`` the random roundings of the LP tried as starts.
    """
    chosen = tuple(patterns) if patterns is not None else default_patterns()
    req = _check_inputs(required, start, chosen)
    limits = dict(pool_limits or {})
    for pool, cap in limits.items():
        if cap < 0:
            raise RosterError(f"pool_limits[{pool!r}]: must be >= 0")
    origin = start.astimezone(JST)
    candidates, caps = _candidates(chosen, origin, len(req), limits)

    windows = lp_windows(req, candidates, INTERVALS_PER_DAY, lp_iterations) if lp_iterations else []
    search = _best_start(req, candidates, caps, windows, max_rounds, rounding_samples)
    bound = over_lower_bound(req, windows) if windows else None
    search.ruin_and_recreate(lns_iterations, floor_over=bound or 0)
    search.improve(max_rounds)
    workers = search.workers()
    staffed = search.staffed_counts()
    under = sum(max(0, r - s) for r, s in zip(req, staffed, strict=True))
    over = sum(max(0, s - r) for r, s in zip(req, staffed, strict=True))
    if under:
        bound = None  # the bound holds for rosters that cover every interval

    by_source = {src: [0] * len(req) for src in SOURCES}
    assignments: list[ShiftAssignment] = []
    for ci, breaks in workers:
        cand = candidates[ci]
        pattern = chosen[cand.pattern]
        for t in search.worked(ci, breaks):
            by_source[pattern.source][t] += 1
        begins = origin + cand.first * INTERVAL
        slots = tuple(
            BreakSlot(label, begins + b * INTERVAL, begins + (b + w[2]) * INTERVAL)
            for label, b, w in zip(cand.labels, breaks, cand.windows, strict=True)
        )
        assignments.append(
            ShiftAssignment(
                pattern=pattern.name,
                source=pattern.source,
                start=begins,
                end=begins + cand.length * INTERVAL,
                breaks=slots,
                cost=cand.cost,
            )
        )
    assignments.sort(key=lambda a: (a.start, a.pattern, [b.start for b in a.breaks]))
    notes: list[str] = []
    if under:
        notes.append(
            f"{under} agent-intervals short: the patterns' start times, limits or availability "
            "cannot cover every interval"
        )
    return Roster(
        start=origin,
        interval_minutes=INTERVAL_MINUTES,
        required=req,
        staffed=tuple(staffed),
        staffed_by_source={k: tuple(v) for k, v in by_source.items()},
        assignments=tuple(assignments),
        under_total=under,
        over_total=over,
        cost=math.fsum(a.cost for a in assignments),
        under_lower_bound=under_lower_bound(req, candidates, caps),
        over_lower_bound=bound,
        notes=tuple(notes),
    )


__all__ = [
    "INTERVAL_MINUTES",
    "METHOD",
    "SOURCES",
    "BreakRule",
    "BreakSlot",
    "Roster",
    "RosterError",
    "ShiftAssignment",
    "ShiftPattern",
    "build_roster",
    "default_patterns",
]
