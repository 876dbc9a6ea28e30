"""Mellin asymptotic series: leading terms in closed form, and the residual after k = 1..3 terms falls
at the order of the (k+1)-th term (local slope of the residual against the exact 30-digit values).

For every (s, a) in {1.5, 2, 3} x {0.5, 1} and each expectation, the residual
``|exact - sum_{j<=k} term_j|`` is computed at D = 1e3 ... 1e5 (s = 3: 1e5 ... 1e7; exact values from
the Mellin route at 30 digits, ~1e-30 relative, far below every residual used); its local slope at the
largest D (quintic spline in ln D, :func:`asymptotics.analysis.slopes.local_slope_from_samples`) must be
within 0.02 of the power of the (k+1)-th term (of the slope of the next two terms where consecutive
powers are only a/s apart, seen_weight), and the residual over the next terms within 3% of 1.

Why s = 3 needs larger D: beyond all the residues the exact sums carry an oscillating remainder
smaller than any power of D, ~exp(-(1+s) c* cos(pi s/(2s+2))), c* = ((2 pi/s)^s D)^(1/(1+s)) (the
Poisson-summation correction of the integer lattice); for s = 3 it is ~6e-7 at D = 1e3 and 6e-12 at
D = 1e4, above the fourth term of E|S| (the D^(1/3-2) term vanishes at s = 3, the next is D^(-8/3)).
``test_beyond_all_orders_remainder`` measures it.
"""

import mpmath
import numpy as np
import pytest
import sympy as sp

from asymptotics.analysis.slopes import local_slope_from_samples
from asymptotics.sparse.expectations import expectation
from asymptotics.sparse.model import SparseModel
from asymptotics.sparse.series import (
    A_SYM,
    D_SYM,
    S_SYM,
    asymptotic_series,
    evaluate_series,
    mellin_representation,
    series_terms,
)
from asymptotics.validation import InvalidInputError

D_GRID = [1000, 2000, 5000, 10**4, 2 * 10**4, 5 * 10**4, 10**5]
D_GRID_S3 = [100 * d for d in D_GRID]
MODELS = [(s, a) for s in (1.5, 2.0, 3.0) for a in (0.5, 1.0)]


def test_leading_terms_symbolic():
    s, a, D = S_SYM, A_SYM, D_SYM
    lead = {
        name: series_terms(name, 1)[0].expr for name in ("seen_expected", "missing_signal", "unseen_mass")
    }
    assert sp.simplify(lead["seen_expected"] - sp.gamma(1 - 1 / s) * D ** (1 / s)) == 0
    assert sp.simplify(lead["missing_signal"] - sp.gamma(a / s) / s * D ** (-a / s)) == 0
    assert sp.simplify(lead["unseen_mass"] - sp.gamma(1 - 1 / s) / s * D ** (1 / s - 1)) == 0
    # the constant of E|S|: Gamma pole at u = 0 (-3/2) plus coordinate 1 (+1)
    second = series_terms("seen_expected", 2)[1]
    assert second.coefficient == sp.Rational(-1, 2) and second.power == 0
    # first (1-p)^D correction of the missing signal: -(1/(2s)) Gamma(a/s + 2) D^(-a/s-1)
    corr = series_terms("missing_signal", 2)[1].expr
    assert sp.simplify(corr + sp.gamma(a / s + 2) / (2 * s) * D ** (-a / s - 1)) == 0


def test_representation_and_latex():
    r = mellin_representation("seen_expected")
    assert r["kind"] == "seen" and "\\zeta" in r["latex"]
    rows = asymptotic_series("missing_signal", SparseModel(2.0, 0.5), 3, digits=30)
    assert len(rows) == 3 and all(
        len(row["coefficient"].replace("-", "").replace(".", "")) >= 29 for row in rows
    )
    assert rows[0]["power"].startswith("-0.25")
    with pytest.raises(InvalidInputError):
        series_terms("missing_signal", 2, SparseModel(2.0, 0.5, M=100))
    with pytest.raises(InvalidInputError):
        series_terms("missing_signal", 0)


