"""Universal layer integrals: closed forms vs quadrature, direct 2-D checks, junctions, precision."""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from asymptotics.asymptotic.layer_integrals import (
    binary_layer_moment,
    binary_layer_moment_derivative,
    derive_closed_forms,
    drift_integral,
    error_integral,
    noise_integral,
    polylog_moment_closed_form,
    restoring_integral,
)
from asymptotics.asymptotic.local_binary import (
    junction_error_closed_form,
    junction_moment,
    three_class_connected,
)
from asymptotics.validation import InvalidInputError


@pytest.mark.parametrize("digits,Delta", [(15, "0.1"), (15, "0.7"), (30, "0.1"), (30, "0.7"), (50, "0.4")])
def test_closed_forms_at_several_precisions(digits, Delta):
    tol = mpmath.mpf(10) ** (-digits + 1)
    with mpmath.workdps(digits + 10):
        d = mpmath.mpf(Delta)
        assert abs(restoring_integral(d, digits) - mpmath.mpf(1) / 2) < tol
        assert abs(drift_integral(d, digits) - (mpmath.pi**2 / 12 + d / 2)) < tol
        assert abs(error_integral(d, digits) - mpmath.sqrt(d / mpmath.pi)) < tol
        # noise through its 1-D Gaussian form E log(1 + e^{sqrt(2 Delta) zeta}) - 1/2
        a = mpmath.sqrt(2 * d)
        direct = (
            mpmath.quad(
                lambda z: mpmath.log1p(mpmath.exp(a * z)) * mpmath.npdf(z), [-mpmath.inf, 0, mpmath.inf]
            )
            - mpmath.mpf(1) / 2
        )
        assert abs(noise_integral(d, digits) - direct) < tol


def test_noise_at_zero_variance():
    assert abs(float(noise_integral(0)) - (math.log(2) - 0.5)) < 1e-13


def test_symbolic_derivation():
    forms = derive_closed_forms()
    Delta = sp.Symbol("Delta", positive=True)
    assert sp.simplify(forms["drift"][1] - (sp.pi**2 / 12 + Delta / 2)) == 0
    assert forms["restoring"][1] == sp.Rational(1, 2)
    assert sp.simplify(forms["eps_g"][1] - sp.sqrt(Delta / sp.pi)) == 0


def test_loss_equals_drift_integral():
    for d in (0.05, 0.3, 2.0):
        assert (
            abs(float(binary_layer_moment("loss", 0, d)) - float(binary_layer_moment("drift", 0, d))) < 1e-13
        )


@pytest.mark.parametrize("n", [1, 3, 5])
def test_polylog_moments(n):
    expr = polylog_moment_closed_form(n)
    (Delta,) = expr.free_symbols
    for d in ("0.15", "0.6"):
        with mpmath.workdps(40):
            exact = mpmath.mpf(str(sp.N(expr.subs(Delta, sp.Rational(d)), 45)))
            assert (
                abs(binary_layer_moment("drift", n - 1, mpmath.mpf(d), 30) - exact)
                < mpmath.mpf(10) ** -28 * exact
            )


def _direct_2d(name, n, Delta):
    """Direct 2-D Gauss-Legendre quadrature of int_0^inf u^n E_zeta f(u + sqrt(2 Delta) zeta) du (no swap)."""
    from scipy.special import expit

    a = math.sqrt(2 * Delta)
    x, w = np.polynomial.legendre.leggauss(60)

    def panels(breaks):
        xs = np.concatenate([0.5 * (b - c) * x + 0.5 * (b + c) for c, b in zip(breaks[:-1], breaks[1:])])
        ws = np.concatenate([0.5 * (b - c) * w for c, b in zip(breaks[:-1], breaks[1:])])
        return xs, ws

    u, wu = panels([0, 1, 3, 8, 16, 28, 45])
    z, wz = panels([-12, -6, -3, -1, 0, 1, 3, 6, 12])
    U, Z = np.meshgrid(u, z, indexing="ij")
    s = U + a * Z
    f = {
        "drift": U * expit(-s),
        "restoring": 2 * expit(s) * expit(-s),
        "noise": 2 * expit(-s) ** 2,
        "loss": np.logaddexp(0.0, -s),
    }[name]
    weight = np.outer(wu * u**n, wz * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi))
    return float(np.sum(weight * f))


