"""Exact expectations: two independent any-precision routes, precision ladder, closed forms, float64.

Route "mellin" (direct + binomial/Hurwitz tail, or Mellin residues) and route "euler-maclaurin"
(direct + Euler-Maclaurin with a tanh-sinh integral) share no formula beyond the summand; they must
agree to 1e-25 at 30 digits for D = 1 ... 1e12.  Closed forms at D = 1, 2 (zeta values) and a brute
force sum at finite M anchor both.  The float64 path must agree with them to 1e-13 relative.
"""

import math

import mpmath
import numpy as np
import pytest

from asymptotics.sparse.expectations import (
    EXPECTATIONS,
    expectation,
    missing_signal,
    seen_expected,
    seen_weight,
    unseen_mass,
)
from asymptotics.sparse.harmonic import harmonic_sum
from asymptotics.sparse.harmonic_mp import harmonic_sum_mp
from asymptotics.sparse.model import SparseModel, derive_decomposition
from asymptotics.validation import InvalidInputError

NAMES = sorted(EXPECTATIONS)
D_EDGES = [1, 2, 37, 10**4, 123457, 10**8, 10**12]


@pytest.mark.parametrize("s,a", [(1.5, 1.0), (2.0, 0.5), (3.0, 0.5)])
def test_two_routes_agree_to_1e25(s, a, run_slow):
    m = SparseModel(s, a)
    Ds = D_EDGES if run_slow else [1, 37, 123457, 10**12]
    names = NAMES if run_slow else ["seen_expected", "missing_signal", "unseen_mass"]
    for name in names:
        for D in Ds:
            v1 = expectation(name, m, D, digits=30, route="mellin")[0]
            v2 = expectation(name, m, D, digits=30, route="euler-maclaurin")[0]
            assert abs(v1 - v2) <= mpmath.mpf("1e-25") * abs(v2), (name, D, v1, v2)


def test_closed_forms_at_small_D():
    """D = 1: E|S| = zeta(s), missing = zeta(1+a) - zeta(1+a+s), unseen = zeta(s) - zeta(2s);
    D = 2: E|S| = 2 zeta(s) - zeta(2s).  At 50 digits, both routes."""
    m = SparseModel(2.5, 0.75)
    with mpmath.workdps(60):
        s, a = mpmath.mpf(2.5), mpmath.mpf(0.75)
        ref = {
            ("seen_expected", 1): mpmath.zeta(s),
            ("missing_signal", 1): mpmath.zeta(1 + a) - mpmath.zeta(1 + a + s),
            ("unseen_mass", 1): mpmath.zeta(s) - mpmath.zeta(2 * s),
            ("seen_expected", 2): 2 * mpmath.zeta(s) - mpmath.zeta(2 * s),
            ("seen_weight", 1): mpmath.zeta(1 + a),
        }
    for (name, D), r in ref.items():
        for route in ("mellin", "euler-maclaurin"):
            v = expectation(name, m, D, digits=50, route=route)[0]
            assert abs(v - r) < mpmath.mpf("1e-48") * abs(r), (name, D, route)
        assert abs(expectation(name, m, D)[0] / float(r) - 1) < 1e-14


@pytest.mark.parametrize("M", [7, 400])
def test_finite_M_against_brute_force(M):
    m = SparseModel(1.5, 0.5, M=M)
    for D in (1, 50, 10**5):
        with mpmath.workdps(50):
            i = [mpmath.mpf(k) for k in range(1, M + 1)]
            p = [min(mpmath.mpf(1), x ** -mpmath.mpf(1.5)) for x in i]
            h = [(1 - pk) ** D for pk in p]
            ref = {
                "seen_expected": mpmath.fsum(1 - hk for hk in h),
                "missing_signal": mpmath.fsum(x**-1.5 * hk for x, hk in zip(i, h)),
                "unseen_mass": mpmath.fsum(pk * hk for pk, hk in zip(p, h)),
                "seen_weight": mpmath.fsum(x**0 * (1 - hk) for x, hk in zip(i, h)),
            }
        for name, r in ref.items():
            for route in ("mellin", "euler-maclaurin"):
                v = expectation(name, m, D, digits=30, route=route)[0]
                assert abs(v - r) <= mpmath.mpf("1e-28") * abs(r) + mpmath.mpf("1e-300"), (name, D, route)
            fv = expectation(name, m, D)[0]
            assert abs(fv - float(r)) <= 1e-13 * abs(float(r)) + 1e-300, (name, D)


