from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hikeshi.calendar import (
    SLA_STATE_LABELS,
    BusinessCalendar,
    SlaClock,
    SlaState,
    pause_events,
)

JST = ZoneInfo("Asia/Tokyo")
OFFICE = BusinessCalendar()
FOUR_HOURS = SlaClock(OFFICE, timedelta(hours=4))


def jst(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=JST)


def test_japanese_labels() -> None:
    assert dict(SLA_STATE_LABELS) == {
        SlaState.ON_TRACK: "対応中",
        SlaState.AT_RISK: "期限間近",
        SlaState.BREACHED: "期限超過",
        SlaState.PAUSED: "保留",
        SlaState.DONE: "完了",
    }
    assert SlaState.AT_RISK.label == "期限間近"
    assert SlaState("breached") is SlaState.BREACHED


def test_on_track_then_at_risk_then_breached() -> None:
    events = [("start", jst(2026, 11, 16, 9))]  # Monday
    s = FOUR_HOURS.status(events, jst(2026, 11, 16, 12))
    assert (s.state, s.elapsed, s.remaining) == (
        SlaState.ON_TRACK,
        timedelta(hours=3),
        timedelta(hours=1),
    )
    assert s.due_at == jst(2026, 11, 16, 13)
    assert not s.breached

    s = FOUR_HOURS.status(events, jst(2026, 11, 16, 12, 12))  # 48 min left = 20 %
    assert s.state is SlaState.AT_RISK
    assert s.remaining == timedelta(minutes=48)

    s = FOUR_HOURS.status(events, jst(2026, 11, 16, 13))
    assert s.state is SlaState.BREACHED
    assert s.remaining == timedelta(0)
    assert s.due_at == jst(2026, 11, 16, 13)
    assert s.breached

    s = FOUR_HOURS.status(events, jst(2026, 11, 17, 10))
    assert s.state is SlaState.BREACHED
    assert s.elapsed == timedelta(hours=10)
    assert s.due_at == jst(2026, 11, 16, 13)  # when it was breached


def test_warn_before_overrides_the_fraction() -> None:
    clock = SlaClock(OFFICE, timedelta(hours=4), warn_before=timedelta(minutes=30))
    events = [("start", jst(2026, 11, 16, 9))]
    assert clock.status(events, jst(2026, 11, 16, 12, 12)).state is SlaState.ON_TRACK
    assert clock.status(events, jst(2026, 11, 16, 12, 30)).state is SlaState.AT_RISK


def test_clock_stands_still_outside_business_hours() -> None:
    events = [("start", jst(2026, 11, 20, 16))]  # Friday before 勤労感謝の日
    friday = FOUR_HOURS.status(events, jst(2026, 11, 20, 18))
    holiday = FOUR_HOURS.status(events, jst(2026, 11, 23, 15))
    assert friday.elapsed == holiday.elapsed == timedelta(hours=2)
    assert holiday.due_at == jst(2026, 11, 24, 11)


def test_pause_and_resume_across_a_weekend() -> None:
    events = [
        ("start", jst(2026, 11, 13, 16)),  # Friday
        ("pause", jst(2026, 11, 13, 17)),  # waiting on the customer
        ("resume", jst(2026, 11, 16, 10)),  # Monday
    ]
    paused = FOUR_HOURS.status(events, jst(2026, 11, 16, 9, 30))
    assert paused.state is SlaState.PAUSED
    assert paused.elapsed == timedelta(hours=1)
    assert paused.due_at is None

    s = FOUR_HOURS.status(events, jst(2026, 11, 16, 12))
    assert s.state is SlaState.ON_TRACK
    assert s.elapsed == timedelta(hours=3)  # 16–17 Friday, 10–12 Monday
    assert s.due_at == jst(2026, 11, 16, 13)

    assert events == pause_events(
        jst(2026, 11, 13, 16), [(jst(2026, 11, 13, 17), jst(2026, 11, 16, 10))]
    )


def test_open_pause_from_intervals() -> None:
    events = pause_events(jst(2026, 11, 16, 9), [(jst(2026, 11, 16, 11), None)])
    s = FOUR_HOURS.status(events, jst(2026, 11, 18, 9))
    assert (s.state, s.elapsed, s.due_at) == (SlaState.PAUSED, timedelta(hours=2), None)


def test_breached_wins_over_paused() -> None:
    events = [("start", jst(2026, 11, 16, 9)), ("pause", jst(2026, 11, 16, 14))]
    s = FOUR_HOURS.status(events, jst(2026, 11, 16, 15))
    assert s.state is SlaState.BREACHED
    assert s.due_at == jst(2026, 11, 16, 13)


