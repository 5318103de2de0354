"""Erlang C (M/M/n): probability of waiting, service level, ASA, occupancy, required agents.

Units: times in seconds; the offered load ``A`` in Erlangs (calls per second × AHT seconds,
see :func:`offered_load`). Calls arrive as a Poisson stream, handle times are exponential,
callers wait as long as it takes, and ``n`` agents serve one queue first come, first served.

For ``n > A`` (the only stable case):

* probability of waiting ``C(n, A) = n·B / (n − A + A·B)`` with ``B`` the Erlang B value;
* service level ``SL(t) = 1 − C·exp(−(n − A)·t / AHT)``: the share of offered calls answered
  within ``t`` seconds (here every call is eventually answered);
* average speed of answer ``ASA = C·AHT / (n − A)`` (mean wait of all calls, zeros included);
* occupancy ``A / n``.

For ``n <= A`` the queue grows without bound; the metrics then report that plainly instead of
raising: waiting probability 1, service level 0, ASA and average wait ``inf``, occupancy 1.

Nothing forms a factorial or a power of the load: ``B`` comes from
:mod:`hikeshi.workforce._erlang_numerics` (Temme's expansion near the load, recurrences and
fast series elsewhere), so results stay exact to about 1e-14 from 0.1 to beyond 50,000
Erlangs. :func:`erlang_c_required_agents` computes ``B`` once just below the load and walks
upward with the recurrence ``B(n+1) = A·B / (n + 1 + A·B)``: O(1) per extra agent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

from hikeshi.workforce import _erlang_numerics

Model = Literal["erlang_c", "erlang_a"]
_NUMBER = (int, float)
Constraint = Literal["service_level", "occupancy", "abandonment"]


class ErlangError(ValueError):
    """Bad input to a queueing formula; the message names the parameter."""


class TargetUnreachable(ErlangError):
    """No number of agents can meet the target (for example 100 % with traffic)."""


@dataclass(frozen=True, slots=True)
class ServiceTarget:
    """What a staffing level must achieve.

    ``service_level``: share of offered calls answered within ``answer_within_seconds``, in
    (0, 1] (80/20 is ``ServiceTarget(0.8, 20)``). ``max_occupancy``: upper limit on the busy
    share of agents on the phones, in (0, 1]. ``max_abandonment``: upper limit on the share
    of callers who hang up, in [0, 1]; only Erlang A has abandonment, Erlang C ignores it.
    """

    service_level: float
    answer_within_seconds: float
    max_occupancy: float = 1.0
    max_abandonment: float = 1.0

    def __post_init__(self) -> None:
        _check_fraction("service_level", self.service_level, low_open=True)
        _check_non_negative("answer_within_seconds", self.answer_within_seconds)
        _check_fraction("max_occupancy", self.max_occupancy, low_open=True)
        _check_fraction("max_abandonment", self.max_abandonment, low_open=False)


class QueueMetrics(NamedTuple):
    """Steady-state performance of one interval with a given number of agents.

    ``service_level``: share of *offered* calls answered within ``answer_within_seconds``
    (under Erlang A, callers who abandon count as not answered in time, whenever they hang
    up). ``average_speed_of_answer``: mean wait of answered calls, zero waits included.
    ``average_wait``: mean wait of all offered calls, abandoned ones included (equal to the
    ASA under Erlang C). ``occupancy``: carried load / agents. Times are seconds.
    (A named tuple rather than a frozen dataclass: the staffing search builds one per
    interval, and a frozen dataclass costs several times more to construct.)
    """

    model: Model
    agents: int
    offered_load: float
    answer_within_seconds: float
    waiting_probability: float
    service_level: float
    average_speed_of_answer: float
    average_wait: float
    abandonment_probability: float
    occupancy: float


class StaffingRequirement(NamedTuple):
    """The fewest agents on the phones meeting a :class:`ServiceTarget`, and the scheduled
    head count ``ceil(on_phones / (1 − shrinkage))`` that leaves that many after shrinkage.

    ``limited_by`` names every constraint that one agent fewer would break (empty when the
    answer is zero agents); ``metrics`` are those at ``agents_on_phones``.
    """

    agents_on_phones: int
    agents_scheduled: int
    shrinkage: float
    limited_by: tuple[Constraint, ...]
    metrics: QueueMetrics


def offered_load(calls: float, aht_seconds: float, interval_seconds: float) -> float:
    """Offered load in Erlangs of ``calls`` arriving in ``interval_seconds`` with the given AHT."""
    _check_non_negative("calls", calls)
    _check_positive("aht_seconds", aht_seconds)
    _check_positive("interval_seconds", interval_seconds)
    return calls / interval_seconds * aht_seconds


def scheduled_agents(on_phones: int, shrinkage: float) -> int:
    """Agents to schedule so that ``on_phones`` remain after ``shrinkage`` (breaks, training,
    absence): ``ceil(on_phones / (1 − shrinkage))``. A relative tolerance of 1e-12 keeps
    float noise from adding an agent (100 on the phones at 20 % is 125, not 126)."""
    _check_agents(on_phones)
    _check_shrinkage(shrinkage)
    return _scheduled(on_phones, shrinkage)


def _scheduled(on_phones: int, shrinkage: float) -> int:
    if shrinkage == 0.0:
        return on_phones
    return math.ceil(on_phones / (1.0 - shrinkage) * (1.0 - 1e-12))


def erlang_b(agents: int, load: float) -> float:
    """Erlang B: the share of calls blocked when ``agents`` serve ``load`` with no queue."""
    _check_agents(agents)
    _check_non_negative("load", load)
    return _erlang_numerics.erlang_b(agents, load)


def erlang_c(agents: int, load: float) -> float:
    """Erlang C: the probability that a call waits (1.0 when ``agents <= load``)."""
    _check_agents(agents)
    _check_non_negative("load", load)
    if load == 0.0:
        return 0.0
    if agents <= load:
        return 1.0
    return _wait_probability(agents, load, _erlang_numerics.erlang_b(agents, load))


def erlang_c_metrics(
    agents: int, *, load: float, aht_seconds: float, answer_within_seconds: float
) -> QueueMetrics:
    """All Erlang C metrics for ``agents`` on the phones (see the module doc)."""
    _check_agents(agents)
    _check_non_negative("load", load)
    _check_positive("aht_seconds", aht_seconds)
    _check_non_negative("answer_within_seconds", answer_within_seconds)
    if load == 0.0 or agents <= load:
        return _trivial_metrics(agents, load, answer_within_seconds)
    blocking = _erlang_numerics.erlang_b(agents, load)
    return _metrics_from_blocking(agents, load, aht_seconds, answer_within_seconds, blocking)


def erlang_c_required_agents(
    *, load: float, aht_seconds: float, target: ServiceTarget, shrinkage: float = 0.0
) -> StaffingRequirement:
    """The fewest agents meeting ``target`` under Erlang C, then scheduled for shrinkage.

    The count is the smallest ``n > A`` with ``SL(n) >= target.service_level``, raised to
    ``ceil(A / target.max_occupancy)`` when the occupancy cap binds (then ``limited_by`` says
    ``"occupancy"``). Zero load needs zero agents. A 100 % target with traffic raises
    :class:`TargetUnreachable`; every target below 100 % is reachable.
    """
    _check_non_negative("load", load)
    _check_positive("aht_seconds", aht_seconds)
    _check_shrinkage(shrinkage)
    within = target.answer_within_seconds
    if load == 0.0:
        return StaffingRequirement(0, 0, shrinkage, (), _trivial_metrics(0, 0.0, within))
    if target.service_level >= 1.0:
        raise TargetUnreachable(
            f"service_level: 100 % within {within:g} s cannot be met with load {load:g} "
            "Erlangs (some call always waits); use a target below 1"
        )
    decay = within / aht_seconds
    wanted = target.service_level
    # Start just below the load, where B is computed once in O(1), and walk up: each extra
    # agent is one step of the (contracting, hence stable) recurrence of 1/B.
    agents = math.floor(load)
    inverse = 1.0 / _erlang_numerics.erlang_b(agents, load)
    per_agent = 1.0 / load
    while True:
        agents += 1
        inverse = 1.0 + inverse * agents * per_agent
        excess = agents - load
        waiting = agents / (excess * inverse + load)  # n·B / (n − A + A·B)
        if 1.0 - waiting * math.exp(-excess * decay) >= wanted:
            break
    for_service = agents
    for_occupancy = math.ceil(load / target.max_occupancy)
    while agents < for_occupancy:
        agents += 1
        inverse = 1.0 + inverse * agents * per_agent
    limited_by: list[Constraint] = []
    if agents == for_service:
        limited_by.append("service_level")
    if agents == for_occupancy:
        limited_by.append("occupancy")
    metrics = _metrics_from_blocking(agents, load, aht_seconds, within, 1.0 / inverse)
    scheduled = _scheduled(agents, shrinkage)
    return StaffingRequirement(agents, scheduled, shrinkage, tuple(limited_by), metrics)


def _wait_probability(agents: int, load: float, blocking: float) -> float:
    # n·B / (n − A(1 − B)), written so that no 1 − B is formed.
    return agents * blocking / ((agents - load) + load * blocking)


def _metrics_from_blocking(
    agents: int, load: float, aht_seconds: float, within: float, blocking: float
) -> QueueMetrics:
    excess = agents - load
    waiting = _wait_probability(agents, load, blocking)
    asa = waiting * aht_seconds / excess
    service_level = 1.0 - waiting * math.exp(-excess * within / aht_seconds)
    return QueueMetrics(
        "erlang_c", agents, load, within, waiting, service_level, asa, asa, 0.0, load / agents
    )


def _trivial_metrics(agents: int, load: float, within: float) -> QueueMetrics:
    """No traffic (nobody waits) or no stable queue (everybody waits for ever)."""
    if load == 0.0:
        return QueueMetrics("erlang_c", agents, 0.0, within, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    return QueueMetrics("erlang_c", agents, load, within, 1.0, 0.0, math.inf, math.inf, 0.0, 1.0)


def _check_agents(agents: int) -> None:
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 0:
        raise ErlangError(f"agents: must be a whole number >= 0, got {agents!r}")


def _check_non_negative(name: str, value: float) -> None:
    if not (isinstance(value, _NUMBER) and math.isfinite(value) and value >= 0.0):
        raise ErlangError(f"{name}: must be a finite number >= 0, got {value!r}")


def _check_positive(name: str, value: float) -> None:
    if not (isinstance(value, _NUMBER) and math.isfinite(value) and value > 0.0):
        raise ErlangError(f"{name}: must be a finite number > 0, got {value!r}")


def _check_fraction(name: str, value: float, *, low_open: bool) -> None:
    ok = isinstance(value, _NUMBER) and (0.0 < value <= 1.0 if low_open else 0.0 <= value <= 1.0)
    if not ok:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ErlangError(f"{name}: must be in {interval}, got {value!r}")


def _check_shrinkage(shrinkage: float) -> None:
    if not (isinstance(shrinkage, _NUMBER) and 0.0 <= shrinkage < 1.0):
        raise ErlangError(f"shrinkage: must be in [0, 1), got {shrinkage!r}")
