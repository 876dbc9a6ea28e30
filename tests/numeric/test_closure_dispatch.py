"""closure_moments dispatcher: method choice, precision, input validation."""

import math

import mpmath
import pytest

from asymptotics.numeric.closure import closure_moments, closure_moments_batch
from asymptotics.numeric.moments import MOMENT_NAMES, ClosureMoments
from asymptotics.validation import IntegrationError, InvalidInputError


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
    m3 = closure_moments(3, 0, 0, digits=25)           # uniform point: closed forms
    assert isinstance(m3.restoring, mpmath.mpf)
    with mpmath.workdps(25):
        assert abs(m3.restoring - mpmath.mpf(2) / 3) < mpmath.mpf(10) ** -24
        assert abs(m3.drift - 3 / (2 * mpmath.sqrt(mpmath.pi))) < mpmath.mpf(10) ** -24


def test_monte_carlo_methods_available_for_any_K():
    for method in ("montecarlo", "qmc"):
        m = closure_moments(6, 1.0, 0.25, method=method, samples=4096, seed=1)
        assert m.method == method and all(m.errors[n] > 0 for n in MOMENT_NAMES)


def test_k4_has_no_arbitrary_precision_path():
    with pytest.raises(InvalidInputError, match="montecarlo"):
        closure_moments(4, 1.0, 0.25, digits=20)
    with pytest.raises(InvalidInputError, match="K = 2, 3 only"):
        closure_moments(4, 1.0, 0.25, method="mpmath")


@pytest.mark.parametrize("args,kwargs,pattern", [
    ((1, 1.0, 0.25), {}, "K must be an integer >= 2"),
    ((2.5, 1.0, 0.25), {}, "K must be an integer"),
    ((True, 1.0, 0.25), {}, "K must be an integer"),
    ((3, -1.0, 0.25), {}, "D must be >= 0"),
    ((3, 1.0, -0.1), {}, "Delta must be >= 0"),
    ((3, float("nan"), 0.25), {}, "D must be a finite real number"),
    ((3, 1.0, float("inf")), {}, "Delta must be a finite real number"),
    ((3, "1", 0.25), {}, "D must be a finite real number"),
    ((3, 1.0, 0.25), {"digits": 2}, "precision too low"),
    ((3, 1.0, 0.25), {"digits": 20.5}, "digits must be an integer"),
    ((3, 1.0, 0.25), {"method": "magic"}, "method must be one of"),
    ((2, 1.0, 0.25), {"method": "quadrature"}, "needs K >= 3"),
    ((3, 1.0, 0.25), {"method": "binary"}, "needs K = 2"),
    ((3, 1.0, 0.25), {"samples": 1000}, "samples only applies"),
    ((3, 1.0, 0.25), {"method": "montecarlo", "digits": 20}, "digits is not available"),
    ((3, 1.0, 0.25), {"rtol": 1e-18}, "below float64 accuracy"),
    ((3, 1.0, 0.25), {"rtol": -1.0}, "rtol must be >= 0"),
])
def test_bad_input_raises_one_line_message(args, kwargs, pattern):
    with pytest.raises(InvalidInputError, match=pattern) as info:
        closure_moments(*args, **kwargs)
    assert "\n" not in str(info.value)


def test_rtol_checks_the_error_estimate():
    closure_moments(3, 10.0, 0.25, rtol=1e-8)           # deterministic: passes
    with pytest.raises(IntegrationError, match="exceeds rtol"):
        closure_moments(3, 10.0, 0.25, method="montecarlo", samples=1000, seed=0, rtol=1e-6)


def test_batch_entry():
    out = closure_moments_batch(3, [1.0, 10.0, 100.0], 0.25)
    assert [m.D for m in out] == [1.0, 10.0, 100.0]
    assert out[0].drift > out[1].drift > out[2].drift > 0
    with pytest.raises(InvalidInputError, match="same length"):
        closure_moments_batch(3, [1.0, 2.0], [0.1])
