from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hikeshi.playbooks.loader import discover_packs
from hikeshi.workforce import erlang
from hikeshi.workforce.plan import (
    PlanError,
    Requirement,
    StaffingAssumptions,
    StaffingPlan,
    actual_vs_plan,
    build_plan,
    on_phones_after_shrinkage,
)
from hikeshi.workforce.roster import ShiftPattern

JST = ZoneInfo("Asia/Tokyo")
ANNOUNCED = datetime(2026, 11, 24, 15, 0, tzinfo=JST)
BREACH = StaffingAssumptions(
    contact_rate=0.08,
    aht_seconds=540,
    target_percent=80,
    answer_within_seconds=30,
    peak_day=1,
    peak_day_share=0.35,
    duration_days=60,
    self_service_deflection=0.4,
    shrinkage=0.3,
    max_occupancy=0.85,
)
# Four-hour shifts at any quarter hour, no breaks: rosters that can follow any requirement.
FLEX = ShiftPattern("4h", tuple(time(h, m) for h in range(24) for m in (0, 15, 30, 45)), 240)


@dataclass
class PerTenCalls:
    """A stand-in queueing model: one agent on the phones per ten calls."""

    name: str = "per_ten"
    seen: list[int] = field(default_factory=list)

    def required(self, calls: Sequence[float]) -> list[Requirement]:
        return [Requirement(math.ceil(c / 10), math.ceil(c / 10 / 0.5), ()) for c in calls]

    def service_levels(self, calls: Sequence[float], agents: Sequence[int]) -> list[float]:
        self.seen = list(agents)
        return [min(1.0, a * 10 / c) if c else 1.0 for c, a in zip(calls, agents, strict=True)]


def small_plan(**overrides: object) -> StaffingPlan:
    kwargs: dict[str, object] = {"patterns": [FLEX]}
    kwargs.update(overrides)
    return build_plan(BREACH, 20_000, ANNOUNCED, timedelta(hours=6), **kwargs)  # type: ignore[arg-type]


def test_plan_rows_follow_forecast_model_and_roster_with_a_stand_in_model() -> None:
    model = PerTenCalls()
    plan = small_plan(model=model, simulate=lambda calls, agents: [0.5] * len(calls))
    assert plan.model == "per_ten"
    assert len(plan.intervals) == 24
    phone = plan.forecast.channel("phone")
    for i, row in enumerate(plan.intervals):
        assert row.start == ANNOUNCED + i * timedelta(minutes=15)
        assert row.phone_calls == phone[i]
        assert row.required_on_phones == math.ceil(phone[i] / 10)
        assert row.required_scheduled == math.ceil(phone[i] / 5)
        assert row.rostered == plan.roster.staffed[i]
        assert row.gap == row.rostered - row.required_scheduled
        assert row.simulated_service_level == 0.5
    assert plan.roster.required == tuple(r.required_scheduled for r in plan.intervals)
    assert model.seen == [on_phones_after_shrinkage(r.rostered, 0.3) for r in plan.intervals]


def test_erlang_c_plan_matches_the_formula_and_meets_the_target_where_covered() -> None:
    plan = small_plan()
    assert plan.model == "erlang_c"
    target = erlang.ServiceTarget(0.8, 30, max_occupancy=0.85)
    for row in plan.intervals:
        direct = erlang.erlang_c_required_agents(
            load=row.phone_calls / 900 * 540, aht_seconds=540, target=target, shrinkage=0.3
        )
        assert row.required_on_phones == direct.agents_on_phones
        assert row.required_scheduled == direct.agents_scheduled
        if row.gap >= 0:
            assert row.expected_service_level >= 0.8
    assert plan.roster.under_total == 0


def test_erlang_a_needs_patience_and_is_never_above_erlang_c() -> None:
    with pytest.raises(PlanError, match="patience_seconds"):
        small_plan(model="erlang_a")
    c_plan = small_plan()
    a_plan = small_plan(model="erlang_a", patience_seconds=120)
    assert a_plan.model == "erlang_a" and a_plan.patience_seconds == 120
    assert all(
        a.required_on_phones <= c.required_on_phones
        for a, c in zip(a_plan.intervals, c_plan.intervals, strict=True)
    )


def test_simulation_checks_the_roster_with_the_real_simulator() -> None:
    plan = small_plan(model="erlang_a", patience_seconds=120, simulate=True, simulation_seed=7)
    levels = [row.simulated_service_level for row in plan.intervals]
    assert all(level is not None and 0.0 <= level <= 1.0 for level in levels)
    again = small_plan(model="erlang_a", patience_seconds=120, simulate=True, simulation_seed=7)
    assert [row.simulated_service_level for row in again.intervals] == levels


