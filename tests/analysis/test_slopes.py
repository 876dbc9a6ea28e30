import numpy as np
import pytest

from asymptotics.analysis.slopes import effective_exponents, local_slope, local_slope_from_samples
from asymptotics.validation import InvalidInputError

P, A1, A2 = -1 / 3, 0.8, -0.3


def curve(a):
    return 1.7 * a**P * (1 + A1 * a ** (-1 / 3) + A2 * a ** (-2 / 3))


def exact_slope(a):
    # d ln y / d ln a in closed form
    u = a ** (-1 / 3)
    return P + (-A1 * u / 3 - 2 * A2 * u**2 / 3) / (1 + A1 * u + A2 * u**2)


def test_local_slope_dense_matches_closed_form():
    a = np.logspace(0, 8, 17)
    s, err = local_slope(curve, a)
    assert np.max(np.abs(s - exact_slope(a))) < 1e-10
    assert np.all(err < 1e-8)
    # the error estimate is honest for a coarse step
    s2, err2 = local_slope(curve, a, h=0.3)
    assert np.all(np.abs(s2 - exact_slope(a)) < 10 * err2 + 1e-12)


def test_local_slope_respects_range():
    s, _ = local_slope(curve, 10.0, alpha_range=(9.0, 11.0))
    assert s == pytest.approx(exact_slope(10.0), abs=1e-9)
    with pytest.raises(InvalidInputError):
        local_slope(curve, 20.0, alpha_range=(9.0, 11.0))


def test_local_slope_from_samples_spline():
    a = np.logspace(0, 6, 61)
    s, err = local_slope_from_samples(a, curve(a))
    interior = slice(5, -5)
    assert np.max(np.abs(s[interior] - exact_slope(a[interior]))) < 1e-6
    assert np.all(np.abs(s - exact_slope(a)) < 20 * err + 1e-9)


def test_effective_exponent_table_secants_are_exact():
    t = effective_exponents(curve, 1.0, 1e6, per="half-decade")
    assert len(t.lo) == 12
    ref = np.log(curve(t.hi) / curve(t.lo)) / np.log(t.hi / t.lo)
    assert np.max(np.abs(t.secant - ref)) < 1e-13
    assert np.max(np.abs(t.local - exact_slope(t.center))) < 1e-9
    # the same table from samples
    a = np.logspace(0, 6, 121)
    ts = effective_exponents((a, curve(a)), 1.0, 1e6, per="decade")
    assert np.max(np.abs(ts.secant - np.log(curve(ts.hi) / curve(ts.lo)) / np.log(10))) < 1e-7
    assert "effective exponents" in ts.format()
    assert set(ts.rows()[0]) == {
        "alpha_lo",
        "alpha_hi",
        "alpha_center",
        "secant_exponent",
        "local_slope",
        "local_slope_error",
    }


@pytest.mark.parametrize("bad", [lambda a: -a, lambda a: float("nan")])
def test_non_positive_curve_rejected(bad):
    with pytest.raises(InvalidInputError):
        local_slope(bad, 10.0)


def test_bad_windows():
    with pytest.raises(InvalidInputError):
        effective_exponents(curve, 1.0, 5.0)
    with pytest.raises(InvalidInputError):
        local_slope_from_samples([1, 2, 3], [1, 2, 3])
