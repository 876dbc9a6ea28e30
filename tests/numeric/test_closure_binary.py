"""K = 2 closure: float64 vs arbitrary precision, closed forms, boundary-layer limits."""

import math

import mpmath
import pytest

from asymptotics.numeric.closure_binary import binary_moments, binary_moments_mp
from asymptotics.numeric.moments import MOMENT_NAMES

RHO2 = 1 / math.sqrt(math.pi)  # top-gap density at zero, K = 2


def eps_exact(D, Delta):
    """arccos(D/sqrt(D^2+Delta))/pi, written as atan (well conditioned at large D)."""
    return math.atan2(math.sqrt(Delta), D) / math.pi


def rel(a, b):
    a, b = float(a), float(b)
    return abs(a - b) / abs(b) if b != 0 else abs(a)


GRID_DEFAULT = [(0.0, 0.25), (0.7, 2.0), (3.0, 1e-6), (100.0, 0.25), (1e4, 0.0), (1e4, 2.0)]
GRID_FULL = [
    (D, Delta)
    for D in (0.0, 0.3, 1.0, 10.0, 100.0, 1e3, 1e4)
    for Delta in (0.0, 1e-6, 0.25, 2.0)
    if (D, Delta) != (0.0, 0.0)
]


def test_float64_matches_30_digit_mpmath(run_slow):
    for D, Delta in GRID_FULL if run_slow else GRID_DEFAULT:
        f = binary_moments(D, Delta)
        m = binary_moments_mp(D, Delta, digits=30)
        for name in MOMENT_NAMES:
            assert rel(getattr(f, name), getattr(m, name)) < 1e-12, (D, Delta, name)


@pytest.mark.parametrize("D", [0.0, 0.01, 0.5, 1.0, 7.0, 100.0, 1e3, 1e4])
@pytest.mark.parametrize("Delta", [1e-8, 1e-3, 0.25, 2.0, 5.0])
def test_eps_g_closed_form_reproduced_float64(D, Delta):
    assert rel(binary_moments(D, Delta).eps_g, eps_exact(D, Delta)) < 1e-13


def test_eps_g_closed_form_reproduced_mpmath():
    with mpmath.workdps(40):
        for D, Delta in [(1, mpmath.mpf(1) / 4), (1000, 2)]:
            m = binary_moments_mp(D, Delta, digits=30)
            exact = mpmath.atan2(mpmath.sqrt(Delta), D) / mpmath.pi
            assert abs(m.eps_g - exact) < mpmath.mpf(10) ** -28 * exact


def test_mpmath_15_30_50_digits_agree():
    D, Delta = 2, mpmath.mpf(1) / 2
    m15 = binary_moments_mp(D, Delta, digits=15)
    m30 = binary_moments_mp(D, Delta, digits=30)
    m50 = binary_moments_mp(D, Delta, digits=50)
    with mpmath.workdps(60):
        for name in MOMENT_NAMES:
            a, b, c = (getattr(m, name) for m in (m15, m30, m50))
            assert abs(a - c) <= mpmath.mpf(10) ** -14 * abs(c), name
            assert abs(b - c) <= mpmath.mpf(10) ** -29 * abs(c), name
            assert m50.errors[name] < mpmath.mpf(10) ** -45 * abs(c)


def test_uniform_point_closed_forms():
    m = binary_moments(0.0, 0.0)
    assert m.drift == pytest.approx(1 / math.sqrt(math.pi), rel=1e-15)
    assert m.restoring == 0.5 and m.noise == 0.5 and m.eps_g == 0.5
    assert m.loss == pytest.approx(math.log(2), rel=1e-15)
    mp = binary_moments_mp(0, 0, digits=40)
    with mpmath.workdps(40):
        assert abs(mp.drift - 1 / mpmath.sqrt(mpmath.pi)) < mpmath.mpf(10) ** -38


@pytest.mark.parametrize("Delta", [0.01, 0.25, 3.0])
def test_D_zero_noise_only(Delta):
    # p independent of the teacher: drift = E[max y] = 1/sqrt(pi), eps_g = 1/2;
    # restoring/noise/loss are E over s = sqrt(2 Delta) zeta of 2 sig(s)sig(-s), ... (1-D check)
    m = binary_moments(0.0, Delta)
    assert rel(m.drift, 1 / math.sqrt(math.pi)) < 1e-13
    assert rel(m.eps_g, 0.5) < 1e-14
    s = math.sqrt(2 * Delta)
    with mpmath.workdps(30):
        sig = lambda x: 1 / (1 + mpmath.exp(-x))  # noqa: E731
        E = lambda f: mpmath.quad(lambda z: mpmath.npdf(z) * f(s * z), [-mpmath.inf, 0, mpmath.inf])  # noqa: E731
        assert rel(m.restoring, E(lambda x: 2 * sig(x) * sig(-x))) < 1e-13
        assert rel(m.noise, E(lambda x: 2 * sig(-x) ** 2)) < 1e-13
        assert rel(m.loss, E(lambda x: mpmath.log(1 + mpmath.exp(-x)))) < 1e-13


def test_delta_zero_limit_is_continuous():
    for D in (0.5, 5.0, 500.0):
        a = binary_moments(D, 0.0)
        b = binary_moments(D, 1e-12)
        assert a.eps_g == 0.0
        for name in ("drift", "restoring", "noise", "loss"):
            assert rel(getattr(a, name), getattr(b, name)) < 1e-9


@pytest.mark.parametrize("Delta", [0.0, 0.25, 2.0])
def test_boundary_layer_leading_terms(Delta):
    """D^2 drift -> rho_2 (pi^2/12 + Delta/2), D restoring -> rho_2, D loss -> rho_2 A,
    D eps_g -> rho_2 sqrt(Delta/pi); the K = 2 corrections are O(1/D^2)."""
    A = math.pi**2 / 12 + Delta / 2
    limits = {"drift": (2, RHO2 * A), "restoring": (1, RHO2), "loss": (1, RHO2 * A)}
    if Delta > 0:
        limits["eps_g"] = (1, RHO2 * math.sqrt(Delta / math.pi))
    devs = {}
    for D in (100.0, 1000.0, 10000.0):
        m = binary_moments(D, Delta)
        for name, (power, lim) in limits.items():
            devs[name, D] = abs(getattr(m, name) * D**power / lim - 1)
    for name in limits:
        assert devs[name, 10000.0] < 1e-6
        # second-order approach: deviation drops ~100x per decade of D
        assert devs[name, 100.0] / devs[name, 1000.0] > 50
    m = binary_moments(1e4, 0.0)
    assert rel(m.noise * 1e4, RHO2 * (2 * math.log(2) - 1)) < 1e-6


def test_error_estimates_are_small_and_honest():
    m = binary_moments(10.0, 0.25)
    ref = binary_moments_mp(10, mpmath.mpf(1) / 4, digits=25)
    for name in MOMENT_NAMES:
        err = abs(getattr(m, name) - float(getattr(ref, name)))
        assert m.errors[name] < 1e-12 * abs(getattr(m, name))
        assert err <= m.errors[name] + 4e-16 * abs(getattr(m, name))
