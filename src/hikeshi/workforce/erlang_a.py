"""Erlang A (Palm, M/M/n+M): Erlang C plus callers who hang up.

Same model as :mod:`hikeshi.workforce.erlang` except that every waiting caller has an
exponential patience with mean ``patience_seconds`` and abandons when it runs out. With
``μ = 1/AHT``, ``θ = 1/patience``, ``λ = A·μ``, ``x = nμ/θ`` and ``y = λ/θ``, the stationary
probabilities of the birth–death chain above ``n`` are ``π(n+j) = π(n)·r_j`` with
``r_j = prod_{i=1..j} y/(x+i)``, and below ``n`` they are the Erlang B shape. Everything is
computed from those sums (scaled by exact powers of two, so an overloaded interval at 50,000
Erlangs neither overflows nor loses digits) and from Erlang B:

* ``P(wait) = P(N >= n)``; ``P(abandon) = θ·E[queue]/λ``;
* **service level** (the definition pyworkforce's ``ErlangA.service_level`` uses): the share
  of *offered* calls that are answered within ``t`` seconds, i.e.
  ``P(answered and wait <= t) / P(offered)``. Callers who abandon, whether before or after
  ``t``, count as not answered in time, so ``SL <= 1 − P(abandon)``. For the callers who
  find ``j`` others waiting, the time to reach an agent is the ``(j+1)``-th order statistic
  of exponentials, which sums over ``j`` in closed form to
  ``P(answered within t) = P(N < n) + π(n)·(x/y)·[T(y) − e^{−nμt + y(1−e^{−θt})}·T(y·e^{−θt})]``
  with ``T(u) = sum_{j>=1} prod_{i=1..j} u/(x+i)`` (derived in the tests' reference, which
  sums the tagged-caller probabilities state by state in mpmath instead);
* **average speed of answer**: mean wait of *answered* calls (zero waits included); a caller
  who finds ``j`` waiting is answered with probability ``x/(x+j+1)`` after
  ``sum_{k=1..j+1} 1/(θ(x+k))`` on average;
* **average wait**: mean wait of all offered calls, abandoned ones up to the moment they hang
  up; by Little's law it equals ``P(abandon)·patience``;
* **occupancy**: carried load / agents, ``A·(1 − P(abandon)) / n``.

Required agents is the true minimum over ``n >= 1`` and may be below the offered load: the
service level, the abandonment share and the occupancy are each monotone in ``n``, so a
safeguarded secant search between a proven lower bound (``SL < n/A``, because no more than
``n`` agents can be busy) and the Erlang C answer finds it in a handful of evaluations.
"""

from __future__ import annotations

import math

from hikeshi.workforce import _erlang_numerics
from hikeshi.workforce.erlang import (
    Constraint,
    ErlangError,
    QueueMetrics,
    ServiceTarget,
    StaffingRequirement,
    TargetUnreachable,
    _check_agents,
    _check_non_negative,
    _check_positive,
    _check_shrinkage,
    _scheduled,
    erlang_c_required_agents,
)

_LN2 = math.log(2.0)


class _Point:
    """One evaluated staffing level inside the search."""

    __slots__ = ("abandonment", "occupancy", "service_level")

    def __init__(self, service_level: float, abandonment: float, occupancy: float) -> None:
        self.service_level = service_level
        self.abandonment = abandonment
        self.occupancy = occupancy


def erlang_a_metrics(
    agents: int,
    *,
    load: float,
    aht_seconds: float,
    patience_seconds: float,
    answer_within_seconds: float,
) -> QueueMetrics:
    """All Erlang A metrics for ``agents`` on the phones (definitions in the module doc).

    Zero load: nobody waits (service level 1). Zero agents with traffic: everybody waits and
    abandons (service level 0, abandonment 1, average wait = patience, ASA ``inf`` since no
    call is answered).
    """
    _check_agents(agents)
    _check_inputs(load, aht_seconds, patience_seconds)
    _check_non_negative("answer_within_seconds", answer_within_seconds)
    return _metrics(agents, load, aht_seconds, patience_seconds, answer_within_seconds)


