"""Staffing plan (体制計画): forecast → required agents → roster → (simulated) service level.

:func:`build_plan` ties the pure pieces together for one incident: the surge forecast
(:mod:`~hikeshi.workforce.forecast`) gives phone contacts per 15-minute interval; a queueing
model (Erlang C, or Erlang A with the callers' patience) gives the agents needed on the phones
for the playbook's service level and occupancy cap, and the head count to schedule after
shrinkage; the roster (:mod:`~hikeshi.workforce.roster`) places shifts to cover that head count
on the floor; the model then tells the service level the roster is expected to reach, and the
simulation (optional) checks it with time-varying arrivals, abandonment and retrials.
:func:`actual_vs_plan` lines up what really arrived against the plan.

Shrinkage note: the roster places breaks explicitly and counts only agents not on break, so the
head count it covers is ``on_phones / (1 − roster_shrinkage)``; by default ``roster_shrinkage``
is the playbook's shrinkage. If that figure already includes breaks, pass the remainder
(absence, coaching, cool-down, admin) as ``roster_shrinkage`` to avoid counting breaks twice.

Plans are frozen dataclasses; ``to_dict()`` gives JSON-friendly values (ISO times, no inf/NaN)
for the charts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from hikeshi.workforce import erlang, simulation, staffing
from hikeshi.workforce.forecast import (
    INTERVAL,
    INTERVAL_MINUTES,
    JP_CONSUMER_PROFILE,
    ArrivalProfile,
    ChannelMix,
    DecayCurve,
    PeakDayDecay,
    SurgeForecast,
    floor_to_interval,
    forecast_surge,
)
from hikeshi.workforce.roster import Roster, ShiftPattern, build_roster

INTERVAL_SECONDS = INTERVAL_MINUTES * 60
ModelName = Literal["erlang_c", "erlang_a"]


class PlanError(ValueError):
    """Invalid plan input; the message names the parameter."""


@dataclass(frozen=True)
class StaffingAssumptions:
    """A playbook's staffing assumptions as plain values (the shape of
    ``hikeshi.playbooks.schemas.Staffing``, without importing it)."""

    contact_rate: float
    aht_seconds: float
    target_percent: float
    answer_within_seconds: float
    peak_day: int
    peak_day_share: float
    duration_days: int
    self_service_deflection: float = 0.0
    shrinkage: float = 0.3
    max_occupancy: float = 0.85

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> StaffingAssumptions:
        """From ``Staffing.model_dump()`` (``service_level`` nested) or a flat mapping."""
        level = data.get("service_level")
        flat = dict(data)
        if isinstance(level, Mapping):
            flat.pop("service_level")
            flat["target_percent"] = level["target_percent"]
            flat["answer_within_seconds"] = level["answer_within_seconds"]
        flat.pop("notes", None)
        names = set(cls.__dataclass_fields__)
        unknown = sorted(set(flat) - names)
        if unknown:
            raise PlanError(f"assumptions: unknown fields {', '.join(unknown)}")
        missing = sorted(n for n in names if n not in flat and n in _REQUIRED)
        if missing:
            raise PlanError(f"assumptions: missing fields {', '.join(missing)}")
        return cls(**flat)

    def target(self) -> erlang.ServiceTarget:
        return erlang.ServiceTarget(
            service_level=self.target_percent / 100,
            answer_within_seconds=self.answer_within_seconds,
            max_occupancy=self.max_occupancy,
        )

    def decay(self) -> PeakDayDecay:
        return PeakDayDecay(self.peak_day, self.peak_day_share, self.duration_days)


_REQUIRED = frozenset(
    {
        "contact_rate",
        "aht_seconds",
        "target_percent",
        "answer_within_seconds",
        "peak_day",
        "peak_day_share",
        "duration_days",
    }
)


# -- the queueing model and the simulation, as the plan needs them ----------------------------


@dataclass(frozen=True)
class Requirement:
    on_phones: int
    scheduled: int
    limited_by: tuple[str, ...]


class StaffingModel(Protocol):
    """Agents needed per interval for the calls in it, and the service level some agents
    reach; :class:`ErlangModel` is the real one, tests may pass a stand-in."""

    @property
    def name(self) -> str: ...

    def required(self, calls: Sequence[float]) -> Sequence[Requirement]: ...

    def service_levels(self, calls: Sequence[float], agents: Sequence[int]) -> Sequence[float]: ...


class Simulator(Protocol):
    """Simulated service level per interval, for calls per interval and agents on the phones."""

    def __call__(self, calls: Sequence[float], agents: Sequence[int]) -> Sequence[float]: ...


@dataclass(frozen=True)
class ErlangModel:
    """Erlang C, or Erlang A when ``patience_seconds`` is given (callers hang up)."""

    aht_seconds: float
    target: erlang.ServiceTarget
    shrinkage: float
    patience_seconds: float | None = None

    @property
    def name(self) -> str:
        return "erlang_c" if self.patience_seconds is None else "erlang_a"

    def required(self, calls: Sequence[float]) -> list[Requirement]:
        return [
            Requirement(need.agents_on_phones, need.agents_scheduled, need.limited_by)
            for need in staffing.required_agents_per_interval(
                calls,
                aht_seconds=self.aht_seconds,
                target=self.target,
                interval_seconds=INTERVAL_SECONDS,
                patience_seconds=self.patience_seconds,
                shrinkage=self.shrinkage,
            )
        ]

    def service_levels(self, calls: Sequence[float], agents: Sequence[int]) -> list[float]:
        return [
            metrics.service_level
            for metrics in staffing.metrics_per_interval(
                agents,
                calls,
                aht_seconds=self.aht_seconds,
                answer_within_seconds=self.target.answer_within_seconds,
                interval_seconds=INTERVAL_SECONDS,
                patience_seconds=self.patience_seconds,
            )
        ]


@dataclass(frozen=True)
class SimulationCheck:
    """The real discrete-event simulation (:func:`hikeshi.workforce.simulation.simulate`) with
    exponential handle times and patience, optional retrials, and a fixed seed."""

    aht_seconds: float
    answer_within_seconds: float
    patience_seconds: float | None = None
    retrial: simulation.Retrial | None = None
    seed: int = 0

    def __call__(self, calls: Sequence[float], agents: Sequence[int]) -> list[float]:
        model = simulation.SurgeModel(
            calls_per_interval=calls,
            agents_per_interval=agents,
            handle_time=simulation.Exponential(self.aht_seconds),
            patience=(
                None
                if self.patience_seconds is None
                else simulation.Exponential(self.patience_seconds)
            ),
            retrial=self.retrial,
            interval_seconds=INTERVAL_SECONDS,
            answer_within_seconds=self.answer_within_seconds,
        )
        result = simulation.simulate(model, seed=self.seed)
        return [outcome.service_level for outcome in result.intervals]


def queue_model(
    assumptions: StaffingAssumptions,
    model: ModelName = "erlang_c",
    *,
    patience_seconds: float | None = None,
) -> ErlangModel:
    """The real Erlang C, or Erlang A (which needs ``patience_seconds``), for the assumptions."""
    if model == "erlang_c":
        return ErlangModel(assumptions.aht_seconds, assumptions.target(), assumptions.shrinkage)
    if model == "erlang_a":
        if patience_seconds is None or not patience_seconds > 0:
            raise PlanError("patience_seconds: Erlang A needs the callers' mean patience (> 0)")
        return ErlangModel(
            assumptions.aht_seconds, assumptions.target(), assumptions.shrinkage, patience_seconds
        )
    raise PlanError(f"model: must be 'erlang_c' or 'erlang_a', got {model!r}")


# -- the plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInterval:
    start: datetime
    contacts: float  # all channels
    phone_calls: float
    required_on_phones: int
    required_scheduled: int  # head count on the floor after shrinkage (what the roster covers)
    limited_by: tuple[str, ...]
    rostered: int  # on the floor, not on break
    gap: int  # rostered − required_scheduled (negative: short)
    expected_service_level: float  # the model's, with the roster's agents on the phones
    simulated_service_level: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "contacts": self.contacts,
            "phone_calls": self.phone_calls,
            "required_on_phones": self.required_on_phones,
            "required_scheduled": self.required_scheduled,
            "limited_by": list(self.limited_by),
            "rostered": self.rostered,
            "gap": self.gap,
            "expected_service_level": _finite(self.expected_service_level),
            "simulated_service_level": _finite(self.simulated_service_level),
        }


@dataclass(frozen=True)
class StaffingPlan:
    model: str
    target_service_level: float
    answer_within_seconds: float
    aht_seconds: float
    shrinkage: float
    roster_shrinkage: float
    patience_seconds: float | None
    forecast: SurgeForecast
    roster: Roster
    intervals: tuple[PlanInterval, ...]

    @property
    def start(self) -> datetime:
        return self.forecast.start

    def interval_index(self, moment: datetime) -> int | None:
        """Index of the interval holding ``moment``, or None outside the plan."""
        index = round((floor_to_interval(moment) - self.start) / INTERVAL)
        return index if 0 <= index < len(self.intervals) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "target_service_level": self.target_service_level,
            "answer_within_seconds": self.answer_within_seconds,
            "aht_seconds": self.aht_seconds,
            "shrinkage": self.shrinkage,
            "roster_shrinkage": self.roster_shrinkage,
            "patience_seconds": self.patience_seconds,
            "start": self.start.isoformat(),
            "interval_minutes": INTERVAL_MINUTES,
            "forecast": self.forecast.to_dict(),
            "roster": self.roster.to_dict(),
            "intervals": [row.to_dict() for row in self.intervals],
        }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def on_phones_after_shrinkage(rostered: int, shrinkage: float) -> int:
    """Agents actually on the phones out of ``rostered`` on the floor (rounded down)."""
    return math.floor(rostered * (1 - shrinkage) + 1e-9)


def build_plan(
    assumptions: StaffingAssumptions,
    affected: int,
    announced_at: datetime,
    horizon: timedelta,
    *,
    model: ModelName | StaffingModel = "erlang_c",
    patience_seconds: float | None = None,
    start: datetime | None = None,
    decay: DecayCurve | None = None,
    profile: ArrivalProfile = JP_CONSUMER_PROFILE,
    channel_mix: ChannelMix | None = None,
    deflection: float | Mapping[str, float] | None = None,
    patterns: Sequence[ShiftPattern] | None = None,
    pool_limits: Mapping[str, int] | None = None,
    roster_shrinkage: float | None = None,
    roster_effort: Mapping[str, int] | None = None,
    simulate: bool | Simulator = False,
    retrial: simulation.Retrial | None = None,
    simulation_seed: int = 0,
) -> StaffingPlan:
    """A staffing plan from ``start`` (default: the announcement) over ``horizon``.

    ``model``: "erlang_c", "erlang_a" (with ``patience_seconds``) or any
    :class:`StaffingModel`. ``decay`` defaults to the playbook's peak-day curve, ``deflection``
    to its self-service share. ``simulate``: True runs the real simulation (with ``retrial``
    and ``simulation_seed``) on the roster's agents on the phones, or pass any
    :class:`Simulator`; each interval then has its simulated service level.
    ``roster_effort``: search limits passed to :func:`~hikeshi.workforce.roster.build_roster`
    (``max_rounds``, ``lns_iterations``, ``lp_iterations``, ``rounding_samples``) to trade
    roster quality for speed on an interactive page.
    """
    queue: StaffingModel = (
        queue_model(assumptions, model, patience_seconds=patience_seconds)
        if isinstance(model, str)
        else model
    )
    shrink = assumptions.shrinkage if roster_shrinkage is None else roster_shrinkage
    if not 0 <= shrink < 1:
        raise PlanError(f"roster_shrinkage: must be in [0, 1), got {shrink}")
    forecast = forecast_surge(
        announced_at=announced_at,
        affected=affected,
        contact_rate=assumptions.contact_rate,
        decay=decay or assumptions.decay(),
        horizon=horizon,
        profile=profile,
        channel_mix=channel_mix,
        deflection=assumptions.self_service_deflection if deflection is None else deflection,
        start=start,
    )
    phone = forecast.channel("phone")
    needs = list(queue.required(phone))
    head_count = [
        need.scheduled if roster_shrinkage is None else _scheduled(need.on_phones, shrink)
        for need in needs
    ]
    roster = build_roster(
        head_count, forecast.start, patterns, pool_limits=pool_limits, **(roster_effort or {})
    )
    on_phones = [on_phones_after_shrinkage(n, shrink) for n in roster.staffed]
    expected = list(queue.service_levels(phone, on_phones))
    simulated: Sequence[float | None] = [None] * len(phone)
    if simulate is not False:
        simulator = (
            SimulationCheck(
                assumptions.aht_seconds,
                assumptions.answer_within_seconds,
                patience_seconds,
                retrial,
                simulation_seed,
            )
            if simulate is True
            else simulate
        )
        simulated = list(simulator(phone, on_phones))
        if len(simulated) != len(phone):
            raise PlanError(
                f"simulate: returned {len(simulated)} service levels for {len(phone)} intervals"
            )
    rows = tuple(
        PlanInterval(
            start=forecast.interval_start(i),
            contacts=total,
            phone_calls=phone[i],
            required_on_phones=needs[i].on_phones,
            required_scheduled=head_count[i],
            limited_by=needs[i].limited_by,
            rostered=roster.staffed[i],
            gap=roster.staffed[i] - head_count[i],
            expected_service_level=expected[i],
            simulated_service_level=simulated[i],
        )
        for i, total in enumerate(forecast.totals())
    )
    target = assumptions.target()
    return StaffingPlan(
        model=queue.name,
        target_service_level=target.service_level,
        answer_within_seconds=target.answer_within_seconds,
        aht_seconds=assumptions.aht_seconds,
        shrinkage=assumptions.shrinkage,
        roster_shrinkage=shrink,
        patience_seconds=patience_seconds,
        forecast=forecast,
        roster=roster,
        intervals=rows,
    )


def _scheduled(on_phones: int, shrinkage: float) -> int:
    return erlang.scheduled_agents(on_phones, shrinkage)


# -- actual against plan -----------------------------------------------------------------------


@dataclass(frozen=True)
class ActualVsPlanRow:
    start: datetime
    planned_calls: float
    actual_calls: float | None  # None: no data yet for this interval
    difference: float | None  # actual − planned
    ratio: float | None  # actual / planned (None when nothing was planned)
    target_service_level: float
    planned_service_level: float
    actual_service_level: float | None
    met_target: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "planned_calls": self.planned_calls,
            "actual_calls": self.actual_calls,
            "difference": self.difference,
            "ratio": _finite(self.ratio),
            "target_service_level": self.target_service_level,
            "planned_service_level": _finite(self.planned_service_level),
            "actual_service_level": self.actual_service_level,
            "met_target": self.met_target,
        }


Series = Sequence[float | None] | Mapping[datetime, float]


def _aligned(plan: StaffingPlan, values: Series, name: str, *, add: bool) -> list[float | None]:
    """Values per plan interval; a mapping's times fall into their interval (summed when
    ``add``, otherwise two values in one interval are an error)."""
    size = len(plan.intervals)
    if not isinstance(values, Mapping):
        if len(values) > size:
            raise PlanError(f"{name}: {len(values)} values for a plan of {size} intervals")
        return [None if v is None else float(v) for v in values] + [None] * (size - len(values))
    out: list[float | None] = [None] * size
    for moment, value in values.items():
        if moment.tzinfo is None:
            raise PlanError(f"{name}: naive datetime {moment.isoformat()} refused")
        index = plan.interval_index(moment)
        if index is None:
            continue
        previous = out[index]
        if previous is not None and not add:
            raise PlanError(f"{name}: two values for the interval of {moment.isoformat()}")
        out[index] = float(value) + (previous or 0.0)
    return out


def actual_vs_plan(
    plan: StaffingPlan, actual_counts: Series, actual_sl: Series
) -> tuple[ActualVsPlanRow, ...]:
    """One row per plan interval: planned and actual phone calls, planned and actual service
    level (shares, 0..1). Actuals are per-interval sequences from the plan's start (shorter
    ones are padded with None: no data yet) or mappings from a time in the interval (counts in
    the same interval add up)."""
    counts = _aligned(plan, actual_counts, "actual_counts", add=True)
    levels = _aligned(plan, actual_sl, "actual_sl", add=False)
    rows = []
    for i, row in enumerate(plan.intervals):
        actual, level = counts[i], levels[i]
        if actual is not None and actual < 0:
            raise PlanError(f"interval {i}: actual_counts must be >= 0, got {actual}")
        if level is not None and not 0 <= level <= 1:
            raise PlanError(f"interval {i}: actual_sl must be a share in [0, 1], got {level}")
        rows.append(
            ActualVsPlanRow(
                start=row.start,
                planned_calls=row.phone_calls,
                actual_calls=actual,
                difference=None if actual is None else actual - row.phone_calls,
                ratio=None if actual is None or row.phone_calls <= 0 else actual / row.phone_calls,
                target_service_level=plan.target_service_level,
                planned_service_level=row.expected_service_level,
                actual_service_level=level,
                met_target=None if level is None else level >= plan.target_service_level,
            )
        )
    return tuple(rows)


__all__ = [
    "ActualVsPlanRow",
    "ErlangModel",
    "ModelName",
    "PlanError",
    "PlanInterval",
    "Requirement",
    "SimulationCheck",
    "Simulator",
    "StaffingAssumptions",
    "StaffingModel",
    "StaffingPlan",
    "actual_vs_plan",
    "build_plan",
    "on_phones_after_shrinkage",
    "queue_model",
]
