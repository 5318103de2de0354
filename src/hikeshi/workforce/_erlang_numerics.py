"""Numerical kernels behind the Erlang formulas: stable at 0.1 and at 50,000 Erlangs.

Nothing here forms a factorial or a power of the load. Erlang B comes from one of four
routes, chosen by where ``n`` lies relative to the offered load ``A``:

* ``n`` small: the classic forward recurrence ``B(k) = A·B(k-1) / (k + A·B(k-1))``, which
  only ever contracts rounding errors;
* ``n + 1`` near ``A`` (the only hard region): Temme's uniform asymptotic expansion of the
  incomplete gamma function (DLMF 8.12.3, 8.12.8-12) gives ``P(Poisson(A) <= n)`` in O(1),
  and Loader's saddle-point form gives the Poisson probability ``p(n)``; ``B = p(n) / F(n)``;
* ``n`` well below ``A``: the finite series ``1/B = sum_j n(n-1)...(n-j+1) / A**j``, whose
  terms fall geometrically;
* ``n`` well above ``A``: ``B = p(n) / (1 - upper tail)``, the tail again a fast series.

The Temme coefficients ``_TEMME_D[k][i]`` (``c_k(eta) = sum_i d[k][i] * eta**i``) were
generated exactly with rational arithmetic from DLMF 8.12.12; the unit tests regenerate them
(``tests/unit/workforce/temme_table.py``) and check every value.
"""

from __future__ import annotations

import math

_LN_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)

# Temme is used for a = n + 1 >= _TEMME_MIN_A with |A - a| <= _TEMME_MAX_SIGMA * a (where
# ``deviance`` runs its cancellation-free series) and a·η²/2 <= _TEMME_MAX_EXPONENT (|A - a|
# within about 7.7·sqrt(a)): the factor e**(-a·η²/2) carries a relative error of about
# 1e-16 times that exponent, so farther out the plain series below are the better route,
# and they converge quickly there. The tests check the result against mpmath.
_TEMME_MIN_A = 100.0
_TEMME_MAX_SIGMA = 0.18
_TEMME_MAX_EXPONENT = 30.0
# Up to this many agents the forward recurrence from zero is both exact and cheap.
_RECURRENCE_MAX_N = 100
_FLOATS_FROM_ONE = tuple(float(k) for k in range(1, _RECURRENCE_MAX_N + 1))

