"""The saturated regime of label smoothing: the derived plateau against the integrated closure, the
small-eta expansion, the exact gradient-flow identities and (reduced) the schedule exponents.

The schedule exponents to alpha = 1e8 (beta = 0.25, 0.5, 0.75, K = 2, 3) are validated in
benchmarks/validate_loss_late_time.py; the reduced form here runs beta = 0.5, K = 2 to alpha = 1e6.
"""

import math

import numpy as np
import pytest

from asymptotics.analysis.extrapolation import extrapolate_exponent
from asymptotics.analysis.slopes import local_slope
from asymptotics.dynamics.flow import integrate_closure
from asymptotics.dynamics.schedules import PowerLaw
from asymptotics.losses.moments import loss_moments
from asymptotics.losses.saturation import (
    plateau,
    saturated_schedule_law,
    small_eta_plateau,
    zero_noise_optimum,
)

LS = "label_smoothing:eps=0.1"


@pytest.mark.parametrize("K", [2, 3])
def test_plateau_agrees_with_the_integrated_closure(K):
    p = plateau(LS, K, 1.0)
    c = integrate_closure(K, 1.0, [2e3], loss=LS, rtol=1e-12)
    m = loss_moments(LS, K, float(c.D[-1]), float(c.Delta[-1]))
    assert abs(c.D[-1] - p["D"]) < 1e-8
    assert abs(c.Delta[-1] - p["Delta"]) < 1e-8
    assert abs(m.eps_g - p["eps_g"]) < 1e-8
    assert p["eps_g"] > 0.04  # a plateau, not a decay


def test_gradient_flow_identities():
    """drift = -dL/dD and restoring = 2 dL/dDelta (Stein's lemma), checked by finite differences."""
    for K in (2, 3):
        D, Delta, h = 2.0, 0.3, 1e-4
        m = loss_moments(LS, K, D, Delta)
        dLdD = (loss_moments(LS, K, D + h, Delta).loss - loss_moments(LS, K, D - h, Delta).loss) / (2 * h)
        dLdDelta = (loss_moments(LS, K, D, Delta + h).loss - loss_moments(LS, K, D, Delta - h).loss) / (2 * h)
        assert m.drift == pytest.approx(-dLdD, abs=1e-7)
        assert m.restoring == pytest.approx(2 * dLdDelta, abs=1e-7)


def test_small_eta_plateau_and_optimum():
    o = zero_noise_optimum(LS, 2)
    assert abs(loss_moments(LS, 2, o["D0"], 0.0).drift) < 1e-12
    for eta in (1e-2, 1e-3):
        p, s = plateau(LS, 2, eta), small_eta_plateau(LS, 2, eta)
        assert p["Delta"] == pytest.approx(s["Delta"], rel=20 * eta)  # Delta* = eta n0/(2 r0) + O(eta^2)
        assert p["D"] == pytest.approx(s["D"], rel=20 * eta)
        assert p["eps_g"] == pytest.approx(s["eps_g"], rel=10 * math.sqrt(eta))


def test_schedule_exponents_reduced():
    K, beta, amax = 2, 0.5, 1e6
    law = saturated_schedule_law(LS, K, beta)
    assert (law["exponent_eps_g"], law["exponent_excess_loss"]) == (-0.25, -0.5)
    curve = integrate_closure(K, PowerLaw(1.0, beta, 1.0), [amax], loss=LS, rtol=1e-11)

    def eps(a):
        D, Delta = curve.state_at(a)
        return float(loss_moments(LS, K, float(np.ravel(D)[0]), float(np.ravel(Delta)[0])).eps_g)

    grid = np.logspace(3, math.log10(amax / 1.2), 12)
    s, e = local_slope(eps, grid, alpha_range=(500, amax))
    ex = extrapolate_exponent(grid, s, e, powers=(0.5, 1.0, 1.5))
    assert abs(ex.value - law["exponent_eps_g"]) < 5e-3
    # the prefactor: eps_g alpha^(beta/2) tends to the derived value
    assert eps(grid[-1]) * grid[-1] ** (beta / 2) == pytest.approx(law["prefactor_eps_g"], rel=0.05)
