from __future__ import annotations

import random
import types
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import hikeshi.calendar
from hikeshi.calendar import BusinessCalendar, holiday_name, is_jp_holiday

JST = ZoneInfo("Asia/Tokyo")
OFFICE = BusinessCalendar()
LUNCH_DAY = ((time(9, 0), time(12, 0)), (time(13, 0), time(18, 0)))
LUNCH = BusinessCalendar(hours=(LUNCH_DAY,) * 5 + ((), ()))


def jst(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=JST)


def test_public_surface_is_complete() -> None:
    exported = hikeshi.calendar.__all__
    public = {
        name
        for name, value in vars(hikeshi.calendar).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert len(exported) == len(set(exported))
    assert set(exported) == public


# -- the case: 17:50 on the Friday before a public holiday -----------------------------


def test_monday_2026_11_23_is_a_public_holiday() -> None:
    assert is_jp_holiday(date(2026, 11, 23))
    assert holiday_name(date(2026, 11, 23)) == "勤労感謝の日"
    assert holiday_name(date(2026, 11, 24)) is None


def test_callback_promised_friday_1750_before_holiday_is_due_tuesday() -> None:
    promised = jst(2026, 11, 20, 17, 50)
    due = OFFICE.add_business_time(promised, timedelta(hours=2))
    assert due == jst(2026, 11, 24, 10, 50)
    assert due.tzinfo is JST


def test_same_answer_from_a_utc_input() -> None:
    promised = jst(2026, 11, 20, 17, 50).astimezone(UTC)
    assert OFFICE.add_business_time(promised, timedelta(hours=2)) == jst(2026, 11, 24, 10, 50)


def test_today_promised_at_1750_friday_is_1800_friday() -> None:
    assert OFFICE.end_of_business_day(jst(2026, 11, 20, 17, 50)) == jst(2026, 11, 20, 18)


def test_today_promised_after_hours_friday_is_tuesday_close() -> None:
    assert OFFICE.end_of_business_day(jst(2026, 11, 20, 18, 30)) == jst(2026, 11, 24, 18)
    assert OFFICE.end_of_business_day(jst(2026, 11, 20, 18, 0)) == jst(2026, 11, 24, 18)


def test_today_before_opening_is_that_days_close() -> None:
    assert OFFICE.end_of_business_day(jst(2026, 11, 20, 7, 0)) == jst(2026, 11, 20, 18)


def test_today_promised_on_the_holiday_is_tuesday_close() -> None:
    assert OFFICE.end_of_business_day(jst(2026, 11, 23, 10)) == jst(2026, 11, 24, 18)


def test_by_next_business_day() -> None:
    assert OFFICE.next_business_day_end(jst(2026, 11, 20, 10)) == jst(2026, 11, 24, 18)
    assert OFFICE.next_business_day_end(jst(2026, 11, 24, 10)) == jst(2026, 11, 25, 18)
    # 23:30 UTC Thursday is already 08:30 Friday in Tokyo
    assert OFFICE.next_business_day_end(datetime(2026, 11, 19, 23, 30, tzinfo=UTC)) == jst(
        2026, 11, 24, 18
    )


def test_business_days() -> None:
    assert OFFICE.is_business_day(date(2026, 11, 20))
    assert not OFFICE.is_business_day(date(2026, 11, 21))  # Saturday
    assert not OFFICE.is_business_day(date(2026, 11, 23))  # 勤労感謝の日
    assert OFFICE.next_business_day(date(2026, 11, 20)) == date(2026, 11, 24)
    assert OFFICE.next_business_day(date(2026, 11, 24)) == date(2026, 11, 25)
    # an aware datetime is read as its Tokyo date
    assert not OFFICE.is_business_day(datetime(2026, 11, 22, 15, 30, tzinfo=UTC))  # Mon 00:30 JST


def test_holidays_can_be_ignored() -> None:
    cal = BusinessCalendar(observe_holidays=False)
    assert cal.add_business_time(jst(2026, 11, 20, 17, 50), timedelta(hours=2)) == jst(
        2026, 11, 23, 10, 50
    )


# -- open, next open ---------------------------------------------------------------------------


def test_is_open_is_half_open() -> None:
    assert OFFICE.is_open(jst(2026, 11, 20, 9, 0))
    assert OFFICE.is_open(jst(2026, 11, 20, 17, 59))
    assert not OFFICE.is_open(jst(2026, 11, 20, 18, 0))
    assert not OFFICE.is_open(jst(2026, 11, 20, 8, 59))
    assert not OFFICE.is_open(jst(2026, 11, 23, 12, 0))


def test_next_open() -> None:
    t = jst(2026, 11, 20, 10, 15)
    assert OFFICE.next_open(t) == t
    assert OFFICE.next_open(jst(2026, 11, 20, 18)) == jst(2026, 11, 24, 9)
    assert OFFICE.next_open(jst(2026, 11, 24, 6)) == jst(2026, 11, 24, 9)


def test_deadline_on_a_closing_time_is_that_closing_time() -> None:
    assert OFFICE.add_business_time(jst(2026, 11, 20, 16), timedelta(hours=2)) == jst(
        2026, 11, 20, 18
    )


def test_zero_and_negative_delta() -> None:
    closed = jst(2026, 11, 21, 12)
    assert OFFICE.add_business_time(closed, timedelta(0)) == closed
    with pytest.raises(ValueError, match="negative"):
        OFFICE.add_business_time(closed, timedelta(minutes=-1))


# -- Golden Week, 年末年始 ------------------------------------------------------------------------


def test_golden_week_2026() -> None:
    # 5/3 Sun, 5/4 Mon, 5/5 Tue, 5/6 Wed (振替休日): Friday 5/1 → Thursday 5/7
    for d in (date(2026, 4, 29), date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6)):
        assert not OFFICE.is_business_day(d)
    assert OFFICE.add_business_time(jst(2026, 5, 1, 17), timedelta(hours=2)) == jst(2026, 5, 7, 10)
    assert OFFICE.end_of_business_day(jst(2026, 5, 1, 18, 30)) == jst(2026, 5, 7, 18)
    assert OFFICE.business_time_between(jst(2026, 4, 28, 9), jst(2026, 5, 8, 18)) == timedelta(
        hours=9 * 5
    )


