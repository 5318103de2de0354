"""Erlang A: against the Markov chain itself (mpmath, 40 digits), against the closed form in
mpmath up to 50,000 Erlangs, true minimum staffing, the Erlang C limit, and edge cases."""

from __future__ import annotations

import itertools
import math

import pytest

from hikeshi.workforce import (
    ErlangError,
    QueueMetrics,
    ServiceTarget,
    TargetUnreachable,
    erlang_a_metrics,
    erlang_a_required_agents,
    erlang_c_metrics,
    erlang_c_required_agents,
)
from tests.unit.workforce import mp_reference

TARGET_80_20 = ServiceTarget(0.8, 20)


def _metrics(
    agents: int, load: float, patience: float = 120.0, within: float = 20.0
) -> QueueMetrics:
    return erlang_a_metrics(
        agents,
        load=load,
        aht_seconds=360,
        patience_seconds=patience,
        answer_within_seconds=within,
    )


@pytest.mark.parametrize(("agents", "load"), [(3, 2.5), (8, 6.0), (2, 4.0)])
def test_matches_the_markov_chain_definition(agents: int, load: float) -> None:
    # The reference uses no closed form: the stationary distribution state by state and the
    # tagged caller's chance to be answered in time from a matrix exponential.
    reference = mp_reference.erlang_a_tagged(agents, load, 360, 120, 20)
    ours = _metrics(agents, load)
    assert abs(ours.service_level - float(reference.service_level)) < 1e-13
    assert abs(ours.abandonment_probability - float(reference.abandonment)) < 1e-13
    assert abs(ours.waiting_probability - float(reference.waiting)) < 1e-13
    assert abs(ours.occupancy - float(reference.occupancy)) < 1e-13
    assert ours.average_speed_of_answer == pytest.approx(float(reference.asa), rel=1e-12)


def test_agrees_with_pyworkforce_service_level_definition() -> None:
    # pyworkforce 0.5.4 ErlangA(transactions=100, aht=360, asa=20, interval=900,
    # patience=120): service_level(42) = 0.8295920852610925 and abandonment_probability(42)
    # = 0.05607228938110308, computed by uniformisation of the tagged-caller chain.
    ours = _metrics(42, 40.0)
    assert ours.service_level == pytest.approx(0.8295920852610925, abs=1e-12)
    assert ours.abandonment_probability == pytest.approx(0.05607228938110308, abs=1e-12)


@pytest.mark.parametrize(
    ("load", "agents"),
    [
        (0.1, 1),
        (10.0, 9),
        (10.0, 13),
        (1000.0, 906),
        (1000.0, 700),
        (50000.0, 42859),
        (50000.0, 47000),
        (50000.0, 50100),
    ],
)
def test_matches_mpmath_closed_form_from_small_to_huge_load(load: float, agents: int) -> None:
    reference = mp_reference.erlang_a_closed_form(agents, load, 360, 120, 20)
    ours = _metrics(agents, load)
    assert abs(ours.service_level - float(reference.service_level)) < 1e-12
    assert abs(ours.abandonment_probability - float(reference.abandonment)) < 1e-12
    assert abs(ours.waiting_probability - float(reference.waiting)) < 1e-12
    assert abs(ours.occupancy - float(reference.occupancy)) < 1e-12
    assert ours.average_speed_of_answer == pytest.approx(float(reference.asa), rel=1e-11)
    assert ours.average_wait == pytest.approx(ours.abandonment_probability * 120, rel=1e-15)


def test_heavily_overloaded_fifty_thousand_erlangs_stays_finite() -> None:
    # 10,000 agents for 50,000 Erlangs: the queue sums pass 2**1000 before they turn down.
    m = _metrics(10000, 50000.0)
    assert all(math.isfinite(v) for v in m[4:])
    assert m.abandonment_probability == pytest.approx(0.8, abs=1e-3)  # fluid limit 1 − n/A
    assert m.occupancy <= 1.0
    assert m.service_level < 0.2


def _scan_minimum(load: float, target: ServiceTarget, patience: float) -> int:
    agents = 1
    while True:
        m = _metrics(agents, load, patience, target.answer_within_seconds)
        if (
            m.service_level >= target.service_level
            and m.abandonment_probability <= target.max_abandonment
            and m.occupancy <= target.max_occupancy
        ):
            return agents
        agents += 1


@pytest.mark.parametrize("load", [0.1, 1.0, 7.5, 40.0, 260.0])
@pytest.mark.parametrize(
    "target",
    [
        TARGET_80_20,
        ServiceTarget(0.9, 30, max_abandonment=0.03),
        ServiceTarget(0.6, 60, max_occupancy=0.85),
    ],
)
@pytest.mark.parametrize("patience", [30.0, 180.0])
def test_required_agents_is_the_true_minimum(
    load: float, target: ServiceTarget, patience: float
) -> None:
    need = erlang_a_required_agents(
        load=load, aht_seconds=360, patience_seconds=patience, target=target
    )
    assert need.agents_on_phones == _scan_minimum(load, target, patience)
    assert need.metrics.agents == need.agents_on_phones


