"""Theory of E L(N, D) against simulation, the three parts, the peak, and the exponents.

Measured gaps (256 seeds; the tolerances below keep a margin over them):

=========================================  =============  =============  ================
quantity (away from the peak: gap > 3 sd+2) (2, 0.5), 1000  (1.5, 1), 400  tolerance
=========================================  =============  =============  ================
E L, under-parameterised                   <= 7.6 %       <= 7.7 %       10 % + 3 SE
E L, over-parameterised                    <= 0.4 %       <= 2.7 %       3 % + 3 SE
median, away from the peak                 <= 2.2 %       <= 4.6 %       6 %
median, near the peak                      <= 14 %        <= 20 %        25 %
seen fit, under                            <= 5.1 %       <= 4.9 %       8 % + 3 SE
aliasing, under                            <= 15 %        <= 9.4 %       20 % + 3 SE
aliasing, over                             <= 0.5 %       <= 4.0 %       5 % + 3 SE
=========================================  =============  =============  ================

Exact parts (missing signal; the over-parameterised conditional expectation given the data) are
tested within 3 SE in ``test_sparse_simulate.py`` and again here per N.
"""

import itertools
import math

import numpy as np
import pytest
import sympy as sp
from scipy import stats

from asymptotics.analysis.slopes import effective_exponents, local_slope_from_samples
from asymptotics.sparse.exponents import derive_exponents, exponent_values, infinite_data_fit, theory_slopes
from asymptotics.sparse.learner import LossTheory, expected_loss
from asymptotics.sparse.model import SparseModel
from asymptotics.sparse.peak import PeakModel, find_peak
from asymptotics.sparse.seen_set import seen_statistics
from asymptotics.sparse.simulate import simulate, summarize
from asymptotics.validation import InvalidInputError

CASES = [(2.0, 0.5, 1000), (1.5, 1.0, 400)]
FRACTIONS = [0.05, 0.2, 0.4, 0.6, 0.85, 0.97, 1.03, 1.15, 1.6, 3.0, 6.0]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"s{c[0]}-a{c[1]}-D{c[2]}")
def comparison(request):
    s, a, D = request.param
    m = SparseModel(s, a)
    th = LossTheory(m, D)
    Ns = sorted({max(1, round(f * th.threshold)) for f in FRACTIONS})
    res = simulate(m, D, Ns, seeds=256, seed=17)
    return th, PeakModel(th), Ns, res, summarize(res)


def test_loss_against_simulation(comparison):
    th, pk, Ns, _res, S = comparison
    assert len(Ns) >= 8
    regimes = set()
    for j, N in enumerate(Ns):
        sim, se = S["loss"]["mean"][j], S["loss"]["se"][j]
        med_sim, med_th = S["loss"]["median"][j], pk.median(N)
        try:
            T = th.loss(N)
        except InvalidInputError:
            T = None
        if T is None or T["near_peak"]:
            regimes.add("peak")
            assert abs(med_sim / med_th - 1) < 0.25, (N, med_sim, med_th)
            continue
        regimes.add(T["regime"])
        tol = 0.10 if T["regime"] == "under" else 0.03
        assert abs(sim - T["loss"]) < tol * T["loss"] + 3 * se, (N, T["regime"], sim, T["loss"], se)
        assert abs(med_sim / med_th - 1) < 0.06, (N, med_sim, med_th)
    assert regimes == {"under", "over", "peak"}


def test_three_parts_against_simulation(comparison):
    th, _pk, Ns, res, S = comparison
    for j, N in enumerate(Ns):
        # missing signal: exact
        miss, se_m = S["missing_signal"]["mean"][j], S["missing_signal"]["se"][j]
        assert abs(miss - th.stats.missing) < 3 * se_m
        try:
            T = th.loss(N)
        except InvalidInputError:
            continue
        if T["near_peak"]:
            continue
        fit, se_f = S["seen_fit"]["mean"][j], S["seen_fit"]["se"][j]
        al, se_a = S["aliasing"]["mean"][j], S["aliasing"]["se"][j]
        if T["regime"] == "under":
            assert abs(fit - T["seen_fit"]) < 0.08 * T["seen_fit"] + 3 * se_f, (N, fit, T["seen_fit"])
            assert abs(al - T["aliasing"]) < 0.20 * T["aliasing"] + 3 * se_a, (N, al, T["aliasing"])
        else:
            assert abs(al - T["aliasing"]) < 0.05 * T["aliasing"] + 3 * se_a, (N, al, T["aliasing"])
            # collision (null-space) fit: small; the pair average underestimates it by up to ~25 %
            assert abs(fit - T["seen_fit"]) < 0.30 * T["seen_fit"] + 3 * se_f, (N, fit, T["seen_fit"])
            # exact given the data (inverse-Wishart mean), wherever N >= r + 2 in every draw
            c = res.conditional[:, j]
            if np.all(np.isfinite(c)):
                d = res.loss[:, j] - c
                assert abs(d.mean()) < 3 * d.std(ddof=1) / math.sqrt(d.size)


