from __future__ import annotations

import inspect
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import hikeshi.workforce.wellbeing as wellbeing_module
from hikeshi.workforce.stress_check import (
    BJSQ_23,
    BJSQ_57,
    STRESS_CHECK_ROLE,
    StressCheckAccessDenied,
    StressCheckError,
    StressCheckForm,
    score_stress_check,
)
from hikeshi.workforce.wellbeing import (
    BreakRecord,
    CallRecord,
    FlagRecord,
    Recommendation,
    WellbeingError,
    WellbeingPolicy,
    care_board,
    exposure,
    flag_severity,
    recommendations,
)

JST = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=JST)
SECOND = timedelta(seconds=1)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def call(
    call_id: str,
    start: datetime,
    length: timedelta | None,
    *,
    operator: str = "op-A",
    caller: str | None = None,
    queue: str = "recall",
) -> CallRecord:
    end = None if length is None else start + length
    return CallRecord(call_id, operator, start, end, caller, queue)


def flag(call_id: str, at: datetime, severity: int = 2, category: str = "abuse") -> FlagRecord:
    return FlagRecord(call_id, at, severity, category, seconds=8.0)


def kinds(
    calls: list[CallRecord],
    flags: list[FlagRecord],
    kind: str,
    breaks: tuple[BreakRecord, ...] = (),
    policy: WellbeingPolicy | None = None,
) -> list[Recommendation]:
    found = recommendations(calls, flags, now=NOW, breaks=breaks, policy=policy)
    return [r for r in found if r.kind == kind]


# -- cool-down after a severe call -------------------------------------------------------------


def severe_call(
    ended_ago: timedelta, severity: int = 3
) -> tuple[list[CallRecord], list[FlagRecord]]:
    start = NOW - ended_ago - minutes(10)
    return [call("c1", start, minutes(10))], [flag("c1", start + minutes(2), severity, "threat")]


def test_cooldown_fires_right_up_to_the_end_of_its_window() -> None:
    calls, flags = severe_call(ended_ago=minutes(30))
    (rec,) = kinds(calls, flags, "cooldown")
    assert rec.operator_id == "op-A" and rec.minutes == 15
    assert [e.call_id for e in rec.evidence] == ["c1"]
    assert rec.evidence[0].max_severity == 3
    assert "クールダウン" in rec.reason
    calls, flags = severe_call(ended_ago=minutes(30) + SECOND)
    assert kinds(calls, flags, "cooldown") == []


def test_cooldown_needs_the_severity_threshold() -> None:
    calls, flags = severe_call(ended_ago=minutes(5), severity=2)
    assert kinds(calls, flags, "cooldown") == []
    lower = WellbeingPolicy(cooldown_severity=2)
    assert len(kinds(calls, flags, "cooldown", policy=lower)) == 1


def test_cooldown_is_quiet_once_a_break_has_started_after_the_call() -> None:
    calls, flags = severe_call(ended_ago=minutes(5))
    ended = NOW - minutes(5)
    taken = (BreakRecord("op-A", ended, ended + minutes(15)),)
    assert kinds(calls, flags, "cooldown", breaks=taken) == []
    before = (BreakRecord("op-A", ended - SECOND, ended),)
    assert len(kinds(calls, flags, "cooldown", breaks=before)) == 1
    someone_else = (BreakRecord("op-B", ended, ended + minutes(15)),)
    assert len(kinds(calls, flags, "cooldown", breaks=someone_else)) == 1


def test_cooldown_waits_for_the_call_to_end() -> None:
    start = NOW - minutes(3)
    calls = [call("c1", start, None)]
    assert kinds(calls, [flag("c1", start + minutes(1), 3)], "cooldown") == []


# -- rotation after repeated exposure ----------------------------------------------------------


def flagged_calls(
    count: int, first_flag: datetime, length: timedelta = minutes(5)
) -> tuple[list[CallRecord], list[FlagRecord]]:
    calls, flags = [], []
    for i in range(count):
        flag_at = first_flag + i * minutes(20)
        calls.append(call(f"r{i}", flag_at - minutes(1), length))
        flags.append(flag(f"r{i}", flag_at, severity=1))
    return calls, flags


def test_rotation_fires_at_three_flagged_calls_and_not_at_two() -> None:
    calls, flags = flagged_calls(3, NOW - minutes(90))
    (rec,) = kinds(calls, flags, "rotation")
    assert rec.queue == "recall" and rec.minutes == 60
    assert [e.call_id for e in rec.evidence] == ["r0", "r1", "r2"]
    assert "カスハラ通話3件" in rec.reason
    calls, flags = flagged_calls(2, NOW - minutes(90))
    assert kinds(calls, flags, "rotation") == []


