import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from asymptotics.asymptotic.schedule_exponents import (
    correction_powers,
    delta_star,
    derive_schedule_exponents,
    layer_A,
    layer_B,
    measure_schedule_exponents,
    optimal_budget_scaling,
    optimise_schedule,
    predicted_exponents,
    rho_K0,
    schedule_reduced_flow,
)
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
    assert layer_A(0.3) == pytest.approx(math.pi**2 / 12 + 0.15, rel=1e-15)
    mpmath.mp.dps = 30
    for d in (1e-5, 1e-2, 0.25, 1.0, 3.0):
        ref = (
            mpmath.quad(
                lambda z: mpmath.log1p(mpmath.exp(mpmath.sqrt(2 * d) * z)) * mpmath.npdf(z),
                [-mpmath.inf, 0, mpmath.inf],
            )
            - mpmath.mpf(1) / 2
        )
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
    fd = math.log(g.eps_g[2] / g.eps_g[0]) / math.log(1.01**2)
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
    dlnD = f.eta * f.alpha * c * layer_A(f.Delta) / f.D**3
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


def test_budget_optimised_schedule_on_exact_closure_k2():
    # The schedule tuned by optimise_schedule on the reduced flow (start D = 1 at alpha = 1), run on the
    # EXACT closure from W(0) = 0.  Measured (benchmarks/validate_budget_schedule.py, rtol 1e-10; the
    # rtol 1e-12 rerun agrees to < 2e-9):
    #   alpha_T  exact eps_g  reduced eps_g  exact/red-1  D(alpha_T)  (exact/red-1) D^2
    #   1e3      4.0943e-3    3.8975e-3      +5.05e-2      5.44        1.49
    #   1e4      9.8883e-4    9.7495e-4      +1.42e-2     10.49        1.57
    #   1e5      2.3722e-4    2.3630e-4      +3.88e-3     20.30        1.60
    #   1e6..1e8                             +1.02e-3 .. +6.44e-5      1.61, 1.62, 1.62
    # i.e. the reduced flow (leading order in 1/D) misses a relative correction c/D^2 with c = 1.5-1.6,
    # always positive.  Tolerance: 0 < exact/red - 1 < 2.5/D^2 (2.3% at 1e4, 0.6% at 1e5), and the
    # correction must scale like 1/D^2 between the two budgets (measured ratio 0.977 of the D^2 ratio).
    # Baselines on the exact closure (eps_g at 1e4, 1e5): eta = 1: 6.365e-3, 2.947e-3; eta = 1/(1+alpha):
    # 8.083e-3, 4.149e-3; eta = 1/(1+alpha/alpha0) with alpha0 tuned to the budget (12.2, 14.3):
    # 1.327e-3, 3.860e-4 -- the optimised schedule is 1.34x, 1.63x better than the best of them; asserted:
    # at least 1.2x (the 1/alpha0 tuning here is coarser, xatol 1e-2 in ln alpha0; the gain grows with budget).
    # Local budget exponent 1e4 -> 1e5: exact -0.6200, reduced -0.6155 (tuned 1/alpha: -0.536).
    from scipy.optimize import minimize_scalar

    from asymptotics.dynamics.flow import integrate_closure
    from asymptotics.dynamics.schedules import parse_schedule

    def exact(schedule, budget):
        c = integrate_closure(2, schedule, [budget], rtol=1e-10)
        return float(c.eps_g[-1]), float(c.D[-1])

    rows = []
    for budget in (1e4, 1e5):
        opt = optimise_schedule(2, budget, compare=False)
        eps, D = exact(opt["schedule"], budget)
        rel = eps / opt["eps_g"] - 1
        assert 0 < rel < 2.5 / D**2
        tuned = minimize_scalar(
            lambda la0: math.log(exact(PowerLaw(1.0, 1.0, math.exp(la0)), budget)[0]),
            bounds=(0.0, math.log(budget) + 2),
            method="bounded",
            options={"xatol": 1e-2},
        )
        baselines = [
            exact(parse_schedule("constant:eta=1"), budget)[0],
            exact(parse_schedule("power:eta0=1,beta=1,alpha0=1"), budget)[0],
            math.exp(tuned.fun),
        ]
        assert eps < min(baselines) / 1.2
        rows.append((eps, opt["eps_g"], rel, D))
    (e4, r4, rel4, D4), (e5, r5, rel5, D5) = rows
    assert rel4 / rel5 == pytest.approx((D5 / D4) ** 2, rel=0.1)
    slope_exact, slope_red = math.log10(e5 / e4), math.log10(r5 / r4)
    assert slope_exact == pytest.approx(slope_red, abs=0.01)
    assert slope_exact < -0.6
