"""1/D expansion of the exact closure: residual of the n-term expansion falls at the predicted order.

For each K in {2, 3, 5} and each delivered order n the residual |exact - sum_{j<=n} c_j D^-(j+p)| is
computed against :func:`asymptotics.numeric.closure.closure_moments` (float64, ~1e-12 relative) at
D = 20 ... 2000; the local slope of log(residual) vs log(D), fitted on the points whose residual is
well above the closure's accuracy, must be within 0.1 of -(next nonzero order + p).
K = 2: every order (only even ones are nonzero); K = 3: orders 0..3; K = 5: orders 0..1 (order >= 2
needs four-class junctions, not implemented).
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
    max_available_order,
)
from asymptotics.numeric.closure import closure_moments
from asymptotics.validation import InvalidInputError

DELTA = 0.25
D_GRID = [20, 30, 45, 70, 100, 150, 230, 350, 530, 800, 1200, 2000]


@pytest.fixture(scope="module")
def exact():
    return {K: {D: closure_moments(K, float(D), DELTA) for D in D_GRID} for K in (2, 3, 5)}


@pytest.fixture(scope="module")
def coefficients():
    return {2: expansion_coefficients(2, DELTA, 4), 3: expansion_coefficients(3, DELTA, 3),
            5: expansion_coefficients(5, DELTA, 1)}


def _slope(K, name, n, coeffs, exact_values):
    p = LEADING_POWER[name]
    Ds, res = [], []
    for D in D_GRID:
        value = float(getattr(exact_values[D], name))
        approx = sum(float(c) * D ** (-(j + p)) for j, c in enumerate(coeffs[name][: n + 1]))
        r = abs(value - approx)
        if r > 1e-10 * abs(value):          # well above the closure's ~1e-12 relative accuracy
            Ds.append(D)
            res.append(r)
    # next nonzero order
    nxt = n + 1          # beyond the computed coefficients the next order is assumed nonzero
    while nxt < len(coeffs[name]) and abs(float(coeffs[name][nxt])) < 1e-12:
        nxt += 1
    assert len(Ds) >= 4, (K, name, n, Ds)
    ld, lr = np.log(Ds[-4:]), np.log(res[-4:])
    slope = np.polyfit(ld, lr, 1)[0]
    return slope, -(nxt + p)


CASES = [(2, n) for n in (0, 2)] + [(3, n) for n in (0, 1, 2, 3)] + [(5, n) for n in (0, 1)]


@pytest.mark.parametrize("K,n", CASES)
@pytest.mark.parametrize("name", ["drift", "restoring", "noise", "eps_g", "loss"])
def test_residual_falls_at_next_order(K, n, name, exact, coefficients):
    coeffs = coefficients[K]
    slope, predicted = _slope(K, name, n, coeffs, exact[K])
    assert abs(slope - predicted) < 0.1, (slope, predicted)


def test_k2_odd_orders_vanish(coefficients):
    for name, c in coefficients[2].items():
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
            assert abs(approx - exact_eps) < 10 * D ** -9


def test_precisions_agree():
    for name in ("eps_g", "loss"):
        a = [expansion_coefficient(3, name, j, mpmath.mpf("0.3"), digits=15) for j in (0, 2)]
        b = [expansion_coefficient(3, name, j, mpmath.mpf("0.3"), digits=30) for j in (0, 2)]
        for x, y in zip(a, b):
            assert abs(x - y) <= 1e-11 * (1 + abs(y))     # junction parts are float64


def test_expanded_moments_and_sympy():
    m = expanded_moments(3, 100.0, DELTA, 1)
    assert set(m) == set(LEADING_POWER)
    expr = expansion_sympy(3, "eps_g", 1)
    assert "J^{eps_g}_00" in str(expr) and "q_1" in str(expr)


def test_unavailable_orders_raise():
    assert max_available_order(4) == 1
    with pytest.raises(InvalidInputError, match="four-class"):
        expansion_coefficients(5, DELTA, 2)
