from __future__ import annotations

import json
from datetime import date, time
from typing import Any

import pytest

from hikeshi.calendar import BusinessCalendar

WEEK = {
    "mon": [["09:00", "12:00"], ["13:00", "18:00"]],
    "tue": [["09:00", "18:00"]],
    "wed": [["09:00", "18:00"]],
    "thu": [["09:00", "18:00"]],
    "fri": [["09:00", "18:00"]],
    "sat": [["10:00", "24:00"]],
    "sun": [],
}


def test_defaults_from_empty_config() -> None:
    assert BusinessCalendar.from_config({}) == BusinessCalendar()


def test_round_trip_through_json() -> None:
    config = {
        "hours": WEEK,
        "observe_holidays": False,
        "year_end_closure": True,
        "closed_dates": ["2026-08-13", "2026-08-14"],
        "open_dates": ["2026-11-23"],
    }
    cal = BusinessCalendar.from_config(config)
    assert cal.hours[0] == ((time(9), time(12)), (time(13), time(18)))
    assert cal.hours[5] == ((time(10), time(0)),)
    assert cal.hours[6] == ()
    assert cal.closed_dates == {date(2026, 8, 13), date(2026, 8, 14)}
    dumped = cal.to_config()
    assert dumped == config
    assert BusinessCalendar.from_config(json.loads(json.dumps(dumped))) == cal


def test_always_open_config() -> None:
    cal = BusinessCalendar.from_config({"always_open": True})
    assert cal == BusinessCalendar.always_open()
    assert cal.to_config() == {"always_open": True}
    assert BusinessCalendar.from_config({"always_open": False}) == BusinessCalendar()


def _week(**changes: Any) -> dict[str, Any]:
    return {"hours": {**WEEK, **changes}}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"timezone": "UTC"}, r"^timezone: unknown field"),
        ({"always_open": "yes"}, r"^always_open: expected true or false"),
        ({"always_open": True, "hours": WEEK}, r"^hours: not allowed together with always_open"),
        ({"observe_holidays": 1}, r"^observe_holidays: expected true or false"),
        ({"year_end_closure": None}, r"^year_end_closure: expected true or false"),
        ({"hours": []}, r"^hours: expected an object"),
        ({"hours": {k: v for k, v in WEEK.items() if k != "sun"}}, r"^hours\.sun: missing"),
        (_week(monday=[]), r"^hours\.monday: unknown weekday"),
        (_week(tue="09:00-18:00"), r"^hours\.tue: expected a list"),
        (_week(wed=[["09:00"]]), r"^hours\.wed\[0\]: expected"),
        (_week(thu=[["9:00", "18:00"]]), r"^hours\.thu\[0\]: '9:00' is not a time"),
        (_week(fri=[["09:00", "25:00"]]), r"^hours\.fri\[0\]: '25:00' is not a time"),
        (_week(sat=[["24:00", "24:00"]]), r"^hours\.sat\[0\]: '24:00' is not a time"),
        (_week(mon=[["18:00", "09:00"]]), r"^hours\.mon\[0\]: start 18:00 must be before end"),
        (_week(mon=[["22:00", "02:00"]]), r"crossing midnight"),
        (_week(tue=[["09:00", "13:00"], ["12:00", "18:00"]]), r"^hours\.tue: intervals overlap"),
        ({"closed_dates": "2026-08-13"}, r"^closed_dates: expected a list"),
        ({"closed_dates": ["2026-13-01"]}, r"^closed_dates\[0\]: '2026-13-01' is not a date"),
        ({"open_dates": ["2026-11-23", 20261124]}, r"^open_dates\[1\]: 20261124 is not a date"),
        (
            {"closed_dates": ["2026-11-24"], "open_dates": ["2026-11-24"]},
            r"^open_dates: 2026-11-24 also listed in closed_dates",
        ),
        ({"hours": {day: [] for day in WEEK}}, r"^hours: the calendar is never open"),
    ],
)
def test_errors_name_the_field(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_config(config)