def erlang_a_required_agents(
    *,
    load: float,
    aht_seconds: float,
    patience_seconds: float,
    target: ServiceTarget,
    shrinkage: float = 0.0,
) -> StaffingRequirement:
    """The fewest agents (possibly fewer than the load) meeting every part of ``target``.

    Zero load needs zero agents. A 100 % service level or a 0 % abandonment cap with traffic
    raises :class:`TargetUnreachable` (under Erlang A some caller always waits, and some
    waiting caller always hangs up); everything else is reachable.
    """
    _check_inputs(load, aht_seconds, patience_seconds)
    _check_shrinkage(shrinkage)
    within = target.answer_within_seconds
    if load == 0.0:
        zero = _metrics(0, 0.0, aht_seconds, patience_seconds, within)
        return StaffingRequirement(0, 0, shrinkage, (), zero)
    if target.service_level >= 1.0:
        raise TargetUnreachable(
            f"service_level: 100 % within {within:g} s cannot be met with load {load:g} "
            "Erlangs; use a target below 1"
        )
    if target.max_abandonment <= 0.0:
        raise TargetUnreachable(
            f"max_abandonment: 0 % cannot be met with load {load:g} Erlangs and patience "
            f"{patience_seconds:g} s (some waiting caller always hangs up)"
        )
    search = _Search(load, aht_seconds, patience_seconds, target)
    agents = search.minimum()
    limited_by = search.broken_by(agents - 1)
    metrics = _metrics(agents, load, aht_seconds, patience_seconds, within)
    return StaffingRequirement(
        agents, _scheduled(agents, shrinkage), shrinkage, limited_by, metrics
    )


class _Search:
    """Smallest ``n`` passing all constraints; every constraint is monotone in ``n``."""

    def __init__(self, load: float, aht: float, patience: float, target: ServiceTarget) -> None:
        self.load = load
        self.aht = aht
        self.patience = patience
        self.target = target
        self.points: dict[int, _Point] = {}

    def point(self, agents: int) -> _Point:
        known = self.points.get(agents)
        if known is None:
            known = _evaluate(
                agents, self.load, self.aht, self.patience, self.target.answer_within_seconds
            )
            self.points[agents] = known
        return known

    def slack(self, agents: int) -> float:
        """How far ``agents`` is from meeting the target (>= 0 when it does), increasing in
        ``agents``; only used to aim the next guess, pass/fail is :meth:`passes`.

        Measured in log-odds, where the S-shaped curves of service level and abandonment
        against agents are nearly straight, so that secant steps land close."""
        p = self.point(agents)
        target = self.target
        slack = _logit(p.service_level) - _logit(target.service_level)
        if target.max_abandonment < 1.0:
            slack = min(slack, _logit(target.max_abandonment) - _logit(p.abandonment))
        if target.max_occupancy < 1.0:
            slack = min(slack, _logit(target.max_occupancy) - _logit(p.occupancy))
        return slack

    def passes(self, agents: int) -> bool:
        return not self.broken_by(agents)

    def broken_by(self, agents: int) -> tuple[Constraint, ...]:
        p = self.point(agents)
        broken: list[Constraint] = []
        if p.service_level < self.target.service_level:
            broken.append("service_level")
        if p.abandonment > self.target.max_abandonment:
            broken.append("abandonment")
        if p.occupancy > self.target.max_occupancy:
            broken.append("occupancy")
        return tuple(broken)

    def minimum(self) -> int:
        # Proven failure: SL < n/A, so any n <= target·A − 1 misses the service level.
        low = max(0, math.floor(self.target.service_level * self.load) - 1)
        # Erlang C's answer is usually a little above Erlang A's: a good first upper end.
        plain_target = ServiceTarget(self.target.service_level, self.target.answer_within_seconds)
        high = erlang_c_required_agents(
            load=self.load, aht_seconds=self.aht, target=plain_target
        ).agents_on_phones
        step = 1
        while not self.passes(high):
            low = high
            high += step
            step *= 2
        # Secant steps through the two latest points, kept inside the bracket; when two
        # steps in a row have not halved the bracket, bisect. So the count stays near
        # 2·log2(width) at worst (where constraints swap) and is usually a handful.
        recent = ((low, self.slack(low)), (high, self.slack(high)))
        widths = [high - low, high - low]
        while high - low > 1:
            width = high - low
            (n1, s1), (n2, s2) = recent
            guess = low + width // 2
            halved = 2 * width <= widths[-2] or width == widths[-2] == widths[-1]
            if halved and s1 != s2:
                secant = n2 - s2 * (n2 - n1) / (s2 - s1)
                if low < secant < high:
                    guess = round(secant)
            guess = min(max(guess, low + 1), high - 1)
            if self.passes(guess):
                high = guess
            else:
                low = guess
            recent = ((n2, s2), (guess, self.slack(guess)))
            widths.append(width)
        return high


def _logit(probability: float) -> float:
    clamped = min(max(probability, 1e-300), 1.0 - 1e-16)
    return math.log(clamped) - math.log1p(-clamped)


