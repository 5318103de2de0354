"""The surge simulation: reproducible, agrees with Erlang C and Erlang A on long stationary
runs, and follows the plan's staffing changes, abandonment and retrial rules exactly."""

from __future__ import annotations

import math

import pytest

from hikeshi.workforce import (
    Exponential,
    Fixed,
    LogNormal,
    Retrial,
    SimulationError,
    SurgeModel,
    erlang_a_metrics,
    erlang_c_metrics,
    simulate,
)


def _steady(calls: float, agents: int, intervals: int, **kwargs: object) -> SurgeModel:
    return SurgeModel([calls] * intervals, [agents] * intervals, **kwargs)  # type: ignore[arg-type]


def test_same_seed_same_result_and_another_seed_differs() -> None:
    model = _steady(100.0, 42, 40, handle_time=Exponential(360), patience=Exponential(120))
    first = simulate(model, seed=7)
    assert simulate(model, seed=7) == first
    assert simulate(model, seed=8).intervals != first.intervals


def test_long_run_agrees_with_erlang_c() -> None:
    # 10 Erlangs on 13 agents, AHT 180 s, nobody hangs up: 150,000 calls.
    model = _steady(50.0, 13, 3000, handle_time=Exponential(180), patience=None)
    totals = simulate(model, seed=11).combined(first=2)
    closed = erlang_c_metrics(13, load=10.0, aht_seconds=180, answer_within_seconds=20)
    assert totals.service_level == pytest.approx(closed.service_level, abs=0.015)
    assert totals.waiting_share == pytest.approx(closed.waiting_probability, abs=0.015)
    assert totals.occupancy == pytest.approx(closed.occupancy, abs=0.01)
    assert totals.average_speed_of_answer == pytest.approx(closed.average_speed_of_answer, rel=0.1)
    assert totals.abandoned == 0


def test_long_run_agrees_with_erlang_a() -> None:
    # 40 Erlangs on 42 agents, AHT 360 s, mean patience 120 s: 150,000 calls.
    model = _steady(100.0, 42, 1500, handle_time=Exponential(360), patience=Exponential(120))
    totals = simulate(model, seed=12).combined(first=2)
    closed = erlang_a_metrics(
        42, load=40.0, aht_seconds=360, patience_seconds=120, answer_within_seconds=20
    )
    assert totals.service_level == pytest.approx(closed.service_level, abs=0.015)
    assert totals.abandonment_rate == pytest.approx(closed.abandonment_probability, abs=0.006)
    assert totals.occupancy == pytest.approx(closed.occupancy, abs=0.01)
    assert totals.average_wait == pytest.approx(closed.average_wait, rel=0.1)


def test_general_handle_times_keep_the_offered_load() -> None:
    # M/G/n with plenty of agents: occupancy is load / agents whatever the distribution.
    model = _steady(50.0, 30, 400, handle_time=LogNormal(180, cv=1.5), patience=None)  # 10 Erlangs
    totals = simulate(model, seed=3).combined(first=1, last=398)
    assert totals.occupancy == pytest.approx(10 / 30, abs=0.02)
    assert totals.service_level > 0.999


def test_ample_agents_with_fixed_handle_time_answer_at_once() -> None:
    model = _steady(30.0, 20, 10, handle_time=Fixed(60), patience=Fixed(0))
    totals = simulate(model, seed=5).combined()
    assert totals.answered == totals.offered > 0
    assert (totals.waited, totals.abandoned, totals.service_level) == (0, 0, 1.0)
    assert totals.busy_seconds <= totals.answered * 60
    assert totals.busy_seconds > (totals.answered - 5) * 60  # only the last minute spills over


def test_time_varying_arrivals_follow_the_forecast() -> None:
    model = SurgeModel(
        [400.0, 0.0, 3000.0],
        [300, 300, 300],
        handle_time=Exponential(60),
        patience=Exponential(120),
    )
    offered = [o.offered for o in simulate(model, seed=9).intervals]
    assert offered[1] == 0
    assert abs(offered[0] - 400) < 5 * math.sqrt(400)
    assert abs(offered[2] - 3000) < 5 * math.sqrt(3000)


def test_an_unstaffed_interval_loses_its_callers_and_recovers() -> None:
    model = SurgeModel(
        [200.0, 200.0, 200.0],
        [10, 0, 10],
        handle_time=Exponential(30),
        patience=Fixed(15),
    )
    first, gap, after = simulate(model, seed=2).intervals
    assert first.abandonment_rate < 0.05
    # Only callers in the gap's last 15 s can still reach an agent when the shift resumes.
    assert gap.abandonment_rate > 0.95
    assert gap.agent_seconds == 0.0
    assert after.abandonment_rate < 0.05


def test_a_drop_in_staffing_never_cuts_a_call() -> None:
    model = SurgeModel([40.0, 0.0, 0.0], [1, 0, 0], handle_time=Fixed(1200), patience=None)
    result = simulate(model, seed=4)
    totals = result.combined()
    assert totals.answered == 1
    assert result.unanswered == totals.offered - 1  # nobody is left to answer them
    assert totals.busy_seconds == pytest.approx(1200)
    assert result.intervals[1].busy_seconds > 0.0  # the call ran on past the drop


def test_every_abandoning_caller_retries_until_the_horizon() -> None:
    model = SurgeModel(
        [30.0, 30.0],
        [0, 0],
        handle_time=Exponential(60),
        patience=Fixed(5),
        retrial=Retrial(probability=1.0, mean_delay_seconds=120),
    )
    result = simulate(model, seed=6)
    totals = result.combined()
    first_attempts = totals.offered - totals.retrials
    assert totals.retrials > first_attempts  # about 900 s / 125 s retries each
    assert totals.abandoned == totals.offered
    assert totals.abandoned_within_target == totals.offered  # patience 5 s < 20 s
    # Each caller's chain of attempts ends with exactly one retry past the horizon.
    assert result.retrials_beyond_horizon == first_attempts


def test_no_retrial_share_means_no_retrials() -> None:
    model = SurgeModel(
        [50.0],
        [0],
        handle_time=Exponential(60),
        patience=Exponential(30),
        retrial=Retrial(probability=0.0, mean_delay_seconds=60),
    )
    result = simulate(model, seed=1)
    assert result.combined().retrials == 0
    assert result.retrials_beyond_horizon == 0


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: SurgeModel([], [], Exponential(60), None), "at least one interval"),
        (lambda: SurgeModel([1.0, 2.0], [3], Exponential(60), None), "1 values for 2"),
        (
            lambda: SurgeModel([1.0, 2.0, 3.0, -4.0], [1] * 4, Exponential(60), None),
            "interval 3: calls",
        ),
        (lambda: SurgeModel([1.0], [-1], Exponential(60), None), "interval 0: agents"),
        (lambda: SurgeModel([1.0], [1.5], Exponential(60), None), "interval 0: agents"),  # type: ignore[list-item]
        (
            lambda: SurgeModel([1.0], [1], Exponential(60), None, interval_seconds=0),
            "interval_seconds",
        ),
        (lambda: Exponential(0), "mean_seconds: must be a finite number > 0"),
        (lambda: LogNormal(60, cv=-1), "cv"),
        (lambda: Fixed(-1), "seconds"),
        (lambda: Retrial(1.5, 60), r"probability: must be in \[0, 1\]"),
        (lambda: Retrial(0.5, 0), "mean_delay_seconds"),
    ],
)
def test_bad_input_is_refused_by_name(build: object, message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        build()  # type: ignore[operator]