# fmt: off
_TEMME_D: tuple[tuple[float, ...], ...] = (
    (
        -0.3333333333333333, 0.08333333333333333, -0.014814814814814815, 0.0011574074074074073,
        0.0003527336860670194, -0.0001787551440329218, 3.919263178522438e-05,
        -2.185448510679992e-06, -1.85406221071516e-06, 8.296711340953087e-07,
        -1.7665952736826078e-07, 6.707853543401498e-09, 1.0261809784240309e-08,
        -4.382036018453353e-09, 9.14769958223679e-10, -2.5514193994946248e-11,
        -5.830772132550426e-11, 2.4361948020667415e-11, -5.0276692801141755e-12,
        1.1004392031956135e-13, 3.371763262400985e-13, -1.392388722418162e-13,
        2.8534893807047445e-14, -5.139111834242572e-16, -1.9752288294349442e-15
    ),
    (
        -0.001851851851851852, -0.003472222222222222, 0.0026455026455026454, -0.0009902263374485596,
        0.00020576131687242798, -4.018775720164609e-07, -1.8098550334489977e-05,
        7.64916091608111e-06, -1.6120900894563446e-06, 4.647127802807434e-09, 1.378633446915721e-07,
        -5.752545603517705e-08, 1.1951628599778148e-08, -1.7543241719747647e-11,
        -1.0091543710600413e-09, 4.162792991842583e-10, -8.56390702649298e-11,
        6.067215101604758e-14, 7.1624989648114856e-12, -2.933186643771437e-12,
        5.996696365683689e-13, -2.1671786527323313e-16, -4.978339972369262e-14,
        2.0291628823713425e-14, -4.13125571381061e-15
    ),
    (
        0.004133597883597883, -0.0026813271604938273, 0.0007716049382716049, 2.0093878600823047e-06,
        -0.0001073665322636516, 5.2923448829120125e-05, -1.2760635188618728e-05,
        3.423578734096138e-08, 1.3721957309062934e-06, -6.298992138380055e-07,
        1.4280614206064242e-07, -2.0477098421990866e-10, -1.409252991086752e-08,
        6.228974084922022e-09, -1.3670488396617114e-09, 9.428356159014678e-13,
        1.2872252400089318e-10, -5.5645956134363323e-11, 1.197593554636698e-11,
        -4.1689782251838634e-15, -1.0940640427884595e-12, 4.662239946390136e-13,
        -9.905105763906907e-14, 1.8931876768373515e-17, 8.859221872591127e-15
    ),
    (
        0.0006494341563786008, 0.00022947209362139917, -0.0004691894943952557,
        0.00026772063206283885, -7.561801671883977e-05, -2.396505113867297e-07,
        1.1082654115347302e-05, -5.6749528269915965e-06, 1.4230900732435883e-06,
        -2.7861080291528143e-11, -1.6958404091930278e-07, 8.099464905388083e-08,
        -1.9111168485973655e-08, 2.3928620439808118e-12, 2.0620131815488797e-09,
        -9.460496661855133e-10, 2.1541049775774907e-10, -1.388823336813903e-14,
        -2.1894761681963938e-11, 9.790998951171684e-12, -2.178219188018096e-12,
        6.208819573407901e-17, 2.126978363279737e-13, -9.344688791517433e-14, 2.045367122678285e-14
    ),
    (
        -0.0008618882909167117, 0.0007840392217200666, -0.0002990724803031902,
        -1.4638452578843418e-06, 6.641498215465122e-05, -3.968365047179435e-05,
        1.1375726970678419e-05, 2.507497226237533e-10, -1.6954149536558305e-06,
        8.907507532205309e-07, -2.292934834000805e-07, 2.956794137544049e-11,
        2.8865829742708783e-08, -1.4189739437803219e-08, 3.4463580499464896e-09,
        -2.3024517174528067e-13, -3.9409233028046403e-10, 1.86023389685045e-10,
        -4.356323005056618e-11, 1.278600101629623e-15, 4.67927502665792e-12, -2.149246470613483e-12,
        4.908815614809652e-13, -6.33859148489156e-18, -5.045332069080094e-14
    ),
    (
        -0.00033679855336635813, -6.972813758365857e-05, 0.0002772753244959392,
        -0.00019932570516188847, 6.797780477937208e-05, 1.419062920643967e-07,
        -1.3594048189768693e-05, 8.018470256334202e-06, -2.291481176508095e-06,
        -3.252473551298454e-10, 3.4652846491085265e-07, -1.8447187191171344e-07,
        4.8240967037894184e-08, -1.7989466721743514e-14, -6.306194500013523e-09,
        3.162417628774568e-09, -7.840924253697429e-10, 5.192679165254041e-15, 9.358944242306784e-11,
        -4.513426216163278e-11, 1.0799129993116828e-11, -3.661886712685252e-17,
        -1.210902069055155e-12, 5.680743584990564e-13, -1.3249659916340829e-13
    ),
    (
        0.0005313079364639922, -0.0005921664373536939, 0.0002708782096718045, 7.902353232660328e-07,
        -8.153969367561969e-05, 5.61168275310625e-05, -1.8329116582843375e-05,
        -3.0796134506033047e-09, 3.465155368803609e-06, -2.0291327396058603e-06,
        5.788792863149004e-07, 2.338630673826657e-13, -8.828600746330484e-08,
        4.7435958880408125e-08, -1.2545415020710383e-08, 8.649648858010293e-14,
        1.6846058979264062e-09, -8.575492823577594e-10, 2.1598224929232125e-10,
        -7.613230520476153e-16, -2.6639822008536144e-11, 1.3065700536611057e-11,
        -3.1799163902367977e-12, 4.710976121367431e-18, 3.6902800842763465e-13
    ),
    (
        0.00034436760689237765, 5.171790908260592e-05, -0.00033493161081142234,
        0.0002812695154763237, -0.00010976582244684731, -1.2741009095484485e-07,
        2.7744451511563645e-05, -1.8263488805711332e-05, 5.7876949497350525e-06,
        4.93875893393627e-10, -1.0595367014026043e-06, 6.166714376110408e-07,
        -1.7562973359060463e-07, -1.297447328701544e-12, 2.695423606288966e-08,
        -1.4578352908731272e-08, 3.887645959386175e-09, -3.881002251019412e-17,
        -5.327994173877286e-10, 2.7437977643314844e-10, -6.995796092070568e-11,
        2.589986387486848e-17, 8.856689099669639e-12, -4.403168815871311e-12, 1.0865561947091654e-12
    ),
    (
        -0.0006526239185953094, 0.0008394987206720873, -0.000438297098541721,
        -6.969091458420552e-07, 0.00016644846642067547, -0.00012783517679769218,
        4.629953263691304e-05, 4.557909867922708e-09, -1.0595271125805195e-05,
        6.783342904865167e-06, -2.1075476666258803e-06, -1.7213731432817144e-11,
        3.773587741611098e-07, -2.1867506700122867e-07, 6.220228804018927e-08, 6.597703826733e-16,
        -9.590386497425686e-09, 5.213214492280807e-09, -1.3991589583935709e-09,
        5.382058999060575e-16, 1.9484714275467745e-10, -1.0127287556389682e-10,
        2.6077347197254926e-11, -5.090418699993299e-18, -3.3721464474854593e-12
    ),
    (
        -0.0005967612901927463, -7.204895416020011e-05, 0.0006782308837667328,
        -0.0006401475260262758, 0.00027750107634328704, 1.819700838046515e-07,
        -8.479507117068503e-05, 6.105192082501531e-05, -2.1073920183404862e-05,
        -8.858589014125599e-10, 4.5284535953805374e-06, -2.8427815022504407e-06,
        8.708234177864641e-07, 3.6886101871706966e-12, -1.534469519070206e-07,
        8.862466778790695e-08, -2.5184812301826817e-08, -1.0225912098215092e-14,
        3.896947075815478e-09, -2.1267304792235634e-09, 5.737013552805138e-10,
        -1.8877498501697116e-19, -8.093153869465787e-11, 4.23827232834492e-11,
        -1.1002224534207725e-11
    ),
)
# fmt: on
_TEMME_ROWS_REVERSED = tuple(tuple(reversed(row)) for row in _TEMME_D)
_TEMME_COLUMNS = len(_TEMME_D[0])

