"""The injected clock: whatever asks "what time is it" asks a Clock, so tests can move time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock for tests and drills: stands still until advanced."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)


def to_jst(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: Hikeshi stores only timezone-aware times")
    return moment.astimezone(JST)


def format_jst(moment: datetime | None) -> str:
    """Display form used in the UI: 2026/11/22 21:43 (JST)."""
    if moment is None:
        return ""
    return to_jst(moment).strftime("%Y/%m/%d %H:%M")