def test_rank_deficiency_from_collisions(comparison):
    """E(|S| - rank): singleton-collision theory within 15 % of simulation (rarer structures neglected;
    measured 7-10 % low)."""
    th, _pk, _Ns, res, _S = comparison
    defect = (res.seen_count - res.rank).astype(float)
    se = defect.std(ddof=1) / math.sqrt(defect.size)
    assert abs(defect.mean() - th.stats.defect) < 0.15 * th.stats.defect + 3 * se


def test_peak_location_against_simulated_median():
    """Theory peak of the median vs the argmax of the simulated median on an integer grid."""
    for s, a, D, seeds in ((2.0, 0.5, 1000, 256), (1.5, 1.0, 400, 128)):
        m = SparseModel(s, a)
        th = LossTheory(m, D)
        pk = find_peak(th)
        lo, hi = int(pk["threshold"] - 2 * pk["sd_rank"]), int(pk["threshold"] + 2 * pk["sd_rank"])
        Ns = list(range(lo, hi + 1, 1 if hi - lo < 30 else 2))
        S = summarize(simulate(m, D, Ns, seeds=seeds, seed=3))
        sim_peak = Ns[int(np.argmax(S["loss"]["median"]))]
        assert abs(sim_peak - pk["peak_N"]) <= max(3, 0.5 * pk["sd_rank"]), (sim_peak, pk["peak_N"])


def test_peak_ratio_tends_to_one():
    """peak_N / E|S| -> 1 (derived limit) monotonically; E rank / E|S| follows the derived correction."""
    m = SparseModel(2.0, 0.5)
    ratios = [find_peak(LossTheory(m, D))["ratio_to_seen"] for D in (10**2, 10**4, 10**6, 10**9)]
    assert all(abs(r1 - 1) > abs(r2 - 1) for r1, r2 in itertools.pairwise(ratios)), ratios
    assert abs(ratios[-1] - 1) < 1e-3
    d = derive_exponents()
    s, D = sp.symbols("s D", positive=True)
    assert d["threshold_ratio_limit"] == 1
    for s_val in (1.5, 2.0, 3.0):
        st = seen_statistics(SparseModel(s_val, 0.5), 10**9)
        predicted = 1 - float(d["threshold_ratio"].subs({s: s_val, D: 10**9}))
        assert abs((1 - st.rank / st.n) / predicted - 1) < 0.02, s_val


def test_peak_width_and_height_scaling():
    """Half-width ~ D^(1/(2s)) and excess height ~ D^((1/2-a)/s) of the median peak (theory, D = 1e6..1e12)."""
    m = SparseModel(2.0, 1.0)
    Ds = [10**6, 10**8, 10**10, 10**12]
    pk = [find_peak(LossTheory(m, D)) for D in Ds]
    w = np.array([p["sd_rank"] for p in pk])
    h = np.array([p["peak_median"] - p["floor"] for p in pk])
    ev = exponent_values(m)
    slope_w = np.polyfit(np.log(Ds), np.log(w), 1)[0]
    slope_h = np.polyfit(np.log(Ds), np.log(h), 1)[0]
    assert abs(slope_w - ev["exponent_peak_width"]) < 0.01
    assert abs(slope_h - ev["exponent_peak_height"]) < 0.03
    hw = np.array([p["half_width"] for p in pk])
    assert abs(np.polyfit(np.log(Ds), np.log(hw), 1)[0] - ev["exponent_peak_width"]) < 0.03


def test_derived_exponents_symbolic():
    d = derive_exponents()
    s, a = sp.symbols("s a", positive=True)
    assert sp.simplify(d["exponent_under"] + a) == 0
    assert sp.simplify(d["exponent_over"] + a / s) == 0
    assert sp.simplify(d["exponent_gap"] - a * (1 - 1 / s)) == 0
    assert d["dense_limit_gap"] == 0
    assert sp.simplify(d["df2_over_N"] - (1 - 1 / s)) == 0


@pytest.mark.parametrize("s,a", [(2.0, 0.5), (1.5, 1.0), (3.0, 1.0)])
def test_theory_exponents_within_1e4(s, a):
    m = SparseModel(s, a)
    sl = theory_slopes(m, N_range=(1e4, 1e6), D_range=(1e6, 1e8))
    assert np.all(np.abs(sl["under"].local + a) < 1e-4), sl["under"].local
    assert np.all(np.abs(sl["under"].secant + a) < 1e-4)
    assert np.all(np.abs(sl["over"].local + a / s) < 1e-4), sl["over"].local
    # the SymPy prefactor of fit ~ A N^-a against the lattice deterministic equivalent
    A = exponent_values(m)["prefactor_under"]
    assert abs(infinite_data_fit(m, 1e5) * 1e5**a / A - 1) < 1e-4


