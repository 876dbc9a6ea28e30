"""Finite-N online SGD simulator: exact invariants, reproducibility, short-time growth, test statistics.

Nothing here uses the closure integrator; reference values come from closed forms, quadrature, an
independent step-by-step implementation and Monte Carlo of the (y, z) representation.
"""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import integrate, stats

from asymptotics.dynamics import sgd
from asymptotics.dynamics.sgd import (
    centered_order_parameters,
    error_and_loss,
    orthogonal_teacher,
    sample_test_fields,
    simulate_sgd,
)
from asymptotics.validation import IntegrationError, InvalidInputError


def expected_max_gaussian(K: int) -> float:
    """E[max of K iid N(0,1)] = int y K phi(y) Phi(y)^(K-1) dy by adaptive quadrature."""
    val, _ = integrate.quad(
        lambda y: y * K * stats.norm.pdf(y) * stats.norm.cdf(y) ** (K - 1),
        -np.inf,
        np.inf,
        epsabs=1e-13,
        epsrel=1e-12,
    )
    return val


def test_expected_max_quadrature_matches_closed_forms():
    assert expected_max_gaussian(2) == pytest.approx(1 / math.sqrt(math.pi), rel=1e-10)
    assert expected_max_gaussian(3) == pytest.approx(3 / (2 * math.sqrt(math.pi)), rel=1e-10)


# ---------------------------------------------------------------------------------------------------
# exact structure


@pytest.mark.parametrize("K,N", [(2, 2), (3, 50), (5, 1000)])
def test_teacher_is_exactly_orthogonal_with_norm_N(K, N):
    B = orthogonal_teacher(np.random.default_rng(3), K, N)
    assert B.shape == (K, N)
    np.testing.assert_allclose(B @ B.T, N * np.eye(K), rtol=0, atol=1e-11 * N)


def test_simulator_teacher_and_initial_state_have_the_requested_order_parameters():
    K, N, D0, Delta0 = 3, 200, 1.5, 0.25
    r = simulate_sgd(K, 1e-12, N=N, seeds=3, alphas=[1.0], n_test=10, D0=D0, Delta0=Delta0)
    for b in r.teacher:
        np.testing.assert_allclose(b @ b.T, N * np.eye(K), rtol=0, atol=1e-10 * N)
    # with a vanishing step the state stays at W(0) = D0 B + sqrt(Delta0) G
    np.testing.assert_allclose(r.per_seed["D"], D0, rtol=1e-9)
    np.testing.assert_allclose(r.per_seed["Delta"], Delta0, rtol=1e-8)
    # the full matrices are in the symmetric sector: R_c = D0 P, Q_c = (D0^2 + Delta0) P
    P = np.eye(K) - 1.0 / K
    for w, b in zip(r.weights, r.teacher):
        wc = w - w.mean(axis=0)
        np.testing.assert_allclose(wc @ b.T / N, D0 * P, atol=1e-9)
        np.testing.assert_allclose(wc @ wc.T / N, (D0**2 + Delta0) * P, atol=1e-9)


def test_centered_order_parameters_on_a_known_student():
    N, K = 300, 4
    frame = orthogonal_teacher(np.random.default_rng(0), 2 * K, N)
    B, G = frame[:K], frame[K:]
    W = 0.7 * B + 0.3 * G + 11.0 * frame[0]  # common shift of every class vector is irrelevant
    D, Delta = centered_order_parameters(W, B)
    assert float(D) == pytest.approx(0.7, abs=1e-12)
    assert float(Delta) == pytest.approx(0.09, abs=1e-12)


@pytest.mark.parametrize("D0,Delta0", [(0.0, 0.0), (0.8, 0.5)])
def test_mean_student_vector_never_moves(D0, Delta0):
    short = simulate_sgd(3, 1.0, N=100, seeds=2, alphas=[0.01], n_test=10, D0=D0, Delta0=Delta0, seed=4)
    long = simulate_sgd(3, 1.0, N=100, seeds=2, alphas=[5.0], n_test=10, D0=D0, Delta0=Delta0, seed=4)
    m_short, m_long = short.weights.mean(axis=1), long.weights.mean(axis=1)
    scale = np.abs(long.weights).max()
    assert scale > 1.0  # the students did move
    np.testing.assert_allclose(m_long, m_short, rtol=0, atol=1e-12 * scale)
    if D0 == 0.0:
        np.testing.assert_allclose(m_long, 0.0, atol=1e-12 * scale)


