"""Pure rules of escalation: promise words, policy levels and calendars."""

from __future__ import annotations

from datetime import datetime

import pytest

from hikeshi.calendar import BusinessCalendar
from hikeshi.cases.actions import due_for_promise
from hikeshi.cases.policies import target_department, validate_calendar, validate_levels
from hikeshi.clock import JST
from hikeshi.errors import ValidationFailed

FRIDAY_1750 = datetime(2026, 11, 20, 17, 50, tzinfo=JST)  # Monday 11/23: 勤労感謝の日


@pytest.mark.parametrize(
    ("words", "due"),
    [
        ("本日中", datetime(2026, 11, 20, 18, 0, tzinfo=JST)),
        ("今日中", datetime(2026, 11, 20, 18, 0, tzinfo=JST)),
        ("翌営業日まで", datetime(2026, 11, 24, 18, 0, tzinfo=JST)),
        ("2時間以内", datetime(2026, 11, 24, 10, 50, tzinfo=JST)),
        ("２時間以内に折り返します", datetime(2026, 11, 24, 10, 50, tzinfo=JST)),
    ],
)
def test_promises_on_the_friday_before_a_holiday(words: str, due: datetime) -> None:
    assert due_for_promise(words, calendar=BusinessCalendar(), now=FRIDAY_1750) == due


def test_promises_on_a_24_7_calendar_are_plain_hours() -> None:
    cal = BusinessCalendar.always_open()
    assert due_for_promise("2時間以内", calendar=cal, now=FRIDAY_1750) == datetime(
        2026, 11, 20, 19, 50, tzinfo=JST
    )


@pytest.mark.parametrize("words", ["そのうち", "0時間以内", "999時間以内", ""])
def test_unknown_promise_names_the_field(words: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        due_for_promise(words, calendar=BusinessCalendar(), now=FRIDAY_1750)
    assert "promise" in err.value.fields


def test_levels_are_checked_with_their_index() -> None:
    assert validate_levels([{"target": "department:法務", "ack_minutes": 15}]) == [
        {"target": "department:法務", "ack_minutes": 15}
    ]
    assert target_department("department:経営") is not None
    assert target_department("supervisor") is None
    for levels, field in [
        ([], "levels"),
        ([{"target": "supervisor", "ack_minutes": 5}] * 6, "levels"),
        ([{"target": "supervisor", "ack_minutes": 1441}], "levels[0].ack_minutes"),
        (
            [{"target": "supervisor", "ack_minutes": 5}, {"target": "boss", "ack_minutes": 5}],
            "levels[1].target",
        ),
        ([{"target": "department:営業", "ack_minutes": 5}], "levels[0].target"),
    ]:
        with pytest.raises(ValidationFailed) as err:
            validate_levels(levels)
        assert field in err.value.fields


def test_calendar_errors_name_the_field() -> None:
    assert validate_calendar({"always_open": True}) == {"always_open": True}
    with pytest.raises(ValidationFailed) as err:
        validate_calendar({"hours": {"mon": []}})
    assert list(err.value.fields) == ["calendar.hours.tue"]
