"""1/D expansion of the exact closure: residual of the n-term expansion falls at the predicted order.

For each K in {2, 3, 5} and each delivered order n the residual |exact - sum_{j<=n} c_j D^-(j+p)| is
computed against :func:`asymptotics.numeric.closure.closure_moments` (float64, ~1e-12 relative) at
D = 20 ... 2000; the local slope of log(residual) vs log(D), fitted on the points whose residual is
well above the closure's accuracy, must be within 0.1 of -(next nonzero order + p).
K = 2: every order (only even ones are nonzero); K = 3 and K = 5: orders 0..3 (for K = 5 order 2 contains
the four-class and order 3 the five-class junctions).
"""

import math

import mpmath
import numpy as np
import pytest

from asymptotics.asymptotic.expansion import (
    LEADING_POWER,
    expanded_moments,
    expansion_coefficient,
    expansion_coefficients,
    expansion_sympy,
    junction_terms,
)
from asymptotics.numeric.closure import closure_moments
from asymptotics.validation import InvalidInputError

DELTA = 0.25
D_GRID = [20, 30, 45, 70, 100, 150, 230, 350, 530, 800, 1200, 2000]
#: residuals below FLOOR * |value| are not used: K = 2, 3 closures are ~1e-12 relative; the K = 5 Laplace
#: route levels off at ~4e-13 relative (residual after six terms at D = 350 ... 530), so 1e-11 keeps a 25x margin
FLOOR = {2: 1e-10, 3: 1e-10, 5: 1e-11}


@pytest.fixture(scope="module")
def exact():
    return {K: {D: closure_moments(K, float(D), DELTA) for D in D_GRID} for K in (2, 3, 5)}


@pytest.fixture(scope="module")
def coefficients():
    return {
        2: expansion_coefficients(2, DELTA, 4),
        3: expansion_coefficients(3, DELTA, 3),
        5: expansion_coefficients(5, DELTA, 4),
    }


def _slope(K, name, n, coeffs, exact_values):
    p = LEADING_POWER[name]
    Ds, res = [], []
    for D in D_GRID:
        value = float(getattr(exact_values[D], name))
        approx = sum(float(c) * D ** (-(j + p)) for j, c in enumerate(coeffs[name][: n + 1]))
        r = abs(value - approx)
        if r > FLOOR[K] * abs(value):  # well above the closure's accuracy
            Ds.append(D)
            res.append(r)
    # next nonzero order
    nxt = n + 1  # beyond the computed coefficients the next order is assumed nonzero
    while nxt < len(coeffs[name]) and abs(float(coeffs[name][nxt])) < 1e-12:
        nxt += 1
    assert len(Ds) >= 4, (K, name, n, Ds)
    ld, lr = np.log(Ds[-4:]), np.log(res[-4:])
    slope = np.polyfit(ld, lr, 1)[0]
    return slope, -(nxt + p)


CASES = [(2, n) for n in (0, 2)] + [(3, n) for n in (0, 1, 2, 3)] + [(5, n) for n in (0, 1, 2, 3)]


@pytest.mark.parametrize("K,n", CASES)
@pytest.mark.parametrize("name", ["drift", "restoring", "noise", "eps_g", "loss"])
def test_residual_falls_at_next_order(K, n, name, exact, coefficients):
    coeffs = coefficients[K]
    slope, predicted = _slope(K, name, n, coeffs, exact[K])
    assert abs(slope - predicted) < 0.1, (slope, predicted)


def test_k2_odd_orders_vanish(coefficients):
    for c in coefficients[2].values():
        assert c[1] == 0 and c[3] == 0


def test_k3_odd_order_present(coefficients):
    # rho_3'(0) and the three-class junction make the first correction nonzero (except restoring)
    for name in ("drift", "noise", "eps_g", "loss"):
        assert abs(float(coefficients[3][name][1])) > 1e-3
    assert abs(float(coefficients[3]["restoring"][1])) < 1e-10


def test_leading_coefficients_closed_forms(coefficients):
    rho3 = 3 / (2 * math.sqrt(math.pi))
    c = coefficients[3]
    assert abs(float(c["eps_g"][0]) - rho3 * math.sqrt(DELTA / math.pi)) < 1e-13
    assert abs(float(c["drift"][0]) - rho3 * (math.pi**2 / 12 + DELTA / 2)) < 1e-13
    assert abs(float(c["restoring"][0]) - rho3) < 1e-13


def test_k2_expansion_high_precision():
    # K = 2 exact eps_g = arccos(D/sqrt(D^2+Delta))/pi: order-6 expansion at 30 digits
    c = {"eps_g": [expansion_coefficient(2, "eps_g", j, mpmath.mpf("0.25"), digits=30) for j in range(7)]}
    with mpmath.workdps(40):
        for D in (50, 200):
            D = mpmath.mpf(D)
            exact_eps = mpmath.acos(D / mpmath.sqrt(D**2 + mpmath.mpf("0.25"))) / mpmath.pi
            approx = sum(c["eps_g"][j] * D ** (-(j + 1)) for j in range(7))
            # next term ~ D^-9 relative to D^-1
            assert abs(approx - exact_eps) < 10 * D**-9


def test_precisions_agree():
    with mpmath.workdps(60):
        d = mpmath.mpf("0.3")
    for K, j in ((3, 2), (5, 3)):
        for name in ("eps_g", "loss", "noise"):
            c15, c30, c50 = (expansion_coefficient(K, name, j, d, digits=p) for p in (15, 30, 50))
            assert abs(c15 - c30) <= 1e-12 * (1 + abs(c30))
            assert abs(c30 - c50) <= mpmath.mpf(10) ** -29 * (1 + abs(c50))


def test_expanded_moments_and_sympy():
    m = expanded_moments(3, 100.0, DELTA, 1)
    assert set(m) == set(LEADING_POWER)
    expr = expansion_sympy(3, "eps_g", 1)
    assert "J^{eps_g}_00" in str(expr) and "q_1" in str(expr)


def test_junction_terms_enter_at_their_order():
    assert junction_terms(2, 5) == []
    assert [t[0] for t in junction_terms(5, 1)] == [2]  # three-class at 1/D
    assert sorted({t[0] for t in junction_terms(5, 3)}) == [2, 3, 4]  # five-class first at 1/D^3
    assert {t[0] for t in junction_terms(3, 6)} == {2}  # at most K - 1 competitors
    # multiplicities count the orderings of each multi-index
    for K, j in ((5, 3), (6, 4)):
        for m in range(2, min(j + 1, K - 1) + 1):
            total = sum(mult for mm, a, mult in junction_terms(K, j) if mm == m)
            assert total == math.comb(j + 1 - m + m - 1, m - 1)


def test_bad_order_raises():
    with pytest.raises(InvalidInputError, match="order"):
        expansion_coefficients(5, DELTA, -1)
    with pytest.raises(InvalidInputError, match="Delta"):
        expansion_coefficient(5, "loss", 2, -0.1)