def naive_steps(W, X, B, etas):
    """Reference: one np.outer update per input, per seed (independent of the blocked formulation)."""
    W = W.copy()
    S, T, N = X.shape
    for i in range(S):
        for t in range(T):
            x = X[i, t]
            c = np.argmax(B[i] @ x)
            z = W[i] @ x / math.sqrt(N)
            p = np.exp(z - z.max())
            p /= p.sum()
            e = -p
            e[c] += 1.0
            W[i] += etas[t] / math.sqrt(N) * np.outer(e, x)
    return W


def test_blocked_update_equals_step_by_step_update():
    rng = np.random.default_rng(11)
    S, K, N, T = 3, 4, 60, 25
    B = np.stack([orthogonal_teacher(rng, K, N) for _ in range(S)])
    W = rng.standard_normal((S, K, N))
    X = rng.standard_normal((S, T, N))
    etas = rng.uniform(0.5, 2.0, T)
    blocked = W.copy()
    sgd._advance_block(
        blocked, X, np.ascontiguousarray(B.transpose(0, 2, 1)) / math.sqrt(N), etas, N, math.sqrt(N)
    )
    reference = naive_steps(W, X, B, etas)
    np.testing.assert_allclose(blocked, reference, rtol=0, atol=1e-11 * np.abs(reference).max())
    assert not np.allclose(reference, W)


# ---------------------------------------------------------------------------------------------------
# reproducibility


def test_reproducible_from_one_integer_seed():
    kw = dict(N=80, seeds=3, alphas=[0.5, 2.0], n_test=200)
    a = simulate_sgd(3, 1.0, seed=5, **kw)
    b = simulate_sgd(3, 1.0, seed=5, **kw)
    c = simulate_sgd(3, 1.0, seed=6, **kw)
    for name in sgd.OBSERVABLES:
        np.testing.assert_array_equal(a.per_seed[name], b.per_seed[name])
        assert not np.array_equal(a.per_seed[name], c.per_seed[name])
    # replicates are independent streams: no two seeds share a trajectory
    assert len(set(a.per_seed["D"][:, -1].tolist())) == 3


