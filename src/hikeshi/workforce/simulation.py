"""Discrete-event simulation of a surge, to check a staffing plan before it is adopted.

Model: first attempts arrive as a Poisson stream whose rate is constant within each interval
(``calls_per_interval[i] / interval_seconds``); one first-come-first-served queue; agents
per interval from the plan; handle times and patience drawn from :class:`Exponential`,
:class:`LogNormal` or :class:`Fixed`; a caller whose wait exceeds their patience hangs up,
and with probability ``retrial.probability`` calls again after an exponential delay (a new
attempt with fresh patience, which may itself be abandoned and retried).

How it runs fast: under FCFS a caller's wait does not depend on anyone behind them, so the
attempts are processed in arrival order against a heap of the times at which each agent is
next free (the Kiefer–Wolfowitz recursion). A caller starts at ``max(arrival, earliest
free)``; if that is later than their patience allows they abandon and never hold an agent.
Retrials join through a second heap. No event list, no coroutines: about a microsecond or
two per call in CPython.

Staffing changes take effect at interval boundaries: new agents are free from the boundary;
when the plan drops, the agents who would be free soonest leave (an idle agent at once, a
busy one after the current call), so a call in progress is never cut. After the last
interval the last staffing level stays until every waiting caller is answered or has hung
up; retrials that would arrive after the last interval are not simulated and are counted in
``retrials_beyond_horizon``.

Statistics belong to the interval in which the attempt *arrived*. ``service_level`` is the
share of offered attempts answered within ``answer_within_seconds`` (abandoned attempts count
as missed, the definition of :mod:`hikeshi.workforce.erlang_a`); ``busy_seconds`` is split
exactly across the intervals a call spans. The same seed gives the same result.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields

_INF = math.inf


class SimulationError(ValueError):
    """Bad simulation input; the message names the field and, where relevant, the interval."""


@dataclass(frozen=True, slots=True)
class Exponential:
    """Exponentially distributed duration with the given mean (seconds)."""

    mean_seconds: float

    def __post_init__(self) -> None:
        _check_positive("mean_seconds", self.mean_seconds)


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Log-normal duration with the given mean and coefficient of variation (sd / mean)."""

    mean_seconds: float
    cv: float

    def __post_init__(self) -> None:
        _check_positive("mean_seconds", self.mean_seconds)
        _check_positive("cv", self.cv)


@dataclass(frozen=True, slots=True)
class Fixed:
    """The same duration every time (seconds, >= 0)."""

    seconds: float

    def __post_init__(self) -> None:
        if not (isinstance(self.seconds, int | float) and 0.0 <= self.seconds < _INF):
            raise SimulationError(f"seconds: must be a finite number >= 0, got {self.seconds!r}")


Duration = Exponential | LogNormal | Fixed


@dataclass(frozen=True, slots=True)
class Retrial:
    """A share of callers who abandon call again after an exponential delay."""

    probability: float
    mean_delay_seconds: float

    def __post_init__(self) -> None:
        if not (isinstance(self.probability, int | float) and 0.0 <= self.probability <= 1.0):
            raise SimulationError(f"probability: must be in [0, 1], got {self.probability!r}")
        _check_positive("mean_delay_seconds", self.mean_delay_seconds)


@dataclass(frozen=True, slots=True)
class SurgeModel:
    """What to simulate. ``calls_per_interval`` are expected *first* attempts per interval;
    ``agents_per_interval`` are agents on the phones (after shrinkage); ``patience=None``
    means nobody hangs up."""

    calls_per_interval: Sequence[float]
    agents_per_interval: Sequence[int]
    handle_time: Duration
    patience: Duration | None
    retrial: Retrial | None = None
    interval_seconds: float = 900.0
    answer_within_seconds: float = 20.0

    def __post_init__(self) -> None:
        calls = tuple(self.calls_per_interval)
        agents = tuple(self.agents_per_interval)
        if not calls:
            raise SimulationError("calls_per_interval: needs at least one interval")
        if len(agents) != len(calls):
            raise SimulationError(
                f"agents_per_interval: {len(agents)} values for {len(calls)} intervals"
            )
        for i, value in enumerate(calls):
            if not (isinstance(value, int | float) and 0.0 <= value < _INF):
                raise SimulationError(f"interval {i}: calls must be a finite number >= 0")
        for i, count in enumerate(agents):
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise SimulationError(f"interval {i}: agents must be a whole number >= 0")
        _check_positive("interval_seconds", self.interval_seconds)
        within = self.answer_within_seconds
        if not (isinstance(within, int | float) and 0.0 <= within < _INF):
            raise SimulationError(f"answer_within_seconds: must be >= 0, got {within!r}")
        object.__setattr__(self, "calls_per_interval", calls)
        object.__setattr__(self, "agents_per_interval", agents)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """Counts and sums over some attempts; the ratios are properties."""

    offered: int = 0
    retrials: int = 0
    answered: int = 0
    answered_within_target: int = 0
    abandoned: int = 0
    abandoned_within_target: int = 0
    waited: int = 0
    wait_seconds_answered: float = 0.0
    wait_seconds_all: float = 0.0
    busy_seconds: float = 0.0
    agent_seconds: float = 0.0

    @property
    def service_level(self) -> float:
        """Answered within the target time / offered (1.0 when nothing was offered)."""
        return self.answered_within_target / self.offered if self.offered else 1.0

    @property
    def abandonment_rate(self) -> float:
        return self.abandoned / self.offered if self.offered else 0.0

    @property
    def waiting_share(self) -> float:
        """Attempts that waited at all / offered."""
        return self.waited / self.offered if self.offered else 0.0

    @property
    def average_speed_of_answer(self) -> float:
        """Mean wait of answered attempts, seconds (0.0 when none was answered)."""
        return self.wait_seconds_answered / self.answered if self.answered else 0.0

    @property
    def average_wait(self) -> float:
        """Mean wait of all offered attempts, abandoned ones up to hanging up, seconds."""
        return self.wait_seconds_all / self.offered if self.offered else 0.0

    @property
    def occupancy(self) -> float:
        """Agent time on calls / agent time on the phones. Agents leaving after a drop in
        staffing finish their call first, so an interval can show slightly over 1."""
        return self.busy_seconds / self.agent_seconds if self.agent_seconds else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class IntervalOutcome(Tally):
    """One planning interval: ``index`` from 0, and the agents the plan put on the phones."""

    index: int
    agents: int