def test_required_agents_can_be_below_the_offered_load() -> None:
    need = erlang_a_required_agents(
        load=5000.0, aht_seconds=360, patience_seconds=120, target=TARGET_80_20
    )
    assert need.agents_on_phones < 5000
    assert need.metrics.service_level >= 0.8
    assert _metrics(need.agents_on_phones - 1, 5000.0).service_level < 0.8
    assert need.limited_by == ("service_level",)


def test_limits_are_reported_when_they_bind() -> None:
    capped = erlang_a_required_agents(
        load=300.0,
        aht_seconds=360,
        patience_seconds=120,
        target=ServiceTarget(0.5, 20, max_abandonment=0.01),
    )
    assert capped.limited_by == ("abandonment",)
    assert capped.metrics.abandonment_probability <= 0.01
    assert _metrics(capped.agents_on_phones - 1, 300.0).abandonment_probability > 0.01


@pytest.mark.parametrize("load", [2.0, 40.0, 1000.0])
def test_metrics_are_monotone_in_agents(load: float) -> None:
    # Up to rounding: deep in overload the service level is ~1e-117, computed as a difference
    # of two sums of a thousand terms each, so it reads as noise of about 1e-15.
    rows = [_metrics(n, load) for n in range(1, int(load * 1.3) + 5)]
    for lower, upper in itertools.pairwise(rows):
        assert upper.service_level >= lower.service_level - 1e-14
        assert upper.abandonment_probability <= lower.abandonment_probability + 1e-14
        assert upper.occupancy <= lower.occupancy + 1e-14
        assert upper.waiting_probability <= lower.waiting_probability + 1e-14


def test_very_patient_callers_approach_erlang_c() -> None:
    patient = _metrics(46, 40.0, patience=3.6e6)
    plain = erlang_c_metrics(46, load=40.0, aht_seconds=360, answer_within_seconds=20)
    assert patient.service_level == pytest.approx(plain.service_level, abs=1e-4)
    assert patient.waiting_probability == pytest.approx(plain.waiting_probability, abs=1e-4)
    assert patient.abandonment_probability < 1e-5
    need_a = erlang_a_required_agents(
        load=40.0, aht_seconds=360, patience_seconds=3.6e6, target=TARGET_80_20
    )
    need_c = erlang_c_required_agents(load=40.0, aht_seconds=360, target=TARGET_80_20)
    assert need_a.agents_on_phones == need_c.agents_on_phones


# -- edge cases ------------------------------------------------------------------------------


def test_zero_traffic_and_zero_agents() -> None:
    idle = erlang_a_required_agents(
        load=0.0, aht_seconds=360, patience_seconds=60, target=TARGET_80_20, shrinkage=0.3
    )
    assert (idle.agents_on_phones, idle.agents_scheduled, idle.limited_by) == (0, 0, ())
    assert idle.metrics.service_level == 1.0
    nobody = _metrics(0, 5.0, patience=90.0)
    assert (nobody.service_level, nobody.abandonment_probability) == (0.0, 1.0)
    assert nobody.average_wait == 90.0
    assert nobody.average_speed_of_answer == math.inf


def test_unreachable_targets_raise() -> None:
    with pytest.raises(TargetUnreachable, match="service_level: 100 %"):
        erlang_a_required_agents(
            load=2.0, aht_seconds=360, patience_seconds=60, target=ServiceTarget(1.0, 20)
        )
    with pytest.raises(TargetUnreachable, match="max_abandonment: 0 %"):
        erlang_a_required_agents(
            load=2.0,
            aht_seconds=360,
            patience_seconds=60,
            target=ServiceTarget(0.8, 20, max_abandonment=0.0),
        )


def test_shrinkage_applies_to_the_minimum() -> None:
    need = erlang_a_required_agents(
        load=40.0, aht_seconds=360, patience_seconds=120, target=TARGET_80_20, shrinkage=0.25
    )
    assert need.agents_scheduled == math.ceil(need.agents_on_phones / 0.75)


@pytest.mark.parametrize(
    ("patience", "message"),
    [
        (math.inf, "infinitely patient callers are Erlang C"),
        (0.0, "patience_seconds: must be a finite number > 0"),
        (-3.0, "patience_seconds"),
        (math.nan, "patience_seconds"),
    ],
)
def test_patience_must_be_finite_and_positive(patience: float, message: str) -> None:
    with pytest.raises(ErlangError, match=message):
        erlang_a_metrics(
            3, load=2.0, aht_seconds=360, patience_seconds=patience, answer_within_seconds=20
        )


def test_other_bad_input_is_refused_by_name() -> None:
    with pytest.raises(ErlangError, match="aht_seconds"):
        erlang_a_required_agents(
            load=2.0, aht_seconds=0.0, patience_seconds=60, target=TARGET_80_20
        )
    with pytest.raises(ErlangError, match="load"):
        erlang_a_metrics(
            3, load=-1.0, aht_seconds=360, patience_seconds=60, answer_within_seconds=20
        )
    with pytest.raises(ErlangError, match="agents"):
        erlang_a_metrics(
            -1, load=1.0, aht_seconds=360, patience_seconds=60, answer_within_seconds=20
        )
    with pytest.raises(ErlangError, match="shrinkage"):
        erlang_a_required_agents(
            load=2.0, aht_seconds=360, patience_seconds=60, target=TARGET_80_20, shrinkage=-0.1
        )
