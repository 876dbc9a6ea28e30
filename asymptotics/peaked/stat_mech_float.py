"""Fast float64 statistical mechanics of n i.i.d. Gaussian logits, written in the gap variables.

Condition on the largest logit ``M = y`` (density ``n phi(y) Phi(y)^(n-1)``); the other n-1 logits are
then i.i.d. below y, with gaps ``g_j = y - h_j > 0``.  With ``S = sum_j exp(-beta g_j)`` and the
Laplace representations ``ln(1+S) = int (e^-t - e^-t(1+S)) dt/t``, ``1/(1+S) = int e^-t(1+S) dt``::

    a(beta) = <ln Z> - beta c0 = E ln(1 + S)
            = int dr e^-t n int dy phi(y) [Phi(y)^(n-1) - K0(y,t)^(n-1)]           (t = e^r)
    V(beta) = c0 + U(beta) = E[sum_j p_j g_j]
            = n (n-1) int dr t e^-t int dy phi(y) K1(y,t) K0(y,t)^(n-2)
    <sum p^2> = int dr t^2 e^-t n int dy phi(y) [K0^(n-1) + (n-1) K2 K0^(n-2)]

with ``K0 = Phi(y) - int_0^inf phi(y-g) (1 - exp(-t e^{-beta g})) dg`` and
``K_j = int_0^inf phi(y-g) g^[j=1] e^{-j beta g} exp(-t e^{-beta g}) dg`` (j = 1: weight g; j = 2: no g).
Here ``c0 = E[max h]``.  Every integrand is positive: the small quantities a ~ c2/beta and
V ~ c2/beta^2 of the low-temperature regime come out to full relative precision, with no
cancellation.  The inner g-integral is a matrix product (Gauss-Legendre panels on the scale
min(1, 1/beta)), so one call costs a few milliseconds for any n.

Accuracy: ~1e-13 relative for a, V and the purity, for n from 2 to 10^5 and beta from 1e-3 to 1e6
(checked against tensor Gauss-Hermite quadrature, a one-dimensional reduction for n = 2, and a
run at higher quadrature order).

>>> r = gap_thermodynamics(2, 1.0)
>>> round(r["a"] + 1.0 / 3.141592653589793 ** 0.5, 12)  # <ln Z> for n = 2, beta = 1
0.90266190772
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.special import log_ndtr, ndtr

from asymptotics.validation import check_num_classes, check_positive

__all__ = ["gap_thermodynamics", "gauss_legendre_panels"]

_LOG_TINY = math.log(1e-19)


def gauss_legendre_panels(edges, order: int = 12):
    """Nodes and weights of composite Gauss-Legendre quadrature on consecutive panels ``edges``.

    Exact for polynomials of degree ``2 order - 1`` on each panel.

    >>> x, w = gauss_legendre_panels([0.0, 1.0, 2.0], 4)
    >>> round(float(np.sum(w * x ** 2)), 12)
    2.666666666667
    """
    edges = np.asarray(edges, dtype=float)
    t, wt = np.polynomial.legendre.leggauss(order)
    a, b = edges[:-1, None], edges[1:, None]
    x = (0.5 * (b - a) * t + 0.5 * (b + a)).ravel()
    w = (0.5 * (b - a) * wt).ravel()
    return x, w


def _panels(lo, hi, width):
    k = max(1, int(math.ceil((hi - lo) / width)))
    return np.linspace(lo, hi, k + 1)


@lru_cache(maxsize=64)
def _y_range(n: int):
    """Interval outside which n phi(y) Phi(y)^(n-1) < 1e-19."""

    def logw(y):
        return math.log(n) - 0.5 * y * y - 0.5 * math.log(2 * math.pi) + (n - 1) * float(log_ndtr(y))

    hi = math.sqrt(2 * (math.log(n) - _LOG_TINY)) + 0.5
    lo = -hi
    # move lo up while the weight is negligible
    step = 0.05
    while logw(lo + step) < _LOG_TINY and lo + step < hi:
        lo += step
    return lo, hi


@lru_cache(maxsize=8)
def _r_nodes():
    edges = np.concatenate([np.arange(-38.0, -10.0, 4.0), np.arange(-10.0, 3.8, 1.0), [3.8]])
    return gauss_legendre_panels(edges, 12)


def _g_nodes(beta: float, y_hi: float):
    if beta >= 1.0:
        wmax = 46.0
        xw, ww = gauss_legendre_panels(_panels(0.0, wmax, min(2.0, beta)), 10)
        g, wg = xw / beta, ww / beta
        keep = g < y_hi + 10.0
        return g[keep], wg[keep]
    return gauss_legendre_panels(_panels(0.0, y_hi + 10.0, 1.0), 10)


def gap_thermodynamics(n: int, beta: float) -> dict:
    """Float64 ``a = <ln Z> - beta E[max]``, ``V = E[sum p_j (max - h_j)] = U + E[max]``, ``purity``.

    Also returns ``entropy = a + beta V`` (mean softmax entropy).  Relative accuracy ~1e-13.

    >>> r = gap_thermodynamics(3, 2.0)
    >>> round(r["entropy"], 10)
    0.6040276281
    """
    n = check_num_classes(n)
    beta = float(check_positive("beta", beta))
    y_lo, y_hi = _y_range(n)
    y, wy = gauss_legendre_panels(_panels(y_lo, y_hi, 0.5 / max(1.0, math.sqrt(math.log(n)) / 1.5)), 10)
    r, wr = _r_nodes()
    t = np.exp(r)
    g, wg = _g_nodes(beta, y_hi)
    bg = beta * g
    # kernels on (g, t)
    e1 = np.exp(-bg)[:, None]
    arg = t[None, :] * e1
    d0_kernel = -np.expm1(-arg)
    k1_kernel = g[:, None] * e1 * np.exp(-arg)
    k2_kernel = e1 * e1 * np.exp(-arg)
    phi_yg = np.exp(-0.5 * (y[:, None] - g[None, :]) ** 2) / math.sqrt(2 * math.pi) * wg[None, :]
    for arr in (d0_kernel, k1_kernel, k2_kernel, phi_yg):  # no subnormal numbers in the products
        arr[arr < 1e-150] = 0.0
    nt = t.size
    prod = phi_yg @ np.hstack([d0_kernel, k1_kernel, k2_kernel])
    D0, K1, K2 = prod[:, :nt], prod[:, nt : 2 * nt], prod[:, 2 * nt :]
    Phi = ndtr(y)[:, None]
    log_Phi = log_ndtr(y)[:, None]
    ratio = np.clip(D0 / Phi, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        l1p = np.log1p(-ratio)
    phi_y = (np.exp(-0.5 * y * y) / math.sqrt(2 * math.pi) * wy)[:, None]
    # a(beta)
    inner_a = np.exp((n - 1) * log_Phi) * (-np.expm1((n - 1) * l1p))
    a = n * float(np.sum(wr * np.exp(-t) * np.sum(phi_y * inner_a, axis=0)))
    # K0^(n-2) = Phi^(n-2) (1 - D0/Phi)^(n-2)
    K0p = np.exp((n - 2) * (log_Phi + l1p)) if n > 2 else np.ones_like(D0)
    inner_V = K1 * K0p
    V = n * (n - 1) * float(np.sum(wr * t * np.exp(-t) * np.sum(phi_y * inner_V, axis=0)))
    K0n1 = np.exp((n - 1) * (log_Phi + l1p))
    inner_p = K0n1 + (n - 1) * K2 * K0p
    purity = n * float(np.sum(wr * t * t * np.exp(-t) * np.sum(phi_y * inner_p, axis=0)))
    return {"a": a, "V": V, "purity": purity, "entropy": a + beta * V}