def _evaluate(agents: int, load: float, aht: float, patience: float, within: float) -> _Point:
    """Service level, abandonment and occupancy only (what the search needs)."""
    if agents == 0:
        return _Point(0.0, 1.0, 1.0)
    state = _State(agents, load, aht, patience)
    return _Point(state.service_level(within), state.abandonment(), state.occupancy())


def _metrics(agents: int, load: float, aht: float, patience: float, within: float) -> QueueMetrics:
    if load == 0.0:
        return QueueMetrics("erlang_a", agents, 0.0, within, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    if agents == 0:
        return QueueMetrics("erlang_a", 0, load, within, 1.0, 0.0, math.inf, patience, 1.0, 1.0)
    state = _State(agents, load, aht, patience)
    abandonment = state.abandonment()
    answered = 1.0 - abandonment
    asa = state.answered_wait_total() / answered if answered > 0.0 else math.inf
    return QueueMetrics(
        "erlang_a",
        agents,
        load,
        within,
        state.waiting_probability(),
        state.service_level(within),
        asa,
        abandonment * patience,
        abandonment,
        state.occupancy(),
    )


class _State:
    """The stationary distribution of the Erlang A chain for one ``n``, kept in scaled form:
    true sums are ``sum · 2**exponent``, and ``norm`` is the normalising denominator times
    ``2**-exponent``, so that ``π(n) = blocking · 2**-exponent / norm``."""

    __slots__ = (
        "agents",
        "blocking",
        "exponent",
        "load",
        "norm",
        "patience",
        "queue",
        "weighted",
        "x",
        "y",
    )

    def __init__(self, agents: int, load: float, aht: float, patience: float) -> None:
        self.agents = agents
        self.load = load
        self.patience = patience
        self.x = agents * patience / aht
        self.y = load * patience / aht
        self.blocking = _erlang_numerics.erlang_b(agents, load)
        self.queue, self.weighted, self.exponent = _erlang_numerics.queue_series(self.x, self.y)
        # π(n)·(1/B − 1 + sum r_j) = 1, multiplied through by B·2**-exponent.
        lower = (1.0 - self.blocking) * math.ldexp(1.0, -self.exponent)
        self.norm = lower + self.blocking * self.queue

    def waiting_probability(self) -> float:
        return self.blocking * self.queue / self.norm

    def no_wait_probability(self) -> float:
        return (1.0 - self.blocking) * math.ldexp(1.0, -self.exponent) / self.norm

    def occupancy(self) -> float:
        """Busy share of the agents, ``1 − E[idle agents]/n``, with
        ``E[idle] = n·π(n) + (n − A)·P(N < n)`` (from the Erlang B shape below ``n``). Unlike
        ``A(1 − P(abandon))/n`` this has no cancellation when overloaded, so it stays <= 1."""
        state_n = self.blocking * math.ldexp(1.0, -self.exponent) / self.norm
        idle_share = state_n + (1.0 - self.load / self.agents) * self.no_wait_probability()
        return min(1.0, max(0.0, 1.0 - idle_share))

    def abandonment(self) -> float:
        return self.blocking * self.weighted / (self.y * self.norm)

    def service_level(self, within: float) -> float:
        no_wait = self.no_wait_probability()
        fade = within / self.patience  # θt
        shrunk = self.y * math.exp(-fade)  # y·e^{−θt}
        tail, tail_exponent = _erlang_numerics.tail_series(self.x, shrunk)
        late = 0.0
        if tail > 0.0:
            # e^{−nμt + y(1 − e^{−θt})}·T(y e^{−θt}), rescaled to this state's exponent.
            log_late = (
                -self.x * fade
                - self.y * math.expm1(-fade)
                + (tail_exponent - self.exponent) * _LN2
                + math.log(tail)
            )
            late = math.exp(log_late)
        within_total = self.queue - math.ldexp(1.0, -self.exponent) - late
        answered_in_time = self.x / self.y * self.blocking * within_total / self.norm
        return min(1.0, no_wait + max(0.0, answered_in_time))

    def answered_wait_total(self) -> float:
        """E[wait; answered] in seconds: the numerator of the ASA."""
        total, exponent = _erlang_numerics.answered_wait_series(self.x, self.y)
        scale = math.ldexp(1.0, exponent - self.exponent)
        return self.blocking * total * scale / self.norm * self.patience


def _check_inputs(load: float, aht_seconds: float, patience_seconds: float) -> None:
    _check_non_negative("load", load)
    _check_positive("aht_seconds", aht_seconds)
    if not (isinstance(patience_seconds, int | float) and math.isfinite(patience_seconds)):
        raise ErlangError(
            f"patience_seconds: must be a finite number > 0 (infinitely patient callers "
            f"are Erlang C), got {patience_seconds!r}"
        )
    _check_positive("patience_seconds", patience_seconds)
