"""K >= 3 closure quadrature: two independent deterministic routes, exact eps_g, Monte Carlo."""

import math

import mpmath
import numpy as np
import pytest

from asymptotics.numeric.closure_montecarlo import montecarlo_moments, qmc_moments
from asymptotics.numeric.closure_quadrature import (
    bvn_cdf_half,
    bvn_cdf_half_mp,
    expected_max,
    k3_eps_g_exact,
    k3_moments,
    k3_moments_mp,
    laplace_moments,
)
from asymptotics.numeric.moments import MOMENT_NAMES

RHO3 = 3 / (2 * math.sqrt(math.pi))
RHO4 = 6 / math.sqrt(math.pi) * (0.25 + math.asin(1 / 3) / (2 * math.pi))


def rel(a, b):
    a, b = float(a), float(b)
    return abs(a - b) / abs(b) if b != 0 else abs(a)


def test_bvn_cdf_half_against_one_dimensional_integral():
    mpmath.mp.dps = 40
    r = mpmath.mpf(1) / 2
    for a, b in [(0.0, 0.0), (1.0, -2.0), (-3.0, -3.0), (-6.0, -6.0), (2.5, 0.3), (-5.0, 0.1)]:
        exact = mpmath.quad(
            lambda x: mpmath.npdf(x) * mpmath.ncdf((b - r * x) / mpmath.sqrt(1 - r * r)),
            [-mpmath.inf, a - 12, a - 6, a - 3, a],
        )
        assert rel(bvn_cdf_half(a, b), exact) < 1e-13
        with mpmath.workdps(30):
            assert abs(bvn_cdf_half_mp(mpmath.mpf(a), mpmath.mpf(b)) - exact) < 1e-27 * exact
    # orthant probability 1/4 + arcsin(1/2)/(2 pi) = 1/3
    assert abs(bvn_cdf_half_mp(mpmath.mpf(0), mpmath.mpf(0)) - mpmath.mpf(1) / 3) < 1e-28


@pytest.mark.parametrize("D", [1.0, 10.0, 100.0, 1000.0])
@pytest.mark.parametrize("Delta", [0.25, 2.0])
def test_k3_gap_quadrature_equals_laplace_route(D, Delta):
    """Two different coordinate systems / reductions, agreement far below 1e-8."""
    a = k3_moments(D, Delta)
    b = laplace_moments(3, D, Delta)
    for name in MOMENT_NAMES:
        assert rel(a.as_dict()[name], b.as_dict()[name]) < 1e-10, name


@pytest.mark.parametrize(
    "D,Delta",
    [(0.01, 2.0), (0.5, 5.0), (3.0, 1e-6), (1e4, 0.25), (50.0, 0.0), (1e-3, 0.0), (1e-3, 1e-6), (2.0, 50.0)],
)
def test_k3_routes_agree_at_edges(D, Delta):
    a = k3_moments(D, Delta)
    b = laplace_moments(3, D, Delta)
    for name in MOMENT_NAMES:
        assert rel(a.as_dict()[name], b.as_dict()[name]) < 1e-9, (name, a, b)


@pytest.mark.parametrize("D", [0.0, 0.2, 1.0, 10.0, 1e3, 1e4])
@pytest.mark.parametrize("Delta", [1e-6, 0.25, 5.0])
def test_k3_eps_g_against_plackett_closed_form(D, Delta):
    exact = k3_eps_g_exact(D, Delta, digits=20)
    assert rel(k3_moments(D, Delta).eps_g, exact) < 1e-11
    assert rel(k3_moments(D, Delta, h=0.125).eps_g, exact) < 1e-13
    assert rel(laplace_moments(3, D, Delta).eps_g, exact) < 1e-12


def test_k3_mpmath_route_to_20_digits():
    m = k3_moments_mp(20, mpmath.mpf(1) / 4, digits=20)
    exact = k3_eps_g_exact(20, mpmath.mpf(1) / 4, digits=30)
    with mpmath.workdps(30):
        assert abs(m.eps_g - exact) < mpmath.mpf(10) ** -19 * exact
    f = k3_moments(20.0, 0.25)
    f8 = k3_moments(20.0, 0.25, h=0.125)
    for name in MOMENT_NAMES:
        assert rel(getattr(m, name), getattr(f, name)) < 1e-11, name
        assert rel(getattr(m, name), getattr(f8, name)) < 1e-13, name
        assert m.errors[name] < mpmath.mpf(10) ** -17 * abs(getattr(m, name))


def test_k3_mpmath_15_20_30_digits(run_slow):
    """Mutual agreement across precisions (30 digits only with --run-slow: ~20 s)."""
    D, Delta = 3, mpmath.mpf(1) / 2
    m15 = k3_moments_mp(D, Delta, digits=15)
    m20 = k3_moments_mp(D, Delta, digits=20)
    ref = k3_moments_mp(D, Delta, digits=30) if run_slow else m20
    tol = 1e-19 if run_slow else 1e-14
    with mpmath.workdps(40):
        for name in MOMENT_NAMES:
            a, b, c = getattr(m15, name), getattr(m20, name), getattr(ref, name)
            assert abs(a - c) < 1e-14 * abs(c), name
            assert abs(b - c) < tol * abs(c), name
        if run_slow:
            exact = k3_eps_g_exact(D, Delta, digits=35)
            assert abs(ref.eps_g - exact) < mpmath.mpf(10) ** -29 * exact