def test_year_end_closure_is_an_option() -> None:
    start = jst(2026, 12, 28, 17)
    assert OFFICE.add_business_time(start, timedelta(hours=2)) == jst(2026, 12, 29, 10)
    closing = BusinessCalendar(year_end_closure=True)
    assert closing.add_business_time(start, timedelta(hours=2)) == jst(2027, 1, 4, 10)
    assert closing.next_business_day(date(2026, 12, 28)) == date(2027, 1, 4)
    assert closing.end_of_business_day(jst(2026, 12, 30, 11)) == jst(2027, 1, 4, 18)


def test_extra_closed_and_open_dates() -> None:
    cal = BusinessCalendar(
        closed_dates=frozenset({date(2026, 11, 24)}),
        open_dates=frozenset({date(2026, 11, 21), date(2026, 11, 23)}),
    )
    assert cal.is_business_day(date(2026, 11, 21))  # Saturday opened for a recall
    assert cal.opening_intervals(date(2026, 11, 21)) == (
        (jst(2026, 11, 21, 9), jst(2026, 11, 21, 18)),
    )
    assert cal.is_business_day(date(2026, 11, 23))  # holiday opened
    assert not cal.is_business_day(date(2026, 11, 24))
    assert cal.add_business_time(jst(2026, 11, 20, 17, 50), timedelta(hours=2)) == jst(
        2026, 11, 21, 10, 50
    )


# -- lunch break -------------------------------------------------------------------------------


def test_lunch_break() -> None:
    assert not LUNCH.is_open(jst(2026, 11, 20, 12, 30))
    assert LUNCH.next_open(jst(2026, 11, 20, 12, 30)) == jst(2026, 11, 20, 13)
    assert LUNCH.add_business_time(jst(2026, 11, 20, 11, 30), timedelta(hours=1)) == jst(
        2026, 11, 20, 13, 30
    )
    assert LUNCH.business_time_between(jst(2026, 11, 20, 9), jst(2026, 11, 20, 18)) == timedelta(
        hours=8
    )
    # 「本日中」 during lunch is still today
    assert LUNCH.end_of_business_day(jst(2026, 11, 20, 12, 15)) == jst(2026, 11, 20, 18)
    # Friday 17:00 + 3h: 1h Friday, Monday holiday, 9–11 Tuesday
    assert LUNCH.add_business_time(jst(2026, 11, 20, 17), timedelta(hours=3)) == jst(
        2026, 11, 24, 11
    )


# -- 24/7 --------------------------------------------------------------------------------------


def test_always_open() -> None:
    cal = BusinessCalendar.always_open()
    assert cal.is_always_open
    start = jst(2026, 11, 20, 17, 50)
    assert cal.add_business_time(start, timedelta(hours=2)) == jst(2026, 11, 20, 19, 50)
    assert cal.add_business_time(start, timedelta(days=3)) == jst(2026, 11, 23, 17, 50)
    assert cal.is_open(jst(2026, 11, 23, 3))
    assert cal.is_business_day(date(2026, 11, 23))
    assert cal.business_time_between(start, jst(2026, 11, 24, 17, 50)) == timedelta(days=4)
    assert cal.end_of_business_day(start) == jst(2026, 11, 21)
    assert cal.next_business_day_end(start) == jst(2026, 11, 22)
    assert not OFFICE.is_always_open


