"""Per-interval staffing for a whole plan: Erlang C, or Erlang A when callers hang up.

The entry points a plan uses: :func:`required_agents_per_interval` (the fewest agents per
interval for a target) and :func:`metrics_per_interval` (what a given number of agents per
interval achieves, e.g. a roster's coverage). Both take calls per interval, so that the
offered load is formed the same way everywhere (``calls / interval_seconds * aht_seconds``),
and name the interval in any error: ``"interval 12: aht_seconds: must be ..."``.
"""

from __future__ import annotations

from collections.abc import Sequence

from hikeshi.workforce.erlang import (
    ErlangError,
    QueueMetrics,
    ServiceTarget,
    StaffingRequirement,
    erlang_c_metrics,
    erlang_c_required_agents,
    offered_load,
)
from hikeshi.workforce.erlang_a import erlang_a_metrics, erlang_a_required_agents


def required_agents_per_interval(
    calls_per_interval: Sequence[float],
    *,
    aht_seconds: float | Sequence[float],
    target: ServiceTarget,
    interval_seconds: float = 900.0,
    patience_seconds: float | None = None,
    shrinkage: float = 0.0,
) -> list[StaffingRequirement]:
    """The fewest agents per interval meeting ``target``.

    ``aht_seconds`` is one value or one per interval. ``patience_seconds=None`` means callers
    never hang up (Erlang C); a number selects Erlang A with that mean patience, whose answer
    can be below the offered load. Each interval is computed on its own (steady state within
    the interval), as is usual for 15-minute planning.
    """
    handle_times = _per_interval("aht_seconds", aht_seconds, len(calls_per_interval))
    results: list[StaffingRequirement] = []
    for index, (calls, aht) in enumerate(zip(calls_per_interval, handle_times, strict=True)):
        try:
            load = offered_load(calls, aht, interval_seconds)
            if patience_seconds is None:
                result = erlang_c_required_agents(
                    load=load, aht_seconds=aht, target=target, shrinkage=shrinkage
                )
            else:
                result = erlang_a_required_agents(
                    load=load,
                    aht_seconds=aht,
                    patience_seconds=patience_seconds,
                    target=target,
                    shrinkage=shrinkage,
                )
        except ErlangError as error:
            raise type(error)(f"interval {index}: {error}") from error
        results.append(result)
    return results


def metrics_per_interval(
    agents_per_interval: Sequence[int],
    calls_per_interval: Sequence[float],
    *,
    aht_seconds: float | Sequence[float],
    answer_within_seconds: float,
    interval_seconds: float = 900.0,
    patience_seconds: float | None = None,
) -> list[QueueMetrics]:
    """Steady-state metrics of each interval for the agents on the phones in it."""
    count = len(calls_per_interval)
    if len(agents_per_interval) != count:
        raise ErlangError(
            f"agents_per_interval: {len(agents_per_interval)} values for {count} intervals"
        )
    handle_times = _per_interval("aht_seconds", aht_seconds, count)
    results: list[QueueMetrics] = []
    rows = zip(agents_per_interval, calls_per_interval, handle_times, strict=True)
    for index, (agents, calls, aht) in enumerate(rows):
        try:
            load = offered_load(calls, aht, interval_seconds)
            if patience_seconds is None:
                metrics = erlang_c_metrics(
                    agents, load=load, aht_seconds=aht, answer_within_seconds=answer_within_seconds
                )
            else:
                metrics = erlang_a_metrics(
                    agents,
                    load=load,
                    aht_seconds=aht,
                    patience_seconds=patience_seconds,
                    answer_within_seconds=answer_within_seconds,
                )
        except ErlangError as error:
            raise type(error)(f"interval {index}: {error}") from error
        results.append(metrics)
    return results


def _per_interval(name: str, value: float | Sequence[float], count: int) -> Sequence[float]:
    if isinstance(value, int | float):
        return [value] * count
    if len(value) != count:
        raise ErlangError(f"{name}: {len(value)} values for {count} intervals")
    return value
