"""Erlang C: published values, a 40-digit mpmath reference from 0.1 to 50,000 Erlangs, the
required-agents search against a plain scan, and the documented edge cases."""

from __future__ import annotations

import math

import pytest

from hikeshi.workforce import (
    ErlangError,
    ServiceTarget,
    TargetUnreachable,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    erlang_c_required_agents,
    metrics_per_interval,
    offered_load,
    required_agents_per_interval,
    scheduled_agents,
)
from hikeshi.workforce._erlang_numerics import _TEMME_D
from tests.unit.workforce import mp_reference
from tests.unit.workforce.temme_table import temme_coefficients

TARGET_80_20 = ServiceTarget(0.8, 20)


# -- published values ---------------------------------------------------------------------


def test_call_centre_helper_worked_example() -> None:
    # Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example":
    # 100 calls in 30 minutes, AHT 180 s, 80 % in 20 s, 30 % shrinkage. The article finds
    # 14 agents: P(wait) 17.41 %, service level 88.84 %, ASA 7.8 s, occupancy 71.4 %, and
    # 20 agents to schedule (also pyworkforce's ErlangC docstring example).
    load = offered_load(100, 180, 1800)
    need = erlang_c_required_agents(load=load, aht_seconds=180, target=TARGET_80_20, shrinkage=0.3)
    assert load == 10.0
    assert need.agents_on_phones == 14
    assert need.agents_scheduled == 20
    assert need.metrics.waiting_probability == pytest.approx(0.1741, abs=5e-5)
    assert need.metrics.service_level == pytest.approx(0.8884, abs=5e-5)
    assert need.metrics.average_speed_of_answer == pytest.approx(7.8, abs=0.05)
    assert need.metrics.occupancy == pytest.approx(0.714, abs=5e-4)
    # The same article's first step: 11 agents on 10 Erlangs wait 68.21 % of the time.
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=5e-5)


@pytest.mark.parametrize(
    ("lines", "load"), [(5, 1.36), (10, 4.46), (20, 12.03), (50, 37.90), (100, 84.06)]
)
def test_erlang_b_table_at_one_percent_blocking(lines: int, load: float) -> None:
    # Standard Erlang B tables (grade of service 0.01), e.g. ITU-T E.520's traffic tables.
    assert erlang_b(lines, load) == pytest.approx(0.01, abs=2e-4)


# -- high-precision reference ----------------------------------------------------------------


@pytest.mark.parametrize("load", [0.1, 10.0, 99.5, 1000.0, 4999.7, 50000.0])
def test_service_level_matches_mpmath_to_1e_12(load: float) -> None:
    need = erlang_c_required_agents(load=load, aht_seconds=360, target=TARGET_80_20)
    base = need.agents_on_phones
    spread = max(3, int(3 * math.sqrt(load)))
    for agents in sorted({math.floor(load) + 1, base - 1, base, base + 1, base + spread}):
        if agents <= load:
            continue
        ours = erlang_c_metrics(agents, load=load, aht_seconds=360, answer_within_seconds=20)
        reference = mp_reference.erlang_c_service_level(agents, load, 360, 20)
        assert abs(ours.service_level - float(reference)) < 1e-12, agents


@pytest.mark.parametrize("load", [0.1, 3.0, 40.0, 150.0, 1000.0, 50000.0])
def test_erlang_b_relative_error_below_1e_13(load: float) -> None:
    # Every route of the implementation: recurrence, Temme near the load, the series below
    # and above it (B itself is astronomically small farther out).
    for agents in {
        1,
        7,
        99,
        101,
        int(load * 0.7),
        int(load) - 3,
        int(load),
        int(load) + 1,
        int(load * 1.05) + 2,
        int(load + 8 * math.sqrt(load)) + 1,
    }:
        if agents < 0:
            continue
        reference = mp_reference.erlang_b(agents, load)
        assert abs(erlang_b(agents, load) / float(reference) - 1.0) < 1e-13, agents


def test_temme_coefficients_regenerate_exactly() -> None:
    table = temme_coefficients(len(_TEMME_D), len(_TEMME_D[0]))
    assert [[float(v) for v in row] for row in table] == [list(row) for row in _TEMME_D]