def test_desk_open_until_midnight() -> None:
    late = ((time(9), time(0)),)
    cal = BusinessCalendar(hours=(late,) * 7, observe_holidays=False)
    assert cal.is_open(jst(2026, 11, 20, 23, 59))
    assert not cal.is_open(jst(2026, 11, 21, 0, 0))
    assert cal.add_business_time(jst(2026, 11, 20, 23), timedelta(hours=2)) == jst(2026, 11, 21, 10)
    assert cal.end_of_business_day(jst(2026, 11, 20, 10)) == jst(2026, 11, 21, 0)


# -- business time between, naive refusal -----------------------------------------------------


def test_business_time_between() -> None:
    a, b = jst(2026, 11, 20, 17), jst(2026, 11, 24, 10)
    assert OFFICE.business_time_between(a, b) == timedelta(hours=2)
    assert OFFICE.business_time_between(b, a) == -timedelta(hours=2)
    assert OFFICE.business_time_between(a, a) == timedelta(0)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: OFFICE.is_open(t),
        lambda t: OFFICE.next_open(t),
        lambda t: OFFICE.add_business_time(t, timedelta(hours=1)),
        lambda t: OFFICE.business_time_between(t, jst(2026, 11, 20)),
        lambda t: OFFICE.end_of_business_day(t),
        lambda t: OFFICE.next_business_day_end(t),
        lambda t: OFFICE.is_business_day(t),
    ],
)
def test_naive_datetime_is_refused(call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match="naive"):
        call(datetime(2026, 11, 20, 17, 50))


# -- construction ------------------------------------------------------------------------------


def test_calendar_is_hashable_and_normalised() -> None:
    unsorted = ((time(13), time(18)), (time(9), time(12)))
    cal = BusinessCalendar(hours=(unsorted,) * 5 + ((), ()))
    assert cal == LUNCH
    assert hash(cal) == hash(LUNCH)
    assert len({cal, LUNCH, OFFICE}) == 2


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ((((time(18), time(9)),),) * 7, r"hours\.mon\[0\]: start 18:00 must be before end 09:00"),
        (
            (((time(9), time(13)), (time(12), time(18))),) * 7,
            r"hours\.mon: intervals overlap",
        ),
        ((((time(9, 0, 30), time(18)),),) * 7, r"hours\.mon\[0\]: times must be whole minutes"),
        (((),) * 7, "never open"),
        (((),) * 6, "7 entries"),
    ],
)
def test_invalid_hours(hours: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(hours=hours)  # type: ignore[arg-type]


def test_date_both_open_and_closed_is_refused() -> None:
    d = frozenset({date(2026, 11, 24)})
    with pytest.raises(ValueError, match="open_dates: 2026-11-24 also listed in closed_dates"):
        BusinessCalendar(closed_dates=d, open_dates=d)


# -- performance: jumps by interval, not by minute --------------------------------------------


def test_thirty_days_of_business_time_walks_days_not_minutes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = 0
    original = BusinessCalendar.opening_intervals

    def counting(self: BusinessCalendar, d: date) -> tuple[tuple[datetime, datetime], ...]:
        nonlocal calls
        calls += 1
        return original(self, d)

    monkeypatch.setattr(BusinessCalendar, "opening_intervals", counting)
    due = LUNCH.add_business_time(jst(2026, 11, 20, 17, 50), timedelta(days=30))
    assert LUNCH.is_open(due - timedelta(minutes=1))
    assert calls < 200  # 720 h / 8 h a day = 90 business days ≈ 130 calendar days


# -- properties (fixed seed) -------------------------------------------------------------------


@pytest.mark.parametrize("cal", [OFFICE, LUNCH, BusinessCalendar(year_end_closure=True)])
def test_adding_is_associative_and_inverts_between(cal: BusinessCalendar) -> None:
    rng = random.Random(20261120)
    for _ in range(60):
        start = jst(2026, 1, 1) + timedelta(minutes=rng.randrange(0, 366 * 24 * 60))
        a = timedelta(minutes=rng.randrange(0, 5 * 24 * 60))
        b = timedelta(minutes=rng.randrange(0, 5 * 24 * 60))
        once = cal.add_business_time(start, a + b)
        twice = cal.add_business_time(cal.add_business_time(start, a), b)
        assert once == twice, (start, a, b)
        if a + b:
            assert cal.business_time_between(start, once) == a + b
            assert cal.is_open(once - timedelta(minutes=1))
