"""Regenerates the Temme coefficients of ``hikeshi.workforce._erlang_numerics`` exactly.

DLMF 8.12: with λ = x/a and η = sign(λ−1)·sqrt(2(λ − 1 − ln λ)),
``Q(a, x) = ½·erfc(η·sqrt(a/2)) + e^{−aη²/2}/sqrt(2πa) · Σ_k c_k(η)·a^{−k}``, where
``c_0(η) = 1/(λ−1) − 1/η`` and ``c_k(η) = (1/η)·c'_{k−1}(η) + (−1)^k·g_k/(λ−1)`` (8.12.10), g_k
the Stirling coefficients of Γ (5.11.3). Writing ``c_k(η) = Σ_i d[k][i]·η^i`` gives 8.12.12:
``d[k][i] = (−1)^k·g_k·d[0][i] + (i+2)·d[k−1][i+2]``. Everything here is exact (Fractions).
"""

from __future__ import annotations

from fractions import Fraction
from math import comb


def _multiply(a: list[Fraction], b: list[Fraction], order: int) -> list[Fraction]:
    out = [Fraction(0)] * order
    for i, ai in enumerate(a[:order]):
        if ai:
            for j, bj in enumerate(b[: order - i]):
                out[i + j] += ai * bj
    return out


def _reciprocal(a: list[Fraction], order: int) -> list[Fraction]:
    out = [Fraction(0)] * order
    out[0] = 1 / a[0]
    for n in range(1, order):
        out[n] = -sum(a[i] * out[n - i] for i in range(1, min(n, len(a) - 1) + 1)) / a[0]
    return out


def _square_root(a: list[Fraction], order: int) -> list[Fraction]:  # a[0] == 1
    out = [Fraction(0)] * order
    out[0] = Fraction(1)
    for n in range(1, order):
        out[n] = (a[n] - sum(out[i] * out[n - i] for i in range(1, n))) / 2
    return out


def _stirling_gamma_coefficients(count: int) -> list[Fraction]:
    """g_k in Γ(a) ~ sqrt(2π/a)(a/e)^a Σ g_k a^{−k}: exp of Σ B_2m/(2m(2m−1)) a^{1−2m}."""
    bernoulli = [Fraction(1)]
    for n in range(1, 2 * count + 3):
        bernoulli.append(
            -sum((comb(n + 1, k) * bernoulli[k] for k in range(n)), Fraction(0)) / (n + 1)
        )
    log_series = [Fraction(0)] * (count + 1)
    for m in range(1, count + 1):
        if 2 * m - 1 <= count:
            log_series[2 * m - 1] = bernoulli[2 * m] / (2 * m * (2 * m - 1))
    out = [Fraction(0)] * (count + 1)
    out[0] = Fraction(1)
    for n in range(1, count + 1):
        out[n] = sum((k * log_series[k] * out[n - k] for k in range(1, n + 1)), Fraction(0)) / n
    return out


def temme_coefficients(rows: int, columns: int) -> list[list[Fraction]]:
    order = columns + 2 * rows + 2
    # η/σ as a series in σ = λ − 1: sqrt(2(σ − ln(1+σ))/σ²), then σ(η) by Lagrange inversion.
    f = [Fraction(2 * (-1) ** m, m + 2) for m in range(order + 1)]
    eta_over_sigma = _square_root(f, order + 1)
    inverse = _reciprocal(eta_over_sigma, order + 1)
    sigma = [Fraction(0)] * (order + 1)
    power = [Fraction(1)] + [Fraction(0)] * order
    for n in range(1, order + 1):
        power = _multiply(power, inverse, order + 1)
        sigma[n] = power[n - 1] / n
    # c_0 = 1/σ − 1/η = (η/σ − 1)/η, with η/σ as a series in η.
    eta_over_sigma_in_eta = _reciprocal(sigma[1:], order)
    c0 = [eta_over_sigma_in_eta[i + 1] for i in range(order - 1)]
    g = _stirling_gamma_coefficients(rows + 1)
    table = [c0]
    for k in range(1, rows):
        previous = table[-1]
        # The pole of (1/η)·c'_{k−1} must cancel that of (−1)^k g_k/(λ−1).
        assert previous[1] + (-1) ** k * g[k] == 0
        table.append(
            [(-1) ** k * g[k] * c0[i] + (i + 2) * previous[i + 2] for i in range(len(previous) - 2)]
        )
    return [row[:columns] for row in table]
