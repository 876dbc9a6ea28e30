"""Full-matrix simulations against the aligned-ansatz ODE (prefactor 1/(n-1))."""

import numpy as np
import pytest

from asymptotics.peaked.dynamics import integrate_aligned_flow
from asymptotics.peaked.simulate import aligned_loss_on_sample, simulate_full_matrix, teacher_matrix


def _compare(n, m, beta_star, tau_max, orthogonal, prefactor=None, samples=8192, seed=0):
    W = teacher_matrix(n, m, seed, orthogonal=orthogonal)
    run = simulate_full_matrix(
        n,
        m,
        beta_star,
        tau_max,
        samples=samples,
        W_hat=W,
        record_points=8,
        kappa=0.05,
        eval_samples=20000,
        seed=seed,
    )
    ode = integrate_aligned_flow(n, beta_star, tau_max * 1.01, tau_min=1e-3, prefactor=prefactor)
    b_ode = np.exp(ode.dense(np.log(np.maximum(run.tau, 1e-3)))[0])
    L_ode = aligned_loss_on_sample(run.h_eval, beta_star, b_ode)  # common random numbers
    return run, b_ode, L_ode


@pytest.fixture(scope="module")
def orthogonal_run():
    return _compare(4, 64, 10.0, 60.0, True)


def test_ode_matches_full_flow_exactly_iid_teacher(orthogonal_run):
    run, b_ode, L_ode = orthogonal_run
    assert np.max(np.abs(run.loss / L_ode - 1)) < 1e-2
    late = run.tau > 1
    assert np.max(np.abs(run.beta_fit[late] / b_ode[late] - 1)) < 1e-2
    assert np.max(run.off_aligned) < 0.02  # the flow stays aligned


def test_wrong_prefactor_is_detected(orthogonal_run):
    run, _, _ = orthogonal_run
    ode = integrate_aligned_flow(4, 10.0, 61.0, tau_min=1e-3, prefactor=1 / 4)  # 1/n, not 1/(n-1)
    b = np.exp(ode.dense(np.log(np.maximum(run.tau, 1e-3)))[0])
    L = aligned_loss_on_sample(run.h_eval, 10.0, b)
    assert np.max(np.abs(run.loss / L - 1)) > 2e-2


def test_gaussian_teacher_m_16n_mismatch_is_finite_m_effect():
    # a single Gaussian teacher at m = 16 n has ||P W_hat||^2/m = (n-1)(1 + O((nm)^-1/2)) and logit
    # variances C_ii = 1 + O(m^-1/2): the i.i.d. reduction is then off by a few percent (measured:
    # 9% in L at tau = 60 for n = 4, m = 64), not 1%; the 1% agreement holds for exactly i.i.d.
    # teacher logits (orthogonal rows, test above)
    n, m = 4, 64
    run, b_ode, L_ode = _compare(n, m, 10.0, 60.0, False)
    W = teacher_matrix(n, m, 0)
    P = np.eye(n) - 1 / n
    norm_dev = abs(np.sum((P @ W) ** 2) / (m * (n - 1)) - 1)
    early = (run.tau > 0) & (run.tau < 1)
    # early beta offset is of the size of the teacher-norm fluctuation
    assert np.max(np.abs(run.beta_fit[early] / b_ode[early] - 1)) < 1.5 * norm_dev + 0.01
    assert np.max(np.abs(run.loss / L_ode - 1)) < 0.15


def test_rank_deficient_teacher_mismatch_is_reported():
    # m < n: logits correlated (rank m); the i.i.d. reduction is off by far more than 1%
    run, b_ode, L_ode = _compare(8, 2, 10.0, 10.0, False, samples=2048)
    assert np.max(np.abs(run.loss / L_ode - 1)) > 0.05


@pytest.mark.slow
def test_sgd_and_adam_decrease_loss(run_slow):
    tau_max = 300.0 if run_slow else 20.0
    for mode, lr in (("sgd", 0.5), ("adam", 0.01)):
        r = simulate_full_matrix(
            4, 64, 10.0, tau_max, mode=mode, lr=lr, batch=512, record_points=6, eval_samples=5000
        )
        assert r.loss[-1] < 0.7 * r.loss[0]


def test_online_gradient_matches_reference_formula():
    # the buffered online path must draw the same batches and apply g = (q - p)^T X / batch exactly
    import math

    n, m, batch, beta_star, lr, seed = 6, 5, 64, 30.0, 0.3, 7
    Wh = teacher_matrix(n, m, 1)
    run = simulate_full_matrix(
        n,
        m,
        beta_star,
        lr,
        mode="sgd",
        lr=lr,
        batch=batch,
        seed=seed,
        W_hat=Wh,
        record_points=3,
        eval_samples=100,
    )
    # record grid [0, min(0.01, lr/10), lr]: two steps (truncated at the record point), a fresh batch each

    def softmax(z):
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    rng = np.random.default_rng(seed)
    W = np.zeros((n, m))
    first = min(1e-2, lr / 10)
    for dt in (first, lr - first):
        X = rng.standard_normal((batch, m))
        g = (softmax(X @ W.T) - softmax(beta_star * X @ Wh.T / math.sqrt(m))).T @ X / batch
        W = W - dt * g
    V = (np.eye(n) - 1 / n) @ Wh / math.sqrt(m)
    assert run.steps == 2
    assert abs(run.beta_fit[-1] - np.sum(W * V) / np.sum(V * V)) < 1e-12 * max(1.0, abs(run.beta_fit[-1]))


def test_adam_loss_slope_is_steeper_than_one_third():
    # Adam, fresh batches, constant lr, zero init, beta* = 1e4 (intermediate regime c0 < beta << beta*),
    # reduced size n = m = 32, batch 256, lr 0.02, tau in [40, 400] (beta_fit ~ 11.5 -> 31.7).
    # Measured over 6 seeds, one teacher (benchmarks/validate_peaked_adam.py has the n = 128, m = 32 version):
    #   d ln L/d ln tau = -0.427 (sd 0.005),  d ln beta_fit/d ln tau = 0.4406 (sd 0.0004).
    # Gradient flow has beta ~ tau^(1/3), L ~ tau^(-1/3) here; Adam's step is normalised by the
    # gradient *noise* (sqrt(v) ~ beta^(-1/2)/sqrt(batch) once noise dominates), which speeds beta up
    # towards beta ~ tau^(2/5) (a hypothesis, not derived here).  The assertions only use the
    # gradient-flow prediction (exponents 1/3) and the noise-dominated bound 2/5 + slack, not the
    # measured values: -1/3 lies > 18 single-seed sd away from the measured slope.
    # One seed (~6 s of CPU).
    n = m = 32
    r = simulate_full_matrix(
        n,
        m,
        1e4,
        400.0,
        mode="adam",
        lr=0.02,
        batch=256,
        seed=0,
        W_hat=teacher_matrix(n, m, 0),
        record_points=21,
        eval_samples=10000,
    )
    sel = r.tau >= 40 * (1 - 1e-9)
    slope = np.polyfit(np.log(r.tau[sel]), np.log(r.loss[sel]), 1)[0]
    expo = np.polyfit(np.log(r.tau[sel]), np.log(r.beta_fit[sel]), 1)[0]
    assert slope < -1 / 3 - 0.06  # not the gradient-flow exponent
    assert 1 / 3 + 0.05 < expo < 0.5  # beta grows faster than the flow's tau^(1/3)
    assert -0.55 < slope