def test_roster_shrinkage_overrides_the_head_count_the_roster_covers() -> None:
    plan = small_plan(roster_shrinkage=0.1)
    assert plan.roster_shrinkage == 0.1 and plan.shrinkage == 0.3
    for row in plan.intervals:
        assert row.required_scheduled == erlang.scheduled_agents(row.required_on_phones, 0.1)


def test_roster_effort_reaches_the_roster() -> None:
    plan = small_plan(roster_effort={"lp_iterations": 0, "lns_iterations": 0})
    assert plan.roster.over_lower_bound is None
    assert small_plan().roster.over_lower_bound is not None


def test_assumptions_from_every_playbook_pack_give_a_plan() -> None:
    packs = discover_packs()
    assert packs
    for pack in packs.values():
        assumptions = StaffingAssumptions.from_mapping(pack.staffing.model_dump())
        assert assumptions.target_percent == pack.staffing.service_level.target_percent
        plan = build_plan(assumptions, 5_000, ANNOUNCED, timedelta(hours=2), patterns=[FLEX])
        assert len(plan.intervals) == 8
        assert plan.roster.under_total == 0


def test_assumptions_refuse_unknown_or_missing_fields() -> None:
    with pytest.raises(PlanError, match="unknown fields contact_rates"):
        StaffingAssumptions.from_mapping({"contact_rates": 0.1})
    with pytest.raises(PlanError, match="missing fields aht_seconds"):
        StaffingAssumptions.from_mapping(
            {
                "contact_rate": 0.1,
                "service_level": {"target_percent": 80, "answer_within_seconds": 20},
                "peak_day": 1,
                "peak_day_share": 0.3,
                "duration_days": 30,
            }
        )


def test_plan_serialises_to_json_without_inf_or_nan() -> None:
    plan = small_plan(simulate=lambda calls, agents: [1.0] * len(calls))
    text = json.dumps(plan.to_dict(), allow_nan=False, ensure_ascii=False)
    data = json.loads(text)
    assert data["start"] == "2026-11-24T15:00:00+09:00"
    assert len(data["intervals"]) == 24
    assert data["roster"]["gap"] == [row["gap"] for row in data["intervals"]]


# -- actual against plan -----------------------------------------------------------------------


def test_actual_vs_plan_lines_up_sequences_and_pads_missing_intervals() -> None:
    plan = small_plan()
    planned = [row.phone_calls for row in plan.intervals]
    rows = actual_vs_plan(plan, [100, planned[1] * 2], [0.9, 0.7])
    assert len(rows) == 24
    assert rows[0].actual_calls == 100 and rows[0].difference == pytest.approx(100 - planned[0])
    assert rows[1].ratio == pytest.approx(2.0)
    assert rows[0].met_target is True and rows[1].met_target is False
    assert rows[2].actual_calls is None and rows[2].met_target is None
    assert rows[2].planned_service_level == plan.intervals[2].expected_service_level


def test_actual_vs_plan_buckets_timestamps_into_intervals() -> None:
    plan = small_plan()
    counts = {
        ANNOUNCED + timedelta(minutes=3): 40,
        ANNOUNCED + timedelta(minutes=14, seconds=59): 2,
        ANNOUNCED + timedelta(minutes=15): 7,
        ANNOUNCED - timedelta(minutes=1): 1000,  # before the plan: ignored
    }
    rows = actual_vs_plan(plan, counts, {ANNOUNCED + timedelta(minutes=20): 0.8})
    assert rows[0].actual_calls == 42 and rows[1].actual_calls == 7
    assert rows[1].actual_service_level == 0.8 and rows[1].met_target is True
    with pytest.raises(PlanError, match="two values"):
        actual_vs_plan(plan, {}, {ANNOUNCED: 0.8, ANNOUNCED + timedelta(minutes=1): 0.7})


def test_actual_vs_plan_refuses_bad_actuals() -> None:
    plan = small_plan()
    with pytest.raises(PlanError, match="interval 1: actual_counts"):
        actual_vs_plan(plan, [1, -1], [])
    with pytest.raises(PlanError, match="interval 0: actual_sl"):
        actual_vs_plan(plan, [], [80])
    with pytest.raises(PlanError, match="25 values"):
        actual_vs_plan(plan, [1] * 25, [])
    with pytest.raises(PlanError, match="naive"):
        actual_vs_plan(plan, {datetime(2026, 11, 24, 15, 0): 1}, [])