# Power-of-two rescaling keeps long products in range without any rounding (exact scaling).
_RESCALE_ABOVE = 2.0**500
_RESCALE_BY = 2.0**-500
_RESCALE_BITS = 500
_TINY_RELATIVE = 1e-17


def stirling_error(x: float) -> float:
    """``ln Γ(x+1) − (x+½)·ln x + x − ln √(2π)`` for ``x > 0`` (Loader's ``stirlerr``)."""
    if x <= 15.0:
        return math.lgamma(x + 1.0) - (x + 0.5) * math.log(x) + x - _LN_SQRT_2PI
    inv2 = 1.0 / (x * x)
    if x > 500.0:
        return (1.0 / 12.0 - inv2 / 360.0) / x
    if x > 80.0:
        return (1.0 / 12.0 - (1.0 / 360.0 - inv2 / 1260.0) * inv2) / x
    if x > 35.0:
        return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - inv2 / 1680.0) * inv2) * inv2) / x
    return (
        1.0 / 12.0
        - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - inv2 / 1188.0) * inv2) * inv2) * inv2
    ) / x


def deviance(x: float, mean: float) -> float:
    """``x·ln(x/mean) + mean − x`` without cancellation (Loader's ``bd0``, with a wider
    series range): for ``x/mean`` in (1/3, 3) the series in ``v = (x−mean)/(x+mean)``
    (``|v| < 1/2``, 26 terms at most); outside, ``log1p`` keeps ``ln(x/mean)`` exact to
    an ulp of itself."""
    diff = x - mean
    if abs(diff) < 0.5 * (x + mean):
        v = diff / (x + mean)
        total = diff * v
        term = 2.0 * x * v
        v2 = v * v
        odd = 3.0
        while True:
            term *= v2
            updated = total + term / odd
            if updated == total:
                return updated
            total = updated
            odd += 2.0
    return x * math.log1p(diff / mean) + mean - x


def poisson_pmf(n: int, mean: float) -> float:
    """``P(Poisson(mean) = n)`` to full relative precision, for ``mean > 0``."""
    if n == 0:
        return math.exp(-mean)
    return math.exp(-stirling_error(n) - deviance(n, mean)) / (_SQRT_2PI * math.sqrt(n))


def temme_smaller_tail(a: float, x: float, exponent: float | None = None) -> float:
    """The smaller tail of the regularised incomplete gamma: ``P(a, x)`` if ``x < a``,
    otherwise ``Q(a, x)``. Valid for large ``a`` with ``x`` near ``a`` (see module doc).
    ``exponent`` is ``deviance(a, x)`` when the caller already has it."""
    y = deviance(a, x) if exponent is None else exponent  # a·η²/2, η as in DLMF 8.12.1
    eta = math.sqrt(2.0 * y / a)
    if x < a:
        eta = -eta
    # Only as many terms as double precision can see: a**-k and eta**i below 1e-17.
    rows = min(len(_TEMME_ROWS_REVERSED), int(39.2 / math.log(a)) + 2)
    small = abs(eta)
    cols = (
        _TEMME_COLUMNS
        if small >= 0.2
        else min(_TEMME_COLUMNS, int(39.2 / -math.log(max(small, 1e-300))) + 2)
    )
    skip = _TEMME_COLUMNS - cols
    inv_a = 1.0 / a
    series = 0.0
    weight = 1.0
    for row in _TEMME_ROWS_REVERSED[:rows]:
        c_k = 0.0
        for coefficient in row[skip:]:
            c_k = c_k * eta + coefficient
        series += c_k * weight
        weight *= inv_a
    remainder = series * math.exp(-y) / (_SQRT_2PI * math.sqrt(a))
    half_erfc = 0.5 * math.erfc(math.sqrt(y))
    return half_erfc - remainder if x < a else half_erfc + remainder


