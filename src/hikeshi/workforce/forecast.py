"""Surge forecast (入電予測): contacts per 15-minute JST interval and channel after an announcement.

The model, in one line: of ``affected`` customers, ``contact_rate`` will contact us; a share of
them is served by self-service (notice page, FAQ, serial check) and never reaches a person; the
rest arrive over time following a **decay curve**, shaped inside each day by an **arrival
profile** (hour of day, day of week, public holidays), and split between channels by a
**channel mix**::

    expected_total = affected × contact_rate × (1 − deflection)
    contacts[channel][i] = expected_total × share[channel] × mass[i]

``mass[i]`` is the share of the whole curve that falls in interval ``i``; over the curve's whole
support it sums to 1, so a horizon that covers the support carries ``expected_total`` exactly (up
to float rounding). What falls before ``start`` or after the horizon is reported, never dropped.

Two decay curves, because the playbooks speak in days and analysts speak in half-lives:

* :class:`PeakDayDecay` — the playbook's ``peak_day``/``peak_day_share``/``duration_days``.
  Day 1 is the JST calendar day of the announcement (partial: from the announcement to
  midnight). The peak day carries exactly ``peak_day_share``; the other days fall away
  geometrically on both sides with one ratio ``q`` solved so that the days sum to 1. Each day's
  total is fixed by the curve, so inside a day the profile only decides *when* the calls come
  (the day-of-week weights do not move contacts between days for this curve).
* :class:`ExponentialDecay` — intensity ∝ profile(t) × 2^(−(t − announced_at)/half_life): the
  jump is at the announcement itself and each half-life halves the rate. Without
  ``duration_days`` the tail is followed for 40 half-lives (what is left, 2^-40 ≈ 1e-12 of the
  total, is ignored); with it, nothing arrives after ``duration_days`` and the curve is rescaled.

The same profile shapes every channel (e-mail and forms do arrive flatter at night; pass a
different profile per forecast if that matters). Pure functions, JST via :data:`hikeshi.clock.JST`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from hikeshi.clock import JST

INTERVAL_MINUTES = 15
INTERVAL = timedelta(minutes=INTERVAL_MINUTES)
INTERVALS_PER_DAY = 24 * 60 // INTERVAL_MINUTES
CHANNELS: tuple[str, ...] = ("phone", "email", "web_form", "chat", "sns")
# Tail followed for an open-ended exponential curve: 2**-40 of the mass is left out.
_TAIL_HALF_LIVES = 40
_MAX_HALF_LIFE_HOURS = 90 * 24


class ForecastError(ValueError):
    """Invalid forecast input; the message names the parameter."""


# -- the arrival profile ----------------------------------------------------------------------

# Relative calls per hour of day (0..23 JST) of a Japanese consumer desk: near-silent at night,
# ramping up from 8:00, a morning peak at 10:00, a lunchtime dip, a second peak at 14:00, then a
# long evening tail (people call after work). Only ratios matter.
JP_CONSUMER_HOURLY: tuple[float, ...] = (
    0.6, 0.4, 0.3, 0.25, 0.25, 0.35, 0.7, 1.5,  # 0-7
    3.5, 7.5, 10.0, 8.5, 6.0, 8.0, 9.0, 8.0,  # 8-15
    7.0, 6.0, 5.0, 4.2, 3.5, 2.6, 1.7, 1.0,  # 16-23
)  # fmt: skip
# Monday..Sunday: Monday carries the weekend's backlog; weekends are quieter.
JP_CONSUMER_WEEKDAY: tuple[float, ...] = (1.15, 1.0, 0.95, 0.95, 0.95, 0.8, 0.7)


@dataclass(frozen=True)
class ArrivalProfile:
    """When in the week contacts arrive, as relative weights (JST wall clock).

    ``hourly``: 24 weights, hour 0..23 (each 15-minute interval takes its hour's weight).
    ``weekday``: 7 weights, Monday..Sunday. ``holidays``: dates weighted like Sunday (pass
    ``jpholiday`` dates from the caller; the pure library does not look them up).
    All weights must be positive: a closed desk still receives calls.
    """

    hourly: tuple[float, ...] = JP_CONSUMER_HOURLY
    weekday: tuple[float, ...] = JP_CONSUMER_WEEKDAY
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if len(self.hourly) != 24:
            raise ForecastError(f"profile.hourly: expected 24 weights, got {len(self.hourly)}")
        if len(self.weekday) != 7:
            raise ForecastError(f"profile.weekday: expected 7 weights, got {len(self.weekday)}")
        for name, weights in (("hourly", self.hourly), ("weekday", self.weekday)):
            for i, w in enumerate(weights):
                if not (w > 0 and math.isfinite(w)):
                    raise ForecastError(f"profile.{name}[{i}]: weight must be > 0, got {w!r}")

    def day_weight(self, day: date) -> float:
        return self.weekday[6] if day in self.holidays else self.weekday[day.weekday()]

    def interval_weights(self, day: date) -> list[float]:
        """The 96 interval weights of one JST day."""
        factor = self.day_weight(day)
        return [self.hourly[i // 4] * factor for i in range(INTERVALS_PER_DAY)]


JP_CONSUMER_PROFILE = ArrivalProfile()


# -- channel mix and deflection --------------------------------------------------------------


@dataclass(frozen=True)
class ChannelMix:
    """Share of the contacts that reach a person, by channel; the shares sum to 1.

    The default is an assumption for a Japanese consumer crisis desk (phone dominates); set it
    from the incident's own history when there is one.
    """

    phone: float = 0.70
    email: float = 0.08
    web_form: float = 0.15
    chat: float = 0.04
    sns: float = 0.03

    def __post_init__(self) -> None:
        for name, share in self.shares().items():
            if not (0 <= share <= 1):
                raise ForecastError(f"channel_mix.{name}: share must be in [0, 1], got {share}")
        total = sum(self.shares().values())
        if abs(total - 1) > 1e-9:
            raise ForecastError(f"channel_mix: shares must sum to 1, got {total:.6f}")

    def shares(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in CHANNELS}


def _deflection_by_source(deflection: float | Mapping[str, float]) -> dict[str, float]:
    by_source = (
        {"self_service": float(deflection)}
        if isinstance(deflection, int | float)
        else {str(k): float(v) for k, v in deflection.items()}
    )
    for source, share in by_source.items():
        if not (0 <= share < 1):
            raise ForecastError(f"deflection[{source}]: share must be in [0, 1), got {share}")
    if sum(by_source.values()) >= 1:
        raise ForecastError(
            f"deflection: shares must sum to less than 1, got {sum(by_source.values()):.6f}"
        )
    return by_source


# -- decay curves ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExponentialDecay:
    """Rate halves every ``half_life_hours`` after the announcement (optionally cut off)."""

    half_life_hours: float
    duration_days: float | None = None

    def __post_init__(self) -> None:
        if not (0 < self.half_life_hours <= _MAX_HALF_LIFE_HOURS):
            raise ForecastError(
                f"decay.half_life_hours: must be in (0, {_MAX_HALF_LIFE_HOURS}], "
                f"got {self.half_life_hours}"
            )
        if self.duration_days is not None and not self.duration_days > 0:
            raise ForecastError(f"decay.duration_days: must be > 0, got {self.duration_days}")


@dataclass(frozen=True)
class PeakDayDecay:
    """The playbook's curve: ``peak_day_share`` of all contacts on day ``peak_day`` (day 1 = the
    JST day of the announcement), geometric on both sides, nothing after ``duration_days``."""

    peak_day: int
    peak_day_share: float
    duration_days: int

    def __post_init__(self) -> None:
        if self.duration_days < 1:
            raise ForecastError(f"decay.duration_days: must be >= 1, got {self.duration_days}")
        if not (1 <= self.peak_day <= self.duration_days):
            raise ForecastError(
                f"decay.peak_day: must be in 1..duration_days ({self.duration_days}), "
                f"got {self.peak_day}"
            )
        if not (0 < self.peak_day_share <= 1):
            raise ForecastError(
                f"decay.peak_day_share: must be in (0, 1], got {self.peak_day_share}"
            )
        if self.peak_day_share * self.duration_days < 1 - 1e-12:
            raise ForecastError(
                f"decay.peak_day_share: {self.peak_day_share} × {self.duration_days} days < 1, "
                "so the peak day would be below an even spread; raise the share or the duration"
            )

    def day_shares(self) -> tuple[float, ...]:
        """Share of all contacts on each day 1..duration_days (sums to 1)."""
        s, p, d = self.peak_day_share, self.peak_day, self.duration_days

        def total(q: float) -> float:
            return s * sum(q ** abs(day - p) for day in range(1, d + 1))

        lo, hi = 0.0, 1.0
        for _ in range(200):  # bisection: total(q) rises from s (q=0) to s·d (q=1)
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if total(mid) < 1 else (lo, mid)
        q = (lo + hi) / 2
        raw = [s * q ** abs(day - p) for day in range(1, d + 1)]
        # Put the bisection's last ~1e-16 on the non-peak days so the peak share stays exact.
        rest = sum(raw) - s
        scale = (1 - s) / rest if rest > 0 else 0.0
        return tuple(s if day == p else raw[day - 1] * scale for day in range(1, d + 1))


DecayCurve = ExponentialDecay | PeakDayDecay


# -- the forecast ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SurgeForecast:
    """Contacts per 15-minute interval from ``start`` (JST), by channel, after self-service.

    Values are expected counts (floats); use :func:`round_preserving_total` for whole numbers.
    ``expected_total`` = affected × contact_rate × (1 − deflection) over the whole curve, which
    equals ``before_start`` + the horizon's contacts + ``after_horizon``.
    """

    announced_at: datetime
    start: datetime
    interval_minutes: int
    affected: int
    contact_rate: float
    deflection_share: float
    expected_total: float
    deflected_by_source: Mapping[str, float]
    by_channel: Mapping[str, tuple[float, ...]]
    before_start: float
    after_horizon: float

    @property
    def intervals(self) -> int:
        return len(self.by_channel["phone"])

    def interval_start(self, index: int) -> datetime:
        return self.start + index * timedelta(minutes=self.interval_minutes)

    def interval_starts(self) -> tuple[datetime, ...]:
        return tuple(self.interval_start(i) for i in range(self.intervals))

    def channel(self, name: str) -> tuple[float, ...]:
        if name not in self.by_channel:
            raise ForecastError(f"channel {name!r}: not one of {', '.join(CHANNELS)}")
        return self.by_channel[name]

    def totals(self) -> tuple[float, ...]:
        """All channels together, per interval."""
        return tuple(map(math.fsum, zip(*self.by_channel.values(), strict=True)))

    @property
    def in_horizon(self) -> float:
        return math.fsum(self.totals())

    def to_dict(self) -> dict[str, Any]:
        return {
            "announced_at": self.announced_at.isoformat(),
            "start": self.start.isoformat(),
            "interval_minutes": self.interval_minutes,
            "affected": self.affected,
            "contact_rate": self.contact_rate,
            "deflection_share": self.deflection_share,
            "expected_total": self.expected_total,
            "deflected_by_source": dict(self.deflected_by_source),
            "before_start": self.before_start,
            "after_horizon": self.after_horizon,
            "in_horizon": self.in_horizon,
            "interval_starts": [t.isoformat() for t in self.interval_starts()],
            "by_channel": {name: list(values) for name, values in self.by_channel.items()},
        }


def floor_to_interval(moment: datetime) -> datetime:
    """The JST start of the 15-minute interval holding ``moment`` (aware datetimes only)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ForecastError(f"naive datetime {moment.isoformat()} refused: pass an aware one")
    local = moment.astimezone(JST)
    return local.replace(
        minute=local.minute - local.minute % INTERVAL_MINUTES, second=0, microsecond=0
    )