def test_trajectory_does_not_depend_on_blocking_threads_or_test_size():
    kw = dict(N=90, seeds=2, alphas=[0.3, 1.7], seed=9)
    ref = simulate_sgd(2, 0.7, n_test=100, **kw)
    other = simulate_sgd(2, 0.7, n_test=300, block_size=3, workers=0, **kw)
    np.testing.assert_allclose(other.weights, ref.weights, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(other.per_seed["D"], ref.per_seed["D"], rtol=1e-10)
    np.testing.assert_allclose(other.per_seed["Delta"], ref.per_seed["Delta"], rtol=1e-10)


# ---------------------------------------------------------------------------------------------------
# learning rates and schedules


class HalfRate:
    def __call__(self, alpha):
        return 0.5


def test_constant_callables_and_call_objects_equal_the_constant_rate():
    kw = dict(N=60, seeds=2, alphas=[1.0], n_test=50, seed=2)
    const = simulate_sgd(3, 0.5, **kw)
    lam = simulate_sgd(3, lambda a: 0.5, **kw)
    obj = simulate_sgd(3, HalfRate(), **kw)
    np.testing.assert_allclose(lam.weights, const.weights, rtol=1e-12)
    np.testing.assert_allclose(obj.weights, const.weights, rtol=1e-12)


def test_schedule_is_evaluated_at_alpha_of_each_step():
    # eta = 1 for alpha < 1, then 1e-12: nothing moves after alpha = 1
    r = simulate_sgd(
        3, lambda a: 1.0 if a < 1.0 else 1e-12, N=50, seeds=2, alphas=[0.98, 1.0, 2.0], n_test=10
    )
    D = r.per_seed["D"]
    assert np.all(D[:, 1] != D[:, 0])
    np.testing.assert_allclose(D[:, 2], D[:, 1], rtol=1e-9)


# ---------------------------------------------------------------------------------------------------
# physics: short-time growth against the closure's initial slope


@pytest.mark.parametrize("K,eta", [(3, 1.0), (5, 0.5)])
def test_short_time_growth_of_D(K, eta):
    # dD/dalpha at D = Delta = 0 is eta E[max y] / (K-1); linearising the softmax in z gives
    # drift = E[max y] - D (K-1)/K + O(D^2, D Delta), hence D/alpha = s0 (1 - eta alpha / (2K)) + O(alpha^2).
    N, seeds = 1000, 256
    alphas = np.array([0.05, 0.1, 0.2])
    r = simulate_sgd(K, eta, N=N, seeds=seeds, alphas=alphas, n_test=1, seed=21)
    s0 = eta * expected_max_gaussian(K) / (K - 1)
    predicted = s0 * (1 - eta * alphas / (2 * K))
    measured = r.D / r.alpha
    se = r.D_se / r.alpha
    # O(alpha^2) remainder (about 0.1% of s0 at alpha = 0.2, from the closure) and O(1/N) bias
    tol = 4 * se + 2e-3 * s0
    assert np.all(np.abs(measured - predicted) < tol), (measured, predicted, se)
    if eta * alphas[-1] / (2 * K) > 0.02:
        # the test resolves the first correction: without it the last point is off by > 4 SE
        assert abs(measured[-1] - s0) > 4 * se[-1] + 2e-3 * s0


# ---------------------------------------------------------------------------------------------------
# test-set statistics


def test_test_fields_have_the_covariance_of_projected_gaussian_inputs():
    rng = np.random.default_rng(8)
    K, N, n = 3, 40, 400_000
    B = orthogonal_teacher(rng, K, N)
    W = rng.standard_normal((K, N)) * 0.8 + 0.5 * B
    y, z = sample_test_fields(np.random.default_rng(9), W, B, n)
    M = np.concatenate([B, W]) / math.sqrt(N)
    cov = np.cov(np.concatenate([y, z], axis=1), rowvar=False)
    exact = M @ M.T
    # each entry's sampling sd is <= sqrt((C_ii C_jj + C_ij^2) / n)
    sd = np.sqrt((np.outer(np.diag(exact), np.diag(exact)) + exact**2) / n)
    assert np.all(np.abs(cov - exact) < 5 * sd)
    # and the same error as explicit inputs x ~ N(0, I_N) (independent sample, binomial tolerance)
    X = np.random.default_rng(10).standard_normal((100_000, N))
    eps_x, _ = error_and_loss(X @ B.T / math.sqrt(N), X @ W.T / math.sqrt(N))
    eps_f, _ = error_and_loss(y, z)
    sd_eps = math.sqrt(eps_f * (1 - eps_f) * (1 / 100_000 + 1 / n))
    assert abs(eps_x - eps_f) < 5 * sd_eps


def test_k2_test_error_matches_exact_arccos_of_measured_order_parameters():
    # For K = 2 the error depends only on the angle between w1 - w2 and B1 - B2, which the centered
    # D, Delta give exactly at any N: eps_g = arccos(D / sqrt(D^2 + Delta)) / pi.
    n_test, seeds = 20_000, 6
    r = simulate_sgd(2, 1.0, N=300, seeds=seeds, alphas=[0.5, 3.0, 10.0], n_test=n_test, seed=13)
    D, Delta = r.per_seed["D"], r.per_seed["Delta"]
    exact = np.arccos(D / np.sqrt(D**2 + Delta)) / np.pi
    sd = np.sqrt(exact * (1 - exact) / n_test)
    assert np.all(np.abs(r.per_seed["eps_g"] - exact) < 4.5 * sd)


def representation_eps_and_loss(K, D, Delta, n, rng):
    """eps_g and loss of z = D y + sqrt(Delta) xi, y, xi iid N(0, I_K), by Monte Carlo."""
    y = rng.standard_normal((n, K))
    z = D * y + math.sqrt(Delta) * rng.standard_normal((n, K))
    return error_and_loss(y, z)


def test_k3_test_error_and_loss_match_the_representation_of_measured_D_Delta():
    # At finite N the students leave the symmetric sector by O(N^-1/2); by permutation symmetry the
    # first-order effect on eps_g and loss is carried by D and Delta, so the representation is exact
    # up to O(1/N).  Tolerance: 4 standard errors of the two Monte Carlo estimates + 1/N.
    K, N, seeds, n_test, n_rep = 3, 1000, 4, 20_000, 100_000
    r = simulate_sgd(K, 1.0, N=N, seeds=seeds, alphas=[1.0, 8.0], n_test=n_test, seed=17)
    rng = np.random.default_rng(99)
    for j in range(r.alpha.size):
        eps_rep, loss_rep = zip(
            *(
                representation_eps_and_loss(K, r.per_seed["D"][i, j], r.per_seed["Delta"][i, j], n_rep, rng)
                for i in range(seeds)
            )
        )
        eps_rep, loss_rep = np.mean(eps_rep), np.mean(loss_rep)
        eps_sd = math.sqrt(eps_rep * (1 - eps_rep) * (1 / n_test + 1 / n_rep) / seeds)
        assert abs(r.eps_g[j] - eps_rep) < 4 * eps_sd + 1 / N, (r.alpha[j], r.eps_g[j], eps_rep)
        # loss per-sample sd measured from the representation (conservative: sd <= 2 * mean here)
        loss_sd = 2 * loss_rep * math.sqrt((1 / n_test + 1 / n_rep) / seeds)
        assert abs(r.loss[j] - loss_rep) < 4 * loss_sd + 1 / N, (r.alpha[j], r.loss[j], loss_rep)


# ---------------------------------------------------------------------------------------------------
# result object, validation and failures


def test_result_means_standard_errors_and_dict():
    r = simulate_sgd(3, 1.0, N=40, seeds=4, alpha_max=2.0, alpha_min=0.5, points_per_decade=3, n_test=50)
    assert r.alpha.tolist() == [0.5, 1.0, 2.0]
    np.testing.assert_allclose(r.D, r.per_seed["D"].mean(axis=0))
    np.testing.assert_allclose(r.eps_g_se, r.per_seed["eps_g"].std(axis=0, ddof=1) / 2)
    d = r.as_dict()
    lengths = {
        len(d[k]) for k in ("alpha", "D", "Delta", "eps_g", "loss", "D_se", "Delta_se", "eps_g_se", "loss_se")
    }
    assert lengths == {r.alpha.size}
    assert (d["K"], d["N"], d["eta"], d["seeds"], d["seed"]) == (3, 40, 1.0, 4, 0)
    one = simulate_sgd(2, 1.0, N=20, seeds=1, alphas=[1.0], n_test=10)
    assert np.isnan(one.D_se).all()
    with pytest.raises(AttributeError):
        _ = r.nonexistent


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        (dict(K=1), "K must be"),
        (dict(N=1), "N must be"),
        (dict(eta=0.0), "eta must be > 0"),
        (dict(eta=-1.0), "eta must be > 0"),
        (dict(eta=float("nan")), "eta must be a finite"),
        (dict(eta=float("inf")), "eta must be a finite"),
        (dict(alphas=[0.0, 1.0]), "alpha values must be > 0"),
        (dict(alphas=[-1.0]), "alpha values must be > 0"),
        (dict(alphas=[float("nan")]), "finite"),
        (dict(alphas=None, alpha_max=-2.0), "alpha_max must be > 0"),
        (dict(seeds=0), "seeds must be"),
        (dict(n_test=0), "n_test must be"),
        (dict(seed=-3), "seed must be"),
        (dict(K=3, N=4, Delta0=0.5), "N must be >= 6"),
        (dict(D0=float("nan")), "D0 must be"),
        (dict(eta=lambda a: -1.0), "eta > 0"),
        (dict(eta=lambda a: float("nan")), "eta > 0"),
    ],
)
def test_invalid_input_is_rejected_with_a_one_line_message(kwargs, fragment):
    args = dict(K=3, eta=1.0, N=20, seeds=2, alphas=[1.0], n_test=10)
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as info:
        simulate_sgd(args.pop("K"), args.pop("eta"), **args)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_overflowing_weights_raise_integration_error_with_alpha():
    with pytest.raises(IntegrationError) as info:
        simulate_sgd(3, 1e308, N=10, seeds=2, alphas=[1.0, 2.0], n_test=10)
    message = str(info.value)
    assert "alpha" in message and ("non-finite" in message or "overflow" in message)
    assert "\n" not in message


