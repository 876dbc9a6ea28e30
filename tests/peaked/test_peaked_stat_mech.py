"""Exact i.i.d. statistical mechanics against independent methods."""

import math

import mpmath
import numpy as np
import pytest

from asymptotics.peaked.monte_carlo import iid_logits, monte_carlo_thermodynamics
from asymptotics.peaked.stat_mech import peaked_loss, thermodynamics
from asymptotics.peaked.stat_mech_float import gap_thermodynamics
from asymptotics.validation import InvalidInputError


def _gauss_hermite(n, beta, N=100):
    """Tensor Gauss-Hermite quadrature of the n-dimensional Gaussian average (n = 2, 3)."""
    x, w = np.polynomial.hermite_e.hermegauss(N)
    w = w / math.sqrt(2 * math.pi)
    grids = np.meshgrid(*([x] * n), indexing="ij")
    W = np.ones_like(grids[0])
    for g in np.meshgrid(*([w] * n), indexing="ij"):
        W = W * g
    H = np.stack(grids, -1)
    z = beta * H
    m = z.max(-1, keepdims=True)
    e = np.exp(z - m)
    lnz = m[..., 0] + np.log(e.sum(-1))
    p = e / e.sum(-1, keepdims=True)
    return {
        "lnZ": float((W * lnz).sum()),
        "purity": float((W * (p * p).sum(-1)).sum()),
        "entropy": float((W * (-(p * np.log(p)).sum(-1))).sum()),
        "U": float((W * (-(p * H).sum(-1))).sum()),
    }


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("beta", [0.3, 1.0, 2.0])
def test_small_n_against_tensor_quadrature(n, beta):
    ref = _gauss_hermite(n, beta, 200 if n == 2 else 100)
    got = thermodynamics(n, beta)
    for key in ("lnZ", "purity", "entropy", "U"):
        assert abs(got[key] - ref[key]) < 1e-12, (key, got[key], ref[key])


def _ln_z_n2(beta, dps):
    """n = 2: <ln Z> - beta/sqrt(pi) = 2 int_0^inf N(0,2)(d) ln(1 + e^{-beta d}) dd (1-D, mpmath)."""
    with mpmath.workdps(dps):
        b = mpmath.mpf(beta)
        f = lambda d: mpmath.exp(-d * d / 4) / mpmath.sqrt(4 * mpmath.pi) * mpmath.log1p(mpmath.exp(-b * d))
        if b < 1:
            return 2 * mpmath.quad(f, [0, 1, 5, 40])
        g = lambda x: f(x / b) / b  # d = x / beta
        return 2 * mpmath.quad(g, [0, 2, 8, 30, 80])


@pytest.mark.parametrize("beta", [1e-3, 0.5, 7.0, 300.0, 1e5])
def test_n2_one_dimensional_reduction_all_temperatures(beta):
    a_ref = float(_ln_z_n2(beta, 30))
    a = gap_thermodynamics(2, beta)["a"]
    assert abs(a / a_ref - 1) < 1e-12  # relative accuracy of the small excess a = <ln Z> - beta c0


@pytest.mark.parametrize(
    "n,beta,samples", [(128, 3.0, 40000), (128, 50.0, 40000), (32000, 3.0, 600), (32000, 50.0, 600)]
)
def test_large_n_against_monte_carlo(n, beta, samples):
    ex = thermodynamics(n, beta)
    mc = monte_carlo_thermodynamics(iid_logits(n, samples, seed=n + int(beta)), beta)
    for key in ("lnZ", "entropy", "U", "purity"):
        mean, err = mc[key]
        assert abs(ex[key] - mean) < 4.5 * err + 1e-12, (key, ex[key], mean, err)


def test_stein_identity_and_loss_forms_agree():
    # U from V (gap form) versus U = -beta (1 - <sum p^2>) (Stein) -- two independent integrals
    for n, beta in [(5, 0.7), (64, 12.0), (1000, 400.0)]:
        r = thermodynamics(n, beta)
        assert abs(r["U"] + beta * (1 - r["purity"])) < 1e-12 * max(1.0, beta)
    # L(beta) from the stat-mech formula versus its definition U*(b - b*) + b* F* - b F
    n, b, bs = 7, 2.0, 9.0
    r, rs = thermodynamics(n, b), thermodynamics(n, bs)
    direct = rs["U"] * (b - bs) + bs * rs["F"] - b * r["F"]
    assert abs(peaked_loss(n, b, bs) - direct) < 1e-12


def test_bad_input():
    with pytest.raises(InvalidInputError):
        thermodynamics(1, 1.0)
    with pytest.raises(InvalidInputError):
        gap_thermodynamics(3, -1.0)