def test_done_on_time_and_late() -> None:
    on_time = [("start", jst(2026, 11, 16, 9)), ("stop", jst(2026, 11, 16, 11))]
    s = FOUR_HOURS.status(on_time, jst(2026, 11, 18, 9))
    assert (s.state, s.elapsed, s.breached, s.due_at) == (
        SlaState.DONE,
        timedelta(hours=2),
        False,
        None,
    )
    late = [("start", jst(2026, 11, 16, 9)), ("stop", jst(2026, 11, 16, 15))]
    s = FOUR_HOURS.status(late, jst(2026, 11, 18, 9))
    assert (s.state, s.breached, s.due_at) == (SlaState.DONE, True, jst(2026, 11, 16, 13))


def test_stop_while_paused() -> None:
    events = [
        ("start", jst(2026, 11, 16, 9)),
        ("pause", jst(2026, 11, 16, 10)),
        ("stop", jst(2026, 11, 16, 15)),
    ]
    s = FOUR_HOURS.status(events, jst(2026, 11, 16, 16))
    assert (s.state, s.elapsed) == (SlaState.DONE, timedelta(hours=1))


def test_restart_recomputes_from_stored_events_in_any_order_and_zone() -> None:
    events = [
        ("resume", datetime(2026, 11, 16, 1, 0, tzinfo=UTC)),  # 10:00 JST
        ("start", jst(2026, 11, 13, 16)),
        ("pause", jst(2026, 11, 13, 17)),
    ]
    s = FOUR_HOURS.status(events, datetime(2026, 11, 16, 3, 0, tzinfo=UTC))
    assert (s.state, s.elapsed) == (SlaState.ON_TRACK, timedelta(hours=3))


def test_events_after_now_are_ignored() -> None:
    events = [("start", jst(2026, 11, 16, 9)), ("stop", jst(2026, 11, 16, 11))]
    s = FOUR_HOURS.status(events, jst(2026, 11, 16, 10))
    assert (s.state, s.elapsed, s.due_at) == (
        SlaState.ON_TRACK,
        timedelta(hours=1),
        jst(2026, 11, 16, 13),
    )


def test_24_7_policy() -> None:
    clock = SlaClock(BusinessCalendar.always_open(), timedelta(hours=4))
    events = [("start", jst(2026, 11, 21, 22))]  # Saturday night
    s = clock.status(events, jst(2026, 11, 22, 1))
    assert (s.state, s.elapsed, s.due_at) == (
        SlaState.ON_TRACK,
        timedelta(hours=3),
        jst(2026, 11, 22, 2),
    )


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "has not started"),
        ([("pause", jst(2026, 11, 16, 9))], r"events\[0\]: 'pause' before 'start'"),
        ([("begin", jst(2026, 11, 16, 9))], r"events\[0\]: unknown kind 'begin'"),
        (
            [("start", jst(2026, 11, 16, 9)), ("start", jst(2026, 11, 16, 10))],
            r"events\[1\]: 'start' given twice",
        ),
        (
            [("start", jst(2026, 11, 16, 9)), ("resume", jst(2026, 11, 16, 10))],
            r"events\[1\]: 'resume' while not paused",
        ),
        (
            [
                ("start", jst(2026, 11, 16, 9)),
                ("pause", jst(2026, 11, 16, 10)),
                ("pause", jst(2026, 11, 16, 11)),
            ],
            r"events\[2\]: 'pause' while already paused",
        ),
        (
            [
                ("start", jst(2026, 11, 16, 9)),
                ("stop", jst(2026, 11, 16, 10)),
                ("resume", jst(2026, 11, 16, 11)),
            ],
            r"events\[2\]: 'resume' after 'stop'",
        ),
        ([("start", datetime(2026, 11, 16, 9))], r"events\[0\]: naive datetime"),
    ],
)
def test_bad_events(events: list[tuple[str, datetime]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FOUR_HOURS.status(events, jst(2026, 11, 18))


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        FOUR_HOURS.status([("start", jst(2026, 11, 16, 9))], datetime(2026, 11, 16, 12))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": timedelta(0)}, "^target: must be positive"),
        ({"warn_fraction": 1.0}, r"^warn_fraction: must be in \[0, 1\)"),
        ({"warn_before": timedelta(hours=5)}, "^warn_before: must be"),
    ],
)
def test_invalid_clock(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"target": timedelta(hours=4), **kwargs}
    with pytest.raises(ValueError, match=message):
        SlaClock(OFFICE, **args)  # type: ignore[arg-type]
