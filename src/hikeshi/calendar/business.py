"""Japanese business time: opening hours, public holidays and deadline arithmetic.

Pure functions over timezone-aware datetimes. Inputs may be in any timezone; every computation
is done in Asia/Tokyo (JST) and results are returned in JST. Naive datetimes are refused with
ValueError. Opening intervals are half-open, ``[start, end)``: at 18:00 a desk open 9:00–18:00 is
closed. An interval may end at 24:00 (``time(0, 0)`` as end, ``"24:00"`` in config) but may not
cross midnight.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import jpholiday

from hikeshi.clock import JST

Interval = tuple[time, time]
DayHours = tuple[Interval, ...]
WeekHours = tuple[DayHours, DayHours, DayHours, DayHours, DayHours, DayHours, DayHours]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIDNIGHT = time(0, 0)
OFFICE_DAY: DayHours = ((time(9, 0), time(18, 0)),)
DEFAULT_HOURS: WeekHours = (OFFICE_DAY, OFFICE_DAY, OFFICE_DAY, OFFICE_DAY, OFFICE_DAY, (), ())
WHOLE_DAY: DayHours = ((MIDNIGHT, MIDNIGHT),)

# How many consecutive closed days a search may cross before the calendar is declared empty.
_MAX_CLOSED_DAYS = 400
_CONFIG_KEYS = frozenset(
    {"always_open", "hours", "observe_holidays", "year_end_closure", "closed_dates", "open_dates"}
)


def to_jst(t: datetime) -> datetime:
    """``t`` in Asia/Tokyo; ValueError for a naive datetime."""
    if t.tzinfo is None or t.tzinfo.utcoffset(t) is None:
        raise ValueError(f"naive datetime {t.isoformat()} refused: pass a timezone-aware datetime")
    return t.astimezone(JST)


@functools.lru_cache(maxsize=256)
def _holidays_of_year(year: int) -> frozenset[date]:
    return frozenset(d for d, _name in jpholiday.year_holidays(year))


def is_jp_holiday(d: date) -> bool:
    """Whether ``d`` is a Japanese public holiday (祝日・振替休日・国民の休日), per jpholiday."""
    return d in _holidays_of_year(d.year)


def holiday_name(d: date) -> str | None:
    """The Japanese name of the public holiday on ``d`` (e.g. 勤労感謝の日), or None."""
    name = jpholiday.is_holiday_name(d)
    return str(name) if name else None


def is_year_end_closure(d: date) -> bool:
    """年末年始: 12/29 to 1/3 inclusive."""
    return (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3)


def _end_on(d: date, end: time) -> datetime:
    if end == MIDNIGHT:
        return datetime.combine(d + timedelta(days=1), MIDNIGHT, tzinfo=JST)
    return datetime.combine(d, end, tzinfo=JST)


def _normalise_day(where: str, intervals: Any) -> DayHours:
    """Validate and sort one day's intervals; messages start with ``where`` (the field path)."""
    if not isinstance(intervals, list | tuple):
        raise ValueError(f"{where}: expected a list of [start, end] intervals")
    checked: list[Interval] = []
    for i, interval in enumerate(intervals):
        if not isinstance(interval, list | tuple) or len(interval) != 2:
            raise ValueError(f"{where}[{i}]: expected a [start, end] pair")
        start, end = interval
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValueError(f"{where}[{i}]: start and end must be datetime.time values")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"{where}[{i}]: times must be naive wall-clock times (JST)")
        if any(t.second or t.microsecond for t in (start, end)):
            raise ValueError(f"{where}[{i}]: times must be whole minutes")
        if end != MIDNIGHT and not start < end:
            raise ValueError(
                f"{where}[{i}]: start {start:%H:%M} must be before end {end:%H:%M} "
                "(intervals crossing midnight are not supported)"
            )
        checked.append((start, end))
    checked.sort(key=lambda iv: iv[0])
    for (_s1, e1), (s2, _e2) in itertools.pairwise(checked):
        if e1 == MIDNIGHT or s2 < e1:
            raise ValueError(f"{where}: intervals overlap")
    return tuple(checked)


