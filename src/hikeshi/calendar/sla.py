"""SLA clocks: business time counted over running intervals, paused while waiting on the customer.

The clock keeps no state of its own: give it the timer's events (as stored in the database) and
the current instant, and it answers. That is how timers survive restarts.

Events are ``(kind, at)`` with kind one of ``start``, ``pause``, ``resume``, ``stop``. They are
taken in time order (equal instants keep their given order); events after ``now`` are ignored.
``start`` must come first and only once, ``pause`` only while running, ``resume`` only while
paused, ``stop`` while running or paused, and nothing after ``stop``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from hikeshi.calendar.business import BusinessCalendar, to_jst

SlaEventKind = Literal["start", "pause", "resume", "stop"]
SlaEvent = tuple[SlaEventKind, datetime]
_KINDS = frozenset({"start", "pause", "resume", "stop"})


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    PAUSED = "paused"
    DONE = "done"

    @property
    def label(self) -> str:
        return SLA_STATE_LABELS[self]


SLA_STATE_LABELS: Mapping[SlaState, str] = MappingProxyType(
    {
        SlaState.ON_TRACK: "対応中",
        SlaState.AT_RISK: "期限間近",
        SlaState.BREACHED: "期限超過",
        SlaState.PAUSED: "保留",
        SlaState.DONE: "完了",
    }
)


@dataclass(frozen=True)
class SlaStatus:
    """Where a timer stands at ``now``.

    ``elapsed`` is business time counted so far (may exceed the target); ``remaining`` is
    ``target - elapsed`` floored at zero. ``due_at`` is the instant (JST) the target is or was
    reached: in the past once breached, projected while running, None while paused before the
    target or when stopped before it. ``breached`` tells a late ``done`` from an on-time one;
    a breached timer that is paused reports ``breached``, not ``paused``.
    """

    state: SlaState
    elapsed: timedelta
    remaining: timedelta
    due_at: datetime | None
    breached: bool


def pause_events(
    started_at: datetime,
    pauses: Iterable[tuple[datetime, datetime | None]],
    stopped_at: datetime | None = None,
) -> list[SlaEvent]:
    """Events for a timer given as a start, ``(paused, resumed | None)`` intervals and a stop."""
    events: list[SlaEvent] = [("start", started_at)]
    for paused, resumed in pauses:
        events.append(("pause", paused))
        if resumed is not None:
            events.append(("resume", resumed))
    if stopped_at is not None:
        events.append(("stop", stopped_at))
    return events


@dataclass(frozen=True)
class SlaClock:
    """A target of business time on a calendar, e.g. 2 business hours for 一次対応.

    At risk when ``remaining <= warn_before`` if given, else when
    ``remaining <= target * warn_fraction``.
    """

    calendar: BusinessCalendar
    target: timedelta
    warn_fraction: float = 0.2
    warn_before: timedelta | None = None

    def __post_init__(self) -> None:
        if self.target <= timedelta(0):
            raise ValueError(f"target: must be positive, got {self.target}")
        if not 0 <= self.warn_fraction < 1:
            raise ValueError(f"warn_fraction: must be in [0, 1), got {self.warn_fraction}")
        if self.warn_before is not None and not (timedelta(0) <= self.warn_before < self.target):
            raise ValueError("warn_before: must be at least zero and less than target")

    @property
    def warn_threshold(self) -> timedelta:
        if self.warn_before is not None:
            return self.warn_before
        return self.target * self.warn_fraction

    def status(self, events: Iterable[tuple[str, datetime]], now: datetime) -> SlaStatus:
        now = to_jst(now)
        running_since: datetime | None = None
        started = paused = stopped = False
        elapsed = timedelta(0)
        due_at: datetime | None = None

        def run_until(end: datetime) -> None:
            nonlocal elapsed, due_at
            assert running_since is not None
            before = elapsed
            elapsed += self.calendar.business_time_between(running_since, end)
            if due_at is None and before < self.target <= elapsed:
                due_at = self.calendar.add_business_time(running_since, self.target - before)

        for index, (kind, at) in _ordered(events):
            if at > now:
                continue
            if kind != "start" and not started:
                raise ValueError(f"events[{index}]: {kind!r} before 'start'")
            if stopped:
                raise ValueError(f"events[{index}]: {kind!r} after 'stop'")
            if kind == "start":
                if started:
                    raise ValueError(f"events[{index}]: 'start' given twice")
                started, running_since = True, at
            elif kind == "pause":
                if paused:
                    raise ValueError(f"events[{index}]: 'pause' while already paused")
                run_until(at)
                paused, running_since = True, None
            elif kind == "resume":
                if not paused:
                    raise ValueError(f"events[{index}]: 'resume' while not paused")
                paused, running_since = False, at
            else:  # stop
                if running_since is not None:
                    run_until(at)
                stopped, running_since = True, None
        if not started:
            raise ValueError("events: the timer has not started (no 'start' at or before now)")
        if running_since is not None:
            run_until(now)
            if due_at is None:
                due_at = self.calendar.add_business_time(now, self.target - elapsed)

        breached = elapsed >= self.target
        remaining = max(self.target - elapsed, timedelta(0))
        if stopped:
            state = SlaState.DONE
        elif breached:
            state = SlaState.BREACHED
        elif paused:
            state = SlaState.PAUSED
        elif remaining <= self.warn_threshold:
            state = SlaState.AT_RISK
        else:
            state = SlaState.ON_TRACK
        return SlaStatus(
            state=state, elapsed=elapsed, remaining=remaining, due_at=due_at, breached=breached
        )


def _ordered(events: Iterable[tuple[str, datetime]]) -> list[tuple[int, tuple[str, datetime]]]:
    checked: list[tuple[int, tuple[str, datetime]]] = []
    for index, (kind, at) in enumerate(events):
        if kind not in _KINDS:
            raise ValueError(
                f"events[{index}]: unknown kind {kind!r} (use start, pause, resume, stop)"
            )
        try:
            checked.append((index, (kind, to_jst(at))))
        except ValueError as exc:
            raise ValueError(f"events[{index}]: {exc}") from None
    checked.sort(key=lambda item: item[1][1])
    return checked
