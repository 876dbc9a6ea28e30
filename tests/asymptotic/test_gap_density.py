"""Teacher gap densities: closed forms (K = 2, 3, 4), Stein identity, Monte Carlo (K = 10), precision."""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from asymptotics.asymptotic.gap_density import (
    expected_maximum,
    gap_joint_derivative,
    labelled_gap_density_derivative,
    top_gap_density_at_zero,
    top_gap_density_closed_form,
    top_gap_density_derivative,
)
from asymptotics.validation import InvalidInputError

SPEC_FORMS = {
    2: 1 / sp.sqrt(sp.pi),
    3: 3 / (2 * sp.sqrt(sp.pi)),
    4: 6 / sp.sqrt(sp.pi) * (sp.Rational(1, 4) + sp.asin(sp.Rational(1, 3)) / (2 * sp.pi)),
}


@pytest.mark.parametrize("K", [2, 3, 4])
def test_closed_form_matches_published_form(K):
    assert sp.simplify(top_gap_density_closed_form(K) - SPEC_FORMS[K]) == 0


@pytest.mark.parametrize("K", [2, 3, 4])
@pytest.mark.parametrize("digits", [15, 30, 50])
def test_rho0_quadrature_against_closed_form(K, digits):
    value = top_gap_density_at_zero(K, digits)
    with mpmath.workdps(digits + 10):
        exact = mpmath.mpf(str(sp.N(SPEC_FORMS[K], digits + 20)))
        assert abs(value - exact) <= mpmath.mpf(10) ** (-digits) * exact


@pytest.mark.parametrize("K,n", [(2, 2), (2, 4), (3, 1), (3, 2), (3, 3), (4, 1), (4, 2)])
def test_derivatives_against_closed_forms_30_digits(K, n):
    value = top_gap_density_derivative(K, n, 30)
    with mpmath.workdps(45):
        exact = mpmath.mpf(str(sp.N(top_gap_density_closed_form(K, n), 50)))
        assert abs(value - exact) <= mpmath.mpf(10) ** -30 * max(abs(exact), 1)


def test_k2_density_is_gaussian():
    # rho_2(g) = exp(-g^2/4)/sqrt(pi): rho^(2)(0) = -1/(2 sqrt(pi)), rho^(4)(0) = 3/(4 sqrt(pi))
    assert abs(float(top_gap_density_derivative(2, 2)) + 0.5 / math.sqrt(math.pi)) < 1e-14
    assert abs(float(top_gap_density_derivative(2, 4)) - 0.75 / math.sqrt(math.pi)) < 1e-13


@pytest.mark.parametrize("K", [5, 50, 128, 32000])
def test_stein_identity_expected_maximum(K):
    # two independent integrals: K(K-1) int phi^2 Phi^(K-2) and K int y phi Phi^(K-1)
    with mpmath.workdps(40):
        a, b = top_gap_density_at_zero(K, 30), expected_maximum(K, 30)
        assert abs(a - b) < mpmath.mpf(10) ** -29 * a


def test_precisions_agree():
    for K in (7, 50):
        v15, v30, v50 = (top_gap_density_at_zero(K, d) for d in (15, 30, 50))
        assert abs(v15 - v50) < 1e-15 * v50
        with mpmath.workdps(40):
            assert abs(v30 - v50) < mpmath.mpf(10) ** -30 * v50


def test_monte_carlo_k10():
    rng = np.random.default_rng(12345)
    K, n = 10, 400_000
    y = rng.standard_normal((n, K))
    top2 = np.sort(y, axis=1)[:, -2:]
    gap = top2[:, 1] - top2[:, 0]
    width = 0.02
    estimate = np.mean(gap < width) / width  # rho(0) + rho'(0) width/2 + ...
    slope = float(top_gap_density_derivative(K, 1))
    predicted = float(top_gap_density_at_zero(K)) + slope * width / 2
    se = math.sqrt(estimate / (n * width))
    assert abs(estimate - predicted) < 4 * se
    maxima = y.max(axis=1)
    assert abs(maxima.mean() - float(expected_maximum(K))) < 4 * maxima.std() / math.sqrt(n)


def test_labelled_and_joint_gap_densities_monte_carlo():
    # density of y_c - y_k for a labelled k (summed) and of two labelled gaps at 0, K = 3
    rng = np.random.default_rng(7)
    n = 600_000
    y = rng.standard_normal((n, 3))
    c = y.max(axis=1, keepdims=True)
    gaps = np.sort(c - y, axis=1)[:, 1:]  # the two non-winning gaps
    w = 0.05
    q_est = np.sum(gaps < w) / (n * w)
    q_pred = (
        float(labelled_gap_density_derivative(3, 0)) + float(labelled_gap_density_derivative(3, 1)) * w / 2
    )
    assert abs(q_est - q_pred) < 4 * math.sqrt(q_est / (n * w))
    count = np.sum((gaps[:, 0] < w) & (gaps[:, 1] < w))
    both = count / (n * w**2)
    pred = float(gap_joint_derivative(3, (0, 0)))  # joint density of the labelled pair at (0, 0)
    assert abs(both - pred) < 4 * both / math.sqrt(count) + 0.02 * pred  # + O(w) bias


def test_invalid_input():
    with pytest.raises(InvalidInputError):
        top_gap_density_at_zero(1)
    with pytest.raises(InvalidInputError):
        top_gap_density_derivative(3, -1)
    with pytest.raises(InvalidInputError):
        top_gap_density_closed_form(5)
    with pytest.raises(InvalidInputError):
        top_gap_density_at_zero(3, digits=2)