@dataclass(frozen=True)
class BusinessCalendar:
    """When a desk is open, in JST.

    ``hours`` holds Monday..Sunday, each a tuple of ``(start, end)`` wall-clock intervals (two
    intervals give a lunch break, none a closed day). A date is closed when it is a public holiday
    (``observe_holidays``), in 年末年始 12/29–1/3 (``year_end_closure``) or in ``closed_dates``.
    ``open_dates`` wins over all of these: such a date opens with its weekday's hours, or 9:00–18:00
    when that weekday has none.
    """

    hours: WeekHours = DEFAULT_HOURS
    observe_holidays: bool = True
    year_end_closure: bool = False
    closed_dates: frozenset[date] = field(default_factory=frozenset)
    open_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not isinstance(self.hours, tuple | list) or len(self.hours) != 7:
            raise ValueError("hours: expected 7 entries, Monday to Sunday")
        hours = tuple(
            _normalise_day(f"hours.{name}", day)
            for name, day in zip(WEEKDAYS, self.hours, strict=True)
        )
        object.__setattr__(self, "hours", hours)
        for name in ("closed_dates", "open_dates"):
            values = frozenset(getattr(self, name))
            if any(isinstance(v, datetime) or not isinstance(v, date) for v in values):
                raise ValueError(f"{name}: expected datetime.date values")
            object.__setattr__(self, name, values)
        both = self.closed_dates & self.open_dates
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"open_dates: {listed} also listed in closed_dates")
        if not any(self.hours) and not self.open_dates:
            raise ValueError("hours: the calendar is never open")

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def always_open(cls) -> BusinessCalendar:
        """24/7 policy: every instant counts, holidays included."""
        return cls(hours=(WHOLE_DAY,) * 7, observe_holidays=False)

    @property
    def is_always_open(self) -> bool:
        return (
            all(day == WHOLE_DAY for day in self.hours)
            and not self.observe_holidays
            and not self.year_end_closure
            and not self.closed_dates
            and not self.open_dates
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BusinessCalendar:
        """Build from stored JSON; ValueError names the offending field.

        ``{"always_open": true}`` or any of ``hours`` (all seven of mon..sun, each a list of
        ``["HH:MM", "HH:MM"]``; ``"24:00"`` allowed as an end), ``observe_holidays``,
        ``year_end_closure``, ``closed_dates`` and ``open_dates`` (``YYYY-MM-DD`` strings).
        Missing keys take the defaults (Mon–Fri 9:00–18:00, holidays observed).
        """
        if not isinstance(config, Mapping):
            raise ValueError("config: expected an object")
        unknown = sorted(set(config) - _CONFIG_KEYS)
        if unknown:
            allowed = ", ".join(sorted(_CONFIG_KEYS))
            raise ValueError(f"{unknown[0]}: unknown field (allowed: {allowed})")
        if "always_open" in config:
            if not isinstance(config["always_open"], bool):
                raise ValueError("always_open: expected true or false")
            if config["always_open"]:
                others = sorted(set(config) - {"always_open"})
                if others:
                    raise ValueError(f"{others[0]}: not allowed together with always_open")
                return cls.always_open()
        flags: dict[str, bool] = {}
        for name in ("observe_holidays", "year_end_closure"):
            if name in config:
                if not isinstance(config[name], bool):
                    raise ValueError(f"{name}: expected true or false")
                flags[name] = config[name]
        return cls(
            hours=_parse_hours(config["hours"]) if "hours" in config else DEFAULT_HOURS,
            closed_dates=_parse_dates("closed_dates", config.get("closed_dates", [])),
            open_dates=_parse_dates("open_dates", config.get("open_dates", [])),
            **flags,
        )

    def to_config(self) -> dict[str, Any]:
        """JSON-ready dict; ``from_config(c.to_config()) == c``."""
        if self.is_always_open:
            return {"always_open": True}
        return {
            "hours": {
                name: [[_fmt_time(s, is_end=False), _fmt_time(e, is_end=True)] for s, e in day]
                for name, day in zip(WEEKDAYS, self.hours, strict=True)
            },
            "observe_holidays": self.observe_holidays,
            "year_end_closure": self.year_end_closure,
            "closed_dates": sorted(d.isoformat() for d in self.closed_dates),
            "open_dates": sorted(d.isoformat() for d in self.open_dates),
        }

    # -- days ---------------------------------------------------------------------------------

    def _day_hours(self, d: date) -> DayHours:
        weekday_hours = self.hours[d.weekday()]
        if d in self.open_dates:
            return weekday_hours or OFFICE_DAY
        if d in self.closed_dates:
            return ()
        if self.year_end_closure and is_year_end_closure(d):
            return ()
        if self.observe_holidays and is_jp_holiday(d):
            return ()
        return weekday_hours

    def opening_intervals(self, d: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open intervals of JST date ``d`` as aware JST datetimes (empty when closed)."""
        d = _as_date(d)
        return tuple(
            (datetime.combine(d, s, tzinfo=JST), _end_on(d, e)) for s, e in self._day_hours(d)
        )

    def is_business_day(self, d: date) -> bool:
        """Whether JST date ``d`` has any opening hours. An aware datetime is taken in JST."""
        return bool(self._day_hours(_as_date(d)))

    def next_business_day(self, d: date) -> date:
        """The first business day strictly after ``d``."""
        d = _as_date(d)
        for offset in range(1, _MAX_CLOSED_DAYS + 1):
            candidate = d + timedelta(days=offset)
            if self._day_hours(candidate):
                return candidate
        raise ValueError(f"no business day within {_MAX_CLOSED_DAYS} days after {d.isoformat()}")

    def _close_of(self, d: date) -> datetime:
        intervals = self.opening_intervals(d)
        return intervals[-1][1]

    # -- instants -----------------------------------------------------------------------------

    def _intervals_from(self, t: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (clipped to start at ``t``) in order, from JST ``t`` onwards."""
        d = t.date()
        closed_days = 0
        while True:
            intervals = self.opening_intervals(d)
            if intervals:
                closed_days = 0
            else:
                closed_days += 1
                if closed_days > _MAX_CLOSED_DAYS:
                    raise ValueError(
                        f"calendar has no open time in the {_MAX_CLOSED_DAYS} days before "
                        f"{d.isoformat()}"
                    )
            for start, end in intervals:
                if end > t:
                    yield max(start, t), end
            d += timedelta(days=1)

    def is_open(self, t: datetime) -> bool:
        t = to_jst(t)
        return any(s <= t < e for s, e in self.opening_intervals(t.date()))

    def next_open(self, t: datetime) -> datetime:
        """``t`` (in JST) when open, else the next opening instant."""
        t = to_jst(t)
        start, _end = next(self._intervals_from(t))
        return start

    def add_business_time(self, start: datetime, delta: timedelta) -> datetime:
        """The instant when ``delta`` of open time has passed since ``start``.

        Closed time is skipped; 24/7 is plain addition. A deadline that falls exactly on a
        closing time is that closing time (2 h from 16:00 is 18:00 the same day).
        """
        t = to_jst(start)
        if delta < timedelta(0):
            raise ValueError(f"delta must not be negative, got {delta}")
        if delta == timedelta(0) or self.is_always_open:
            return t + delta
        remaining = delta
        for s, e in self._intervals_from(t):
            available = e - s
            if remaining <= available:
                return s + remaining
            remaining -= available
        raise AssertionError("unreachable: _intervals_from never ends")  # pragma: no cover

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Open time from ``a`` to ``b``; negative when ``b`` is before ``a``."""
        a, b = to_jst(a), to_jst(b)
        if b < a:
            return -self.business_time_between(b, a)
        if self.is_always_open:
            return b - a
        total = timedelta(0)
        d = a.date()
        while d <= b.date():
            for s, e in self.opening_intervals(d):
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    total += hi - lo
            d += timedelta(days=1)
        return total

    def end_of_business_day(self, t: datetime) -> datetime:
        """「本日中」: the close of the business day containing ``t``.

        When ``t`` is at or after that day's last close, or the day is closed, it is the close of
        the next business day.
        """
        t = to_jst(t)
        d = t.date()
        if self.is_business_day(d) and t < self._close_of(d):
            return self._close_of(d)
        return self._close_of(self.next_business_day(d))

    def next_business_day_end(self, t: datetime) -> datetime:
        """「翌営業日まで」: the close of the first business day after ``t``'s JST date."""
        return self._close_of(self.next_business_day(to_jst(t).date()))


def _as_date(d: date) -> date:
    if isinstance(d, datetime):
        return to_jst(d).date()
    return d


def _fmt_time(t: time, *, is_end: bool) -> str:
    if is_end and t == MIDNIGHT:
        return "24:00"
    return f"{t:%H:%M}"


def _parse_time(where: str, value: Any, *, is_end: bool) -> time:
    if isinstance(value, str):
        if is_end and value == "24:00":
            return MIDNIGHT
        parts = value.split(":")
        if len(parts) == 2 and all(p.isdigit() and len(p) == 2 for p in parts):
            hour, minute = int(parts[0]), int(parts[1])
            if hour < 24 and minute < 60:
                return time(hour, minute)
    raise ValueError(f"{where}: {value!r} is not a time (HH:MM)")


def _parse_hours(value: Any) -> WeekHours:
    if not isinstance(value, Mapping):
        raise ValueError("hours: expected an object with keys mon..sun")
    unknown = sorted(set(value) - set(WEEKDAYS))
    if unknown:
        raise ValueError(f"hours.{unknown[0]}: unknown weekday (use {', '.join(WEEKDAYS)})")
    days: list[DayHours] = []
    for name in WEEKDAYS:
        where = f"hours.{name}"
        if name not in value:
            raise ValueError(f"{where}: missing (give [] for a closed day)")
        intervals = value[name]
        if not isinstance(intervals, list):
            raise ValueError(f"{where}: expected a list of [start, end] intervals")
        parsed: list[Interval] = []
        for i, interval in enumerate(intervals):
            if not isinstance(interval, list) or len(interval) != 2:
                raise ValueError(f'{where}[{i}]: expected ["HH:MM", "HH:MM"]')
            parsed.append(
                (
                    _parse_time(f"{where}[{i}]", interval[0], is_end=False),
                    _parse_time(f"{where}[{i}]", interval[1], is_end=True),
                )
            )
        days.append(_normalise_day(where, parsed))
    return (days[0], days[1], days[2], days[3], days[4], days[5], days[6])


def _parse_dates(name: str, value: Any) -> frozenset[date]:
    if not isinstance(value, list):
        raise ValueError(f"{name}: expected a list of YYYY-MM-DD strings")
    dates: set[date] = set()
    for i, item in enumerate(value):
        try:
            if not isinstance(item, str) or len(item) != 10:
                raise ValueError
            dates.add(date.fromisoformat(item))
        except ValueError:
            raise ValueError(f"{name}[{i}]: {item!r} is not a date (YYYY-MM-DD)") from None
    return frozenset(dates)
