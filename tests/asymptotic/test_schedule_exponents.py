import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from asymptotics.asymptotic.schedule_exponents import (correction_powers, delta_star,
                                                       derive_schedule_exponents, layer_A, layer_B,
                                                       measure_schedule_exponents, optimal_budget_scaling,
                                                       optimise_schedule, predicted_exponents, rho_K0,
                                                       schedule_reduced_flow)
from asymptotics.dynamics.schedules import PowerLaw
from asymptotics.validation import InvalidInputError


def test_symbolic_exponents_match_reference_forms():
    r = derive_schedule_exponents()
    beta = r["symbols"]["beta"]
    assert sp.simplify(r["eps_g"] + (2 + beta) / 6) == 0
    assert sp.simplify(r["loss"] + (1 - beta) / 3) == 0
    assert sp.simplify(r["adiabatic"] - 2 * (1 - beta) / 3) == 0
    assert r["adiabatic_condition"] in (beta < 1, sp.And(-sp.oo < beta, beta < 1))
    c, A, e, L = (r["symbols"][k] for k in ("c", "A", "eta0alpha0", "ln_alpha"))
    assert sp.simplify(r["D3_beta1"] - 3 * c * A * e * L) == 0
    with pytest.raises(InvalidInputError):
        predicted_exponents(1.0)


def test_ingredients_against_independent_evaluations():
    assert rho_K0(2) == pytest.approx(1 / math.sqrt(math.pi), rel=1e-14)
    assert rho_K0(3) == pytest.approx(1.5 / math.sqrt(math.pi), rel=1e-14)
    assert layer_A(0.3) == pytest.approx(math.pi ** 2 / 12 + 0.15, rel=1e-15)
    mpmath.mp.dps = 30
    for d in (1e-5, 1e-2, 0.25, 1.0, 3.0):
        ref = mpmath.quad(lambda z: mpmath.log1p(mpmath.exp(mpmath.sqrt(2 * d) * z)) * mpmath.npdf(z),
                          [-mpmath.inf, 0, mpmath.inf]) - mpmath.mpf(1) / 2
        assert layer_B(d) == pytest.approx(float(ref), rel=1e-10)
    # spec: Delta*(eta = 1) = 0.252918...
    assert delta_star(1.0) == pytest.approx(0.252918, abs=1e-6)
    from asymptotics.asymptotic.reduced_flow import fixed_point_Delta
    assert delta_star(0.3) == pytest.approx(float(fixed_point_Delta(0.3)), rel=1e-12)


def test_fixed_eta_reduced_flow_reproduces_prediction_one():
    # spec example K = 3, eta = 1: eps_g alpha^{1/3} -> 0.22568..., L alpha^{1/3} -> 0.75475...
    f = schedule_reduced_flow(3, 1.0, 1e9, points_per_decade=1)
    assert f.eps_g[-1] * 1e3 == pytest.approx(0.22568, abs=2e-5)
    assert f.loss[-1] * 1e3 == pytest.approx(0.75475, abs=2e-5)
    assert f.eps_g_slope[-1] == pytest.approx(-1 / 3, abs=1e-7)
    # the exact slope agrees with a finite difference of the curve itself
    g = schedule_reduced_flow(3, 1.0, 1e5, alphas=[1e4 / 1.01, 1e4, 1e4 * 1.01])
    fd = math.log(g.eps_g[2] / g.eps_g[0]) / math.log(1.01 ** 2)
    assert g.eps_g_slope[1] == pytest.approx(fd, abs=1e-5)


@pytest.mark.parametrize("beta", [0.25, 0.5, 0.75])
def test_schedule_exponents_reduced_flow_to_1e12(beta):
    r = measure_schedule_exponents(2, beta, alpha_max=1e12)
    assert abs(r["eps_g_exponent"] + (2 + beta) / 6) < 5e-3
    assert abs(r["loss_exponent"] + (1 - beta) / 3) < 5e-3
    # in fact much better
    assert abs(r["eps_g_exponent"] + (2 + beta) / 6) < 1e-4
    assert r["eps_g_exponent_error"] < 1e-4


def test_beta_one_loses_adiabaticity_and_beyond_freezes():
    f = schedule_reduced_flow(2, PowerLaw(1.0, 1.0, 1.0), 1e12, points_per_decade=1)
    c = f.meta["c"]
    # adiabatic ratio eta*alpha/D decreases once D grows (lost adiabaticity)
    assert f.adiabatic_ratio[-1] < f.adiabatic_ratio[-4]
    # derived local exponent of eps_g in the non-adiabatic regime: -c eta0 alpha0/D - dlnD/dln alpha
    dlnD = f.eta * f.alpha * c * layer_A(f.Delta) / f.D ** 3
    pred = -c * f.alpha / (1 + f.alpha) / f.D * (1 - f.eta * layer_B(f.Delta) / f.Delta) - dlnD
    assert f.eps_g_slope[-1] == pytest.approx(pred[-1], rel=1e-6)
    assert -0.5 < f.eps_g_slope[-1] < 0 and abs(f.eps_g_slope[-1]) < abs(f.eps_g_slope[-5])
    # beta > 1: eps_g freezes at a positive constant
    g = schedule_reduced_flow(2, PowerLaw(1.0, 1.5, 1.0), 1e12, points_per_decade=1)
    assert g.eps_g[-1] / g.eps_g[-3] == pytest.approx(1.0, abs=1e-3)


def test_correction_powers():
    assert correction_powers(0.25)[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert correction_powers(0.75)[0] == pytest.approx(1 / 6)


@pytest.mark.slow
def test_budget_aware_schedule_beats_alpha_to_minus_half(run_slow):
    budgets = [1e4, 1e6, 1e8] if run_slow else [1e3, 1e4]
    r = optimal_budget_scaling(2, budgets, maxfev=150 if run_slow else 60)
    for row in r["rows"]:
        assert row["eps_g"] < row["eps_g_anytime"] < row["eps_g_constant"] * 1.001
    # the budget-aware optimum decays faster than alpha^-1/2 (towards alpha^-2/3)
    assert r["slopes_optimal"][-1] < -0.55
    # constant eta tuned to the budget stays near alpha^-1/2 (Hebbian limit), never beyond
    assert -0.52 < r["slopes_constant"][-1] < -0.45


def test_beta_one_adiabatic_window_has_log_correction():
    # eta0*alpha0 = 100: Delta still follows Delta* ~ 1/alpha while D < 2 c eta0 alpha0, and
    # D^3 ~ 3 c A eta0 alpha0 ln(alpha) gives eps_g ~ alpha^-1/2 (ln alpha)^-1/3
    f = schedule_reduced_flow(2, PowerLaw(1.0, 1.0, 100.0), 1e14, points_per_decade=1)
    pred = -0.5 - 1 / (3 * np.log(np.maximum(f.alpha, 2.0)))
    diff = np.abs(f.eps_g_slope - pred)
    assert diff[-1] < 2e-3 and diff[-1] < diff[-5] < diff[-9]
    assert np.all(f.eps_g_slope[-5:] < -0.5)