def test_rotation_window_is_closed_at_its_start() -> None:
    calls, flags = flagged_calls(3, NOW - timedelta(hours=2))
    assert len(kinds(calls, flags, "rotation")) == 1
    calls, flags = flagged_calls(3, NOW - timedelta(hours=2) - SECOND)
    assert kinds(calls, flags, "rotation") == []


def test_rotation_fires_on_minutes_at_the_threshold() -> None:
    calls, flags = flagged_calls(2, NOW - minutes(100), length=minutes(20))
    (rec,) = kinds(calls, flags, "rotation")
    assert "合計40分" in rec.reason
    calls, flags = flagged_calls(2, NOW - minutes(100), length=minutes(20) - SECOND / 2)
    assert kinds(calls, flags, "rotation") == []


def test_rotation_names_the_hot_queue() -> None:
    calls = [
        call("q1", NOW - minutes(60), minutes(5), queue="general"),
        call("q2", NOW - minutes(40), minutes(5), queue="recall"),
        call("q3", NOW - minutes(20), minutes(5), queue="recall"),
    ]
    flags = [flag(c.call_id, c.started_at + minutes(1), 1) for c in calls]
    (rec,) = kinds(calls, flags, "rotation")
    assert rec.queue == "recall"


# -- ペア対応 for flagged callers ----------------------------------------------------------------


def test_pair_handling_after_two_flagged_calls_from_one_caller() -> None:
    calls = [
        call("p1", NOW - timedelta(days=3), minutes(5), caller="caller-9", operator="op-A"),
        call("p2", NOW - timedelta(hours=1), minutes(5), caller="caller-9", operator="op-B"),
    ]
    flags = [flag("p1", calls[0].started_at + SECOND, 1), flag("p2", calls[1].started_at, 1)]
    (rec,) = kinds(calls, flags, "pair_handling")
    assert rec.caller_key == "caller-9" and rec.operator_id is None
    assert [e.call_id for e in rec.evidence] == ["p1", "p2"]
    assert "ペア対応" in rec.reason
    assert kinds(calls, flags[1:], "pair_handling") == []  # one flagged call of severity 1


def test_pair_handling_after_one_severe_call() -> None:
    calls = [call("p1", NOW - minutes(30), minutes(5), caller="caller-9")]
    assert kinds(calls, [flag("p1", NOW - minutes(28), 2)], "pair_handling") == []
    (rec,) = kinds(calls, [flag("p1", NOW - minutes(28), 3)], "pair_handling")
    assert "重度" in rec.reason


def test_pair_handling_window_edge_and_unknown_callers() -> None:
    old_start = NOW - timedelta(days=30) - minutes(1)
    calls = [
        call("p1", old_start, minutes(5), caller="caller-9"),
        call("p2", NOW - minutes(10), minutes(5), caller="caller-9"),
        call("p3", NOW - minutes(50), minutes(5)),
        call("p4", NOW - minutes(40), minutes(5)),
    ]
    on_edge = [flag("p1", NOW - timedelta(days=30), 1), flag("p2", NOW - minutes(9), 1)]
    assert len(kinds(calls, on_edge, "pair_handling")) == 1
    past_edge = [flag("p1", NOW - timedelta(days=30) - SECOND, 1), flag("p2", NOW - minutes(9), 1)]
    assert kinds(calls, past_edge, "pair_handling") == []
    anonymous = [flag("p3", NOW - minutes(49), 3), flag("p4", NOW - minutes(39), 3)]
    assert kinds(calls, anonymous, "pair_handling") == []


# -- 声なきSOS ---------------------------------------------------------------------------------


def shift_of_calls(gap: timedelta, long_minutes: float) -> list[CallRecord]:
    """Four calls in the last two hours: a long one, then three each ``gap`` after the last."""
    first = call("s0", NOW - minutes(100), minutes(long_minutes))
    calls = [first]
    for i in range(1, 4):
        previous = calls[-1]
        assert previous.ended_at is not None
        calls.append(call(f"s{i}", previous.ended_at + gap, minutes(5)))
    return calls