def forecast_surge(
    *,
    announced_at: datetime,
    affected: int,
    contact_rate: float,
    decay: DecayCurve,
    horizon: timedelta,
    profile: ArrivalProfile = JP_CONSUMER_PROFILE,
    channel_mix: ChannelMix | None = None,
    deflection: float | Mapping[str, float] = 0.0,
    start: datetime | None = None,
) -> SurgeForecast:
    """Forecast contacts per 15-minute interval over ``horizon`` from ``start``.

    ``start`` defaults to the interval of the announcement (pass a later one to re-plan a
    running incident); it is floored to the 15-minute grid. ``deflection`` is a share, or shares
    by self-service source such as ``{"notice_page": .2, "faq": .1, "serial_check": .05}``.
    """
    if announced_at.tzinfo is None or announced_at.utcoffset() is None:
        raise ForecastError("announced_at: must be a timezone-aware datetime")
    if isinstance(affected, bool) or not isinstance(affected, int) or affected < 0:
        raise ForecastError(f"affected: must be a whole number >= 0, got {affected!r}")
    if not (0 < contact_rate <= 1):
        raise ForecastError(f"contact_rate: must be in (0, 1], got {contact_rate}")
    if horizon <= timedelta(0):
        raise ForecastError(f"horizon: must be positive, got {horizon}")
    mix = channel_mix or ChannelMix()
    by_source = _deflection_by_source(deflection)
    deflection_share = math.fsum(by_source.values())

    announced = announced_at.astimezone(JST)
    origin = floor_to_interval(announced)  # interval 0 of the curve's own grid
    first = floor_to_interval(start) if start is not None else origin
    count = math.ceil(horizon / INTERVAL)
    masses = _interval_masses(announced, origin, decay, profile)

    offset = round((first - origin) / INTERVAL)
    window = [masses[offset + i] if 0 <= offset + i < len(masses) else 0.0 for i in range(count)]
    before = math.fsum(masses[: max(0, min(offset, len(masses)))])
    after = math.fsum(masses[max(0, offset + count) :])

    reaching_people = affected * contact_rate * (1 - deflection_share)
    would_contact = affected * contact_rate
    return SurgeForecast(
        announced_at=announced,
        start=first,
        interval_minutes=INTERVAL_MINUTES,
        affected=affected,
        contact_rate=contact_rate,
        deflection_share=deflection_share,
        expected_total=reaching_people,
        deflected_by_source={src: would_contact * share for src, share in by_source.items()},
        by_channel={
            name: tuple(reaching_people * share * m for m in window)
            for name, share in mix.shares().items()
        },
        before_start=reaching_people * before,
        after_horizon=reaching_people * after,
    )


