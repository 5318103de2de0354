from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hikeshi.workforce.roster import (
    BreakRule,
    Roster,
    RosterError,
    ShiftPattern,
    build_roster,
    default_patterns,
)
from hikeshi.workforce.roster_lp import covering_lp
from hikeshi.workforce.roster_search import Candidate, place_breaks

JST = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 11, 24, tzinfo=JST)
QUARTER = timedelta(minutes=15)

DAY = ShiftPattern(
    "日勤",
    (time(9, 0),),
    540,
    (
        BreakRule(15, time(10, 0), time(11, 30), "午前"),
        BreakRule(60, time(11, 30), time(13, 30), "昼"),
        BreakRule(15, time(15, 0), time(17, 0), "午後"),
    ),
    cost_per_hour=2000,
)
NIGHT = ShiftPattern(
    "夜勤",
    (time(22, 0),),
    540,
    (BreakRule(60, time(1, 0), time(4, 0), "仮眠"),),
    cost_per_hour=2500,
)
PART = ShiftPattern(
    "パート", (time(10, 0), time(13, 0), time(17, 0)), 240, source="temp", cost_per_hour=1500
)


def at(hour: int, minute: int = 0) -> int:
    return (hour * 60 + minute) // 15


def add_cover(
    required: list[int], first: int, end: int, breaks: Sequence[tuple[int, int]] = ()
) -> None:
    for t in range(max(0, first), min(len(required), end)):
        if not any(lo <= t < hi for lo, hi in breaks):
            required[t] += 1


def recount(roster: Roster) -> list[int]:
    """Agents on the floor per interval, recomputed from the assignments and their breaks."""
    counts = [0] * len(roster.required)
    for shift in roster.assignments:
        moment = shift.start
        while moment < shift.end:
            index = round((moment - roster.start) / QUARTER)
            on_break = any(b.start <= moment < b.end for b in shift.breaks)
            if 0 <= index < len(counts) and not on_break:
                counts[index] += 1
            moment += QUARTER
    return counts


def known_requirement() -> list[int]:
    """What two night agents from the day before, three day agents with staggered lunches,
    three part-timers and one night agent cover: a roster that fits it exactly exists."""
    required = [0] * 96
    add_cover(required, at(0), at(7), [(at(1), at(2))])
    add_cover(required, at(0), at(7), [(at(2), at(3))])
    for lunch in (at(11, 30), at(12, 30), at(12, 30)):
        add_cover(
            required,
            at(9),
            at(18),
            [(at(10), at(10, 15)), (lunch, lunch + 4), (at(15, 30), at(15, 45))],
        )
    add_cover(required, at(13), at(17))
    add_cover(required, at(13), at(17))
    add_cover(required, at(17), at(21))
    add_cover(required, at(22), at(24))
    return required


# -- covering ----------------------------------------------------------------------------------


def test_covers_a_known_requirement_exactly() -> None:
    required = known_requirement()
    roster = build_roster(required, START, [DAY, NIGHT, PART])
    assert roster.staffed == tuple(required)
    assert roster.under_total == roster.over_total == 0
    assert roster.gap == (0,) * 96
    assert roster.over_lower_bound == 0 and roster.optimality_gap == 0
    assert sorted(a.pattern for a in roster.assignments) == sorted(
        ["夜勤"] * 3 + ["日勤"] * 3 + ["パート"] * 3
    )
    assert recount(roster) == required


def test_breaks_are_placed_inside_their_windows_and_staggered() -> None:
    required = known_requirement()
    roster = build_roster(required, START, [DAY, NIGHT, PART])
    lunches = []
    for shift in roster.assignments:
        if shift.pattern != "日勤":
            continue
        by_label = {b.label: b for b in shift.breaks}
        assert set(by_label) == {"午前", "昼", "午後"}
        lunch = by_label["昼"]
        assert lunch.end - lunch.start == timedelta(hours=1)
        assert START.replace(hour=11, minute=30) <= lunch.start
        assert lunch.end <= START.replace(hour=13, minute=30)
        lunches.append(lunch.start.time())
    assert sorted(lunches) == [time(11, 30), time(12, 30), time(12, 30)]