def _residual_check(name, m, k, exact):
    """Local slope of |residual after k terms| at the largest D, against that of the next two terms
    (the (k+1)-th term carries the order; the (k+2)-th matters only where the powers are close, e.g.
    a/s apart for seen_weight), and residual / (next two terms) at the largest D."""
    terms = series_terms(name, k + 2, m)
    grid = sorted(exact)
    res = np.array([abs(float(exact[D] - evaluate_series(terms[:k], D, digits=50))) for D in grid])
    nxt = np.array([abs(float(evaluate_series(terms[k : k + 2], D, digits=50))) for D in grid])
    assert terms[k].log_power == 0
    s_res, _ = local_slope_from_samples(np.array(grid, float), res)
    s_nxt, _ = local_slope_from_samples(np.array(grid, float), nxt)
    return s_res[-1], s_nxt[-1], float(terms[k].power), res[-1] / nxt[-1]


@pytest.mark.parametrize("s,a", MODELS)
def test_residual_falls_at_next_order(s, a, run_slow):
    m = SparseModel(s, a)
    names = ["seen_expected", "missing_signal", "unseen_mass"] + (["seen_weight"] if run_slow else [])
    for name in names:
        grid = D_GRID_S3 if s == 3.0 else D_GRID
        if name == "seen_weight":  # consecutive powers only a/s apart: larger D
            grid = [10**k for k in range(6, 13)]
        exact = dict(zip(grid, expectation(name, m, grid, digits=50 if name == "seen_weight" else 30)))
        for k in (1, 2, 3):
            slope, slope_next, power, ratio = _residual_check(name, m, k, exact)
            assert abs(slope - slope_next) < 0.02, (name, k, slope, slope_next)
            assert abs(ratio - 1) < 0.03, (name, k, ratio)
            if name != "seen_weight":  # well-separated powers: the (k+1)-th term alone
                assert abs(slope - power) < 0.02, (name, k, slope, power)


def test_merged_poles_give_log_term():
    """a = s: the Gamma pole and the leading Dirichlet pole coincide at u = 0 -> (1/s) ln D."""
    m = SparseModel(2.0, 2.0)
    t = series_terms("seen_weight", 3, m)
    assert (t[0].log_power, t[0].coefficient, t[0].power) == (1, sp.Rational(1, 2), 0)
    assert sp.simplify(t[1].coefficient - sp.Rational(3, 2) * sp.EulerGamma) == 0
    D = 10**6
    exact = expectation("seen_weight", m, D, digits=30)[0]
    assert abs(exact - evaluate_series(t, D)) < 1e-12  # next term ~ D^-2


def test_series_coefficients_precision_ladder():
    m = SparseModel(1.5, 1.0)
    c30 = asymptotic_series("unseen_mass", m, 2, digits=30)
    c50 = asymptotic_series("unseen_mass", m, 2, digits=50)
    for r30, r50 in zip(c30, c50):
        with mpmath.workdps(60):
            assert abs(mpmath.mpf(r30["coefficient"]) - mpmath.mpf(r50["coefficient"])) < mpmath.mpf("1e-28")
            # leading coefficient (1/s) Gamma(1 - 1/s) at 50 digits
    with mpmath.workdps(60):
        ref = mpmath.gamma(mpmath.mpf(1) / 3) / mpmath.mpf(1.5)
        assert abs(mpmath.mpf(c50[0]["coefficient"]) - ref) < mpmath.mpf("1e-48")


def test_beyond_all_orders_remainder():
    """s = 3: after every residue, E|S| - series is an oscillating remainder far above the next power
    term at D = 1e3 and of the size predicted by the saddle-point estimate (within a factor 10)."""
    import math

    m = SparseModel(3.0, 0.5)
    t = series_terms("seen_expected", 6, m)
    for D in (1000, 10**4):
        rem = abs(float(expectation("seen_expected", m, D, digits=30)[0] - evaluate_series(t, D)))
        c_star = ((2 * math.pi / 3) ** 3 * D) ** 0.25
        est = math.exp(-4 * c_star * math.cos(3 * math.pi / 8))
        assert 0.1 < rem / est < 10, (D, rem, est)
        assert rem > 20 * abs(float(evaluate_series(t[3:4], D)))  # the D^(-8/3) term
