"""Tests of the unevaluated Gaussian expectation node: printing, linearity, numerics."""

import math

import mpmath
import pytest
import sympy
from sympy import IndexedBase, Matrix, Rational, Sum

from asymptotics.symbolic.expectation import (
    CorrelatedGaussian,
    GaussianExpectation,
    IndexedGaussian,
    collect_expectations,
    expectations_equal,
    linear_expand,
)
from asymptotics.symbolic.softmax import Softmax, class_indices, num_classes_symbol
from asymptotics.validation import InvalidInputError

v, w, a = sympy.symbols("v w a", real=True)
STD1 = CorrelatedGaussian([v], [[1]])


def test_stays_unevaluated_and_prints_as_bracket():
    E = GaussianExpectation(v**2, STD1)
    assert isinstance(E, GaussianExpectation)
    assert E != 1 and sympy.simplify(E - 1) != 0
    assert str(E) == "⟨v**2⟩"
    assert sympy.latex(E) == r"\left\langle v^{2} \right\rangle"
    assert "⟨" in sympy.pretty(E) and "⟩" in sympy.pretty(E)
    assert sympy.latex(2 * a * E) == r"2 a \left\langle v^{2} \right\rangle"
    # the law is available and prints too
    assert E.measure is STD1
    assert r"\mathcal{N}" in sympy.latex(E.measure)


def test_srepr_roundtrip():
    E = GaussianExpectation(sympy.cos(v) * v, STD1)
    assert (
        eval(
            sympy.srepr(E),
            {
                **sympy.__dict__,
                "GaussianExpectation": GaussianExpectation,
                "CorrelatedGaussian": CorrelatedGaussian,
            },
        )
        == E
    )


def test_linearity_pulls_constants_and_splits_sums():
    E = GaussianExpectation(a * v**2 + 3 * v + a + a * w * v, CorrelatedGaussian([v, w], sympy.eye(2)))
    mu = E.measure
    expected = (
        a * GaussianExpectation(v**2, mu)
        + 3 * GaussianExpectation(v, mu)
        + a
        + a * GaussianExpectation(v * w, mu)
    )
    assert sympy.expand(E.linear_expand() - expected) == 0
    # and back
    assert collect_expectations(E.linear_expand() - a) == GaussianExpectation(
        a * v**2 + 3 * v + a * w * v, mu
    )


def test_linear_expand_class_sums():
    K = num_classes_symbol()
    k, c = class_indices("k c")
    y = IndexedBase("y")
    mu = IndexedGaussian.standard([y], K, label=(c, y))
    E = GaussianExpectation(a * Sum(y[k] ** 2, (k, 1, K)), mu)
    assert linear_expand(E) == a * GaussianExpectation(Sum(y[k] ** 2, (k, 1, K)), mu)
    split = linear_expand(E, split_sums=True)
    assert split == a * Sum(GaussianExpectation(y[k] ** 2, mu), (k, 1, K))


def test_expectations_equal_uses_normalisation_and_detects_differences():
    K = num_classes_symbol()
    k, c = class_indices("k c")
    S = Softmax(K)
    y = IndexedBase("y")
    mu = IndexedGaussian.standard([y], K, label=(c, y))
    lhs = GaussianExpectation(y[c] - Sum(S.prob(k) * y[k], (k, 1, K)), mu)
    rhs = GaussianExpectation(Sum(S.prob(k) * (y[c] - y[k]), (k, 1, K)), mu)
    assert expectations_equal(lhs, rhs)
    assert not expectations_equal(lhs, GaussianExpectation(Sum(S.prob(k) * y[k], (k, 1, K)), mu))
    assert not expectations_equal(lhs, 2 * rhs)


