"""Local reduction of the closure expectations near the teacher's decision boundaries.

Write the margins of the winning class against the others as ``v_j = u_j + a_j`` with layer
variables ``u_j = D (y_c - y_j) >= 0`` and noise differences ``a_j = sqrt(Delta)(xi_c - xi_j)``.  Every
closure integrand ``F`` (drift, restoring, noise, eps_g, loss; :data:`QUANTITIES`) vanishes when all
margins are infinite.  Setting the margins outside a set ``T`` to infinity defines ``F_T``; the Moebius
inversion ``F = sum_{S != {}} F^conn_S`` with ``F^conn_S = sum_{T subset S} (-1)^{|S|-|T|} F_T`` is an
*exact* decomposition, and ``F^conn_S`` decays as soon as any margin in ``S`` grows.  Hence ::

    E[F] = sum_m binom(K-1, m) D^-m int_{R_+^m} rho_m(u/D) E_a F^conn_m(u + a) du

with ``rho_m`` the joint density of ``m`` labelled gaps (:mod:`asymptotics.asymptotic.gap_density`).
``m = 1`` is the local binary problem (two classes, margin ``u + sqrt(2 Delta) zeta``); ``m = 2`` is the
three-class junction, suppressed by one more power of ``1/D``; ``m = 3`` by two, and so on.  Far from the
boundaries (all ``u_j`` large) the integrands are exponentially small in ``D``.

This module provides the local integrands (numpy, float64) and the three-class junction moments ::

    J_alpha[F](Delta) = int_{R_+^2} u_k^alpha_k u_l^alpha_l E_a F^conn_{kl}(u + a) du,

with ``(a_k, a_l) ~ N(0, Delta [[2, 1], [1, 2]])``, computed after the swap ``v = u + a`` as
``int F^conn(v) W_alpha(v) dv`` where ``W_alpha(v) = E[(v_k - a_k)_+^alpha_k (v_l - a_l)_+^alpha_l]``.
The drift carries an explicit ``u`` (``y_c - y_j = u_j/D``) and uses ``W_{alpha + e_j}``.  Accuracy: tensor
Gauss-Legendre on panels, absolute error about 1e-12 (checked against the closed form
:func:`junction_error_closed_form` and by doubling the nodes).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp
from scipy.special import expit, ndtr

from asymptotics.asymptotic.layer_integrals import QUANTITIES
from asymptotics.validation import InvalidInputError, check_positive

__all__ = [
    "binary_local_function",
    "three_class_connected",
    "junction_moment",
    "junction_error_closed_form",
    "junction_error_closed_form_sympy",
]


def _sig(x):
    return expit(x)


def binary_local_function(name: str, v, u=None):
    """Local binary integrand of ``name`` at margin ``v`` (``u`` = layer variable, needed for drift).

    >>> float(binary_local_function("loss", 0.0))   # log 2
    0.6931471805599453
    """
    v = np.asarray(v, dtype=float)
    if name == "drift":
        return np.asarray(u, dtype=float) * _sig(-v)
    if name == "restoring":
        return 2 * _sig(v) * _sig(-v)
    if name == "noise":
        return 2 * _sig(-v) ** 2
    if name == "eps_g":
        return (v < 0).astype(float)
    if name == "loss":
        return np.logaddexp(0.0, -v)
    raise InvalidInputError(f"unknown quantity {name!r}; expected one of {', '.join(QUANTITIES)}")


def _softmax3(vk, vl):
    # logits relative to the winner: 0, -vk, -vl
    m = np.maximum(0.0, np.maximum(-vk, -vl))
    ec, ek, el = np.exp(-m), np.exp(-vk - m), np.exp(-vl - m)
    z = ec + ek + el
    return ec / z, ek / z, el / z


def three_class_connected(name: str, vk, vl):
    """Connected three-class integrand ``F_{kl} - F_k - F_l`` at margins ``(vk, vl)``.

    For ``drift`` returns the pair ``(p_k - sigma(-v_k), p_l - sigma(-v_l))`` that multiplies
    ``(u_k, u_l)``.  For ``eps_g`` it is ``-1[v_k < 0] 1[v_l < 0]``.

    >>> abs(float(three_class_connected("loss", 50.0, 0.3))) < 1e-20   # decays when one margin is large
    True
    """
    vk = np.asarray(vk, dtype=float)
    vl = np.asarray(vl, dtype=float)
    if name == "eps_g":
        return -((vk < 0) & (vl < 0)).astype(float)
    if name == "loss":
        return np.logaddexp(np.logaddexp(0.0, -vk), -vl) - np.logaddexp(0.0, -vk) - np.logaddexp(0.0, -vl)
    pc, pk, pl = _softmax3(vk, vl)
    if name == "drift":
        return pk - _sig(-vk), pl - _sig(-vl)
    if name == "restoring":
        full = pc * (1 - pc) + pk * (1 - pk) + pl * (1 - pl)
        return full - binary_local_function("restoring", vk) - binary_local_function("restoring", vl)
    if name == "noise":
        full = (1 - pc) ** 2 + pk**2 + pl**2
        return full - binary_local_function("noise", vk) - binary_local_function("noise", vl)
    raise InvalidInputError(f"unknown quantity {name!r}; expected one of {', '.join(QUANTITIES)}")


def _partial_moment_1d(n: int, v, var):
    """E[(v - a)_+^n], a ~ N(0, var), vectorised."""
    sd = math.sqrt(var)
    x = v / sd
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    cdf = ndtr(x)
    M = [cdf, -pdf]
    for k in range(2, n + 1):
        M.append(-(x ** (k - 1)) * pdf + (k - 1) * M[k - 2])
    return sum(math.comb(n, k) * v ** (n - k) * (-sd) ** k * M[k] for k in range(n + 1))


def _panels(breaks, nodes):
    x, w = np.polynomial.legendre.leggauss(nodes)
    xs, ws = [], []
    for a, b in zip(breaks[:-1], breaks[1:]):
        xs.append(0.5 * (b - a) * x + 0.5 * (b + a))
        ws.append(0.5 * (b - a) * w)
    return np.concatenate(xs), np.concatenate(ws)


@functools.lru_cache(maxsize=256)
def _weight_grid_cached(alpha, Delta, nodes):
    v, _ = _grid(Delta, nodes)
    return _weight_grid(alpha, Delta, v, v, 3 * nodes)


def _grid(Delta, nodes):
    s1 = math.sqrt(2 * Delta)
    lo = -11.0 * s1 - 0.5
    breaks = [lo, lo / 2, lo / 4, 0.0, 0.5, 1.5, 3.0, 5.0, 8.0, 12.0, 18.0, 26.0, 36.0, 50.0]
    return _panels(breaks, nodes)


def _weight_grid(alpha, Delta, vk, vl, nz):
    """W_alpha(v_k, v_l) on the tensor grid (shape len(vk) x len(vl))."""
    ak, al = alpha
    s1 = math.sqrt(2 * Delta)
    out = np.zeros((len(vk), len(vl)))
    xg, wg = np.polynomial.legendre.leggauss(nz)
    for i, v in enumerate(vk):
        top = v / s1
        bottom = min(-14.0, top - 1.0)
        if top <= -14.0:
            continue
        # integrate z1 over [bottom, top] in two panels (density concentrated near 0)
        zs, ws = [], []
        for a, b in ((bottom, min(top, 0.0)), (min(top, 0.0), top)):
            if b > a:
                zs.append(0.5 * (b - a) * xg + 0.5 * (a + b))
                ws.append(0.5 * (b - a) * wg)
        z = np.concatenate(zs)
        w = np.concatenate(ws) * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        a_k = s1 * z
        fk = (v - a_k) ** ak * w  # (nz,)
        inner = _partial_moment_1d(al, vl[None, :] - 0.5 * a_k[:, None], 1.5 * Delta)  # (nz, nl)
        out[i] = fk @ inner
    return out


@functools.lru_cache(maxsize=2048)
def _junction_cached(name: str, alpha: tuple, Delta: float, nodes: int):
    v, w = _grid(Delta, nodes)
    VK, VL = np.meshgrid(v, v, indexing="ij")
    ww = np.outer(w, w)
    if name == "drift":
        gk, gl = three_class_connected("drift", VK, VL)
        Wk = _weight_grid_cached((alpha[0] + 1, alpha[1]), Delta, nodes)
        Wl = _weight_grid_cached((alpha[0], alpha[1] + 1), Delta, nodes)
        return float(np.sum(ww * (gk * Wk + gl * Wl)))
    G = three_class_connected(name, VK, VL)
    W = _weight_grid_cached(alpha, Delta, nodes)
    return float(np.sum(ww * G * W))


def junction_moment(name: str, alpha, Delta, *, nodes: int = 16) -> float:
    """Three-class junction moment ``J_alpha[name](Delta)`` (float64, absolute error ~1e-12).

    ``alpha = (alpha_k, alpha_l)`` are the powers of the two layer variables.

    >>> round(junction_moment("eps_g", (0, 0), 0.25), 10) == round(junction_error_closed_form(0.25), 10)
    True
    """
    if name not in QUANTITIES:
        raise InvalidInputError(f"unknown quantity {name!r}; expected one of {', '.join(QUANTITIES)}")
    alpha = tuple(int(a) for a in alpha)
    if len(alpha) != 2 or min(alpha) < 0:
        raise InvalidInputError(f"alpha must be two integers >= 0, got {alpha!r}")
    check_positive("Delta", Delta)
    return _junction_cached(name, tuple(sorted(alpha)), float(Delta), int(nodes))


def junction_error_closed_form(Delta) -> float:
    """``J_0[eps_g] = -E[(-a_k)_+ (-a_l)_+] = -2 Delta (1/6 + sqrt(3)/(4 pi))`` (exact).

    From ``E[X_+ Y_+] = r (1/4 + asin(r)/(2 pi)) + sqrt(1 - r^2)/(2 pi)`` for standard normals with
    correlation ``r = 1/2``.

    >>> round(junction_error_closed_form(0.5), 12)
    -0.304498890522
    """
    return float(junction_error_closed_form_sympy().subs(sp.Symbol("Delta", positive=True), Delta))


def junction_error_closed_form_sympy() -> sp.Expr:
    """SymPy form of the three-class junction error integral (see :func:`junction_error_closed_form`).

    >>> junction_error_closed_form_sympy()
    -Delta/3 - sqrt(3)*Delta/(2*pi)
    """
    Delta = sp.Symbol("Delta", positive=True)
    r = sp.Rational(1, 2)
    e_pp = r * (sp.Rational(1, 4) + sp.asin(r) / (2 * sp.pi)) + sp.sqrt(1 - r**2) / (2 * sp.pi)
    return sp.simplify(-2 * Delta * e_pp)