def test_fifty_thousand_erlangs_neither_overflow_nor_lose_precision() -> None:
    need = erlang_c_required_agents(load=50000.0, aht_seconds=360, target=TARGET_80_20)
    m = need.metrics
    assert need.agents_on_phones > 50000
    assert all(math.isfinite(v) for v in (m.waiting_probability, m.average_speed_of_answer))
    reference = mp_reference.erlang_c_service_level(need.agents_on_phones, 50000.0, 360, 20)
    assert abs(m.service_level - float(reference)) < 1e-12
    assert m.service_level >= 0.8
    below = erlang_c_metrics(
        need.agents_on_phones - 1, load=50000.0, aht_seconds=360, answer_within_seconds=20
    )
    assert below.service_level < 0.8


# -- required agents ------------------------------------------------------------------------


def _scan_minimum(load: float, aht: float, target: ServiceTarget) -> int:
    """The obvious way: try every stable agent count upward from scratch."""
    agents = math.floor(load) + 1
    while True:
        m = erlang_c_metrics(
            agents, load=load, aht_seconds=aht, answer_within_seconds=target.answer_within_seconds
        )
        if m.service_level >= target.service_level and m.occupancy <= target.max_occupancy:
            return agents
        agents += 1


@pytest.mark.parametrize("load", [0.1, 0.9, 2.5, 17.3, 40.0, 99.99, 101.2, 640.0, 3000.5])
@pytest.mark.parametrize("target", [TARGET_80_20, ServiceTarget(0.95, 10, max_occupancy=0.9)])
def test_required_agents_is_the_smallest_count_meeting_the_target(
    load: float, target: ServiceTarget
) -> None:
    need = erlang_c_required_agents(load=load, aht_seconds=300, target=target)
    assert need.agents_on_phones == _scan_minimum(load, 300, target)
    assert need.metrics.agents == need.agents_on_phones


def test_occupancy_cap_binds_and_says_so() -> None:
    # 5,000 Erlangs need only about 5,022 agents for 80/20, i.e. 99.6 % occupancy.
    capped = erlang_c_required_agents(
        load=5000.0, aht_seconds=360, target=ServiceTarget(0.8, 20, max_occupancy=0.85)
    )
    assert capped.agents_on_phones == math.ceil(5000.0 / 0.85)
    assert capped.limited_by == ("occupancy",)
    assert capped.metrics.occupancy <= 0.85
    free = erlang_c_required_agents(load=5000.0, aht_seconds=360, target=TARGET_80_20)
    assert free.limited_by == ("service_level",)
    assert free.agents_on_phones < capped.agents_on_phones


def test_shrinkage_schedules_enough_agents() -> None:
    assert scheduled_agents(100, 0.2) == 125  # not 126 from float noise
    assert scheduled_agents(14, 0.3) == 20
    assert scheduled_agents(7, 0.0) == 7
    need = erlang_c_required_agents(load=40.0, aht_seconds=360, target=TARGET_80_20, shrinkage=0.35)
    assert need.agents_scheduled == math.ceil(need.agents_on_phones / 0.65)
    assert math.floor(need.agents_scheduled * 0.65) >= need.agents_on_phones


def test_answer_time_zero_means_no_wait_at_all() -> None:
    m = erlang_c_metrics(12, load=10.0, aht_seconds=180, answer_within_seconds=0)
    assert m.service_level == pytest.approx(1.0 - m.waiting_probability, abs=1e-15)


# -- edge cases ------------------------------------------------------------------------------


def test_zero_traffic_needs_no_agents() -> None:
    need = erlang_c_required_agents(load=0.0, aht_seconds=360, target=TARGET_80_20, shrinkage=0.3)
    assert (need.agents_on_phones, need.agents_scheduled, need.limited_by) == (0, 0, ())
    assert need.metrics.service_level == 1.0
    assert need.metrics.waiting_probability == 0.0
    assert erlang_c(5, 0.0) == 0.0


def test_unstable_queue_is_reported_not_raised() -> None:
    m = erlang_c_metrics(40, load=40.0, aht_seconds=360, answer_within_seconds=20)
    assert (m.waiting_probability, m.service_level, m.occupancy) == (1.0, 0.0, 1.0)
    assert m.average_speed_of_answer == math.inf
    assert erlang_c(3, 7.5) == 1.0