def test_silent_sos_needs_two_signals() -> None:
    calls = shift_of_calls(gap=minutes(5), long_minutes=30)
    two_flags = [flag("s2", calls[2].started_at, 1), flag("s3", calls[3].started_at, 1)]
    (rec,) = kinds(calls, two_flags, "silent_sos")
    assert rec.operator_id == "op-A"
    assert len(rec.signals) == 2
    assert {e.call_id for e in rec.evidence} == {"s0", "s2", "s3"}
    assert "声なきSOS" in rec.reason and "長時間通話1件" in rec.reason
    assert kinds(calls, two_flags[:1], "silent_sos") == []  # only the long call remains


def test_silent_sos_long_call_edge() -> None:
    def flags_for(calls: list[CallRecord]) -> list[FlagRecord]:
        return [flag("s2", calls[2].started_at, 1), flag("s3", calls[3].started_at, 1)]

    exactly = shift_of_calls(gap=minutes(5), long_minutes=30)
    assert len(kinds(exactly, flags_for(exactly), "silent_sos")) == 1
    short_of = shift_of_calls(gap=minutes(5), long_minutes=30 - 1 / 60)
    assert kinds(short_of, flags_for(short_of), "silent_sos") == []


def test_silent_sos_short_gaps_are_strictly_below_the_threshold() -> None:
    quick = shift_of_calls(gap=timedelta(seconds=59), long_minutes=10)
    one_flag = [flag("s1", quick[1].started_at, 1)]
    assert kinds(quick, one_flag, "silent_sos") == []  # gaps alone: one signal
    two_flags = [*one_flag, flag("s3", quick[3].started_at, 1)]
    (rec,) = kinds(quick, two_flags, "silent_sos")
    assert any("60秒未満" in s for s in rec.signals)
    spaced = shift_of_calls(gap=timedelta(seconds=60), long_minutes=10)
    spaced_flags = [flag("s1", spaced[1].started_at, 1), flag("s3", spaced[3].started_at, 1)]
    assert kinds(spaced, spaced_flags, "silent_sos") == []


# -- exposure and the supervisor's board -------------------------------------------------------


def test_exposure_clips_minutes_to_the_window_and_counts_ongoing_calls() -> None:
    calls = [
        call("e1", NOW - minutes(70), minutes(20)),  # 13:50-14:10
        call("e2", NOW - minutes(10), None),  # still on the line
        call("e3", NOW - minutes(30), minutes(5)),  # not flagged
    ]
    flags = [flag("e1", NOW - minutes(55), 2), flag("e2", NOW - minutes(5), 3, "threat")]
    seen = exposure("op-A", calls, flags, now=NOW, window=timedelta(hours=1))
    assert seen.flagged_calls == 2
    assert seen.flagged_minutes == pytest.approx(10 + 10)
    assert seen.max_severity == 3
    assert seen.flagged_seconds == pytest.approx(16.0)
    assert seen.call_ids == ("e1", "e2")
    nobody = exposure("op-Z", calls, flags, now=NOW, window=timedelta(hours=1))
    assert (nobody.flagged_calls, nobody.max_severity) == (0, 0)


def test_board_puts_silent_sos_first_then_cooldown_then_the_rest() -> None:
    sos_calls = shift_of_calls(gap=minutes(5), long_minutes=30)
    sos_flags = [flag("s2", sos_calls[2].started_at, 1), flag("s3", sos_calls[3].started_at, 1)]
    cooled = call("b1", NOW - minutes(20), minutes(10), operator="op-C")
    quiet = call("b2", NOW - minutes(20), minutes(10), operator="op-B")
    board = care_board(
        [*sos_calls, cooled, quiet],
        [*sos_flags, flag("b1", NOW - minutes(15), 3, "threat")],
        now=NOW,
    )
    assert [row.operator_id for row in board.operators] == ["op-A", "op-C", "op-B"]
    assert board.operators[0].recommendations[0].kind == "silent_sos"
    assert [r.kind for r in board.operators[1].recommendations] == ["cooldown"]
    assert not board.operators[2].needs_care
    assert len(board.operators[0].exposures) == 3
    assert [r.kind for r in board.callers] == []


def test_the_board_cannot_carry_stress_check_answers() -> None:
    assert not any("stress" in name for name in inspect.signature(care_board).parameters)
    assert not any(
        getattr(value, "__module__", "") == "hikeshi.workforce.stress_check"
        for value in vars(wellbeing_module).values()
    )
    calls, flags = severe_call(ended_ago=minutes(5))
    text = json.dumps(care_board(calls, flags, now=NOW).to_dict(), ensure_ascii=False)
    assert "stress" not in text and "ストレス" not in text


