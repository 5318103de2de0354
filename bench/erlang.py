"""Erlang C and Erlang A staffing for a surge day: ours against pyworkforce, mpmath and our
simulator. Targets (issue 7): Erlang C at least 100x faster than pyworkforce's ``ErlangC``
with the same agent count in every interval and service level within 1e-12 of mpmath, and a
50,000-Erlang peak without overflow; Erlang A at least 250x faster than pyworkforce 0.5.4's
``ErlangA``, never more agents, and metrics within 0.002 of a 2-million-call simulation.

The day: 96 intervals of 15 minutes, 40 Erlangs, jumping to the peak at 10:00 and falling
back linearly to 40 over 4 hours (16 intervals); AHT 360 s; target 80 % answered in 20 s;
Erlang A mean patience 120 s. Both libraries get the same calls per interval.

pyworkforce 0.5.4 needs Python >= 3.12, so it runs in its own interpreter, in a subprocess
that times itself (the same repeat-and-take-the-median loop as ours). Set it up once:

    /root/.pyenv/versions/3.12.1/bin/python -m venv /tmp/pwf312
    /tmp/pwf312/bin/pip install pyworkforce==0.5.4

and run (mpmath must be in .venv: it is a dev dependency):

    .venv/bin/python bench/erlang.py                      # everything, about 5 minutes
    .venv/bin/python bench/erlang.py --peer-python PATH   # another pyworkforce interpreter
    .venv/bin/python bench/erlang.py --no-erlang-a-peer   # skip pyworkforce's ErlangA (slow)

Nothing is written to the repository.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

import mpmath as mp  # type: ignore[import-untyped]  # dev-only, no stubs

from hikeshi.workforce import (
    Exponential,
    IntervalOutcome,
    ServiceTarget,
    StaffingRequirement,
    SurgeModel,
    erlang_a_metrics,
    erlang_a_required_agents,
    erlang_c_required_agents,
    offered_load,
    simulate,
)

AHT = 360.0
WITHIN = 20.0
INTERVAL = 900.0
PATIENCE = 120.0
TARGET = ServiceTarget(0.8, WITHIN)
BASE = 40.0
SURGE_START = 40  # 10:00
SURGE_LENGTH = 16  # 4 hours

PEER_CODE = r"""
import json, statistics, sys, time
import pyworkforce
from pyworkforce.queuing import ErlangA, ErlangC
job = json.load(sys.stdin)
def day():
    out = []
    for calls in job["calls"]:
        common = dict(transactions=calls, aht=job["aht"], asa=job["asa"],
                      interval=job["interval"])
        if job["model"] == "c":
            e = ErlangC(**common)
        else:
            e = ErlangA(**common, patience=job["patience"])
        r = e.required_positions(service_level=job["target"])
        out.append((r["raw_positions"], r["service_level"], r.get("abandonment_probability", 0.0)))
    return out
times = []
for _ in range(job["repeats"]):
    started = time.perf_counter()
    result = day()
    times.append(time.perf_counter() - started)
json.dump({"agents": [a for a, _, _ in result], "service_level": [s for _, s, _ in result],
           "abandonment": [b for _, _, b in result], "times": times,
           "version": pyworkforce.__version__, "python": sys.version.split()[0]}, sys.stdout)
"""


def surge_day(peak: float) -> list[float]:
    """Calls per interval (float, as a forecast gives them) for the bench's day."""
    loads = [BASE] * 96
    for step in range(SURGE_LENGTH):
        loads[SURGE_START + step] = BASE + (peak - BASE) * (1 - step / SURGE_LENGTH)
    return [load * INTERVAL / AHT for load in loads]


def timed(run: Callable[[], object], repeats: int) -> tuple[list[float], object]:
    times: list[float] = []
    result: object = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return times, result


def ours_c(calls: Sequence[float]) -> list[StaffingRequirement]:
    return [
        erlang_c_required_agents(
            load=offered_load(c, AHT, INTERVAL), aht_seconds=AHT, target=TARGET
        )
        for c in calls
    ]


def ours_a(calls: Sequence[float]) -> list[StaffingRequirement]:
    return [
        erlang_a_required_agents(
            load=offered_load(c, AHT, INTERVAL),
            aht_seconds=AHT,
            patience_seconds=PATIENCE,
            target=TARGET,
        )
        for c in calls
    ]


def peer(python: str, model: str, calls: Sequence[float], repeats: int) -> dict[str, list[float]]:
    job = {
        "model": model,
        "calls": list(calls),
        "aht": AHT,
        "asa": WITHIN,
        "interval": INTERVAL,
        "patience": PATIENCE,
        "target": TARGET.service_level,
        "repeats": repeats,
    }
    done = subprocess.run(
        [python, "-c", PEER_CODE], input=json.dumps(job), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"pyworkforce subprocess failed:\n{done.stderr}")
    result: dict[str, list[float]] = json.loads(done.stdout)
    return result