def test_hundred_percent_target_is_unreachable() -> None:
    with pytest.raises(TargetUnreachable, match="service_level: 100 %"):
        erlang_c_required_agents(load=3.0, aht_seconds=60, target=ServiceTarget(1.0, 30))
    # ... unless nobody calls.
    none = erlang_c_required_agents(load=0.0, aht_seconds=60, target=ServiceTarget(1.0, 30))
    assert none.agents_on_phones == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: offered_load(10, 0, 900), "aht_seconds: must be a finite number > 0"),
        (lambda: offered_load(-1, 180, 900), "calls: must be a finite number >= 0"),
        (lambda: offered_load(10, 180, 0), "interval_seconds"),
        (lambda: erlang_c(-1, 3.0), "agents: must be a whole number >= 0"),
        (lambda: erlang_c(2.5, 3.0), "agents"),  # type: ignore[arg-type]
        (lambda: erlang_b(3, math.nan), "load"),
        (lambda: erlang_c_metrics(3, load=-2.0, aht_seconds=1, answer_within_seconds=1), "load"),
        (
            lambda: erlang_c_metrics(3, load=2.0, aht_seconds=0, answer_within_seconds=1),
            "aht_seconds",
        ),
        (
            lambda: erlang_c_metrics(3, load=2.0, aht_seconds=1, answer_within_seconds=-1),
            "answer_within_seconds",
        ),
        (lambda: ServiceTarget(0.0, 20), r"service_level: must be in \(0, 1\]"),
        (lambda: ServiceTarget(1.2, 20), "service_level"),
        (lambda: ServiceTarget(0.8, -5), "answer_within_seconds"),
        (lambda: ServiceTarget(0.8, 20, max_occupancy=0), "max_occupancy"),
        (lambda: scheduled_agents(10, 1.0), r"shrinkage: must be in \[0, 1\)"),
        (
            lambda: erlang_c_required_agents(load=5.0, aht_seconds=math.inf, target=TARGET_80_20),
            "aht_seconds",
        ),
    ],
)
def test_bad_input_is_refused_by_name(call: object, message: str) -> None:
    with pytest.raises(ErlangError, match=message):
        call()  # type: ignore[operator]


# -- a whole plan ----------------------------------------------------------------------------


def test_plan_per_interval_uses_erlang_c_or_a_and_names_bad_intervals() -> None:
    calls = [0.0, 100.0, 12500.0, 100.0]  # 0, 40, 5,000 and 40 Erlangs at AHT 360 s
    plain = required_agents_per_interval(calls, aht_seconds=360, target=TARGET_80_20)
    patient = required_agents_per_interval(
        calls, aht_seconds=360, target=TARGET_80_20, patience_seconds=120
    )
    assert [r.metrics.model for r in plain] == ["erlang_c"] * 4
    assert [r.metrics.model for r in patient] == ["erlang_a"] * 4
    assert plain[0].agents_on_phones == patient[0].agents_on_phones == 0
    assert plain[1] == erlang_c_required_agents(load=40.0, aht_seconds=360, target=TARGET_80_20)
    assert patient[2].agents_on_phones < 5000 < plain[2].agents_on_phones
    achieved = metrics_per_interval(
        [r.agents_on_phones for r in patient],
        calls,
        aht_seconds=[360, 360, 360, 360],
        answer_within_seconds=20,
        patience_seconds=120,
    )
    assert [m.service_level for m in achieved] == [r.metrics.service_level for r in patient]
    with pytest.raises(ErlangError, match="interval 2: aht_seconds: must be a finite number > 0"):
        required_agents_per_interval(calls, aht_seconds=[360, 360, 0, 360], target=TARGET_80_20)
    with pytest.raises(TargetUnreachable, match="interval 1: service_level"):
        required_agents_per_interval(calls, aht_seconds=360, target=ServiceTarget(1.0, 20))
    with pytest.raises(ErlangError, match="aht_seconds: 2 values for 4 intervals"):
        required_agents_per_interval(calls, aht_seconds=[360, 300], target=TARGET_80_20)
    with pytest.raises(ErlangError, match="agents_per_interval: 3 values for 4 intervals"):
        metrics_per_interval([1, 2, 3], calls, aht_seconds=360, answer_within_seconds=20)