def test_simulated_over_exponent(run_slow):
    """Deep over-parameterised loss (N = 10 E rank) vs D over two decades: slope within 0.03 of -a/s."""
    s, a = 2.0, 0.5
    m = SparseModel(s, a)
    Ds = [100, 200, 400, 1000, 2000, 4000, 10000]
    seeds = 128 if run_slow else 32
    L = []
    for D in Ds:
        N = round(10 * LossTheory(m, D).threshold)
        L.append(summarize(simulate(m, D, [N], seeds=seeds, seed=D))["loss"]["mean"][0])
    t = effective_exponents((np.array(Ds, float), np.array(L)), 100, 10000, per="decade")
    assert np.all(np.abs(t.secant + a / s) < 0.03), t.secant
    slopes, _ = local_slope_from_samples(np.array(Ds, float), np.array(L))
    assert abs(np.mean(slopes) + a / s) < 0.03


def test_simulated_under_exponent(run_slow):
    """Seen fit vs N over two decades (N = 2 ... 200; s = 1.5, a = 0.5) from the toolkit's slope
    diagnostics (one two-decade window) and a log-log regression over the 10 points.

    Full form (--run-slow): D = 3e4 (threshold ~2500), 24 seeds: simulated secant -0.489, regression
    -0.4999 (measured), within 0.03 of -a.  Reduced form: D = 1e4, 12 seeds, where finite-size
    effects still steepen the slope (theory -0.516 over the window): simulation within 0.03 of the
    theory at the same D and within 0.06 of -a.  (Local slopes carry lattice corrections at small N and
    finite-D steepening near the threshold; the exponent -a itself is reached by the D = infinity theory
    to 1e-4, ``test_theory_exponents_within_1e4``.)"""
    s, a = 1.5, 0.5
    m = SparseModel(s, a)
    D, seeds = (30000, 24) if run_slow else (10000, 12)
    Ns = [2, 3, 5, 9, 15, 25, 45, 80, 130, 200]
    fit = summarize(simulate(m, D, Ns, seeds=seeds, seed=8))["seen_fit"]["mean"]
    sim = effective_exponents((np.array(Ns, float), fit), 2, 200, per=2.0).secant[0]
    reg = np.polyfit(np.log(Ns), np.log(fit), 1)[0]
    th = LossTheory(m, D)
    theory = np.array([th._under_mean_field(n)["seen_fit"] for n in Ns])
    th_sec = effective_exponents((np.array(Ns, float), theory), 2, 200, per=2.0).secant[0]
    assert abs(sim - th_sec) < 0.03, (sim, th_sec)
    if run_slow:
        assert abs(sim + a) < 0.03 and abs(reg + a) < 0.03, (sim, reg)
    else:
        assert abs(sim + a) < 0.06 and abs(reg + a) < 0.06, (sim, reg)


def test_inverse_wishart_law():
    """w^T W^-1 w ~ |w|^2 / chi^2_(N-r+1) for W ~ Wishart_r(N, I) (the exact over-parameterised law)."""
    rng = np.random.default_rng(0)
    r, N = 6, 9
    w = rng.standard_normal(r)
    vals = []
    for _ in range(4000):
        G = rng.standard_normal((r, N))
        vals.append(w @ np.linalg.solve(G @ G.T, w))
    x = (w @ w) / np.array(vals)
    assert stats.kstest(x, "chi2", args=(N - r + 1,)).pvalue > 1e-3


def test_expected_loss_grid_and_errors():
    m = SparseModel(2.0, 0.5)
    g = expected_loss(m, [5, 500], [1000, 10**6])
    assert g.shape == (2, 2) and np.all(np.isfinite(g)) and np.all(g > 0)
    th = LossTheory(m, 1000)
    with pytest.raises(InvalidInputError):
        th.loss(56)  # within one of the threshold (E rank = 55.17)
    with pytest.raises(InvalidInputError):
        LossTheory(m, 0)


def test_median_model_consistent_with_mean_far_from_peak():
    """Far from the threshold the loss concentrates: the median of the distribution model equals the
    deterministic-equivalent mean to within 2 % (small N and deep over-parameterisation)."""
    m = SparseModel(1.5, 1.0)
    for D in (400, 4000, 10**6):
        th = LossTheory(m, D)
        pk = PeakModel(th)
        for N in (1, 10, max(2, round(0.1 * th.threshold)), round(8 * th.threshold)):
            mean = th.loss(N)["loss"]
            assert abs(pk.median(N) / mean - 1) < 0.02, (D, N, pk.median(N), mean)
