"""Closure integrands: symbolic forms, code generation, precision of the generated code."""

import mpmath
import numpy as np
import pytest
import sympy as sp

from asymptotics.numeric.closure_montecarlo import sample_moments
from asymptotics.numeric.moments import MOMENT_NAMES
from asymptotics.symbolic.integrands import (
    compiled_gap_split,
    compiled_integrands,
    direct_integrands,
    gap_split,
    gap_symbols,
    moment_integrands,
)
from asymptotics.validation import InvalidInputError


def test_names_and_exact_constants():
    for K in (2, 3, 4):
        ig = moment_integrands(K)
        assert tuple(ig) == MOMENT_NAMES
        for expr in ig.values():
            assert not expr.atoms(sp.Float)


def test_gap_forms_equal_textbook_forms_symbolically_K2():
    ig, direct = moment_integrands(2), direct_integrands(2)
    for name in ("drift", "restoring", "noise"):
        assert sp.simplify(ig[name] - direct[name]) == 0, name
    d, _ = gap_symbols(2)
    assert sp.simplify(sp.expand_log(ig["loss"].rewrite(sp.log) - direct["loss"], force=True)) == 0


@pytest.mark.parametrize("K", [3, 4])
def test_gap_forms_equal_textbook_forms_numerically(K):
    ig, direct = moment_integrands(K), direct_integrands(K)
    d, g = gap_symbols(K)
    rng = np.random.default_rng(K)
    with mpmath.workdps(40):
        for _ in range(5):
            vals = {s: sp.Rational(int(v * 1000), 1000) for s, v in zip(d + g, rng.normal(0, 3, 2 * (K - 1)))}
            for name in ("drift", "restoring", "noise", "loss"):
                a = ig[name].rewrite(sp.log).subs(vals).evalf(40)
                b = direct[name].subs(vals).evalf(40)
                assert abs(a - b) < 1e-35 * max(1, abs(b)), name


@pytest.mark.parametrize("K", [2, 3, 5])
def test_compiled_numpy_matches_direct_monte_carlo_formulas(K):
    """The generated float64 code equals the independent per-sample code of the MC module."""
    rng = np.random.default_rng(10 + K)
    n = 400
    y = rng.standard_normal((n, K))
    xi = rng.standard_normal((n, K))
    D, Delta = 2.0, 0.7
    ref = sample_moments(y, xi, D, Delta)
    z = D * y + np.sqrt(Delta) * xi
    c = np.argmax(y, axis=1)
    rows = np.arange(n)
    others = np.array([[k for k in range(K) if k != ci] for ci in c])
    d = z[rows, c][:, None] - np.take_along_axis(z, others, axis=1)
    g = y[rows, c][:, None] - np.take_along_axis(y, others, axis=1)
    f = compiled_integrands(K, "numpy")
    vals = f(*d.T, *g.T)
    for name, v, r in zip(MOMENT_NAMES, vals, ref):
        assert np.allclose(v, r, rtol=1e-13, atol=1e-15), name


def test_mpmath_code_keeps_full_precision():
    f = compiled_integrands(3, "mpmath")
    with mpmath.workdps(60):
        zero = mpmath.mpf(0)
        vals = f(zero, zero, mpmath.mpf(1), mpmath.mpf(2))
        assert abs(vals[4] - mpmath.log(3)) < mpmath.mpf(10) ** -58
        assert abs(vals[0] - 1) < mpmath.mpf(10) ** -58  # (1 + 2)/3
        assert abs(vals[1] - mpmath.mpf(2) / 3) < mpmath.mpf(10) ** -58
        x = mpmath.mpf("0.1")
        loss = f(x, x, zero, zero)[4]
        assert abs(loss - mpmath.log(1 + 2 * mpmath.exp(-x))) < mpmath.mpf(10) ** -58


def test_affine_split_reconstructs_integrands():
    K = 3
    d, g = gap_symbols(K)
    for name, (base, coeffs) in gap_split(K).items():
        rebuilt = base + sum(c * gj for c, gj in zip(coeffs, g))
        assert sp.simplify(rebuilt - moment_integrands(K)[name]) == 0
    bases, coeffs = compiled_gap_split(K, "numpy")(np.array([0.3, -1.0]), np.array([2.0, 0.1]))
    full = compiled_integrands(K, "numpy")(
        np.array([0.3, -1.0]), np.array([2.0, 0.1]), np.array([1.5, 0.2]), np.array([0.5, 0.9])
    )
    drift = coeffs[0] * np.array([1.5, 0.2]) + coeffs[1] * np.array([0.5, 0.9])
    assert np.allclose(drift, full[0], rtol=1e-15)
    assert np.array_equal(bases[3], full[3])


def test_large_gaps_are_cancellation_free():
    f = compiled_integrands(2, "numpy")
    vals = f(np.array([40.0]), np.array([1.0]))
    # 1 - p_c = e^-40/(1+e^-40): no cancellation against 1
    assert vals[2][0] == pytest.approx(2 * np.exp(-80), rel=1e-14)
    assert vals[4][0] == pytest.approx(np.exp(-40), rel=1e-14)


def test_bad_backend():
    with pytest.raises(InvalidInputError, match="backend"):
        compiled_integrands(2, "cuda")