def test_precision_ladder_15_30_50():
    """Values at 15, 30 and 50 digits agree to the smaller precision (edges of the D range)."""
    m = SparseModel(2.0, 0.5)
    for name in ("seen_expected", "missing_signal", "unseen_mass"):
        for D in (1, 10**12):
            v15, v30, v50 = (expectation(name, m, D, digits=d)[0] for d in (15, 30, 50))
            assert abs(v15 - v50) <= mpmath.mpf("1e-14") * abs(v50)
            assert abs(v30 - v50) <= mpmath.mpf("1e-29") * abs(v50)
            assert mpmath.mpf(v50).context.prec > 0


@pytest.mark.parametrize("s,a", [(1.5, 1.0), (2.0, 0.5), (3.0, 0.5), (1.1, 0.3), (6.0, 2.0)])
def test_float_path_agrees_with_mp(s, a, run_slow):
    """float64 (vectorised over D) vs the 20-digit Mellin route: 1e-13 relative, D = 1 ... 1e12."""
    m = SparseModel(s, a)
    Ds = np.unique(np.round(np.logspace(0, 12, 13 if not run_slow else 49)).astype(np.int64))
    for name in NAMES:
        fv = expectation(name, m, Ds)
        ref = np.array([float(v) for v in expectation(name, m, Ds, digits=20)])
        assert np.all(np.abs(fv / ref - 1) < 1e-13), (name, np.max(np.abs(fv / ref - 1)))


def test_harmonic_methods_agree_at_the_switch():
    """The residue method and direct summation (float64) agree where both apply (D_switch ... 30x)."""
    from asymptotics.sparse.harmonic import _direct_method, _residue_method, d_switch

    for s in (1.05, 1.5, 2.0, 3.0, 5.0):
        for kind, alpha in (
            ("seen", 0.0),
            ("seen", 1.0),
            ("seen", 2 - s),
            ("unseen", 1.5),
            ("unseen", s + 1.5),
        ):
            if kind == "seen" and alpha + s <= 1:
                continue
            Ds = d_switch(s, alpha) * np.array([1.0, 3.0, 30.0])
            Ds = Ds[(Ds / 0.05) ** (1 / s) < 2e6]
            y = np.ones_like(Ds)
            a = _direct_method(kind, alpha, s, Ds, y, None)
            b = _residue_method(kind, alpha, s, Ds, y)
            assert np.all(np.abs(a / b - 1) < 2e-14), (s, kind, alpha)


def test_a_equals_s_log_term():
    """a = s: w_i^2 = 1/i; E|w_S|^2 = ln(D)/s + gamma(1 + 1/s) + O(D^-1) (merged poles)."""
    m = SparseModel(2.0, 2.0)
    D = 10**8
    v = seen_weight(m, D, digits=30)[0]
    v2 = seen_weight(m, D, digits=30, route="euler-maclaurin")[0]
    assert abs(v - v2) < mpmath.mpf("1e-25")
    with mpmath.workdps(30):
        approx = mpmath.log(D) / 2 + mpmath.euler * 1.5
    assert abs(v - approx) < 1e-7
    assert abs(seen_weight(m, D)[0] / float(v) - 1) < 1e-13


def test_scaling_sanity_against_leading_terms():
    m = SparseModel(2.0, 0.5)
    D = 10**10
    assert abs(seen_expected(m, D)[0] / (math.sqrt(math.pi) * 1e5) - 1) < 1e-5
    assert abs(missing_signal(m, D)[0] / (math.gamma(0.25) / 2 * D**-0.25) - 1) < 1e-9
    assert abs(unseen_mass(m, D)[0] / (math.sqrt(math.pi) / 2 * D**-0.5) - 1) < 1e-9


def test_bad_input():
    with pytest.raises(InvalidInputError):
        SparseModel(1.0, 0.5)
    with pytest.raises(InvalidInputError):
        SparseModel(2.0, 0.0)
    with pytest.raises(InvalidInputError):
        SparseModel(float("nan"), 0.5)
    with pytest.raises(InvalidInputError):
        SparseModel(2.0, 0.5, M=0)
    m = SparseModel(2.0, 0.5)
    for D in (0, -3, 2.5, float("inf"), "x", True):
        with pytest.raises(InvalidInputError):
            seen_expected(m, D)
    with pytest.raises(InvalidInputError):
        seen_expected(m, 10, digits=3)
    with pytest.raises(InvalidInputError):
        expectation("nonsense", m, 10)
    with pytest.raises(InvalidInputError):
        harmonic_sum("unseen", 1.0, 2.0, 10.0)  # divergent
    with pytest.raises(InvalidInputError):
        harmonic_sum_mp("seen", -1.5, 2, 10)  # divergent (alpha + s <= 1)


def test_decomposition_symbolic():
    d = derive_decomposition()
    assert d["checked_dimensions"] == [1, 2, 3, 4]
    assert "aliasing" in d["terms"]
