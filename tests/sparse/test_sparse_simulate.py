"""Simulator: exact sampling of the design, the reduction against a dense brute-force fit, the exact
parts of the decomposition against the exact expectations (3 SE), the exact over-parameterised
conditional expectation (inverse-Wishart mean) against the feature draw (3 SE), reproducibility."""

import math

import numpy as np
import pytest
from scipy import stats

from asymptotics.sparse.expectations import missing_signal, seen_expected, unseen_mass
from asymptotics.sparse.harmonic import harmonic_sum
from asymptotics.sparse.model import SparseModel
from asymptotics.sparse.sampling import _tail_seen, sample_design, seen_counts
from asymptotics.sparse.simulate import simulate, summarize
from asymptotics.validation import InvalidInputError


def test_seen_count_mean_and_variance():
    """|S| over 4000 draws: mean E|S| and variance sum q(1-q), both exact (harmonic sums)."""
    s, D = 2.0, 300
    rng = np.random.default_rng(11)
    n = np.array([seen_counts(rng, s, D)[0].size for _ in range(4000)])
    mean = float(seen_expected(SparseModel(s, 1.0), D)[0])
    var = float(harmonic_sum("seen", 0.0, s, 2.0 * D)) - mean
    assert abs(n.mean() - mean) < 3 * math.sqrt(var / n.size)
    # variance: sample variance of a near-normal count, SE ~ var sqrt(2/n)
    assert abs(n.var(ddof=1) - var) < 3 * var * math.sqrt(2 / n.size)


def test_thinned_tail_is_exact():
    """Coordinates beyond I_A drawn by Poisson thinning: seen count and activity counts exact."""
    s, D, lo = 1.5, 40, 30
    rng = np.random.default_rng(5)
    draws = [_tail_seen(rng, s, D, lo, None) for _ in range(20000)]
    cnt = np.array([c.size for c, _ in draws])
    i = np.arange(lo + 1, 2_000_000, dtype=float)
    q = -np.expm1(D * np.log1p(-(i**-s)))
    exact = float(np.sum(q)) + D * (2e6) ** (1 - s) / (s - 1)  # tail beyond 2e6: q ~ D i^-s
    assert abs(cnt.mean() - exact) < 3 * math.sqrt(exact / cnt.size)
    # activity counts of seen tail coordinates: P(k = 1 | seen) averaged, against the exact mixture
    ks = np.concatenate([k for _, k in draws])
    idx = np.concatenate([c for c, _ in draws]).astype(float)
    p = idx**-s
    p1 = D * p * (1 - p) ** (D - 1) / (-np.expm1(D * np.log1p(-p)))
    assert abs(np.mean(ks == 1) - p1.mean()) < 3 * math.sqrt(p1.mean() * (1 - p1.mean()) / ks.size)


def test_rows_are_uniform_subsets():
    rng = np.random.default_rng(2)
    d = sample_design(rng, 1.5, 50)
    A = d.A.tocsc()
    for j in range(d.m):
        rows = A.indices[A.indptr[j] : A.indptr[j + 1]]
        assert rows.size == d.counts[j] == np.unique(rows).size
    hits = np.zeros(50)
    for _ in range(300):
        d = sample_design(rng, 1.5, 50)
        hits += np.bincount(d.A.tocoo().row, minlength=50)
    assert stats.chisquare(hits).pvalue > 1e-3


def test_reduction_matches_dense_least_squares():
    """theta from the |S|-dimensional reduction = min-norm lstsq on the D x N feature matrix."""
    m = SparseModel(1.5, 1.0)
    D = 60
    res = simulate(m, D, [3, 10, 30, 80], seeds=3, seed=9)
    children = np.random.SeedSequence(9).spawn(3)
    for b, child in enumerate(children):
        rng = np.random.default_rng(child)
        d = sample_design(rng, m.s, D)
        Z = rng.standard_normal((d.m, 80))
        i = d.idx.astype(float)
        w = np.sqrt(i ** (m.s - 1 - m.a))
        p = i**-m.s
        X = d.A.toarray()
        y = X @ w
        for c, N in enumerate([3, 10, 30, 80]):
            G = Z[:, :N] / math.sqrt(N)
            theta = np.linalg.lstsq(X @ G, y, rcond=None)[0]
            fit = float(np.sum(p * (G @ theta - w) ** 2))
            assert abs(res.seen_fit[b, c] - fit) <= 1e-7 * (fit + 1e-12), (b, N)
            assert abs(res.theta_norm2[b, c] - theta @ theta) <= 1e-7 * (theta @ theta)


@pytest.mark.parametrize("s,a,D", [(2.0, 0.5, 1000), (1.5, 1.0, 400)])
def test_exact_parts_within_3se(s, a, D):
    m = SparseModel(s, a)
    res = simulate(m, D, [5], seeds=256, seed=1)
    for vals, exact in (
        (res.missing, missing_signal(m, D)[0]),
        (res.unseen, unseen_mass(m, D)[0]),
        (res.seen_count.astype(float), seen_expected(m, D)[0]),
    ):
        se = vals.std(ddof=1) / math.sqrt(vals.size)
        assert abs(vals.mean() - exact) < 3 * se, (vals.mean(), exact, se)


def test_over_parameterised_conditional_expectation_is_exact():
    """Given the data, E_G L = |P_perp w|^2_S + missing + |P_r w|^2 (U + tr S P_perp)/(N - r - 1):
    the mean of L - E_G[L|X] over draws is zero within 3 SE (N >= r + 2 in every draw)."""
    m = SparseModel(2.0, 0.5)
    res = simulate(m, 300, [80, 160], seeds=400, seed=4)
    for c in range(2):
        ok = np.isfinite(res.conditional[:, c])
        assert ok.all()
        diff = res.loss[:, c] - res.conditional[:, c]
        se = diff.std(ddof=1) / math.sqrt(diff.size)
        assert abs(diff.mean()) < 3 * se, (diff.mean(), se)


def test_finite_M_parts():
    m = SparseModel(1.5, 0.5, M=200)
    res = simulate(m, 100, [5], seeds=300, seed=2)
    for vals, exact in ((res.missing, missing_signal(m, 100)[0]), (res.unseen, unseen_mass(m, 100)[0])):
        se = vals.std(ddof=1) / math.sqrt(vals.size)
        assert abs(vals.mean() - exact) < 3 * se + 1e-15
    assert res.seen_count.max() <= 200


def test_reproducible_and_independent_of_seed_count():
    m = SparseModel(2.0, 1.0)
    a = simulate(m, 200, [10, 30], seeds=6, seed=3)
    b = simulate(m, 200, [10, 30], seeds=6, seed=3)
    c = simulate(m, 200, [10, 30], seeds=3, seed=3, batch=1)
    assert np.array_equal(a.loss, b.loss)
    assert np.allclose(a.loss[:3], c.loss, rtol=1e-12, atol=0)
    s = summarize(a)
    assert s["loss"]["mean"].shape == (2,) and np.all(s["loss"]["se"] > 0)


def test_bad_input():
    m = SparseModel(2.0, 1.0)
    for kw in ({"D": 0, "N": [5]}, {"D": 2.5, "N": [5]}, {"D": 10, "N": [0]}, {"D": 10, "N": [1.5]}):
        with pytest.raises(InvalidInputError):
            simulate(m, kw["D"], kw["N"], seeds=2)
    with pytest.raises(InvalidInputError):
        simulate(m, 10, [5], seeds=0)
    with pytest.raises(InvalidInputError):
        simulate(m, 10, [5], seeds=2, seed=-1)
