"""The validated domains of closure_moments: accurate at the corners, refusals outside.

References are independent of the route under test: the arbitrary-precision routes (a different
algorithm for K >= 3 and a different quadrature for K = 2), closed forms (the uniform point, the
K = 2 and K = 3 error probabilities, ``drift + D restoring = E[max of K normals]``, a direct 2-D
Gauss-Hermite quadrature at D = 0) and Monte Carlo of the model's own variables.
"""

from __future__ import annotations

import math

import mpmath
import pytest

from asymptotics.numeric.closure import closure_moments
from asymptotics.numeric.closure_quadrature import expected_max, k3_eps_g_exact
from asymptotics.numeric.domain import K_MAX, float_domain, mp_domain
from asymptotics.validation import InvalidInputError

NAMES = ("drift", "restoring", "noise", "eps_g", "loss")


def rel(a, b):
    a, b = float(a), float(b)
    return abs(a - b) / max(abs(b), 1e-300)


@pytest.mark.parametrize(
    "K,D,Delta",
    [
        (2, 1e6, 1e6),
        (2, 1e6, 0.0),
        (2, 0.0, 1e6),
        (2, 1e-8, 1e-16),
        (2, 1.0, 1e-300),
        (3, 1e4, 0.0),
        (3, 1.0, 1e-30),
    ],
)
def test_float_corners_against_20_digits(K, D, Delta):
    f = closure_moments(K, D, Delta)
    m = closure_moments(K, D, Delta, digits=20)
    tol = 1e-14 if K == 2 else 3e-12
    for name in NAMES:
        assert rel(getattr(f, name), getattr(m, name)) < tol, name


def test_k3_large_D_and_large_Delta_against_closed_forms_and_identity():
    rho = expected_max(3)
    for D, Delta in [(1e6, 1.0), (1e6, 1e3), (1.0, 1e3), (0.0, 1e3), (1e3, 1e-300)]:
        m = closure_moments(3, D, Delta)
        assert abs(m.drift + D * m.restoring - rho) < 2e-12 * rho, (D, Delta)
        exact = 2 / 3 if D == 0 else float(k3_eps_g_exact(D, Delta, 20))
        assert rel(m.eps_g, exact) < 1e-11, (D, Delta)


def test_k3_at_D0_against_20_digits(run_slow):
    """At D = 0 drift and eps_g are exact (E max, 2/3); the others against the 20-digit route."""
    Delta = 100.0 if run_slow else 20.0
    m = closure_moments(3, 0.0, Delta)
    ref = closure_moments(3, 0.0, Delta, digits=20)
    for name in NAMES:
        assert rel(getattr(m, name), getattr(ref, name)) < 3e-12, name
    assert rel(m.drift, expected_max(3)) < 1e-12 and rel(m.eps_g, 2 / 3) < 1e-12


@pytest.mark.parametrize(
    "K,D,Delta", [(3, 1.0, 1e3), (3, 3.0, 300.0), (2, 1.0, 1e6), (5, 1.0, 10.0), (4, 0.5, 10.0)]
)
def test_large_Delta_against_monte_carlo(K, D, Delta):
    mc = closure_moments(K, D, Delta, method="montecarlo", samples=200_000, seed=3)
    m = closure_moments(K, D, Delta)
    for name in NAMES:
        assert abs(float(getattr(m, name)) - getattr(mc, name)) < 4.5 * mc.errors[name], name


@pytest.mark.parametrize("K", [2, 3, 4, 5])
def test_small_scale_limit(K):
    """Tiny D and Delta: the values of the uniform point, eps_g from the direction only."""
    u = closure_moments(K, 0.0, 0.0)
    for D, Delta in [(0.0, 1e-30), (1e-300, 0.0), (1e-20, 0.0), (1e-20, 1e-40)]:
        m = closure_moments(K, D, Delta)
        for name in ("drift", "restoring", "noise", "loss"):
            assert rel(getattr(m, name), getattr(u, name)) < 1e-13, (D, Delta, name)
        if D == 0:
            assert rel(m.eps_g, 1 - 1 / K) < 1e-15
        elif Delta == 0:
            assert m.eps_g == 0.0
        else:  # same direction as (1, 1): scale invariance of the error probability
            assert rel(m.eps_g, closure_moments(K, 1.0, 1.0).eps_g) < 1e-12
    # the K = 2 error probability at a tiny angle: arccos(D / sqrt(D^2 + Delta)) / pi
    m = closure_moments(2, 1.0, 1e-300)
    assert rel(m.eps_g, math.atan(1e-150) / math.pi) < 1e-14


def test_small_scale_limit_at_arbitrary_precision():
    m = closure_moments(3, "1e-40", "1e-40", digits=20)
    with mpmath.workdps(30):
        assert abs(m.restoring - mpmath.mpf(2) / 3) < mpmath.mpf(10) ** -19
        assert abs(m.eps_g - mpmath.mpf(2) / 3) < mpmath.mpf(10) ** -19  # direction ~ (1e-20, 1)


@pytest.mark.parametrize(
    "K,D,Delta,digits",
    [
        (3, 1.0, 1e6, None),
        (5, 1.0, 1e4, None),
        (5, 1.0, 11.0, None),
        (2, 1e7, 1.0, None),
        (3, 1e5, 1.0, 20),
        (3, 1.0, 200.0, 20),
        (5, 1.0, 60.0, 20),
        (K_MAX + 1, 1.0, 1.0, None),
    ],
)
def test_outside_the_domain_raises(K, D, Delta, digits):
    with pytest.raises(InvalidInputError, match="outside the validated domain|exceeds the largest"):
        closure_moments(K, D, Delta, digits=digits)


def test_boxes_are_as_documented():
    assert (float_domain(2).D_max, float_domain(2).Delta_max) == (1e6, 1e6)
    assert (float_domain(3).D_max, float_domain(3).Delta_max) == (1e6, 1e3)
    assert (float_domain(7).D_max, float_domain(7).Delta_max) == (1e6, 10.0)
    assert (mp_domain(3).D_max, mp_domain(4).Delta_max) == (1e4, 50.0)


def test_decimal_strings_are_exact_at_arbitrary_precision():
    a = closure_moments(2, "0.1", "0.3", digits=30)
    with mpmath.workdps(60):
        b = closure_moments(2, mpmath.mpf(1) / 10, mpmath.mpf(3) / 10, digits=30)
    assert abs(a.eps_g - b.eps_g) < mpmath.mpf(10) ** -29
    with mpmath.workdps(40):  # K = 2: eps_g = arccos(D / sqrt(D^2 + Delta)) / pi exactly
        exact = (
            mpmath.acos(mpmath.mpf("0.1") / mpmath.sqrt(mpmath.mpf("0.01") + mpmath.mpf("0.3"))) / mpmath.pi
        )
        assert abs(a.eps_g - exact) < mpmath.mpf(10) ** -29 * exact
    assert mpmath.mp.dps == 15