@dataclass(frozen=True, slots=True)
class SimulationResult:
    intervals: tuple[IntervalOutcome, ...]
    answer_within_seconds: float
    retrials_beyond_horizon: int = 0
    #: Attempts never answered because no agent remained and nobody hangs up.
    unanswered: int = 0
    seed: int = field(default=0)

    def combined(self, first: int = 0, last: int | None = None) -> Tally:
        """Totals over intervals ``first`` to ``last`` inclusive (all by default); skip the
        first few to leave out the warm-up from an empty start."""
        chosen = self.intervals[first : None if last is None else last + 1]
        totals = {
            f.name: sum(getattr(outcome, f.name) for outcome in chosen) for f in fields(Tally)
        }
        return Tally(**totals)


def simulate(model: SurgeModel, *, seed: int) -> SimulationResult:
    """Run ``model`` once with ``random.Random(seed)``; see the module doc for the rules."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible model, not a secret
    unit = rng.random
    log = math.log
    # Exponential draws are inlined as -log(1 - U)·mean (what random.expovariate does, minus
    # a Python-level call); other distributions go through a sampler.
    handle_mean, handle = _draws(model.handle_time, rng)
    patient = model.patience is None
    patience_mean, patience = (0.0, None) if model.patience is None else _draws(model.patience, rng)
    retry_share = model.retrial.probability if model.retrial else 0.0
    retry_mean = model.retrial.mean_delay_seconds if model.retrial else 0.0
    length = float(model.interval_seconds)
    within = float(model.answer_within_seconds)
    gaps = [length / calls if calls > 0 else 0.0 for calls in model.calls_per_interval]
    staffing = model.agents_per_interval
    count = len(gaps)
    horizon = count * length
    columns: list[list[float]] = [[0] * count for _ in range(9)]  # see _record
    busy = [0.0] * count
    beyond_horizon = 0
    unanswered = 0

    free = [0.0] * staffing[0]  # when each agent is next free; equal values form a heap
    change_index = 1
    next_change = length if count > 1 else _INF
    retry_times: list[float] = []
    heappush = heapq.heappush
    heappop = heapq.heappop
    heapreplace = heapq.heapreplace

    # The primary Poisson stream, interval by interval (memoryless, so restarting the clock
    # at a boundary is exact).
    stream = 0
    stream_end = length
    clock = 0.0
    next_primary = _INF
    while stream < count:
        if gaps[stream]:
            clock -= log(1.0 - unit()) * gaps[stream]
            if clock < stream_end:
                next_primary = clock
                break
        stream += 1
        clock = stream_end
        stream_end = (stream + 1) * length

    # Attempts arrive in time order and start in time order (FCFS), so each interval's
    # counts build up in locals and are stored once the next interval begins.
    current = 0
    current_end = length
    offered = retrials = answered = in_time = abandoned = abandoned_early = waited = 0
    wait_answered = wait_all = 0.0
    busy_index = 0
    busy_end = length
    busy_here = 0.0
    while True:
        if retry_times and retry_times[0] < next_primary:
            arrival = heappop(retry_times)
            retrials += 1  # reassigned below if the interval changes
            retry = True
        elif next_primary < _INF:
            arrival = next_primary
            retry = False
            next_primary = _INF
            while stream < count:
                if gaps[stream]:
                    clock -= log(1.0 - unit()) * gaps[stream]
                    if clock < stream_end:
                        next_primary = clock
                        break
                stream += 1
                clock = stream_end
                stream_end = (stream + 1) * length
        else:
            break
        if arrival >= current_end:
            if retry:
                retrials -= 1
            _record(columns, current, offered, retrials, answered, in_time, abandoned,
                    abandoned_early, waited, wait_answered, wait_all)  # fmt: skip
            offered = answered = in_time = abandoned = abandoned_early = waited = 0
            retrials = 1 if retry else 0
            wait_answered = wait_all = 0.0
            current = min(int(arrival // length), count - 1)
            current_end = (current + 1) * length
        offered += 1

        earliest = free[0] if free else _INF
        start = arrival if arrival > earliest else earliest
        while start >= next_change and change_index < count:  # the plan changes first
            delta = staffing[change_index] - staffing[change_index - 1]
            for _ in range(delta):
                heappush(free, next_change)
            for _ in range(-delta):
                heappop(free)
            change_index += 1
            next_change = change_index * length if change_index < count else _INF
            earliest = free[0] if free else _INF
            start = arrival if arrival > earliest else earliest
        wait = start - arrival

        if not patient:
            tolerance = -log(1.0 - unit()) * patience_mean if patience is None else patience()
            if wait > tolerance:
                abandoned += 1
                waited += 1
                wait_all += tolerance
                if tolerance <= within:
                    abandoned_early += 1
                if retry_share and unit() < retry_share:
                    again = arrival + tolerance - log(1.0 - unit()) * retry_mean
                    if again < horizon:
                        heappush(retry_times, again)
                    else:
                        beyond_horizon += 1
                continue
        if start == _INF:
            unanswered += 1
            continue

        duration = -log(1.0 - unit()) * handle_mean if handle is None else handle()
        end = start + duration
        heapreplace(free, end)
        answered += 1
        wait_answered += wait
        wait_all += wait
        if wait <= within:
            in_time += 1
        if wait > 0.0:
            waited += 1
        if start >= busy_end:
            if busy_index < count:
                busy[busy_index] += busy_here
            busy_here = 0.0
            busy_index = int(start // length)
            busy_end = (busy_index + 1) * length
        if busy_index < count:
            if end <= busy_end:
                busy_here += duration
            else:
                busy_here += busy_end - start
                _spread_busy(busy, busy_end, end, busy_index + 1, length, count)

    _record(columns, current, offered, retrials, answered, in_time, abandoned,
            abandoned_early, waited, wait_answered, wait_all)  # fmt: skip
    if busy_index < count:
        busy[busy_index] += busy_here
    outcomes = tuple(
        IntervalOutcome(
            index=i,
            agents=staffing[i],
            offered=int(columns[0][i]),
            retrials=int(columns[1][i]),
            answered=int(columns[2][i]),
            answered_within_target=int(columns[3][i]),
            abandoned=int(columns[4][i]),
            abandoned_within_target=int(columns[5][i]),
            waited=int(columns[6][i]),
            wait_seconds_answered=columns[7][i],
            wait_seconds_all=columns[8][i],
            busy_seconds=busy[i],
            agent_seconds=staffing[i] * length,
        )
        for i in range(count)
    )
    return SimulationResult(outcomes, within, beyond_horizon, unanswered, seed)


def _record(columns: list[list[float]], index: int, *values: float) -> None:
    """Store one interval's counts: offered, retrials, answered, answered in time, abandoned,
    abandoned in time, waited, wait of answered, wait of all."""
    for column, value in zip(columns, values, strict=True):
        column[index] += value


def _spread_busy(
    busy: list[float], start: float, end: float, first: int, length: float, count: int
) -> None:
    """Add a call's time on the phone to every interval it overlaps."""
    index = first
    while index < count and start < end:
        boundary = (index + 1) * length
        piece_end = end if end < boundary else boundary
        busy[index] += piece_end - start
        start = piece_end
        index += 1


def _draws(duration: Duration, rng: random.Random) -> tuple[float, Callable[[], float] | None]:
    """``(mean, None)`` for an exponential (drawn inline by the caller), else ``(0, sampler)``
    with a zero-argument callable drawing from ``duration`` with ``rng``."""
    if isinstance(duration, Exponential):
        return duration.mean_seconds, None
    if isinstance(duration, LogNormal):
        sigma = math.sqrt(math.log1p(duration.cv * duration.cv))
        mu = math.log(duration.mean_seconds) - sigma * sigma / 2.0
        return 0.0, functools.partial(rng.lognormvariate, mu, sigma)
    return 0.0, itertools.repeat(float(duration.seconds)).__next__


def _check_positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and 0.0 < value < _INF):
        raise SimulationError(f"{name}: must be a finite number > 0, got {value!r}")
