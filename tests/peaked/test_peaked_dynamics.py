"""Aligned flow: the one-third law over the intermediate regime, and exponential convergence."""

import numpy as np
import pytest

from asymptotics.peaked.dynamics import integrate_aligned_flow
from asymptotics.peaked.expansion import coefficients, regimes
from asymptotics.peaked.stat_mech_float import gap_thermodynamics


@pytest.fixture(scope="module")
def curve_1e4():
    return integrate_aligned_flow(128, 1e4, 1e13, points_per_decade=12)


def test_one_third_over_intermediate_regime(curve_1e4):
    c = curve_1e4
    lo, hi = regimes(128, 1e4)["intermediate"]
    sel = (c.beta >= lo) & (c.beta <= hi)
    assert sel.sum() >= 5
    assert np.max(np.abs(c.slope[sel] + 1 / 3)) < 5e-3
    # the exact slope formula agrees with a finite difference of ln L on the output grid
    fd = np.gradient(np.log(c.loss), np.log(c.tau))
    assert np.max(np.abs(fd[sel] - c.slope[sel])) < 2e-3
    # outside the plateau the slope departs from -1/3 (the test can fail)
    assert np.min(c.slope) < -0.5


def test_prefactor_and_independent_slope_module(curve_1e4):
    c = curve_1e4
    pref = float(coefficients(128)["prefactor"])
    lo, hi = regimes(128, 1e4)["intermediate"]
    sel = (c.beta >= lo) & (c.beta <= hi)
    ratio = c.loss[sel] * c.tau[sel] ** (1 / 3) / pref
    assert np.all(np.abs(ratio - 1) < 0.05)
    try:
        from asymptotics.analysis.slopes import local_slope
    except ImportError:  # pragma: no cover
        pytest.skip("asymptotics.analysis.slopes not available")
    t0 = float(np.sqrt(c.tau[sel][0] * c.tau[sel][-1]))
    s, err = local_slope(lambda t: float(c.loss_at(t)[0]), t0, h=0.05)
    assert abs(s + 1 / 3) < 5e-3


def test_high_temperature_converges_exponentially():
    n, bs = 128, 0.5
    c = integrate_aligned_flow(n, bs, 3e4, points_per_decade=12)
    h = 1e-4
    dV = (gap_thermodynamics(n, bs + h)["V"] - gap_thermodynamics(n, bs - h)["V"]) / (2 * h)
    rate = -2 * dV / (n - 1)  # L ~ exp(-rate tau) near beta*
    late = c.tau > 0.5 * c.tau[-1]
    dlnL_dtau = np.gradient(np.log(c.loss), c.tau)
    assert np.allclose(dlnL_dtau[late][2:-2], -rate, rtol=0.02)
    # the local slope d ln L/d ln tau grows in proportion to tau: no power law
    i1, i2 = np.where(late)[0][[2, -3]]
    assert abs((c.slope[i2] / c.slope[i1]) / (c.tau[i2] / c.tau[i1]) - 1) < 0.1