def test_flag_severity_from_triage_categories() -> None:
    assert flag_severity(["threat"]) == 3
    assert flag_severity(["abuse", "long_hold"]) == 2
    assert flag_severity(["long_hold"]) == 1
    assert flag_severity(["long_hold"], anger_level=3) == 3
    assert flag_severity([]) == 0


def test_bad_records_name_themselves() -> None:
    with pytest.raises(WellbeingError, match="severity"):
        FlagRecord("c1", NOW, 4)
    with pytest.raises(WellbeingError, match="naive"):
        CallRecord("c1", "op-A", datetime(2026, 11, 24, 15, 0))
    with pytest.raises(WellbeingError, match="before started_at"):
        CallRecord("c1", "op-A", NOW, NOW - SECOND)
    with pytest.raises(WellbeingError, match="unknown call c9"):
        recommendations([call("c1", NOW, None)], [flag("c9", NOW)], now=NOW)
    with pytest.raises(WellbeingError, match="sos_min_signals"):
        WellbeingPolicy(sos_min_signals=4)


# -- the stress check --------------------------------------------------------------------------


def answers_for(form: StressCheckForm, points: dict[str, list[int]]) -> dict[str, list[int]]:
    """Turn stress points (4 = most stress) back into printed answers."""
    return {
        area: [5 - p if (area, n) in form.reversed_items else p for n, p in enumerate(ps, 1)]
        for area, ps in points.items()
    }


def spread(total: int, items: int) -> list[int]:
    """``items`` points between 1 and 4 adding up to ``total``."""
    assert items <= total <= 4 * items
    base, extra = divmod(total - items, 3)
    return [4] * base + ([1 + extra] if base < items else []) + [1] * (items - base - 1)


def bjsq23(a: int, b: int, c: int) -> dict[str, list[int]]:
    return answers_for(BJSQ_23, {"A": spread(a, 6), "B": spread(b, 11), "C": spread(c, 6)})


def test_stress_check_refuses_every_other_role_before_reading_answers() -> None:
    for role in ("supervisor", "manager", "admin", "operator"):
        with pytest.raises(StressCheckAccessDenied):
            score_stress_check({"A": [99]}, viewer_role=role)


def test_high_stress_by_stress_reactions_alone_at_31() -> None:
    high = score_stress_check(bjsq23(6, 31, 6), viewer_role=STRESS_CHECK_ROLE)
    assert high.high_stress and high.totals == {"A": 6, "B": 31, "C": 6}
    assert high.criterion is not None and "B" in high.criterion
    assert not score_stress_check(bjsq23(6, 30, 6), viewer_role=STRESS_CHECK_ROLE).high_stress


def test_high_stress_by_stressors_and_support_with_reactions() -> None:
    assert score_stress_check(bjsq23(20, 23, 19), viewer_role=STRESS_CHECK_ROLE).high_stress
    assert not score_stress_check(bjsq23(20, 23, 18), viewer_role=STRESS_CHECK_ROLE).high_stress
    assert not score_stress_check(bjsq23(20, 22, 19), viewer_role=STRESS_CHECK_ROLE).high_stress


def test_reversed_workload_items_are_turned() -> None:
    answers = {"A": [1, 1, 1, 1, 1, 1], "B": [1] * 11, "C": [1] * 6}  # 「そうだ」 to everything
    result = score_stress_check(answers, viewer_role=STRESS_CHECK_ROLE)
    assert result.totals["A"] == 4 * 3 + 1 * 3


def test_full_57_item_form_threshold() -> None:
    def form57(b: int) -> dict[str, list[int]]:
        return answers_for(BJSQ_57, {"A": spread(17, 17), "B": spread(b, 29), "C": spread(9, 9)})

    assert score_stress_check(form57(77), viewer_role=STRESS_CHECK_ROLE, form=BJSQ_57).high_stress
    assert not score_stress_check(
        form57(76), viewer_role=STRESS_CHECK_ROLE, form=BJSQ_57
    ).high_stress


def test_stress_check_answers_are_validated() -> None:
    good = bjsq23(10, 20, 10)
    with pytest.raises(StressCheckError, match="area B: expected 11"):
        score_stress_check({**good, "B": [1] * 10}, viewer_role=STRESS_CHECK_ROLE)
    with pytest.raises(StressCheckError, match="C2"):
        score_stress_check({**good, "C": [1, 5, 1, 1, 1, 1]}, viewer_role=STRESS_CHECK_ROLE)
