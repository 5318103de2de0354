"""The surge simulator against SimPy and Ciw on the same model, and against the closed forms.

Targets (issue 7): 100,000 calls at least 10x faster than SimPy and 20x faster than Ciw in
the same run; service level within +-0.005 of the Erlang C / Erlang A closed form over
2 million calls.

The model (M/M/n+M, fixed agents): 40 Erlangs offered (a call every 9 s, AHT 360 s
exponential), 42 agents, exponential patience with mean 120 s, service level = answered
within 20 s / offered. Each tool simulates about 100,000 calls from an empty start; each is
timed over the same number of runs and the median is compared. SimPy and Ciw are bench-only
peers (``.venv/bin/pip install simpy ciw``), never imported by ``src/``.

    .venv/bin/python bench/simulation.py              # about two minutes
    .venv/bin/python bench/simulation.py --repeats 1  # quicker

Then: 2 million calls of the same model and of its Erlang C twin (nobody hangs up, 46
agents), compared with the closed forms; and the 96-interval surge day staffed by Erlang A,
with retrials, as a plan check. Nothing is written to the repository.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections.abc import Callable, Generator
from importlib.metadata import version
from typing import Any

import ciw  # type: ignore[import-untyped]  # bench-only peer
import simpy  # bench-only peer

from hikeshi.workforce import (
    Duration,
    Exponential,
    Retrial,
    ServiceTarget,
    SurgeModel,
    Tally,
    erlang_a_metrics,
    erlang_c_metrics,
    required_agents_per_interval,
    simulate,
)

LOAD = 40.0
AGENTS = 42
AHT = 360.0
PATIENCE = 120.0
WITHIN = 20.0
CALLS = 100_000
INTERVAL = 900.0
ARRIVAL_RATE = LOAD / AHT
CALLS_PER_INTERVAL = ARRIVAL_RATE * INTERVAL  # 100


class Outcome:
    def __init__(self, offered: int, in_time: int, abandoned: int) -> None:
        self.offered = offered
        self.service_level = in_time / offered
        self.abandonment = abandoned / offered


def run_ours(seed: int) -> Outcome:
    intervals = round(CALLS / CALLS_PER_INTERVAL)
    model = SurgeModel(
        [CALLS_PER_INTERVAL] * intervals,
        [AGENTS] * intervals,
        handle_time=Exponential(AHT),
        patience=Exponential(PATIENCE),
        answer_within_seconds=WITHIN,
    )
    totals = simulate(model, seed=seed).combined()
    return Outcome(totals.offered, totals.answered_within_target, totals.abandoned)


def run_simpy(seed: int) -> Outcome:
    rng = random.Random(seed)
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=AGENTS)
    counts = {"in_time": 0, "abandoned": 0}

    def caller(arrived: float) -> Generator[Any, Any, None]:
        with agents.request() as request:
            fired = yield request | env.timeout(rng.expovariate(1 / PATIENCE))
            if request in fired:
                if env.now - arrived <= WITHIN:
                    counts["in_time"] += 1
                yield env.timeout(rng.expovariate(1 / AHT))
            else:
                counts["abandoned"] += 1

    def source() -> Generator[Any, Any, None]:
        for _ in range(CALLS):
            yield env.timeout(rng.expovariate(ARRIVAL_RATE))
            env.process(caller(env.now))

    env.process(source())
    env.run()
    return Outcome(CALLS, counts["in_time"], counts["abandoned"])


def run_ciw(seed: int) -> Outcome:
    ciw.seed(seed)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(ARRIVAL_RATE)],
        service_distributions=[ciw.dists.Exponential(1 / AHT)],
        number_of_servers=[AGENTS],
        reneging_time_distributions=[ciw.dists.Exponential(1 / PATIENCE)],
    )
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_customers(CALLS, method="Arrive")
    records = simulation.get_all_records()
    served = [r for r in records if r.record_type == "service"]
    abandoned = sum(r.record_type == "renege" for r in records)
    in_time = sum(r.waiting_time <= WITHIN for r in served)
    return Outcome(len(served) + abandoned, in_time, abandoned)


def median_time(run: Callable[[int], Outcome], repeats: int) -> tuple[float, Outcome]:
    times = []
    outcome = None
    for seed in range(1, repeats + 1):
        started = time.perf_counter()
        outcome = run(seed)
        times.append(time.perf_counter() - started)
    assert outcome is not None
    return statistics.median(times), outcome


def speed_section(repeats: int) -> None:
    closed = erlang_a_metrics(
        AGENTS, load=LOAD, aht_seconds=AHT, patience_seconds=PATIENCE, answer_within_seconds=WITHIN
    )
    print(
        f"== {CALLS:,} calls, M/M/{AGENTS}+M, {LOAD:g} Erlangs, AHT {AHT:g} s, patience "
        f"{PATIENCE:g} s; median of {repeats} runs =="
    )
    print(f"(calls, SL and P(abandon) are those of the last run, seed {repeats})")
    print("tool                 calls    seconds   us/call  ours faster by  SL      P(abandon)")
    ours_time, ours = median_time(run_ours, repeats)
    peers = [("SimPy " + version("simpy"), run_simpy), ("Ciw " + version("ciw"), run_ciw)]
    rows = [("ours", ours_time, ours)]
    rows += [(name, *median_time(run, repeats)) for name, run in peers]
    for name, seconds, outcome in rows:
        ratio = "" if name == "ours" else f"{seconds / ours_time:8.1f}x"
        per_call = seconds / outcome.offered * 1e6
        print(
            f"{name:16s} {outcome.offered:9,d} {seconds:9.3f} {per_call:9.2f}"
            f"  {ratio:>14s}  {outcome.service_level:.4f}  {outcome.abandonment:.4f}"
        )
    print(
        f"closed form (Erlang A)                                        "
        f"{closed.service_level:.4f}  {closed.abandonment_probability:.4f}"
    )
    print("targets: >= 10x SimPy, >= 20x Ciw")


def batch_error(kept: tuple[Tally, ...], batches: int = 20) -> float:
    size = max(1, len(kept) // batches)
    shares = []
    for i in range(batches):
        group = kept[i * size : (i + 1) * size]
        shares.append(sum(o.answered_within_target for o in group) / sum(o.offered for o in group))
    return statistics.stdev(shares) / math.sqrt(batches)


def accuracy_section(calls: int) -> None:
    print()
    print(f"== {calls:,} calls from one seed (1) against the closed forms (target +-0.005) ==")
    cases: list[tuple[str, int, Duration | None]] = [
        ("Erlang A", AGENTS, Exponential(PATIENCE)),
        ("Erlang C", 46, None),
    ]
    for name, agents, patience in cases:
        intervals = math.ceil(calls / CALLS_PER_INTERVAL) + 2
        model = SurgeModel(
            [CALLS_PER_INTERVAL] * intervals,
            [agents] * intervals,
            handle_time=Exponential(AHT),
            patience=patience,
            answer_within_seconds=WITHIN,
        )
        started = time.perf_counter()
        result = simulate(model, seed=1)
        elapsed = time.perf_counter() - started
        totals = result.combined(first=2)  # two intervals of warm-up from empty
        if patience is None:
            closed = erlang_c_metrics(
                agents, load=LOAD, aht_seconds=AHT, answer_within_seconds=WITHIN
            ).service_level
        else:
            closed = erlang_a_metrics(
                agents,
                load=LOAD,
                aht_seconds=AHT,
                patience_seconds=PATIENCE,
                answer_within_seconds=WITHIN,
            ).service_level
        gap = totals.service_level - closed
        error = batch_error(result.intervals[2:])
        verdict = "within" if abs(gap) <= 0.005 else "OUTSIDE"
        print(
            f"{name} ({agents} agents): {totals.offered:,} calls in {elapsed:.1f} s; SL closed "
            f"{closed:.4f}, simulated {totals.service_level:.4f}, gap {gap:+.4f} ({verdict} "
            f"+-0.005; simulation s.e. {error:.4f})"
        )


def surge_section() -> None:
    print()
    print(
        "== plan check: the bench/erlang.py surge day (40 -> 5,000 Erlangs), agents from "
        "Erlang A 80/20, 30 % of abandoning callers retry after 10 min on average =="
    )
    loads = [40.0] * 96
    for step in range(16):
        loads[40 + step] = 40.0 + 4960.0 * (1 - step / 16)
    calls = [load * INTERVAL / AHT for load in loads]
    plan = required_agents_per_interval(
        calls, aht_seconds=AHT, target=ServiceTarget(0.8, WITHIN), patience_seconds=PATIENCE
    )
    model = SurgeModel(
        calls,
        [p.agents_on_phones for p in plan],
        handle_time=Exponential(AHT),
        patience=Exponential(PATIENCE),
        retrial=Retrial(probability=0.3, mean_delay_seconds=600),
        answer_within_seconds=WITHIN,
    )
    started = time.perf_counter()
    result = simulate(model, seed=1)
    elapsed = time.perf_counter() - started
    totals = result.combined()
    print(
        f"{totals.offered:,} attempts ({totals.retrials:,} retrials) simulated in {elapsed:.2f} s"
    )
    print("interval  agents  offered  retrials  SL plan  SL sim  abandon plan  abandon sim")
    for i in (39, 40, 41, 44, 48, 52, 55, 56, 57, 60):
        o = result.intervals[i]
        m = plan[i].metrics
        print(
            f"{i:8d} {o.agents:7d} {o.offered:8d} {o.retrials:9d} {m.service_level:8.3f} "
            f"{o.service_level:7.3f} {m.abandonment_probability:13.3f} "
            f"{o.abandonment_rate:12.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--accuracy-calls", type=int, default=2_000_000)
    args = parser.parse_args()
    speed_section(args.repeats)
    accuracy_section(args.accuracy_calls)
    surge_section()


if __name__ == "__main__":
    main()
