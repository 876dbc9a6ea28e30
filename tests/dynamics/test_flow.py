"""Integration of the exact closure: short-time Taylor limit, time-transform independence,
tolerance convergence and error handling."""

import math

import mpmath
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from asymptotics.dynamics.flow import integrate_closure, log_grid
from asymptotics.numeric.closure import closure_moments
from asymptotics.validation import InvalidInputError


def expected_max_gaussian(K):
    """E[max of K iid N(0,1)] by direct quadrature (independent of the library)."""
    f = lambda y: K * y * mpmath.npdf(y) * mpmath.ncdf(y) ** (K - 1)
    return float(mpmath.quad(f, [-mpmath.inf, 0, mpmath.inf]))


@pytest.mark.parametrize("K", [2, 3])
def test_short_time_limit_matches_taylor_expansion(K):
    # At W(0) = 0 the student logits vanish: p = 1/K, so dD/dalpha = eta E[max y]/(K-1) and
    # dDelta/dalpha = eta^2 [(1-1/K)^2 + (K-1)/K^2]/(K-1).
    eta, alpha = 0.7, 1e-5
    curve = integrate_closure(K, eta, [alpha])
    slope_D = eta * expected_max_gaussian(K) / (K - 1)
    slope_Delta = eta**2 * ((1 - 1 / K) ** 2 + (K - 1) / K**2) / (K - 1)
    assert curve.D[0] == pytest.approx(slope_D * alpha, rel=1e-4)
    assert curve.Delta[0] == pytest.approx(slope_Delta * alpha, rel=1e-4)
    # eps_g leaves 1 - 1/K at order D/sqrt(Delta) ~ sqrt(alpha): a few 1e-3 here
    assert curve.eps_g[0] == pytest.approx(1 - 1 / K, rel=1e-2)
    assert curve.eps_g[0] < 1 - 1 / K
    assert curve.loss[0] == pytest.approx(math.log(K), rel=1e-4)


def test_log_time_solution_equals_direct_integration_in_alpha():
    # Same flow, integrated directly in alpha by a different method (Radau): the log-time
    # transform must not change the solution.
    K, eta = 2, 0.5
    alphas = [0.5, 3.0, 20.0]
    curve = integrate_closure(K, eta, alphas, rtol=1e-10)

    def rhs(alpha, s):
        m = closure_moments(K, max(s[0], 0.0), max(s[1], 0.0))
        return [eta / (K - 1) * m.drift, eta / (K - 1) * (-2 * s[1] * m.restoring + eta * m.noise)]

    ref = solve_ivp(rhs, (0, alphas[-1]), [0.0, 0.0], method="Radau", t_eval=alphas, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(curve.D, ref.y[0], rtol=1e-7)
    np.testing.assert_allclose(curve.Delta, ref.y[1], rtol=1e-7)


def test_eps_g_relative_error_below_1e_minus_6_up_to_1e8_for_K2():
    alphas = log_grid(1e-2, 1e8, 2)
    default = integrate_closure(2, 1.0, alphas)
    tight = integrate_closure(2, 1.0, alphas, rtol=1e-13)
    rel = np.abs(default.eps_g / tight.eps_g - 1)
    assert rel.max() < 1e-6
    # K = 2 exact relation between the observables and the state
    exact = np.arccos(tight.D / np.sqrt(tight.D**2 + tight.Delta)) / np.pi
    np.testing.assert_allclose(tight.eps_g, exact, rtol=1e-10)


def test_dense_output_interpolates_between_grid_points():
    curve = integrate_closure(2, 1.0, [1.0, 100.0])
    other = integrate_closure(2, 1.0, [1.0, 10.0, 100.0])
    D, Delta = curve.state_at(10.0)
    assert D == pytest.approx(other.D[1], rel=1e-7)
    assert Delta == pytest.approx(other.Delta[1], rel=1e-7)


def test_schedule_callable_is_used():
    constant = integrate_closure(2, 1.0, [10.0])
    halved = integrate_closure(2, lambda a: 0.5, [10.0])
    half = integrate_closure(2, 0.5, [10.0])
    assert halved.D[0] == pytest.approx(half.D[0], rel=1e-10)
    assert halved.D[0] != pytest.approx(constant.D[0], rel=1e-3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(K=1, eta=1.0, alphas=[1.0]), "K must be"),
        (dict(K=2, eta=0.0, alphas=[1.0]), "eta must be > 0"),
        (dict(K=2, eta=-1.0, alphas=[1.0]), "eta must be > 0"),
        (dict(K=2, eta=float("nan"), alphas=[1.0]), "eta must be a finite"),
        (dict(K=2, eta=1.0, alphas=[1.0], Delta0=-0.1), "Delta0 must be >= 0"),
        (dict(K=2, eta=1.0, alphas=[-1.0]), "alpha values must be >= 0"),
        (dict(K=2, eta=1.0, alphas=[float("inf")]), "finite"),
        (dict(K=2, eta=1.0, alphas=[2.0, 1.0]), "increasing"),
        (dict(K=2, eta=lambda a: -1.0, alphas=[1.0]), "schedule"),
    ],
)
def test_bad_input_is_rejected(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        integrate_closure(**kwargs)


def test_blow_up_reports_where():
    def exploding(alpha):
        return 1.0 if alpha < 1.0 else float("inf")

    with pytest.raises(InvalidInputError, match="eta\\(1"):
        integrate_closure(2, exploding, [2.0])
