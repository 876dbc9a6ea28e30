"""Finite-size study: K = 2 identities, the derived 1/N correction against real simulations, and the
resolution of the measured deviation (the statistical error at the largest N is below the deviation)."""

import math

import numpy as np
import pytest

from asymptotics.analysis.finite_size import (
    fit_power,
    k2_error_and_loss,
    k2_exact_block,
    plan_seeds,
    secant_exponents,
)
from asymptotics.analysis.finite_size_k2 import k2_drift, k2_finite_size, k2_noise_covariance
from asymptotics.dynamics.flow import integrate_closure
from asymptotics.dynamics.sgd import simulate_sgd
from asymptotics.numeric.closure import closure_moments
from asymptotics.sweep.tasks import combine_blocks


@pytest.mark.parametrize(
    "D, Delta, eta", [(0.05, 0.01, 1.0), (1.0, 0.5, 1.0), (3.0, 0.2, 0.5), (6.0, 1.0, 2.0)]
)
def test_k2_drift_is_the_closure_flow(D, Delta, eta):
    r_u, q = D / math.sqrt(2), (Delta + D * D) / 2
    F = k2_drift((r_u, 0.0, q), eta)
    m = closure_moments(2, D, Delta)
    assert math.sqrt(2) * F[0] == pytest.approx(eta * m.drift, rel=1e-9)
    assert 2 * F[2] - 4 * r_u * F[0] == pytest.approx(
        eta * (-2 * Delta * m.restoring + eta * m.noise), rel=1e-7
    )
    assert abs(F[1]) < 1e-15  # r_v = 0 is invariant
    S = k2_noise_covariance((r_u, 0.0, q), eta)
    assert np.allclose(S, S.T) and np.all(np.linalg.eigvalsh(S) > -1e-14)


def test_k2_error_and_loss_from_D_and_Delta_match_test_samples():
    run = simulate_sgd(2, 1.0, N=64, seeds=6, alphas=[0.5, 3.0], n_test=40_000, seed=3)
    eps, loss = k2_error_and_loss(run.per_seed["D"], run.per_seed["Delta"])
    mc_eps = run.per_seed["eps_g"]
    assert np.all(np.abs(mc_eps - eps) <= 4.5 * np.sqrt(eps * (1 - eps) / 40_000))
    assert np.all(np.abs(run.per_seed["loss"] - loss) <= 0.02 * loss)  # MC error of L ~ 0.5 %


def test_fit_and_secant_exponents_on_exact_power_laws():
    N = np.array([100.0, 300.0, 1000.0])
    fit = fit_power(N, -2.0 * N**-1.5, 1e-3 * 2.0 * N**-1.5)
    assert fit["p"] == pytest.approx(1.5, abs=1e-12) and fit["c"] == pytest.approx(-2.0, rel=1e-12)
    assert fit["p_err"] == pytest.approx(1e-3 / (np.std(np.log(N)) * math.sqrt(3)), rel=1e-9)
    assert [round(r["p"], 12) for r in secant_exponents(N, 5.0 / N, 0 * N)] == [1.0, 1.0]
    assert math.isnan(fit_power(N[:2], [1.0, 0.5], [0.1] * 2)["p"])
    noisy = fit_power(N, [1e-3, -1e-3, 1e-3], [1e-3] * 3)  # unresolved: a huge error bar
    assert not noisy["p_err"] < 1.0
    assert plan_seeds([100, 2000], ratio=1.0, z=math.sqrt(3), minimum=1000, block=250) == {
        100: 1000,
        2000: 6000,
    }


def _measure(Ns, seeds_per_N, alpha, eta=1.0, block=1000):
    pooled = {}
    for N in Ns:
        S = seeds_per_N * N
        blocks = [
            k2_exact_block(2, eta, N, min(block, S - s), 100 + s // block, [alpha])
            for s in range(0, S, block)
        ]
        pooled[N] = combine_blocks(blocks)
    return pooled


def test_deviation_is_resolved_falls_like_one_over_N_and_matches_the_derived_coefficient(run_slow):
    """Real runs (K = 2, eta = 1, alpha = 2); reduced: N = 50, 100, 200 with 12 N seeds each."""
    Ns = (100, 200, 400, 800) if run_slow else (50, 100, 200)
    seeds_per_N = 30 if run_slow else 12
    alpha = 2.0
    pooled = _measure(Ns, seeds_per_N, alpha)
    closure = integrate_closure(2, 1.0, [alpha], rtol=1e-11)
    theory = k2_finite_size(1.0, [alpha], rtol=1e-5)
    N = np.array(Ns, dtype=float)
    for name in ("eps_g", "Delta", "D", "loss"):
        mean = np.array([pooled[n][name][0] for n in Ns])
        se = np.array([pooled[n][f"{name}_se"][0] for n in Ns])
        sd = np.array([pooled[n][f"{name}_sd"][0] for n in Ns])
        dev = mean - float(getattr(closure, name)[0])
        if name == "eps_g":  # the best-resolved deviation (|c|/s ~ 0.7)
            # the run is large enough to say something: the statistical error at the largest N is below
            # the measured deviation; the exponent has an error bar and is consistent with 1
            assert se[-1] < abs(dev[-1]), (dev, se)
            fit = fit_power(N, dev, se)
            assert np.isfinite(fit["p_err"]) and fit["p_err"] < 0.8, fit
            assert abs(fit["p"] - 1.0) < 3 * fit["p_err"], fit
        # coefficient of 1/N (weighted over N) against the derivation
        w = 1.0 / (se * N) ** 2
        coeff, coeff_err = np.sum(w * dev * N) / np.sum(w), 1.0 / math.sqrt(np.sum(w))
        c1 = float(theory.c1[name][0])
        assert abs(coeff - c1) < 3 * coeff_err + 0.05 * abs(c1), (name, coeff, coeff_err, c1)
        # the seed-to-seed spread falls like N^-1/2 with the derived coefficient
        predicted = math.sqrt(theory.var1[name][0])
        rel = 1.0 / np.sqrt(2.0 * (seeds_per_N * N - 1))
        assert np.all(np.abs(sd * np.sqrt(N) / predicted - 1) < 4 * rel + 2.0 / N), (
            name,
            sd * np.sqrt(N),
            predicted,
        )