@pytest.mark.parametrize("name,n", [("drift", 0), ("restoring", 0), ("noise", 0), ("loss", 1), ("noise", 2)])
def test_swap_against_direct_2d_quadrature(name, n):
    assert abs(float(binary_layer_moment(name, n, 0.3)) - _direct_2d(name, n, 0.3)) < 1e-10


@pytest.mark.parametrize("name,n", [("noise", 0), ("eps_g", 2), ("loss", 1)])
def test_heat_equation_derivatives(name, n):
    d, h = 0.3, 1e-3
    num = (binary_layer_moment(name, n, d + h) - binary_layer_moment(name, n, d - h)) / (2 * h)
    ana = binary_layer_moment_derivative(name, n, 1, d)
    assert abs(num - ana) < 1e-6 * (1 + abs(ana))
    num2 = (
        binary_layer_moment(name, n, d + h)
        - 2 * binary_layer_moment(name, n, d)
        + binary_layer_moment(name, n, d - h)
    ) / h**2
    assert abs(num2 - binary_layer_moment_derivative(name, n, 2, d)) < 1e-4


def test_precisions_agree():
    for name in ("loss", "eps_g"):
        v15, v30, v50 = (binary_layer_moment(name, 2, mpmath.mpf("0.27"), dg) for dg in (15, 30, 50))
        assert abs(v15 - v50) < 1e-13 * abs(v50)
        with mpmath.workdps(40):
            assert abs(v30 - v50) < mpmath.mpf(10) ** -29 * abs(v50)


# ---------------------------------------------------------------- three-class junction


def test_junction_error_closed_form():
    for d in (0.1, 0.25, 0.6):
        assert abs(junction_moment("eps_g", (0, 0), d) - junction_error_closed_form(d)) < 1e-12


def test_junction_drift_is_twice_loss():
    # int int E [sum_j u_j p_j]_conn = 2 int int E [log Z]_conn  (swap + antiderivative, as for K = 2)
    for d in (0.15, 0.4):
        assert abs(junction_moment("drift", (0, 0), d) - 2 * junction_moment("loss", (0, 0), d)) < 1e-10


def test_junction_connected_part_monte_carlo():
    # direct Monte Carlo of int_{[0,U]^2} E F_conn(u + a) du for the loss, U large
    rng = np.random.default_rng(3)
    d, n, U = 0.25, 400_000, 14.0
    u = rng.uniform(0, U, size=(n, 2))
    xi = rng.standard_normal((n, 3)) * math.sqrt(d)
    vk = u[:, 0] + xi[:, 0] - xi[:, 1]
    vl = u[:, 1] + xi[:, 0] - xi[:, 2]
    vals = three_class_connected("loss", vk, vl) * U * U
    est, se = vals.mean(), vals.std() / math.sqrt(n)
    assert abs(est - junction_moment("loss", (0, 0), d)) < 4 * se


def test_junction_node_convergence():
    for name in ("restoring", "noise", "drift"):
        a = junction_moment(name, (1, 1), 0.3)
        b = junction_moment(name, (1, 1), 0.3, nodes=24)
        assert abs(a - b) < 1e-9 * (1 + abs(b))


def test_invalid_input():
    with pytest.raises(InvalidInputError):
        binary_layer_moment("nonsense", 0, 0.3)
    with pytest.raises(InvalidInputError):
        binary_layer_moment("loss", -1, 0.3)
    with pytest.raises(InvalidInputError):
        junction_moment("loss", (0, 0), -0.3)
