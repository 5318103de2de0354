"""High-precision (mpmath, 40 digits) references for the Erlang tests.

Erlang B from the Poisson probability and mpmath's regularised upper incomplete gamma.
Erlang A two ways: ``erlang_a_tagged`` straight from the Markov chain's definition (the
stationary distribution state by state, and each waiting caller's chance of being answered
in time from the matrix exponential of the tagged-caller chain: no closed form at all), for
small systems; and ``erlang_a_closed_form`` (the sums of the chain, summed term by term, with
the closed form for the service level), which scales to 50,000 Erlangs.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath as mp  # type: ignore[import-untyped]  # dev-only, no stubs

mp.mp.dps = 40


def erlang_b(agents: int, load: float) -> mp.mpf:
    a = mp.mpf(load)
    pmf = mp.exp(agents * mp.log(a) - a - mp.loggamma(agents + 1))
    return pmf / mp.gammainc(agents + 1, a, mp.inf, regularized=True)


def erlang_c_service_level(agents: int, load: float, aht: float, within: float) -> mp.mpf:
    a = mp.mpf(load)
    b = erlang_b(agents, load)
    waiting = agents * b / (agents - a + a * b)
    return 1 - waiting * mp.exp(-(agents - a) * mp.mpf(within) / aht)


@dataclass(frozen=True)
class ErlangAReference:
    service_level: mp.mpf
    abandonment: mp.mpf
    waiting: mp.mpf
    occupancy: mp.mpf
    asa: mp.mpf


def _queue_terms(x: mp.mpf, y: mp.mpf) -> list[mp.mpf]:
    terms = [mp.mpf(1)]
    total = mp.mpf(1)
    negligible = mp.mpf(10) ** -45
    j = 0
    while True:
        j += 1
        terms.append(terms[-1] * y / (x + j))
        total += terms[-1]
        if j > y - x and terms[-1] * j < negligible * total:
            return terms


def erlang_a_closed_form(
    agents: int, load: float, aht: float, patience: float, within: float
) -> ErlangAReference:
    x = mp.mpf(agents) * patience / aht
    y = mp.mpf(load) * patience / aht
    fade = mp.mpf(within) / patience
    terms = _queue_terms(x, y)
    queue = mp.fsum(terms)
    weighted = mp.fsum(j * t for j, t in enumerate(terms))
    b = erlang_b(agents, load)
    state_n = 1 / (1 / b - 1 + queue)
    below = (1 / b - 1) * state_n
    shrunk = y * mp.exp(-fade)
    shrunk_terms = _queue_terms(x, shrunk)
    tail_y = queue - 1
    tail_shrunk = mp.fsum(shrunk_terms) - 1
    late = mp.exp(-x * fade + y * (1 - mp.exp(-fade))) * tail_shrunk
    service_level = below + state_n * x / y * (tail_y - late)
    abandonment = state_n * weighted / y
    harmonic = mp.mpf(0)
    answered_wait = mp.mpf(0)
    for j, t in enumerate(terms):
        harmonic += 1 / (x + j + 1)
        answered_wait += t * x / (x + j + 1) * harmonic
    asa = state_n * answered_wait * patience / (1 - abandonment)
    occupancy = mp.mpf(load) * (1 - abandonment) / agents
    return ErlangAReference(service_level, abandonment, state_n * queue, occupancy, asa)


def erlang_a_tagged(
    agents: int, load: float, aht: float, patience: float, within: float
) -> ErlangAReference:
    """From the definition only; keep ``agents`` and the queue small (matrix exponential)."""
    mu = 1 / mp.mpf(aht)
    theta = 1 / mp.mpf(patience)
    lam = mp.mpf(load) * mu
    weights = [mp.mpf(1)]
    total = mp.mpf(1)
    k = 0
    while True:
        k += 1
        weights.append(weights[-1] * lam / (min(k, agents) * mu + max(k - agents, 0) * theta))
        total += weights[-1]
        if k > agents and weights[-1] < mp.mpf(10) ** -30 * total:
            break
    total = mp.fsum(weights)
    probs = [w / total for w in weights]
    depth = len(probs) - agents  # callers found waiting: 0 .. depth-1
    # Tagged caller with j ahead: moves up at nμ + jθ (served from j = 0), hangs up at θ.
    size = depth + 2
    served, gone = depth, depth + 1
    generator = mp.zeros(size, size)
    for j in range(depth):
        forward = agents * mu + j * theta
        generator[j, served if j == 0 else j - 1] += forward
        generator[j, gone] += theta
        generator[j, j] = -(forward + theta)
    transition = mp.expm(generator * within)
    in_time = mp.fsum(probs[:agents]) + mp.fsum(
        probs[agents + j] * transition[j, served] for j in range(depth)
    )
    queue = mp.fsum((n - agents) * probs[n] for n in range(agents, len(probs)))
    abandonment = theta * queue / lam
    waiting = mp.fsum(probs[agents:])
    # Mean wait of answered callers: each stage with j ahead takes 1/(nμ + (j+1)θ) on average.
    answered_wait = mp.mpf(0)
    for j in range(depth):
        chance = mp.fprod(
            (agents * mu + i * theta) / (agents * mu + (i + 1) * theta) for i in range(j + 1)
        )
        stages = mp.fsum(1 / (agents * mu + (i + 1) * theta) for i in range(j + 1))
        answered_wait += probs[agents + j] * chance * stages
    busy = mp.fsum(min(n, agents) * p for n, p in enumerate(probs)) / agents
    return ErlangAReference(in_time, abandonment, waiting, busy, answered_wait / (1 - abandonment))
