import mpmath
import numpy as np
import pytest

from asymptotics.analysis.extrapolation import (
    extrapolate_exponent,
    fit_with_corrections,
    residual_order_check,
    richardson,
    shanks,
)
from asymptotics.analysis.slopes import local_slope
from asymptotics.validation import InvalidInputError


def synthetic(a, p=-1 / 3):
    # known exponent with known correction terms alpha^{-1/3}, alpha^{-2/3}, alpha^{-1}
    return 2.3 * a**p * (1 + 1.1 * a ** (-1 / 3) - 0.4 * a ** (-2 / 3) + 0.25 / a)


@pytest.mark.parametrize("p", [-1 / 3, -0.5, -5 / 12])
def test_recovers_exponent_from_dense_local_slopes(p):
    a = np.logspace(2, 8, 25)
    s, e = local_slope(lambda x: synthetic(x, p), a)
    r = extrapolate_exponent(a, s, e, powers=(1 / 3, 2 / 3, 1, 4 / 3, 5 / 3), tol=1e-6)
    assert abs(r.value - p) < 1e-6
    assert r.asymptotic
    # the last local slope alone is far off: extrapolation is doing the work
    assert abs(s[-1] - p) > 1e-4


def test_flags_curve_that_is_not_yet_asymptotic():
    # a slow crossover (alpha^-0.05 correction) not in the assumed correction family
    a = np.logspace(1, 4, 16)
    s, e = local_slope(lambda x: x ** (-1 / 3) * (1 + 3 * x**-0.05), a)
    r = extrapolate_exponent(a, s, e, tol=1e-4)
    assert not r.asymptotic
    assert r.error > 1e-4
    # a crossover to another power law beyond the sampled range
    s2, e2 = local_slope(lambda x: x ** (-1 / 3) / (1 + x / 1e5) ** (1 / 6), a)
    r2 = extrapolate_exponent(a, s2, e2, tol=1e-4)
    assert not r2.asymptotic


def test_fit_richardson_shanks_exact_on_model_sequences():
    a = np.logspace(1, 5, 9)
    v = 0.25 + 2 * a**-0.5 - 3 / a
    s, c, rms = fit_with_corrections(a, v, [0.5, 1.0])
    assert s == pytest.approx(0.25, abs=1e-13) and c == pytest.approx([2, -3], rel=1e-9)
    est, err = richardson(a, v, [0.5, 1.0])
    assert est == pytest.approx(0.25, abs=1e-12)
    seq = [0.25 + 2 * r**-0.5 - 3 / r for r in 4.0 ** np.arange(10)]
    est2, err2 = shanks(seq)
    assert abs(est2 - 0.25) < 1e-9
    with pytest.raises(InvalidInputError):
        fit_with_corrections([1.0, 2.0], [1.0, 2.0], [0.5, 1.0])


def test_residual_order_check_on_known_expansion():
    # (1 + a)^(-1/3) = a^-1/3 (1 - a^-1/3... ) : exact binomial series in 1/a, evaluated with mpmath
    mpmath.mp.dps = 40
    a = np.logspace(2, 8, 13)
    exact = [(1 + mpmath.mpf(x)) ** (-mpmath.mpf(1) / 3) for x in a]
    t = [
        [
            mpmath.mpf(x) ** (-mpmath.mpf(1) / 3)
            * mpmath.binomial(-mpmath.mpf(1) / 3, k)
            / mpmath.mpf(x) ** k
            for x in a
        ]
        for k in range(4)
    ]
    good = residual_order_check(a, exact, t)
    assert good.ok
    assert good.error_slope[2] == pytest.approx(-1 / 3 - 3, abs=1e-3)
    wrong = [t[0], t[1], [2 * x for x in t[2]]]
    bad = residual_order_check(a, exact, wrong)
    assert bad.passed[:2] == [True, True] and bad.passed[2] is False