def test_night_shift_crosses_midnight_with_its_break_after_midnight() -> None:
    required = [0] * 96
    add_cover(required, at(22), at(24))
    roster = build_roster(required, START, [NIGHT])
    assert roster.under_total == 0
    (shift,) = roster.assignments
    assert shift.start == START.replace(hour=22)
    assert shift.end == START.replace(hour=7) + timedelta(days=1)
    (nap,) = shift.breaks
    assert START.replace(hour=1) + timedelta(days=1) <= nap.start
    assert nap.end <= START.replace(hour=4) + timedelta(days=1)


def test_staffed_counts_exclude_agents_on_break() -> None:
    required = [2] * 96
    roster = build_roster(required, START, default_patterns())
    assert recount(roster) == list(roster.staffed)
    assert roster.under_total == 0
    assert all(s >= 2 for s in roster.staffed)
    by_source = [sum(v[i] for v in roster.staffed_by_source.values()) for i in range(96)]
    assert by_source == list(roster.staffed)


# -- overstaffing and its lower bound ----------------------------------------------------------


def test_forced_overstaffing_is_found_and_proved_optimal() -> None:
    # One agent for one quarter-hour, but the only shift lasts four hours without a break.
    required = [0] * 96
    required[at(12)] = 1
    roster = build_roster(required, START, [PART])
    assert roster.under_total == 0
    assert roster.over_total == 15
    assert roster.over_lower_bound == 15
    assert roster.optimality_gap == 0


