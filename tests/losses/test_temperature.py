"""Cross-entropy at temperature T is cross-entropy at T = 1 with eta/T^2: derived, then checked on the
closure, on the boundary-layer constants and trajectory by trajectory on SGD."""

import mpmath
import numpy as np
import pytest
import sympy

from asymptotics.dynamics.flow import integrate_closure
from asymptotics.dynamics.sgd import simulate_sgd
from asymptotics.losses.layer import fixed_point, leading_constants
from asymptotics.losses.temperature import derive_temperature_map


def test_map_is_derived():
    r = derive_temperature_map()
    T, eta = sympy.symbols("T eta", positive=True)
    assert r["eta_map"] == eta / T**2
    assert all(v == 0 for v in r["integrand_checks"].values())
    assert r["flow_check"] == (0, 0)


@pytest.mark.parametrize("K", [2, 3])
def test_closure_at_temperature_two_is_the_rescaled_unit_temperature_closure(K):
    alphas = [0.5, 5.0, 50.0, 500.0]
    hot = integrate_closure(K, 1.0, alphas, loss="cross_entropy:T=2", rtol=1e-12)
    cold = integrate_closure(K, 0.25, alphas, rtol=1e-12)
    assert np.allclose(hot.D, 2 * cold.D, rtol=1e-9)
    assert np.allclose(hot.Delta, 4 * cold.Delta, rtol=1e-9)
    assert np.allclose(hot.eps_g, cold.eps_g, rtol=1e-9)
    assert np.allclose(hot.loss, cold.loss, rtol=1e-9)  # training loss at T = 2 = CE at T = 1 there
    # the test cross-entropy is the T = 1 loss at (D, Delta) itself: not mapped
    assert not np.allclose(hot.cross_entropy, cold.loss, rtol=1e-3)


def test_boundary_layer_constants_map():
    # Delta*_T(eta) = T^2 Delta*_1(eta/T^2); C_D^T = T C_D^1(eta/T^2); eps_g and L prefactors unchanged
    hot = leading_constants("cross_entropy:T=2", 3, 1, 20)
    cold = leading_constants("cross_entropy", 3, "0.25", 20)
    with mpmath.workdps(40):
        assert abs(hot["Delta_star"] - 4 * cold["Delta_star"]) < 1e-19
        assert (
            abs(fixed_point("cross_entropy:T=2", 1, 20) - 4 * fixed_point("cross_entropy", "0.25", 20))
            < 1e-19
        )
        assert abs(hot["C_D"] - 2 * cold["C_D"]) < 1e-19
        assert abs(hot["C_eps"] - cold["C_eps"]) < 1e-19
        assert abs(hot["C_L"] - cold["C_L"]) < 1e-19


def test_sgd_trajectories_map_exactly():
    kw = dict(N=200, seeds=3, alphas=[1.0, 4.0], n_test=500, seed=4)
    hot = simulate_sgd(3, 1.0, loss="cross_entropy:T=2", **kw)
    cold = simulate_sgd(3, 0.25, loss="cross_entropy", **kw)
    assert np.allclose(hot.weights, 2 * cold.weights, rtol=1e-9, atol=1e-12)
    assert np.allclose(hot.per_seed["D"], 2 * cold.per_seed["D"], rtol=1e-9)
    assert np.allclose(hot.per_seed["Delta"], 4 * cold.per_seed["Delta"], rtol=1e-8)
    # (the test fields are drawn from a factor of the Gram matrix of [B; W], which differs with W's scale)
