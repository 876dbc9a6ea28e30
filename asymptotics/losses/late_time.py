r"""Late-time series of any boundary-layer loss at fixed eta: leading laws and their first corrections.

The 1/D expansion of :mod:`asymptotics.asymptotic.expansion` holds for any loss whose error signal vanishes
exponentially away from the boundaries (:func:`asymptotics.losses.layer.require_boundary_layer`); only the
local functions change.  With ``q^(j)(0)`` the labelled-gap density derivatives and ``rho2_00`` the joint
density of two labelled gaps at 0 (:mod:`asymptotics.asymptotic.gap_density`)::

    c^Q_0 = q(0) I_0[Q]
    c^Q_1 = q'(0) I_1[Q] + binom(K-1, 2) rho2_00 J_00[Q]           (K >= 3; 0 for K = 2)
    c^Q_2 = q''(0)/2 I_2[Q]                                          (K = 2: no junctions)

with the loss's binary layer moments ``I_j`` (:func:`asymptotics.losses.layer.layer_moment`) and its
three-class junction moments ``J_00[Q] = int_{R_+^2} E Q^conn(u + a) du`` (:func:`junction_moment`): the
connected part ``Q_3(v_k, v_l) - Q_2(v_k) - Q_2(v_l)`` of the loss's own K = 3 and K = 2 integrands
(for the drift, ``u_k`` and ``u_l`` multiply the connected error signals).  The series in
``t = 1/x``, ``x = (3 kappa g_0 alpha)^(1/3)``, ``kappa = eta/(K-1)`` follows by the steps of
:mod:`asymptotics.asymptotic.late_time` (slaving ``Delta = Delta* + s_1/D + ...``, drift on the manifold,
quadrature, inversion), truncated at the order the coefficients allow: relative order 1 for ``K >= 3``
(``a_1 t``), relative order 2 for ``K = 2`` (odd orders vanish; ``a_2 t^2``).  No logarithm or
initial-condition constant enters at these orders.

Accuracy: float64 throughout (the leading constants to any precision are
:func:`asymptotics.losses.layer.leading_constants`); the correction coefficients (junction moments by tensor Gauss-Legendre, ~1e-12 absolute,
checked against :func:`asymptotics.asymptotic.junctions.junction_moment` for cross-entropy).

>>> from asymptotics.losses import get_loss
>>> s = loss_late_time_series(get_loss("cross_entropy"), 3, 1.0)
>>> round(s["relative_corrections"]["eps_g"]["a1"], 6) == round(float(
...     __import__("asymptotics.asymptotic.late_time", fromlist=["x"]).late_time_series(3, 1.0, 1).coefficients["eps_g"][1]), 6)
True
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np

from asymptotics.losses.layer import (
    _check_eta,
    _moment_float,
    leading_constants_float,
    require_boundary_layer,
)
from asymptotics.losses.registry import get_loss
from asymptotics.validation import InvalidInputError, check_num_classes, check_positive

__all__ = ["junction_moment", "expansion_coefficient", "loss_late_time_series", "SERIES_NAMES"]

SERIES_NAMES = ("drift", "restoring", "noise", "eps_g", "loss", "cross_entropy")
_BASE_INDEX = {"restoring": 1, "noise": 2, "eps_g": 3, "loss": 4, "cross_entropy": 5}


# ----------------------------------------------------------------------------------------------------
# three-class junction moments (float64)
# ----------------------------------------------------------------------------------------------------


def _connected(loss, name, vk, vl):
    from asymptotics.losses.integrands import compiled_loss_split

    f3 = compiled_loss_split(loss, 3, "numpy")
    f2 = compiled_loss_split(loss, 2, "numpy")
    b3, c3 = f3(vk, vl)
    bk, ck = f2(vk)
    bl, cl = f2(vl)
    if name == "drift":
        return c3[0] - ck[0], c3[1] - cl[0]
    if name == "eps_g":
        return -((vk < 0) & (vl < 0)).astype(float)
    i = _BASE_INDEX[name]
    return b3[i] - bk[i] - bl[i]


def _grid(Delta, nodes, scale):
    from asymptotics.asymptotic.local_binary import _panels

    s1 = math.sqrt(2 * Delta)
    lo = -11.0 * s1 - 0.5
    breaks = [lo, lo / 2, lo / 4, 0.0, 0.5, 1.5, 3.0, 5.0, 8.0, 12.0, 18.0, 26.0, 36.0, 50.0]
    breaks = breaks[:4] + [b * scale for b in breaks[4:]]
    return _panels(breaks, nodes)


@functools.lru_cache(maxsize=512)
def _junction_cached(loss, name: str, alpha: tuple, Delta: float, nodes: int) -> float:
    from asymptotics.asymptotic.local_binary import _weight_grid
    from asymptotics.losses.domain import tail_scale

    v, w = _grid(Delta, nodes, tail_scale(loss, 2))
    VK, VL = np.meshgrid(v, v, indexing="ij")
    ww = np.outer(w, w)
    if name == "drift":
        gk, gl = _connected(loss, "drift", VK, VL)
        Wk = _weight_grid((alpha[0] + 1, alpha[1]), Delta, v, v, 3 * nodes)
        Wl = _weight_grid((alpha[0], alpha[1] + 1), Delta, v, v, 3 * nodes)
        return float(np.sum(ww * (gk * Wk + gl * Wl)))
    G = _connected(loss, name, VK, VL)
    W = _weight_grid(alpha, Delta, v, v, 3 * nodes)
    return float(np.sum(ww * G * W))


def junction_moment(loss, name: str, alpha, Delta, *, nodes: int = 16) -> float:
    """Three-class junction moment ``J_alpha[name](Delta)`` of ``loss`` (float64, ~1e-12 absolute).

    >>> from asymptotics.losses import get_loss
    >>> from asymptotics.asymptotic.junctions import junction_moment as ce_junction
    >>> abs(junction_moment(get_loss("cross_entropy"), "noise", (0, 0), 0.25) - float(ce_junction("noise", (0, 0), 0.25))) < 1e-11
    True
    """
    loss = get_loss(loss)
    require_boundary_layer(loss)
    if name not in SERIES_NAMES:
        raise InvalidInputError(f"unknown quantity {name!r}; expected one of {', '.join(SERIES_NAMES)}")
    alpha = tuple(int(a) for a in alpha)
    if len(alpha) != 2 or min(alpha) < 0:
        raise InvalidInputError(f"alpha must be two integers >= 0, got {alpha!r}")
    check_positive("Delta", Delta)
    if not 1e-4 <= float(Delta) <= 100:
        raise InvalidInputError(f"Delta must lie in [1e-4, 100] for the junction moments, got {Delta!r}")
    return _junction_cached(loss, name, tuple(sorted(alpha)), float(Delta), int(nodes))


# ----------------------------------------------------------------------------------------------------
# expansion coefficients and their Delta-derivatives
# ----------------------------------------------------------------------------------------------------


@functools.cache
def _densities(K: int):
    from asymptotics.asymptotic.gap_density import gap_joint_derivative, labelled_gap_density_derivative

    q = [float(labelled_gap_density_derivative(K, j, 20)) for j in range(3)]
    rho2 = float(gap_joint_derivative(K, (0, 0), 20)) if K >= 3 else 0.0
    return q, rho2


def expansion_coefficient(loss, K: int, name: str, j: int, Delta: float, derivative: int = 0) -> float:
    """``d^k/dDelta^k c^name_j(Delta)`` (``k = derivative``) of the 1/D expansion of the moment ``name``.

    Available: ``j = 0`` (any ``k``), ``j = 1`` (``k = 0``; zero for K = 2), ``j = 2`` for K = 2 (any ``k``);
    other orders raise :class:`InvalidInputError` (the four-class junctions and the junction derivatives of
    the generic engine are not implemented).

    >>> from asymptotics.losses import get_loss
    >>> round(expansion_coefficient(get_loss("cross_entropy"), 2, "eps_g", 0, 0.25), 12)   # rho_2(0) sqrt(Delta/pi)
    0.159154943092
    """
    loss = get_loss(loss)
    K = check_num_classes(K)
    if name not in SERIES_NAMES:
        raise InvalidInputError(f"unknown quantity {name!r}")
    q, rho2 = _densities(K)
    fact = math.factorial
    if j == 0 or (K == 2 and j == 2):
        return q[j] / fact(j) * _moment_float(loss, name, j, derivative, float(Delta))
    if j == 1:
        if K == 2:
            return 0.0
        if derivative:
            raise InvalidInputError("Delta-derivatives of the junction terms are not implemented")
        return q[1] * _moment_float(loss, name, 1, 0, float(Delta)) + math.comb(
            K - 1, 2
        ) * rho2 * junction_moment(loss, name, (0, 0), float(Delta))
    if K == 2 and j % 2 == 1:
        return 0.0
    raise InvalidInputError(
        f"expansion coefficient c_{j} (K = {K}) is not available in the loss-generic engine"
    )


def _series_order(K: int) -> int:
    return 2 if K == 2 else 1


@functools.lru_cache(maxsize=256)
def _series_cached(loss, K: int, eta_key: str):
    from fractions import Fraction

    from asymptotics.asymptotic.late_time import _invert_quadrature, _ps_compose, _ps_inverse, _ps_mul

    n = _series_order(K)
    eta_q = Fraction(eta_key)
    lead = leading_constants_float(loss, K, eta_q)
    with mpmath.workdps(25):
        eta = mpmath.mpf(eta_q.numerator) / eta_q.denominator
        d_star = float(lead["Delta_star"])
        tay = {
            name: [
                [
                    mpmath.mpf(expansion_coefficient(loss, K, name, j, d_star, k)) / math.factorial(k)
                    for k in range(n - j + 1)
                ]
                for j in range(n + 1)
            ]
            for name in SERIES_NAMES
        }

        def on_manifold(name, delta, top):
            out = [mpmath.mpf(0)] * (top + 1)
            for j, taylor in enumerate(tay[name][: top + 1]):
                for i, c in enumerate(_ps_compose(taylor, delta, top - j)):
                    out[i + j] += c
            return out

        s = []
        h0p = -2 * tay["restoring"][0][0] - 2 * d_star * tay["restoring"][0][1] + eta * tay["noise"][0][1]
        for i in range(1, n + 1):
            delta = [mpmath.mpf(0)] + s + [mpmath.mpf(0)] * (n + 1 - len(s))
            S = [mpmath.mpf(d_star)] + delta[1:]
            r = on_manifold("restoring", delta, n)
            nz = on_manifold("noise", delta, n)
            H = [-2 * sum(S[a] * r[m - a] for a in range(m + 1)) + eta * nz[m] for m in range(n + 1)]
            G = on_manifold("drift", delta, n)
            dS = [(m + 1) * delta[m + 1] for m in range(n)]
            lhs = [mpmath.mpf(0)] * (n + 2)
            for a, x in enumerate(dS):
                for b_, y in enumerate(G):
                    if a + b_ + 3 <= n + 1:
                        lhs[a + b_ + 3] -= x * y
            s.append(-(H[i] - lhs[i]) / h0p)
        delta = [mpmath.mpf(0)] + s
        kappa = eta / (K - 1)
        g = on_manifold("drift", delta, n)
        kappa_g0 = kappa * g[0]
        inv = _ps_inverse(g, n)
        e = [inv[i] * g[0] for i in range(n + 1)]
        x_scale = mpmath.cbrt(3 * kappa_g0)
        beta = _invert_quadrature(e, kappa_g0, 0, 0, n)  # D = x * beta(t); no log/C below t^3
        ratio = _ps_inverse(beta, n)  # eps/t
        series = {"D": beta}
        for name in ("eps_g", "loss", "cross_entropy", "restoring", "noise"):
            obs_eps = on_manifold(name, delta, n)
            total = [mpmath.mpf(0)] * (n + 1)
            power = ratio[:]
            for i in range(n + 1):
                for m in range(n + 1):
                    total[m] += obs_eps[i] * (power[m - i] if m >= i else 0)
                power = _ps_mul(power, ratio, n)
            series[name] = total
        delta_t = [mpmath.mpf(d_star)] + [mpmath.mpf(0)] * n
        power = [mpmath.mpf(1)] + [mpmath.mpf(0)] * n
        eps_t = [mpmath.mpf(0)] + ratio[:n]
        for i in range(1, n + 1):
            power = _ps_mul(power, eps_t, n)
            for m in range(n + 1):
                delta_t[m] += s[i - 1] * power[m]
        series["Delta"] = delta_t
        rel = {}
        for name, ser in series.items():
            lead_c = ser[0]
            rel[name] = {f"a{i}": float(ser[i] / lead_c * x_scale ** (-i)) for i in range(1, n + 1)}
        prefactor = {
            "D": float(x_scale),
            "eps_g": float(series["eps_g"][0] / x_scale),
            "loss": float(series["loss"][0] / x_scale),
            "cross_entropy": float(series["cross_entropy"][0] / x_scale),
            "Delta": float(delta_t[0]),
        }
    return {
        "lead": lead,
        "slaving": [float(x) for x in s],
        "order": n,
        "prefactor": prefactor,
        "relative_corrections": rel,
        "x_scale": float(x_scale),
        "kappa_g0": float(kappa_g0),
        "drift_on_manifold": [float(x) for x in g],
    }


def loss_late_time_series(loss, K: int, eta) -> dict:
    """Late-time series of ``loss`` at fixed ``eta``: leading laws and the first relative correction.

    Returns ``lead`` (:func:`~asymptotics.losses.layer.leading_constants_float`), ``prefactor`` (of
    ``D alpha^(-1/3)``, ``eps_g alpha^(1/3)``, ``L alpha^(1/3)``, ``CE alpha^(1/3)``, and ``Delta*``) and
    ``relative_corrections[name]`` = ``{"a1": ...}`` (K >= 3) or ``{"a1": 0, "a2": ...}`` (K = 2) with
    ``Q(alpha) = prefactor * alpha^p (1 + a1 alpha^(-1/3) + a2 alpha^(-2/3) + ...)``.  ``K <= 1000``.

    >>> from asymptotics.losses import get_loss
    >>> s = loss_late_time_series(get_loss("brier"), 2, 1.0)
    >>> s["order"], s["relative_corrections"]["eps_g"]["a1"]
    (2, 0.0)
    """
    loss = get_loss(loss)
    require_boundary_layer(loss)
    K = check_num_classes(K, maximum=1000)
    eta_q = _check_eta(eta)
    out = _series_cached(loss, K, f"{eta_q.numerator}/{eta_q.denominator}")
    # relative corrections in powers of alpha^(-1/3): t = alpha^(-1/3)/x_scale is already folded in
    return out