def test_lower_bound_never_exceeds_the_roster() -> None:
    required = [max(0, 12 - abs(i - 50) // 3) + (i % 7 == 0) for i in range(96)]
    roster = build_roster(required, START, default_patterns())
    assert roster.under_total == 0
    assert roster.over_lower_bound is not None
    assert 0 < roster.over_lower_bound <= roster.over_total
    assert roster.optimality_gap == roster.over_total - roster.over_lower_bound


def test_without_the_lp_the_greedy_still_covers_but_proves_nothing() -> None:
    required = known_requirement()
    roster = build_roster(required, START, [DAY, NIGHT, PART], lp_iterations=0)
    assert roster.under_total == 0
    assert roster.over_lower_bound is None and roster.optimality_gap is None
    assert recount(roster) == list(roster.staffed)


def test_covering_lp_matches_a_hand_computed_value() -> None:
    # Requirement 1 in intervals 0..5 of ten; shifts of 4 intervals may start at 0, 1, 2 or 4.
    # Interval 0 needs the start-0 shift, interval 5 one starting at 2 or 4: 8 agent-intervals.
    required = [1] * 6 + [0] * 4
    candidates = [
        Candidate(pattern=0, first=s, length=4, windows=(), labels=(), limit_keys=(), cost=0)
        for s in (0, 1, 2, 4)
    ]
    bound = covering_lp(required, candidates, 0, 10, 200)
    assert bound.optimal
    assert bound.value == pytest.approx(8.0)


def test_break_programme_puts_breaks_on_the_cheapest_intervals_in_order() -> None:
    prices = [5, 1, 1, 9, 0, 0, 7, 7]
    cost, starts = place_breaks([(0, 3, 2), (3, 6, 2)], lambda p, n: float(sum(prices[p : p + n])))
    assert starts == (1, 4)
    assert cost == 2.0


# -- limits, availability, cost ----------------------------------------------------------------


def test_per_day_limit_leaves_a_shortfall_that_the_bound_explains() -> None:
    limited = ShiftPattern("パート", (time(10, 0),), 240, source="temp", max_per_day=2)
    required = [0] * 96
    for t in range(at(10), at(14)):
        required[t] = 3
    roster = build_roster(required, START, [limited])
    assert len(roster.assignments) == 2
    assert roster.under_total == 16 == roster.under_lower_bound
    assert roster.over_lower_bound is None and roster.optimality_gap is None
    assert roster.under[at(10)] == 1 and roster.over[at(10)] == 0
    assert roster.notes


def test_pool_limit_caps_patterns_sharing_a_pool() -> None:
    early = ShiftPattern("A", (time(8, 0),), 240, pool="own")
    late = ShiftPattern("B", (time(12, 0),), 240, pool="own")
    required = [0] * 96
    for t in range(at(8), at(16)):
        required[t] = 2
    roster = build_roster(required, START, [early, late], pool_limits={"own": 3})
    assert len(roster.assignments) == 3
    assert roster.under_total == 16  # one agent short through one of the 4-hour blocks


def test_bpo_is_not_rostered_before_it_is_available() -> None:
    ready = START.replace(hour=12)
    bpo = ShiftPattern(
        "BPO", tuple(time(h) for h in range(24)), 240, source="bpo", available_from=ready
    )
    required = [1] * 96
    roster = build_roster(required, START, [bpo])
    assert all(a.start >= ready for a in roster.assignments)
    assert roster.under[: at(12)] == (1,) * at(12)
    assert roster.under[at(12) :] == (0,) * (96 - at(12))


def test_cheaper_staff_wins_when_coverage_is_equal() -> None:
    own = ShiftPattern("自社", (time(9, 0),), 240, cost_per_hour=2000)
    bpo = ShiftPattern("BPO", (time(9, 0),), 240, source="bpo", cost_per_hour=3500)
    required = [0] * 96
    for t in range(at(9), at(13)):
        required[t] = 4
    roster = build_roster(required, START, [bpo, own])
    assert [a.pattern for a in roster.assignments] == ["自社"] * 4
    assert roster.cost == pytest.approx(4 * 4 * 2000)


def test_to_dict_is_json_ready() -> None:
    roster = build_roster(known_requirement(), START, [DAY, NIGHT, PART])
    data = json.loads(json.dumps(roster.to_dict(), allow_nan=False))
    assert data["start"] == "2026-11-24T00:00:00+09:00"
    assert len(data["gap"]) == 96
    assert data["assignments"][0]["breaks"][0]["label"] == "仮眠"


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"starts": (time(9, 10),)}, "15-minute grid"),
        ({"minutes": 50}, "multiple of 15"),
        ({"breaks": (BreakRule(60, time(8, 0), time(9, 30)),)}, "outside the shift"),
        ({"breaks": (BreakRule(60, time(12, 0), time(12, 30)),)}, "shorter than the break"),
        (
            {"breaks": (BreakRule(60, 60, 120, "a"), BreakRule(60, 60, 150, "b"))},
            "cannot fit",
        ),
        ({"source": "agency"}, "source"),
    ],
)
def test_bad_patterns_name_the_problem(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"name": "日勤", "starts": (time(9, 0),), "minutes": 540}
    fields.update(kwargs)
    with pytest.raises(RosterError, match=message):
        ShiftPattern(**fields)  # type: ignore[arg-type]


def test_bad_requirements_and_starts_are_refused() -> None:
    with pytest.raises(RosterError, match="interval 3"):
        build_roster([1, 1, 1, -1], START, [PART])
    with pytest.raises(RosterError, match="15-minute grid"):
        build_roster([1], START + timedelta(minutes=5), [PART])
    with pytest.raises(RosterError, match="timezone-aware"):
        build_roster([1], datetime(2026, 11, 24), [PART])
    with pytest.raises(RosterError, match="duplicate"):
        build_roster([1], START, [PART, PART])


def test_start_in_another_zone_is_read_as_jst() -> None:
    roster = build_roster([0] * 4, datetime(2026, 11, 23, 15, 0, tzinfo=UTC), [PART])
    assert roster.start == START
    assert roster.assignments == ()
