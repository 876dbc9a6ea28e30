"""Arbitrary-precision Laplace route for the closure moments (K >= 3): laplace_moments_mp.

Checks: agreement with the float64 Laplace route (~1e-11), with the independent K = 3
gap-coordinate route k3_moments_mp to 20 digits, self-consistency of 15/20/30 digits (K = 5), the
exact identity drift + D restoring = rho_K(0) (independent of the quadrature) to the requested digits,
honesty of the error estimates, the closure_moments routing and input validation.
"""

import math

import mpmath
import pytest

from asymptotics.asymptotic.gap_density import top_gap_density_at_zero
from asymptotics.numeric.closure import closure_moments
from asymptotics.numeric.closure_laplace_mp import laplace_moments_mp
from asymptotics.numeric.closure_quadrature import k3_moments_mp, laplace_moments
from asymptotics.numeric.moments import MOMENT_NAMES
from asymptotics.validation import InvalidInputError


def rel(a, b):
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    return abs(a - b) / abs(b) if b != 0 else abs(a)


@pytest.fixture(scope="module")
def k5_precisions():
    """K = 5, D = 5, Delta = 0.25 at 15, 20 and 30 digits (~17 s together)."""
    return {d: laplace_moments_mp(5, 5.0, 0.25, digits=d) for d in (15, 20, 30)}


@pytest.mark.parametrize(
    "K,D,Delta",
    [
        (4, 1.0, 0.25),
        (4, 50.0, 2.0),
        (5, 20.0, 0.25),
        (5, 500.0, 0.5),
        (5, 0.3, 0.01),
        (4, 3.0, 0.0),
        (5, 0.0, 0.5),
    ],
)
def test_agrees_with_float64_laplace_route(K, D, Delta):
    m = laplace_moments_mp(K, D, Delta, digits=15)
    f = laplace_moments(K, D, Delta)
    assert m.method == "quadrature-laplace-flint" and m.digits == 15
    for name in MOMENT_NAMES:
        value = getattr(m, name)
        assert isinstance(value, mpmath.mpf)
        if Delta == 0 and name == "eps_g":
            assert value == 0
            continue
        assert rel(value, getattr(f, name)) < 1e-11, (name, value, getattr(f, name))


@pytest.mark.parametrize("D,Delta", [(2.0, 0.25), (300.0, 1.0)])
def test_k3_agrees_with_gap_coordinate_route_to_20_digits(D, Delta):
    # two different reductions (gap coordinates + Sheppard vs Laplace representation); at
    # (300, 1) the kappa rule matters (the drift there is invisible to the Stein identity)
    a = k3_moments_mp(D, Delta, digits=20)
    b = laplace_moments_mp(3, D, Delta, digits=20)
    for name in MOMENT_NAMES:
        assert rel(getattr(a, name), getattr(b, name)) < mpmath.mpf(10) ** -19, name


def test_precisions_agree(k5_precisions):
    m15, m20, m30 = (k5_precisions[d] for d in (15, 20, 30))
    for name in MOMENT_NAMES:
        v30 = getattr(m30, name)
        assert rel(getattr(m15, name), v30) < mpmath.mpf(10) ** -14, name
        assert rel(getattr(m20, name), v30) < mpmath.mpf(10) ** -19, name


def test_error_estimates_are_honest(k5_precisions):
    m30 = k5_precisions[30]
    for d in (15, 20):
        m = k5_precisions[d]
        for name in MOMENT_NAMES:
            err = m.errors[name]
            assert 0 < err < mpmath.mpf(10) ** -(d - 1) * abs(getattr(m, name))
            assert abs(getattr(m, name) - getattr(m30, name)) <= err, (d, name)


@pytest.mark.parametrize("K,D,Delta,digits", [(5, 5.0, 0.25, 30), (4, 100.0, 1.0, 20)])
def test_stein_identity_to_requested_digits(K, D, Delta, digits, k5_precisions):
    """drift + D restoring = rho_K(0) = E[max of K normals]: exact, for every (D, Delta).

    (It tests the drift only to ``10^-digits rho`` absolute, i.e. weakly at large D.)"""
    m = k5_precisions[digits] if K == 5 else laplace_moments_mp(K, D, Delta, digits=digits)
    rho = top_gap_density_at_zero(K, digits + 5)
    with mpmath.workdps(digits + 10):
        lhs = m.drift + mpmath.mpf(D) * m.restoring
        assert rel(lhs, rho) < mpmath.mpf(10) ** -(digits - 1)


def test_uniform_point_is_closed_form():
    m = laplace_moments_mp(6, 0, 0, digits=25)
    assert m.method == "closed-form"
    with mpmath.workdps(25):
        assert abs(m.eps_g - mpmath.mpf(5) / 6) < mpmath.mpf(10) ** -24
        assert abs(m.loss - mpmath.log(6)) < mpmath.mpf(10) ** -24


def test_closure_moments_routes_k4_with_digits():
    for method in ("auto", "quadrature", "mpmath"):
        m = closure_moments(4, 2.0, 0.25, method=method, digits=12)
        assert m.method == "quadrature-laplace-flint" and m.digits == 12
        assert isinstance(m.drift, mpmath.mpf)
        assert rel(m.drift, laplace_moments(4, 2.0, 0.25).drift) < 1e-11
    # K = 2, 3 routes unchanged
    assert closure_moments(3, 2.0, 0.25, digits=12).method.startswith("quadrature-")
    assert closure_moments(3, 2.0, 0.25, digits=12).method != "quadrature-laplace-flint"
    assert closure_moments(2, 2.0, 0.25, digits=12).method == "binary-mpmath"
    # rtol against the arbitrary-precision error estimate
    closure_moments(4, 2.0, 0.25, digits=12, rtol=1e-10)


@pytest.mark.parametrize(
    "args,kwargs,pattern",
    [
        ((2, 1.0, 0.25), {}, "needs K >= 3"),
        ((1, 1.0, 0.25), {}, "K must be an integer >= 2"),
        ((4.5, 1.0, 0.25), {}, "K must be an integer"),
        ((4, -1.0, 0.25), {}, "D must be >= 0"),
        ((4, 1.0, -0.25), {}, "Delta must be >= 0"),
        ((4, float("nan"), 0.25), {}, "D must be a finite real number"),
        ((4, 1.0, float("inf")), {}, "Delta must be a finite real number"),
        ((4, 1.0, 0.25), {"digits": 3}, "precision too low"),
        ((4, 1.0, 0.25), {"digits": 20.0}, "digits must be an integer"),
        ((4, 2e4, 0.25), {}, "supports D <="),
        ((4, 1.0, 60.0), {}, "supports Delta <="),
    ],
)
def test_bad_input_raises(args, kwargs, pattern):
    with pytest.raises(InvalidInputError, match=pattern) as info:
        laplace_moments_mp(*args, **kwargs)
    assert "\n" not in str(info.value)


def test_closure_moments_bad_input_with_digits():
    with pytest.raises(InvalidInputError, match="Delta must be >= 0"):
        closure_moments(5, 1.0, -1.0, digits=20)
    with pytest.raises(InvalidInputError, match="outside the validated domain"):
        closure_moments(5, 1e5, 0.25, digits=20)
    with pytest.raises(InvalidInputError, match="digits is not available"):
        closure_moments(5, 1.0, 0.25, method="montecarlo", digits=20)
    assert math.isfinite(float(closure_moments(5, 1.0, 0.25).drift))  # float path untouched