# ---------------------------------------------------------------------------------------------------
# command line: asymptotics simulate


def _cli(argv, capsys):
    """Run the ``simulate`` subcommand the way ``asymptotics.cli.main`` does (errors -> one line, code 2)."""
    import argparse

    pytest.importorskip("asymptotics.dynamics.flow")
    from asymptotics.dynamics import sgd_cli

    parser = argparse.ArgumentParser(prog="asymptotics")
    sgd_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    try:
        code = args.handler(args)
    except (InvalidInputError, IntegrationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 2
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("closure", [False, True])
def test_simulate_json_prints_one_object_and_writes_files(tmp_path, capsys, closure):
    argv = [
        "simulate",
        "--K",
        "3",
        "--eta",
        "1",
        "--N",
        "100",
        "--seeds",
        "3",
        "--alpha-max",
        "2",
        "--points-per-decade",
        "2",
        "--n-test",
        "200",
        "--json",
        "--out",
        str(tmp_path),
        "--quiet",
    ]
    if not closure:
        argv.append("--no-closure")
    code, out, err = _cli(argv, capsys)
    assert code == 0, err
    data = json.loads(out)
    keys = ("alpha", "D", "Delta", "eps_g", "loss", "D_se", "Delta_se", "eps_g_se", "loss_se")
    assert len({len(data[k]) for k in keys}) == 1 and len(data["alpha"]) == 4
    assert data["alpha"][0] == pytest.approx(0.1) and data["alpha"][-1] == pytest.approx(2.0)
    assert (data["closure"] is None) != closure
    for name in ("simulate.csv", "simulate.json", "simulate.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "simulate.json").read_text())["D"] == data["D"]


def test_simulate_table_and_bad_input(tmp_path, capsys):
    code, out, err = _cli(
        [
            "simulate",
            "--K",
            "2",
            "--N",
            "50",
            "--seeds",
            "2",
            "--alpha-max",
            "1",
            "--points-per-decade",
            "1",
            "--no-closure",
            "--no-plot",
            "--out",
            str(tmp_path),
        ],
        capsys,
    )
    assert code == 0
    header = [line for line in out.splitlines() if "alpha" in line and "D_se" in line]
    assert header and "eps_g_se" in header[0] and "loss_se" in header[0]
    for argv, fragment in (
        (["--K", "1"], "--K: must be"),
        (["--N", "1"], "--N: must be"),
        (["--eta", "0"], "--eta: must lie in"),
        (["--seeds", "0"], "--seeds: must be"),
        (["--alpha-max", "-1"], "--alpha-max: must lie in"),
    ):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "asymptotics",
                "simulate",
                "--out",
                str(tmp_path / "x"),
                "--no-closure",
                "--quiet",
                *argv,
            ],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 2 and result.stdout == ""
        err = result.stderr
        assert err.startswith("error: ") and fragment in err and err.count("\n") == 1
        assert not (tmp_path / "x").exists()
    with pytest.raises(InvalidInputError, match="N must be"):
        simulate_sgd(3, 1.0, N=1, seeds=2, alphas=[1.0])
