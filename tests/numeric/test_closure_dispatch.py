"""closure_moments dispatcher: method choice, precision, input validation."""

import math

import mpmath
import pytest

from asymptotics.numeric.closure import closure_moments
from asymptotics.numeric.moments import MOMENT_NAMES, ClosureMoments


def test_auto_picks_fastest_deterministic_path():
    assert closure_moments(2, 1.0, 0.25).method == "binary"
    assert closure_moments(3, 1.0, 0.25).method == "quadrature"
    assert closure_moments(4, 1.0, 0.25).method == "quadrature-laplace"


def test_auto_results_match_closed_forms():
    m = closure_moments(2, 3.0, 0.5)
    assert isinstance(m, ClosureMoments)
    assert m.eps_g == pytest.approx(math.atan2(math.sqrt(0.5), 3.0) / math.pi, rel=1e-13)
    u = closure_moments(5, 0.0, 0.0)
    assert u.eps_g == pytest.approx(0.8) and u.loss == pytest.approx(math.log(5))


def test_digits_selects_arbitrary_precision():
    m = closure_moments(2, 1, 0, digits=20)
    assert isinstance(m.drift, mpmath.mpf) and m.digits == 20
    assert m.method == "binary-mpmath"
    m3 = closure_moments(3, 0, 0, digits=25)  # uniform point: closed forms
    assert isinstance(m3.restoring, mpmath.mpf)
    with mpmath.workdps(25):
        assert abs(m3.restoring - mpmath.mpf(2) / 3) < mpmath.mpf(10) ** -24
        assert abs(m3.drift - 3 / (2 * mpmath.sqrt(mpmath.pi))) < mpmath.mpf(10) ** -24


def test_monte_carlo_methods_available_for_any_K():
    for method in ("montecarlo", "qmc"):
        m = closure_moments(6, 1.0, 0.25, method=method, samples=4096, seed=1)
        assert m.method == method and all(m.errors[n] > 0 for n in MOMENT_NAMES)


def test_k4_routes_to_the_arbitrary_precision_laplace_path():
    m = closure_moments(4, 1.0, 0.25, digits=15)
    f = closure_moments(4, 1.0, 0.25)
    assert m.digits == 15
    for name in MOMENT_NAMES:
        assert abs(float(getattr(m, name)) / getattr(f, name) - 1) < 1e-10, name
