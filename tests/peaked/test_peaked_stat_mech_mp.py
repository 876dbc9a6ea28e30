"""Arbitrary-precision statistical mechanics (stat_mech_mp) against itself, float64 and 1-D reductions."""

import functools
import math

import mpmath
import pytest

from asymptotics.peaked import stat_mech
from asymptotics.peaked.stat_mech_float import gap_thermodynamics
from asymptotics.peaked.stat_mech_mp import gap_thermodynamics_mp
from asymptotics.validation import InvalidInputError

KEYS = ("a", "V", "purity", "entropy")


@functools.cache
def _mp(n, beta, digits):
    return gap_thermodynamics_mp(n, beta, digits)


def _rel(x, y):
    with mpmath.workdps(80):
        return abs(mpmath.mpf(x) / mpmath.mpf(y) - 1)


def test_precisions_agree():
    r15, r30, r50 = _mp(16, 0.5, 15), _mp(16, 0.5, 30), _mp(16, 0.5, 50)
    for k in KEYS:
        assert _rel(r15[k], r50[k]) < 1e-14, k
        assert _rel(r30[k], r50[k]) < 1e-29, k
    r15, r30 = _mp(3, 2.0, 15), _mp(3, 2.0, 30)  # beta > 1 branch (inner grid in w)
    for k in KEYS:
        assert _rel(r15[k], r30[k]) < 1e-14, k


@pytest.mark.parametrize("n,beta", [(3, 2.0), (16, 0.5), (128, 30.0)])
def test_agrees_with_float64(n, beta):
    r, f = _mp(n, beta, 30), gap_thermodynamics(n, beta)
    for k in KEYS:
        assert _rel(r[k], f[k]) < 2e-13, k


def test_n2_against_one_dimensional_reduction():
    # <ln Z> = beta E[max] + E ln(1 + exp(-beta |h1 - h2|)),  |h1 - h2| = sqrt(2) |z|
    beta = 3
    r = _mp(2, beta, 30)
    with mpmath.workdps(45):
        B = mpmath.mpf(beta)
        a = 2 * mpmath.quad(
            lambda z: mpmath.npdf(z) * mpmath.log1p(mpmath.exp(-B * mpmath.sqrt(2) * z)),
            [0, 1 / B, 10 / B, 1, mpmath.inf],
        )
        lnz = B / mpmath.sqrt(mpmath.pi) + a
        assert abs(r["a"] / a - 1) < mpmath.mpf(10) ** -29
        assert abs(r["lnZ"] / lnz - 1) < mpmath.mpf(10) ** -29
        # V = E[p_2 |h1 - h2|] with p_2 = 1/(1 + e^{beta g}): a 1-D integral as well
        V = 2 * mpmath.quad(
            lambda z: mpmath.npdf(z) * mpmath.sqrt(2) * z / (1 + mpmath.exp(B * mpmath.sqrt(2) * z)),
            [0, 1 / B, 10 / B, 1, mpmath.inf],
        )
        assert abs(r["V"] / V - 1) < mpmath.mpf(10) ** -29


def test_high_temperature_taylor_limit():
    # <ln Z> = ln n + beta^2 (1 - 1/n)/2 + O(beta^4) (even in beta); purity -> 1/n + O(beta^2)
    n, beta = 4, mpmath.mpf("1e-3")
    r = _mp(n, beta, 30)
    with mpmath.workdps(40):
        lead = beta**2 * (1 - mpmath.mpf(1) / n) / 2
        dev = r["lnZ"] - mpmath.log(n) - lead
        assert abs(dev) < 2 * beta**4
        assert abs(r["purity"] - mpmath.mpf(1) / n) < 2 * beta**2


def test_public_functions_digits_routing():
    v = stat_mech.log_partition_mean(2, 1.0)
    assert isinstance(v, float) and v == stat_mech.thermodynamics(2, 1.0)["lnZ"]
    m = stat_mech.log_partition_mean(2, 1.0, digits=30)
    assert isinstance(m, mpmath.mpf)
    assert abs(m - v) < 1e-14
    assert _rel(m, _mp(2, 1.0, 30)["lnZ"]) < 1e-29
    th = stat_mech.thermodynamics(3, 2.0, digits=20)
    with mpmath.workdps(30):
        assert abs(th["U"] + 2 * (1 - th["purity"])) < 1e-19  # Stein: U = -beta (1 - purity)
        assert abs(th["F"] + th["lnZ"] / 2) < 1e-19
    for f in (
        stat_mech.free_energy,
        stat_mech.internal_energy,
        stat_mech.purity_mean,
        stat_mech.mean_entropy,
    ):
        x = f(2, 0.5, digits=15)
        assert isinstance(x, mpmath.mpf) and abs(x - f(2, 0.5)) < 1e-13 * max(1.0, abs(f(2, 0.5)))
    L = stat_mech.peaked_loss(2, 1.0, 3.0, digits=20)
    assert abs(L - stat_mech.peaked_loss(2, 1.0, 3.0)) < 1e-13
    assert stat_mech.peaked_loss(2, 3.0, 3.0, digits=20) == 0


@pytest.mark.parametrize("digits", [3, 2.5, True, "30", 10**6])
def test_bad_digits(digits):
    with pytest.raises(InvalidInputError):
        gap_thermodynamics_mp(2, 1.0, digits)
    with pytest.raises(InvalidInputError):
        stat_mech.log_partition_mean(2, 1.0, digits=digits)
    with pytest.raises(InvalidInputError):
        stat_mech.peaked_loss(2, 1.0, 3.0, digits=digits)


@pytest.mark.parametrize("bad", [0, -1.0, math.inf])
def test_bad_beta(bad):
    with pytest.raises(InvalidInputError):
        gap_thermodynamics_mp(2, bad, 20)