def _interval_masses(
    announced: datetime, origin: datetime, decay: DecayCurve, profile: ArrivalProfile
) -> list[float]:
    """Share of the whole curve in each interval from ``origin`` (sums to 1)."""
    # The part of interval 0 after the announcement, as a fraction of the interval.
    lead = (announced - origin) / INTERVAL
    if isinstance(decay, PeakDayDecay):
        return _peak_day_masses(origin, lead, decay, profile)
    return _exponential_masses(origin, lead, decay, profile)


def _day_start_index(origin: datetime) -> int:
    """Index of ``origin``'s interval within its JST day."""
    return (origin.hour * 60 + origin.minute) // INTERVAL_MINUTES


def _peak_day_masses(
    origin: datetime, lead: float, decay: PeakDayDecay, profile: ArrivalProfile
) -> list[float]:
    masses: list[float] = []
    first_index = _day_start_index(origin)
    day = origin.date()
    for number, share in enumerate(decay.day_shares(), start=1):
        weights = profile.interval_weights(day)
        if number == 1:  # the announcement day starts mid-day, its first interval part-way
            weights = weights[first_index:]
            weights[0] *= 1 - lead
        total = math.fsum(weights)
        masses.extend(share * w / total for w in weights)
        day += timedelta(days=1)
    return masses