def mp_service_level_c(agents: int, load: float) -> mp.mpf:
    mp.mp.dps = 40
    a = mp.mpf(load)
    pmf = mp.exp(agents * mp.log(a) - a - mp.loggamma(agents + 1))
    blocking = pmf / mp.gammainc(agents + 1, a, mp.inf, regularized=True)
    waiting = agents * blocking / (agents - a + a * blocking)
    return 1 - waiting * mp.exp(-(agents - a) * mp.mpf(WITHIN) / AHT)


def worst_mp_gap(results: Sequence[StaffingRequirement]) -> float:
    cache: dict[tuple[int, float], float] = {}
    worst = 0.0
    for r in results:
        key = (r.agents_on_phones, r.metrics.offered_load)
        if key not in cache:
            reference = mp_service_level_c(*key)
            cache[key] = abs(float(mp.mpf(r.metrics.service_level) - reference))
        worst = max(worst, cache[key])
    return worst


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.3f} ms"


def erlang_c_section(python: str | None, repeats: int) -> None:
    print("== Erlang C: 96 intervals, 40 -> 5,000 Erlangs, AHT 360 s, 80 % in 20 s ==")
    calls = surge_day(5000.0)
    ours_times, ours = timed(lambda: ours_c(calls), repeats)
    results: list[StaffingRequirement] = ours  # type: ignore[assignment]
    agents = [r.agents_on_phones for r in results]
    gap = worst_mp_gap(results)
    print(
        f"ours         median {ms(statistics.median(ours_times))}  best {ms(min(ours_times))}"
        f"  ({statistics.median(ours_times) / 96 * 1e6:.1f} us per interval, {repeats} runs)"
    )
    if python:
        theirs = peer(python, "c", calls, repeats)
        their_median = statistics.median(theirs["times"])
        same = sum(a == b for a, b in zip(agents, theirs["agents"], strict=True))
        their_gap = max(
            abs(float(mp.mpf(s) - mp_service_level_c(int(a), r.metrics.offered_load)))
            for s, a, r in zip(theirs["service_level"], theirs["agents"], results, strict=True)
        )
        print(
            f"pyworkforce  median {ms(their_median)}  best {ms(min(theirs['times']))}"
            f"  (pyworkforce {theirs['version']} ErlangC on Python {theirs['python']})"
        )
        print(
            f"speed ratio  {their_median / statistics.median(ours_times):.0f}x (median), "
            f"{min(theirs['times']) / min(ours_times):.0f}x (best)   target >= 100x"
        )
        print(
            f"agents       identical in {same}/96 intervals; peak {max(agents)} "
            f"(pyworkforce {max(int(a) for a in theirs['agents'])})"
        )
        print(
            f"SL vs mpmath max |ours - mp| = {gap:.1e} (target <= 1e-12); "
            f"pyworkforce's max |SL - mp| = {their_gap:.1e}"
        )
    else:
        print(f"SL vs mpmath max |ours - mp| = {gap:.1e} (target <= 1e-12)")

    print("-- the same day with a 50,000-Erlang peak --")
    big = surge_day(50000.0)
    big_times, big_results = timed(lambda: ours_c(big), repeats)
    big_list: list[StaffingRequirement] = big_results  # type: ignore[assignment]
    finite = all(
        math.isfinite(v)
        for r in big_list
        for v in (
            r.metrics.service_level,
            r.metrics.waiting_probability,
            r.metrics.average_speed_of_answer,
        )
    )
    print(
        f"ours         median {ms(statistics.median(big_times))}; peak "
        f"{max(r.agents_on_phones for r in big_list)} agents; all metrics finite: {finite}; "
        f"SL vs mpmath max gap {worst_mp_gap(big_list):.1e}"
    )
    if python:
        theirs = peer(python, "c", big, 1)
        same = sum(
            a == b
            for a, b in zip((r.agents_on_phones for r in big_list), theirs["agents"], strict=True)
        )
        print(f"pyworkforce  {ms(theirs['times'][0])} (one run); agents identical in {same}/96")