def erlang_b(n: int, load: float) -> float:
    """Erlang B blocking probability ``B(n, A)`` for ``n >= 0`` servers and load ``A >= 0``."""
    if load <= 0.0:
        return 1.0 if n == 0 else 0.0
    if n <= _RECURRENCE_MAX_N:
        # 1/B(k) = 1 + (k/A)·1/B(k-1): contracting (relative errors shrink each step).
        inverse = 1.0
        per_unit = 1.0 / load
        for k in _FLOATS_FROM_ONE[:n]:
            inverse = 1.0 + inverse * k * per_unit
        return 1.0 / inverse
    a = n + 1.0
    if a >= _TEMME_MIN_A and abs(load - a) <= _TEMME_MAX_SIGMA * a:
        exponent = deviance(a, load)
    else:
        exponent = math.inf
    if exponent <= _TEMME_MAX_EXPONENT:
        tail = temme_smaller_tail(a, load, exponent)
        cdf = tail if load >= a else 1.0 - tail  # P(Poisson(A) <= n) = Q(n + 1, A)
        return poisson_pmf(n, load) / cdf
    if load > a:
        # Far below the load: 1/B = sum_j n(n-1)...(n-j+1)/A**j; the terms fall at least
        # as fast as (1 - 10/sqrt(A))**j.
        total = 1.0
        term = 1.0
        k = n
        while k > 0 and term > _TINY_RELATIVE * total:
            term *= k / load
            total += term
            k -= 1
        return 1.0 / total
    # Far above the load: B = p(n) / (1 - P(Poisson(A) > n)), the tail a fast series.
    pmf = poisson_pmf(n, load)
    if pmf == 0.0:
        return 0.0
    tail = 0.0
    term = 1.0
    k = n + 1
    while True:
        term *= load / k
        tail += term
        if term <= _TINY_RELATIVE * tail:
            break
        k += 1
    return pmf / (1.0 - pmf * tail)


def queue_series(x: float, y: float) -> tuple[float, float, int]:
    """Sums over the waiting states of the Erlang A chain, relative to state ``n``.

    With ``r_j = prod_{i=1..j} y / (x + i)`` (``x = nμ/θ``, ``y = λ/θ``) returns
    ``(sum_j r_j, sum_j j·r_j, E)``, both sums scaled by ``2**-E`` (exact rescaling: the
    terms first rise while ``x + j < y``, which can exceed the float range when overloaded).
    """
    total = 1.0
    weighted = 0.0
    term = 1.0
    exponent = 0
    j = 0
    peak = y - x
    while True:
        j += 1
        term *= y / (x + j)
        total += term
        weighted += j * term
        if term > _RESCALE_ABOVE:
            term *= _RESCALE_BY
            total *= _RESCALE_BY
            weighted *= _RESCALE_BY
            exponent += _RESCALE_BITS
        elif j > peak and j * term <= _TINY_RELATIVE * weighted:
            return total, weighted, exponent


def answered_wait_series(x: float, y: float) -> tuple[float, int]:
    """``sum_j r_j · x/(x+j+1) · H_j`` scaled by ``2**-E`` (same scaling rule as
    :func:`queue_series`), where ``H_j = sum_{k=1..j+1} 1/(x+k)``: a caller who finds ``j``
    waiting is answered with probability ``x/(x+j+1)`` after ``H_j/θ`` on average."""
    harmonic = 1.0 / (x + 1.0)
    total = x / (x + 1.0) * harmonic
    term = 1.0
    exponent = 0
    j = 0
    peak = y - x
    while True:
        j += 1
        term *= y / (x + j)
        harmonic += 1.0 / (x + j + 1.0)
        contribution = term * x / (x + j + 1.0) * harmonic
        total += contribution
        if term > _RESCALE_ABOVE:
            term *= _RESCALE_BY
            total *= _RESCALE_BY
            exponent += _RESCALE_BITS
        elif j > peak and contribution <= _TINY_RELATIVE * total:
            return total, exponent


def tail_series(x: float, u: float) -> tuple[float, int]:
    """``sum_{j>=1} prod_{i=1..j} u/(x+i)`` scaled by ``2**-E``: ``(sum, E)``."""
    if u == 0.0:
        return 0.0, 0
    total = 0.0
    term = 1.0
    exponent = 0
    j = 0
    peak = u - x
    while True:
        j += 1
        term *= u / (x + j)
        total += term
        if term > _RESCALE_ABOVE:
            term *= _RESCALE_BY
            total *= _RESCALE_BY
            exponent += _RESCALE_BITS
        elif j > peak and term <= _TINY_RELATIVE * total:
            return total, exponent
