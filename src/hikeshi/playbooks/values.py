"""Typed parameter values for pack templates.

A pack declares its placeholders in ``parameters`` with a type; values given at launch (and the
``example`` of each parameter) are coerced here before rendering, so templates can print them
naturally in Japanese:

- ``str``, ``phone``: text (``phone`` must look like a Japanese phone number: ``0120-123-456``).
- ``int``: an integer; ``{{ n | num }}`` prints it with thousands separators (``48,000``).
- ``date``: ``{{ d }}`` prints ``2025年4月1日``; ``{{ d | jdate(weekday=True) }}`` adds ``（火）``.
  Accepts a ``datetime.date`` or an ISO string ``2025-04-01``.
- ``serial_ranges``: a list of :class:`SerialRange` (``"A0001〜A0999"``, ``{start:, end:}``, or a
  single serial); printed joined with ``、``.
- ``lots``: a list of lot numbers; printed joined with ``、``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeVar

ParamType = Literal["str", "date", "int", "phone", "serial_ranges", "lots"]

_T = TypeVar("_T")
_WEEKDAYS_JA = "月火水木金土日"
_PHONE = re.compile(r"^\+?[0-9][0-9()\-]{5,19}$")
_RANGE_SEPARATORS = re.compile(r"\s*[〜~～]\s*")
_LIST_SEPARATORS = re.compile(r"\s*[,、\n]\s*")


class JpDate(date):
    """A date that prints the way Japanese notices write it: ``2025年4月1日``."""

    def __str__(self) -> str:
        return f"{self.year}年{self.month}月{self.day}日"

    @property
    def weekday_ja(self) -> str:
        return _WEEKDAYS_JA[self.weekday()]


class TextList(list[_T]):
    """A list that prints its items joined with the Japanese comma ``、``."""

    def __str__(self) -> str:
        return "、".join(str(item) for item in self)


@dataclass(frozen=True)
class SerialRange:
    """An inclusive range of serial numbers of the same length, compared as text."""

    start: str
    end: str

    def __str__(self) -> str:
        return self.start if self.start == self.end else f"{self.start}〜{self.end}"

    def contains(self, serial: str) -> bool:
        serial = serial.strip()
        return len(serial) == len(self.start) and self.start <= serial <= self.end


def jdate(value: object, weekday: bool = False) -> str:
    """Jinja filter: ``2025年4月1日`` (and ``（火）`` with ``weekday=True``)."""
    if not isinstance(value, date):
        raise ValueError(f"jdate needs a date, got {type(value).__name__}")
    d = value if isinstance(value, JpDate) else JpDate(value.year, value.month, value.day)
    return f"{d}（{d.weekday_ja}）" if weekday else str(d)


def num(value: object) -> str:
    """Jinja filter: an integer with thousands separators (``48,000``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"num needs an integer, got {type(value).__name__}")
    return f"{value:,}"


def _as_items(value: object) -> list[object]:
    if isinstance(value, str):
        return [part for part in _LIST_SEPARATORS.split(value.strip()) if part]
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return list(value)
    return [value]


def _serial_range(item: object) -> SerialRange:
    if isinstance(item, SerialRange):
        return item
    if isinstance(item, Mapping):
        start, end = item.get("start"), item.get("end")
        if not isinstance(start, str | int) or not isinstance(end, str | int):
            raise ValueError("a serial range mapping needs 'start' and 'end'")
        start, end = str(start), str(end)
    elif isinstance(item, str | int):
        parts = _RANGE_SEPARATORS.split(str(item).strip())
        if len(parts) > 2 or not all(parts):
            raise ValueError(f"{item!r} is not a serial or a range like 'A0001〜A0999'")
        start, end = parts[0], parts[-1]
    else:
        raise ValueError(f"{item!r} is not a serial range")
    if len(start) != len(end):
        raise ValueError(f"serial range {start}〜{end}: start and end must have the same length")
    if start > end:
        raise ValueError(f"serial range {start}〜{end}: start is after end")
    return SerialRange(start, end)


def coerce_value(type_: ParamType, value: object) -> object:
    """Turn a launch value (or an example) into what templates receive; ValueError if wrong."""
    if type_ in ("str", "phone"):
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be non-empty text")
        if type_ == "phone" and not _PHONE.match(value):
            raise ValueError(f"{value!r} is not a phone number like 0120-123-456")
        return value
    if type_ == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be an integer")
        return value
    if type_ == "date":
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"{value!r} is not a date like 2025-04-01") from None
        if not isinstance(value, date):
            raise ValueError("must be a date like 2025-04-01")
        return JpDate(value.year, value.month, value.day)
    if type_ == "serial_ranges":
        ranges = TextList(_serial_range(item) for item in _as_items(value))
        if not ranges:
            raise ValueError("needs at least one serial range")
        return ranges
    lots: TextList[str] = TextList()
    for item in _as_items(value):
        if not isinstance(item, str | int) or not str(item).strip():
            raise ValueError(f"{item!r} is not a lot number")
        lots.append(str(item).strip())
    if not lots:
        raise ValueError("needs at least one lot number")
    return lots