def batch_errors(kept: Sequence[IntervalOutcome], batches: int = 20) -> dict[str, float]:
    """Standard errors of the simulated shares from batch means (consecutive intervals)."""
    size = max(1, len(kept) // batches)
    groups = [kept[i * size : (i + 1) * size] for i in range(batches)]
    shares: dict[str, list[float]] = {"service level": [], "P(abandon)": [], "P(wait)": []}
    shares["occupancy"] = []
    for group in groups:
        offered = max(1, sum(o.offered for o in group))
        shares["service level"].append(sum(o.answered_within_target for o in group) / offered)
        shares["P(abandon)"].append(sum(o.abandoned for o in group) / offered)
        shares["P(wait)"].append(sum(o.waited for o in group) / offered)
        shares["occupancy"].append(
            sum(o.busy_seconds for o in group) / max(1.0, sum(o.agent_seconds for o in group))
        )
    return {name: statistics.stdev(v) / math.sqrt(len(v)) for name, v in shares.items()}


def simulated_check(load: float, agents: int, calls_target: int, seed: int) -> None:
    calls = load * INTERVAL / AHT
    intervals = max(3, math.ceil(calls_target / calls)) + 2
    model = SurgeModel(
        [calls] * intervals,
        [agents] * intervals,
        handle_time=Exponential(AHT),
        patience=Exponential(PATIENCE),
        answer_within_seconds=WITHIN,
    )
    started = time.perf_counter()
    result = simulate(model, seed=seed)
    elapsed = time.perf_counter() - started
    totals = result.combined(first=2)  # the first two intervals warm up from empty
    errors = batch_errors(result.intervals[2:])
    closed = erlang_a_metrics(
        agents, load=load, aht_seconds=AHT, patience_seconds=PATIENCE, answer_within_seconds=WITHIN
    )
    rows = [
        ("service level", totals.service_level, closed.service_level),
        ("P(abandon)", totals.abandonment_rate, closed.abandonment_probability),
        ("P(wait)", totals.waiting_share, closed.waiting_probability),
        ("occupancy", totals.occupancy, closed.occupancy),
    ]
    within = sum(abs(sim - cf) <= 0.002 for _, sim, cf in rows)
    print(
        f"{load:8.1f} E, {agents:5d} agents: {totals.offered:,} calls simulated in "
        f"{elapsed:.1f} s; {within}/4 metrics within 0.002"
    )
    for name, sim, cf in rows:
        gap = sim - cf
        error = errors[name]
        sigmas = f"gap {abs(gap) / error:.1f} s.e." if error > 1e-9 else "no spread between batches"
        print(
            f"    {name:14s} closed {cf:.4f}  simulated {sim:.4f}  gap {gap:+.4f}  "
            f"(simulation s.e. {error:.4f}, {sigmas})"
        )
    print(
        f"    {'ASA (s)':14s} closed {closed.average_speed_of_answer:.3f}  simulated "
        f"{totals.average_speed_of_answer:.3f}"
    )


def erlang_a_section(python: str | None, sim_calls: int) -> None:
    print()
    print("== Erlang A: the same day, mean patience 120 s ==")
    calls = surge_day(5000.0)
    ours_times, ours = timed(lambda: ours_a(calls), 3)
    results: list[StaffingRequirement] = ours  # type: ignore[assignment]
    agents = [r.agents_on_phones for r in results]
    ours_median = statistics.median(ours_times)
    print(f"ours         median {ms(ours_median)}  best {ms(min(ours_times))}  (3 runs)")
    below_load = sum(r.agents_on_phones < r.metrics.offered_load for r in results)
    print(
        f"             {below_load}/96 intervals staffed below the offered load; "
        f"peak {max(agents)} agents for 5,000 Erlangs"
    )
    if python:
        theirs = peer(python, "a", calls, 1)
        their_time = theirs["times"][0]
        never_above = all(a <= b for a, b in zip(agents, theirs["agents"], strict=True))
        fewer = sum(a < b for a, b in zip(agents, theirs["agents"], strict=True))
        print(
            f"pyworkforce  {ms(their_time)}  (one run; pyworkforce {theirs['version']} ErlangA "
            f"on Python {theirs['python']})"
        )
        print(f"speed ratio  {their_time / ours_median:.0f}x   target >= 250x")
        print(
            f"agents       ours never above pyworkforce's: {never_above}; fewer in {fewer}/96 "
            f"intervals (peak: ours {agents[SURGE_START]}, pyworkforce "
            f"{int(theirs['agents'][SURGE_START])})"
        )
        print("interval  load(E)  ours  pyworkforce  our SL    their SL  our P(ab)  their P(ab)")
        for i in range(SURGE_START - 1, SURGE_START + SURGE_LENGTH + 1, 3):
            r = results[i]
            print(
                f"{i:8d} {r.metrics.offered_load:8.1f} {r.agents_on_phones:5d} "
                f"{int(theirs['agents'][i]):12d} {r.metrics.service_level:8.4f} "
                f"{theirs['service_level'][i]:9.4f} {r.metrics.abandonment_probability:9.4f} "
                f"{theirs['abandonment'][i]:11.4f}"
            )
    print(f"-- our Erlang A metrics against {sim_calls:,}-call simulations (seed 1) --")
    for index in (SURGE_START, SURGE_START + 8, 0):
        r = results[index]
        simulated_check(r.metrics.offered_load, r.agents_on_phones, sim_calls, seed=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--peer-python",
        default="/tmp/pwf312/bin/python",
        help="interpreter with pyworkforce 0.5.4 ('' to skip the peer)",
    )
    parser.add_argument(
        "--no-erlang-a-peer",
        action="store_true",
        help="skip pyworkforce's ErlangA (about two minutes)",
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--sim-calls", type=int, default=2_000_000)
    args = parser.parse_args()
    python = args.peer_python or None
    if python and subprocess.run([python, "-c", "import pyworkforce"]).returncode != 0:
        sys.exit(f"{python} cannot import pyworkforce: see the set-up in this file's docstring")
    erlang_c_section(python, args.repeats)
    erlang_a_section(None if args.no_erlang_a_peer else python, args.sim_calls)


if __name__ == "__main__":
    main()
