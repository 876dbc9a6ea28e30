"""Low-temperature expansion: kernel integrals, coefficients and residual orders."""

import math

import mpmath
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from asymptotics.peaked.expansion import (
    coefficients,
    eta_kernel_integral,
    expansion_sympy,
    gap_power_exponent,
    pair_kernel_integral,
    regimes,
    slope_corrections,
)
from asymptotics.peaked.stat_mech_float import gap_thermodynamics


@pytest.mark.parametrize("digits", [15, 25])
def test_pair_kernel_is_minus_five_twelfths_zeta3(digits):
    mpmath.mp.dps = digits
    val = pair_kernel_integral(digits)
    assert abs(val + 5 * mpmath.zeta(3) / 12) < mpmath.mpf(10) ** (-digits + 1)


@pytest.mark.parametrize("k", [0, 1, 2])
def test_eta_kernel_integrals_against_quadrature(k):
    closed = eta_kernel_integral(k)
    num = mpmath.quad(lambda x: x**k * mpmath.log1p(mpmath.exp(-x)), [0, 5, 40, mpmath.inf])
    assert abs(float(closed) - num) < 1e-13
    assert (
        closed == sp.factorial(k) * sp.dirichlet_eta(k + 2).rewrite(sp.zeta)
        or abs(float(closed - sp.factorial(k) * (1 - 2 ** (-k - 1)) * sp.zeta(k + 2))) < 1e-14
    )


def test_c2_is_pi2_over_12_rho0_not_linearised():
    # exact a(beta) = <ln Z> - beta c0 at large beta against c2/beta; the linearised value rho0/beta
    # would be off by the factor pi^2/12
    for n in (2, 3, 128):
        co = coefficients(n)
        b = 1e6
        a = gap_thermodynamics(n, b)["a"]
        assert abs(a * b / float(co["c2"]) - 1) < 1e-5
        assert abs(a * b / float(co["rho0"]) - 1) > 0.1


@pytest.mark.parametrize("n", [3, 16, 128])
def test_residual_orders(n):
    co = coefficients(n)
    c2, c3 = float(co["c2"]), float(co["c3"])
    b1, b2 = 400.0, 4000.0
    a1, a2 = gap_thermodynamics(n, b1)["a"], gap_thermodynamics(n, b2)["a"]
    r1 = [a1 - c2 / b1, a2 - c2 / b2]
    r2 = [r1[0] - c3 / b1**2, r1[1] - c3 / b2**2]
    order1 = math.log(abs(r1[1] / r1[0])) / math.log(b2 / b1)
    order2 = math.log(abs(r2[1] / r2[0])) / math.log(b2 / b1)
    assert abs(order1 + 2) < 0.05  # after c2 the residual is O(beta^-2) (c3 != 0)
    assert abs(order2 + 3) < 0.05  # after c3 it is O(beta^-3): c3 is right
    # with a wrong c3 (two-way part only, three-way ties dropped) the residual stays O(beta^-2)
    two = float(co["c3_two_way"])
    bad = [r1[0] - two / b1**2, r1[1] - two / b2**2]
    assert abs(math.log(abs(bad[1] / bad[0])) / math.log(b2 / b1) + 2) < 0.1


def test_c3_identity_tau3_zeta3_over_6():
    co = coefficients(50)
    assert abs(co["c3"] - co["tau3"] * mpmath.zeta(3) / 6) < 1e-13 * abs(co["c3"])
    assert abs(co["q1"] - co["tau3"] / 2) < 1e-13 * co["q1"]  # integration by parts


def test_symbolic_forms():
    e = expansion_sympy()
    b, c2, n, tau = sp.symbols("beta c_2 n tau", positive=True)
    diff = e["L_intermediate"] - c2 ** sp.Rational(2, 3) * ((n - 1) / (3 * tau)) ** sp.Rational(1, 3)
    for vals in ({n: 5, c2: 2, tau: 7}, {n: 128, c2: sp.Rational(1, 3), tau: 10**6}):
        assert abs(float(diff.subs(vals))) < 1e-14
    assert slope_corrections() == {"near_tie": 0, "saturation": sp.Rational(-2, 3)}


@pytest.mark.parametrize("k", [0, 1, 2])
def test_gap_power_exponent_against_toy_flow(k):
    expo = gap_power_exponent()["exponent"].subs(sp.Symbol("k", positive=True), k)
    # toy flow with L = beta^-(k+1): dbeta/dtau = (k+1) beta^-(k+2)
    sol = solve_ivp(
        lambda t, y: [(k + 1) * y[0] ** (-(k + 2))],
        (0, 1e8),
        [1.0],
        rtol=1e-10,
        dense_output=True,
        method="LSODA",
    )
    t1, t2 = 1e6, 1e8
    L = lambda t: sol.sol(t)[0] ** (-(k + 1))
    slope = math.log(L(t2) / L(t1)) / math.log(t2 / t1)
    assert abs(slope - float(expo)) < 2e-3


def test_regimes_classification():
    assert regimes(128, 0.5)["high_temperature"]
    r = regimes(128, 1e4)
    assert r["has_intermediate"] and r["intermediate"][0] > r["c0"]
