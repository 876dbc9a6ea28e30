"""Stein's lemma as a rewrite rule: symbolic results checked against direct quadrature."""

import mpmath
import pytest
import sympy
from sympy import IndexedBase, Lambda, Matrix, Rational, Sum, sqrt

from asymptotics.symbolic.expectation import (
    CorrelatedGaussian,
    GaussianExpectation,
    IndexedGaussian,
    expectations_equal,
)
from asymptotics.symbolic.softmax import Softmax, class_indices, num_classes_symbol
from asymptotics.symbolic.stein import stein_integrand, stein_rewrite, total_derivative
from asymptotics.validation import InvalidInputError

v, w = sympy.symbols("v w", real=True)


@pytest.mark.parametrize("dps", [15, 30, 50])
def test_v_tanh_v_against_direct_quadrature(dps):
    mu = CorrelatedGaussian([v], [[1]])
    lhs = GaussianExpectation(v * sympy.tanh(v), mu)
    rhs = stein_rewrite(lhs)
    assert rhs == GaussianExpectation(1 - sympy.tanh(v) ** 2, mu)
    mpmath.mp.dps = dps
    a = lhs.mp_quad(dps=dps)
    b = rhs.mp_quad(dps=dps)
    assert abs(a - b) < mpmath.mpf(10) ** (-dps + 3)
    assert abs(float(a) - 0.6057055) < 1e-6


@pytest.mark.parametrize("dps", [15, 30])
def test_correlated_2d_against_quadrature_and_closed_form(dps):
    rho = Rational(2, 5)
    C = Matrix([[1, rho], [rho, 2]])
    mu = CorrelatedGaussian([v, w], C)
    lhs = GaussianExpectation(v * sympy.sin(v + w), mu)
    rhs = stein_rewrite(lhs)
    # sum_j C_1j d_j sin(v + w) = (1 + rho) cos(v + w)
    assert sympy.simplify(rhs.integrand - (1 + rho) * sympy.cos(v + w)) == 0
    mpmath.mp.dps = dps
    var = 1 + 2 * mpmath.mpf(2) / 5 + 2  # Var(v + w)
    exact = (1 + mpmath.mpf(2) / 5) * mpmath.exp(-var / 2)
    tol = mpmath.mpf(10) ** (-dps + 3)
    assert abs(lhs.mp_quad(dps=dps) - exact) < tol
    assert abs(rhs.mp_quad(dps=dps) - exact) < tol


def test_stein_in_second_variable_and_powers():
    C = Matrix([[2, -1], [-1, 3]])
    mu = CorrelatedGaussian([v, w], C)
    # E[w v^2]: Cov(w, v) E[2 v] + Cov(w, w) E[0] -> -2 E[v] = 0
    assert stein_integrand(w * v**2, mu, [w]) == -2 * v
    # E[v^4] = 3 sigma^4 after two applications
    once = stein_integrand(v**4, mu, [v])
    twice = stein_integrand(once, mu, [v])
    assert twice == 3 * 2**2
    # terms without a Gaussian factor are untouched
    assert stein_integrand(sympy.cos(v) + 1, mu, [v]) == sympy.cos(v) + 1


def _softmax_setup(K):
    l = class_indices("l")
    y, xi = IndexedBase("y", real=True), IndexedBase("xi", real=True)
    D, Dl = sympy.symbols("D Delta", positive=True)
    S = Softmax(K)
    mu = IndexedGaussian.standard([y, xi], K, logits=(S.logits, Lambda(l, D * y[l] + sqrt(Dl) * xi[l])))
    return S, y, xi, D, Dl, mu


def test_chain_rule_through_softmax_matches_explicit_differentiation():
    S, y, xi, D, Dl, mu = _softmax_setup(3)
    rep = {S.logits[i]: D * y[i] + sqrt(Dl) * xi[i] for i in (1, 2, 3)}
    for k in (1, 2, 3):
        for m in (1, 2, 3):
            via_atoms = S.rewrite_explicit(total_derivative(S.prob(k), xi[m], mu)).xreplace(rep)
            explicit = sympy.diff(S.explicit(k).xreplace(rep), xi[m])
            assert sympy.simplify(via_atoms - explicit) == 0


def test_softmax_stein_numerically_k2():
    # E[p_1 xi_1] = sqrt(Delta) E[p_1 (1 - p_1)], 4-D Gauss-Hermite on both sides
    S, y, xi, D, Dl, mu = _softmax_setup(2)
    lhs = GaussianExpectation(S.prob(1) * xi[1], mu)
    rhs = stein_rewrite(lhs)
    assert sympy.factor(rhs.integrand) == sympy.factor(sqrt(Dl) * S.prob(1) * (1 - S.prob(1)))
    vals = {D: 0.8, Dl: 0.6}
    a = lhs.gauss_hermite(vals, nodes=24)
    b = rhs.gauss_hermite(vals, nodes=24)
    assert abs(a - b) < 1e-9
    assert a > 0.01


def test_softmax_stein_symbolic_K_and_label():
    K = num_classes_symbol()
    k, c = class_indices("k c")
    S, y, xi, D, Dl, mu = _softmax_setup(K)
    mu = IndexedGaussian.standard([y, xi], K, label=(c, y), logits=mu.logits)
    lhs = GaussianExpectation(xi[c] - Sum(S.prob(k) * xi[k], (k, 1, K)), mu)
    rhs = stein_rewrite(lhs)
    target = GaussianExpectation(-sqrt(Dl) * Sum(S.prob(k) * (1 - S.prob(k)), (k, 1, K)), mu)
    assert expectations_equal(rhs, target)


def test_softmax_stein_with_label_monte_carlo_k3():
    # the label c = argmax y is independent of xi, so Stein in xi holds with the label present
    K = 3
    k, c = class_indices("k c")
    S, y, xi, D, Dl, mu = _softmax_setup(K)
    mu = IndexedGaussian.standard([y, xi], K, label=(c, y), logits=mu.logits)
    e = lambda i: sympy.KroneckerDelta(i, c) - S.prob(i)  # noqa: E731
    lhs_integrand = Sum(e(k) * xi[k], (k, 1, K))
    rhs = stein_integrand(lhs_integrand, mu, [xi])
    diff = GaussianExpectation(lhs_integrand - rhs, mu)
    m, se = diff.monte_carlo({D: 1.0, Dl: 0.5}, samples=100_000, seed=7)
    assert abs(m) < 5 * se
    scale = GaussianExpectation(rhs, mu).monte_carlo({D: 1.0, Dl: 0.5}, samples=20_000, seed=8)[0]
    assert abs(scale) > 20 * se  # the check is not vacuous


def test_refuses_non_smooth_directions():
    K = 3
    k, c = class_indices("k c")
    S, y, xi, D, Dl, mu = _softmax_setup(K)
    mu = IndexedGaussian.standard([y, xi], K, label=(c, y), logits=mu.logits)
    with pytest.raises(InvalidInputError, match="not differentiable"):
        stein_integrand(y[1] * y[c], mu, [y])
    h, z = sympy.symbols("h z", real=True)
    cond = CorrelatedGaussian([h, z], sympy.eye(2), h > 0)
    with pytest.raises(InvalidInputError, match="conditioning event"):
        stein_integrand(h * sympy.cos(h), cond, [h])
    # independent direction is fine
    assert stein_integrand(z * sympy.sin(z + h), cond, [z]) == sympy.cos(z + h)