@pytest.mark.parametrize("dps", [15, 30, 50])
def test_mp_quad_against_closed_forms(dps):
    # E[cos(v)] = exp(-s^2/2) for v ~ N(0, s^2); E[exp(v + w)] for a correlated pair
    s2 = Rational(3, 2)
    E1 = GaussianExpectation(sympy.cos(v), CorrelatedGaussian([v], [[s2]]))
    mpmath.mp.dps = dps
    exact = mpmath.exp(-mpmath.mpf(3) / 4)
    assert abs(E1.mp_quad(dps=dps) - exact) < mpmath.mpf(10) ** (-dps + 2)
    C = Matrix([[1, Rational(1, 3)], [Rational(1, 3), 2]])
    E2 = GaussianExpectation(sympy.cos(v - w), CorrelatedGaussian([v, w], C))
    var = 1 + 2 - 2 * mpmath.mpf(1) / 3
    assert abs(E2.mp_quad(dps=dps) - mpmath.exp(-var / 2)) < mpmath.mpf(10) ** (-dps + 2)


def test_gauss_hermite_and_monte_carlo_against_closed_forms():
    C = Matrix([[1, Rational(1, 2)], [Rational(1, 2), 1]])
    mu = CorrelatedGaussian([v, w], C)
    E = GaussianExpectation(sympy.exp(v + w) * v, mu)
    # E[v e^{v+w}] = Cov(v, v+w) E[e^{v+w}] = (3/2) e^{3/2}
    exact = 1.5 * math.exp(1.5)
    assert abs(E.gauss_hermite(nodes=40) - exact) < 1e-10 * exact
    m, se = E.monte_carlo(samples=200_000, seed=3)
    assert abs(m - exact) < 5 * se


def test_label_and_conditioning():
    # E[max(y1, y2)] = 1/sqrt(pi); same from the conditioned law E[y_1 | argmax = 1]
    c = class_indices("c")
    y = IndexedBase("y")
    mu = IndexedGaussian.standard([y], 2, label=(c, y))
    E = GaussianExpectation(y[c], mu)
    exact = 1 / math.sqrt(math.pi)
    m, se = E.monte_carlo(samples=200_000, seed=1)
    assert abs(m - exact) < 5 * se
    assert abs(E.gauss_hermite(nodes=200) - exact) < 2e-3  # kink: slow convergence
    Ec = GaussianExpectation(y[1], mu.with_conditioned_label(1))
    m2, se2 = Ec.monte_carlo(samples=200_000, seed=2)
    assert abs(m2 - exact) < 5 * se2
    # P[argmax = 1] = 1/2 -> conditional mean of 1 is 1
    assert Ec.with_integrand(1).monte_carlo(samples=1000)[0] == 1.0


def test_softmax_integrand_with_logit_representation():
    # K = 2, z = D y + sqrt(Delta) xi: E[p_1] = 1/2 by symmetry
    y, xi = IndexedBase("y"), IndexedBase("xi")
    S = Softmax(2)
    l = class_indices("l")
    D, Dl = sympy.symbols("D Delta", positive=True)
    mu = IndexedGaussian.standard(
        [y, xi], 2, logits=(S.logits, sympy.Lambda(l, D * y[l] + sympy.sqrt(Dl) * xi[l]))
    )
    E = GaussianExpectation(S.prob(1), mu)
    assert abs(E.gauss_hermite({D: 1.3, Dl: 0.4}, nodes=20) - 0.5) < 1e-12


def test_bad_input():
    with pytest.raises(InvalidInputError, match="GaussianMeasure"):
        GaussianExpectation(v, "normal")
    with pytest.raises(InvalidInputError, match="covariance must be"):
        CorrelatedGaussian([v, w], [[1]])
    with pytest.raises(InvalidInputError, match="needs values for: a"):
        GaussianExpectation(a * v, STD1).gauss_hermite()
    with pytest.raises(InvalidInputError, match="at most 3"):
        vs = sympy.symbols("v0:4")
        GaussianExpectation(sum(vs), CorrelatedGaussian(vs, sympy.eye(4))).mp_quad()
    with pytest.raises(InvalidInputError, match="concrete dimension"):
        GaussianExpectation(
            IndexedBase("y")[1], IndexedGaussian.standard([IndexedBase("y")], num_classes_symbol())
        ).gauss_hermite()