@pytest.mark.parametrize("K", [3, 4, 5])
@pytest.mark.parametrize("Delta", [0.0, 0.5, 3.0])
def test_D_zero_closed_forms(K, Delta):
    """At D = 0 the student ignores the teacher: drift = E[max y] for every Delta,
    eps_g = 1 - 1/K; at Delta = 0 also the uniform values."""
    m = k3_moments(0.0, Delta) if K == 3 else laplace_moments(K, 0.0, Delta)
    emax = float(
        K
        * mpmath.quad(lambda t: t * mpmath.npdf(t) * mpmath.ncdf(t) ** (K - 1), [-mpmath.inf, 0, mpmath.inf])
    )
    assert rel(m.drift, emax) < 1e-12
    assert rel(m.eps_g, 1 - 1 / K) < 1e-12
    if Delta == 0.0:
        assert rel(m.restoring, 1 - 1 / K) < 1e-15
        assert rel(m.noise, (1 - 1 / K) ** 2 + (K - 1) / K**2) < 1e-15
        assert rel(m.loss, math.log(K)) < 1e-15
    assert rel(expected_max(3), 3 / (2 * math.sqrt(math.pi))) < 1e-14


@pytest.mark.parametrize("Delta", [0.25, 2.0])
def test_k3_boundary_layer_leading_terms(Delta):
    """D^2 drift -> rho_3(0)(pi^2/12 + Delta/2), D restoring -> rho_3(0),
    D eps_g -> rho_3(0) sqrt(Delta/pi); corrections O(1/D) for K = 3."""
    A = math.pi**2 / 12 + Delta / 2
    targets = {
        "drift": (2, RHO3 * A),
        "restoring": (1, RHO3),
        "eps_g": (1, RHO3 * math.sqrt(Delta / math.pi)),
        "loss": (1, RHO3 * A),
    }
    dev = {}
    for D in (1e2, 1e3, 1e4):
        m = k3_moments(D, Delta)
        for name, (p, lim) in targets.items():
            dev[name, D] = abs(getattr(m, name) * D**p / lim - 1)
    for name in targets:
        assert dev[name, 1e4] < 1e-3
        ratio = dev[name, 1e3] / dev[name, 1e4]
        assert 5 < ratio < 200, (name, ratio)  # at least first order, at most second


def test_k4_boundary_layer_leading_terms():
    Delta = 0.25
    m = laplace_moments(4, 1e4, Delta)
    assert rel(m.drift * 1e8, RHO4 * (math.pi**2 / 12 + Delta / 2)) < 1e-3
    assert rel(m.restoring * 1e4, RHO4) < 1e-3
    assert rel(m.eps_g * 1e4, RHO4 * math.sqrt(Delta / math.pi)) < 1e-3


@pytest.mark.parametrize("D", [1.0, 10.0])
def test_k3_quadrature_against_monte_carlo(D):
    q = k3_moments(D, 0.25)
    mc = montecarlo_moments(3, D, 0.25, samples=200_000, seed=7)
    for name in MOMENT_NAMES:
        assert abs(getattr(mc, name) - getattr(q, name)) < 4.5 * mc.errors[name], name


@pytest.mark.parametrize("K", [4, 5])
@pytest.mark.parametrize("D,Delta", [(0.5, 1.0), (1.0, 0.25), (10.0, 0.25)])
def test_k45_quadrature_against_qmc(K, D, Delta):
    q = laplace_moments(K, D, Delta)
    mc = qmc_moments(K, D, Delta, samples=2**17, replicates=16, seed=100 + K)
    for name in MOMENT_NAMES:
        # 4.5 sigma on 5 moments x 6 cases, plus a floor for the spread estimate itself
        assert abs(getattr(mc, name) - getattr(q, name)) < 4.5 * mc.errors[name] + 1e-5, name


def test_error_estimates_bound_the_actual_error():
    for D, Delta in [(1.0, 0.25), (300.0, 1.0)]:
        a = k3_moments(D, Delta)
        b = laplace_moments(3, D, Delta)
        for name in MOMENT_NAMES:
            diff = abs(getattr(a, name) - getattr(b, name))
            assert diff <= 10 * (a.errors[name] + b.errors[name]) + 1e-15 * abs(getattr(a, name))
            assert a.errors[name] < 1e-10 * abs(getattr(a, name))


def test_arrays_are_float64_and_finite():
    m = k3_moments(1e4, 5.0)
    assert all(np.isfinite(v) and v > 0 for v in m.as_dict().values())