def _exponential_masses(
    origin: datetime, lead: float, decay: ExponentialDecay, profile: ArrivalProfile
) -> list[float]:
    half_life = decay.half_life_hours * 60 / INTERVAL_MINUTES  # in intervals
    span = (
        decay.duration_days * INTERVALS_PER_DAY
        if decay.duration_days is not None
        else _TAIL_HALF_LIVES * half_life
    )
    end = lead + span  # in intervals from origin; nothing arrives after it
    count = math.ceil(end)
    ln2 = math.log(2)

    def survival(x: float) -> float:  # 2^(-(x − lead)/half_life), x in intervals from origin
        return math.exp(-(x - lead) * ln2 / half_life)

    weights: list[float] = []
    day = origin.date()
    day_weights = profile.interval_weights(day)
    slot = _day_start_index(origin)
    for i in range(count):
        if slot == INTERVALS_PER_DAY:
            day += timedelta(days=1)
            day_weights, slot = profile.interval_weights(day), 0
        a, b = max(float(i), lead), min(float(i + 1), end)
        weights.append(day_weights[slot] * (survival(a) - survival(b)))
        slot += 1
    total = math.fsum(weights)
    return [w / total for w in weights]


def round_preserving_total(values: Sequence[float]) -> tuple[int, ...]:
    """Whole numbers whose sum is ``round(sum(values))`` (largest-remainder rounding)."""
    if any(v < 0 or not math.isfinite(v) for v in values):
        raise ForecastError("round_preserving_total: values must be finite and >= 0")
    floors = [math.floor(v) for v in values]
    missing = round(math.fsum(values)) - sum(floors)
    by_remainder = sorted(range(len(values)), key=lambda i: (floors[i] - values[i], i))
    for i in by_remainder[: max(0, missing)]:
        floors[i] += 1
    return tuple(floors)


def peak_day_total(forecast: SurgeForecast) -> tuple[date, float]:
    """The JST day with the most contacts in the horizon, and its total (all channels)."""
    per_day: dict[date, float] = {}
    for moment, value in zip(forecast.interval_starts(), forecast.totals(), strict=True):
        per_day[moment.date()] = per_day.get(moment.date(), 0.0) + value
    if not per_day:
        raise ForecastError("peak_day_total: the forecast has no intervals")
    best = max(per_day, key=lambda d: (per_day[d], -d.toordinal()))
    return best, per_day[best]


__all__ = [
    "CHANNELS",
    "INTERVAL",
    "INTERVAL_MINUTES",
    "JP_CONSUMER_HOURLY",
    "JP_CONSUMER_PROFILE",
    "JP_CONSUMER_WEEKDAY",
    "ArrivalProfile",
    "ChannelMix",
    "DecayCurve",
    "ExponentialDecay",
    "ForecastError",
    "PeakDayDecay",
    "SurgeForecast",
    "floor_to_interval",
    "forecast_surge",
    "peak_day_total",
    "round_preserving_total",
]
