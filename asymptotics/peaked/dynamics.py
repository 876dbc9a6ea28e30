"""Aligned-student gradient flow ``d beta/d tau = (V(beta) - V(beta*))/(n - 1)`` and its loss curve.

``V(beta) = U(beta) + E[max h] = E[sum_j p_j (max h - h_j)]`` (see
:mod:`asymptotics.peaked.stat_mech_float`), so ``V(beta) - V(beta*) = U(beta) - U(beta*) = -dL/dbeta``;
the prefactor ``1/(n-1)`` is the projection of the full gradient flow derived in
:mod:`asymptotics.peaked.model`.  The loss is ``L(beta) = int_beta^beta* (V(b) - V(beta*)) db``
(positive integrand, no cancellation), and the local slope of the loss curve is exact along the
solution::

    d ln L / d ln tau = -tau (V(beta) - V(beta*))^2 / ((n - 1) L).

Numerics: ``V`` is tabulated on a logarithmic beta grid (10 points per decade, float64 values
accurate to ~1e-15) and interpolated by a cubic spline in (ln beta, ln V) (relative interpolation
error < 1e-8); the ODE is integrated in ``(ln tau, ln beta)`` with DOP853 at ``rtol = 1e-11``;
dense output is used for the curve.  Overall relative accuracy of L(tau) ~1e-7 while
``(beta* - beta)/beta* > 1e-3``.

>>> curve = integrate_aligned_flow(8, 20.0, tau_max=1e4, table_points_per_decade=3)
>>> bool(curve.loss[-1] < curve.loss[0])
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.integrate import solve_ivp
from scipy.interpolate import CubicSpline

from asymptotics.peaked.stat_mech_float import gap_thermodynamics, gauss_legendre_panels
from asymptotics.validation import (
    IntegrationError,
    InvalidInputError,
    check_num_classes,
    check_positive,
)

__all__ = ["GapTable", "gap_table", "AlignedCurve", "integrate_aligned_flow"]

_BETA_MIN = 1e-3


@dataclass(frozen=True)
class GapTable:
    """Spline of ``V(beta)`` and ``a(beta) = <ln Z> - beta E[max]`` for one n on [1e-3, beta_max]."""

    n: int
    beta_max: float
    log_beta: np.ndarray
    log_V: np.ndarray
    log_a: np.ndarray
    _sV: CubicSpline = field(repr=False, compare=False, default=None)
    _sa: CubicSpline = field(repr=False, compare=False, default=None)

    def V(self, beta):
        """``V(beta) = E[sum p_j g_j]`` (relative accuracy ~1e-8 from the spline)."""
        lb = np.log(np.maximum(np.asarray(beta, dtype=float), _BETA_MIN))
        return np.exp(self._sV(lb))

    def a(self, beta):
        """``a(beta) = <ln Z> - beta E[max h]``."""
        lb = np.log(np.maximum(np.asarray(beta, dtype=float), _BETA_MIN))
        return np.exp(self._sa(lb))

    def loss(self, beta, beta_star: float):
        """``L(beta) = int_beta^beta* (V(b) - V(beta*)) db`` for an array of beta <= beta*."""
        beta = np.atleast_1d(np.asarray(beta, dtype=float))
        Vs = float(self.V(beta_star))
        out = np.empty_like(beta)
        for i, b in enumerate(beta):
            lo, hi = math.log(max(b, 1e-300)), math.log(beta_star)
            if hi <= lo:
                out[i] = 0.0
                continue
            x, w = gauss_legendre_panels(np.linspace(lo, hi, max(2, int((hi - lo) / 0.25) + 2)), 8)
            bb = np.exp(x)
            out[i] = float(np.sum(w * bb * (self.V(bb) - Vs)))
        return out


@lru_cache(maxsize=16)
def gap_table(n: int, decades_above_one: int = 4, points_per_decade: int = 10) -> GapTable:
    """Tabulate V and a for n i.i.d. logits on beta in [1e-3, 10^decades_above_one] (cached).

    >>> tab = gap_table(2, 1, 6)
    >>> round(float(tab.V(5.0)), 7)
    0.0173963
    """
    n = check_num_classes(n)
    k = int(round((decades_above_one + 3) * points_per_decade)) + 1
    lb = np.linspace(math.log(_BETA_MIN), decades_above_one * math.log(10.0) + 0.05, k)
    vals = [gap_thermodynamics(n, math.exp(x)) for x in lb]
    lV = np.log([v["V"] for v in vals])
    la = np.log([v["a"] for v in vals])
    tab = GapTable(n, math.exp(lb[-1]), lb, lV, la)
    object.__setattr__(tab, "_sV", CubicSpline(lb, lV))
    object.__setattr__(tab, "_sa", CubicSpline(lb, la))
    return tab


@dataclass
class AlignedCurve:
    """Solution of the aligned flow on a log grid of tau: ``beta``, ``loss``, exact ``slope``."""

    n: int
    beta_star: float
    tau: np.ndarray
    beta: np.ndarray
    loss: np.ndarray
    slope: np.ndarray
    prefactor: float
    dense: object = field(repr=False, default=None)

    def loss_at(self, tau):
        """L at arbitrary tau inside the integrated range (dense output)."""
        lt = np.log(np.atleast_1d(np.asarray(tau, dtype=float)))
        beta = np.exp(self.dense(lt)[0])
        return self._table.loss(beta, self.beta_star)


def integrate_aligned_flow(
    n: int,
    beta_star: float,
    tau_max: float,
    *,
    tau_min: float | None = None,
    points_per_decade: int = 10,
    prefactor: float | None = None,
    rtol: float = 1e-11,
    table_points_per_decade: int = 10,
) -> AlignedCurve:
    """Integrate ``d beta/d tau = prefactor (V(beta) - V(beta*))``, beta(0) = 0 (zero-initialised student).

    ``prefactor`` defaults to ``1/(n-1)``; ``table_points_per_decade`` sets the beta grid of V (10:
    relative interpolation error < 1e-5; 3: ~1e-3, for quick looks).  The output grid runs from ``tau_min`` (default: where
    beta ~ 1e-3) to ``tau_max`` (or to where beta is within 1e-6 relative of beta*).

    >>> c = integrate_aligned_flow(2, 5.0, 1e3, points_per_decade=2, table_points_per_decade=3)
    >>> bool(4.0 < c.beta[-1] < 5.0)
    True
    """
    n = check_num_classes(n)
    check_positive("beta_star", beta_star)
    check_positive("tau_max", tau_max)
    beta_star = float(beta_star)
    if not 10 * _BETA_MIN <= beta_star <= 1e7:
        raise InvalidInputError(
            f"beta_star must lie in [{10 * _BETA_MIN:g}, 1e7] (the table of V starts at "
            f"beta = {_BETA_MIN:g}), got {beta_star}"
        )
    decades = max(1, int(math.ceil(math.log10(beta_star) + 0.1)))
    tab = gap_table(n, decades, int(table_points_per_decade))
    pref = 1.0 / (n - 1) if prefactor is None else float(check_positive("prefactor", prefactor))
    Vs = float(tab.V(beta_star))
    V0 = float(tab.V(_BETA_MIN))
    if tau_min is None:
        tau_min = _BETA_MIN / (pref * (V0 - Vs))
    tau_min = float(check_positive("tau_min", tau_min))
    if tau_max <= tau_min:
        raise InvalidInputError(f"tau_max ({tau_max}) must exceed tau_min ({tau_min:.3g})")
    tau0 = tau_min * 1e-3
    beta0 = pref * (V0 - Vs) * tau0

    log_beta_star = math.log(beta_star)

    def rhs(x, y):
        # safe on any trial state the stepper proposes: beyond beta* the flow is at rest
        # (V(beta*) - V(beta*) = 0), so ln beta is clipped to ln beta* before exponentiating
        lb = float(y[0])
        if not math.isfinite(lb) or lb >= log_beta_star:
            return [0.0]
        tau, beta = math.exp(min(x, 700.0)), math.exp(max(lb, -700.0))
        return [tau * pref * (float(tab.V(beta)) - Vs) / beta]

    def near_saturation(x, y):
        return (beta_star - math.exp(min(float(y[0]), log_beta_star))) / beta_star - 1e-6

    near_saturation.terminal = True

    sol = solve_ivp(
        rhs,
        (math.log(tau0), math.log(tau_max)),
        [math.log(beta0)],
        method="DOP853",
        rtol=rtol,
        atol=1e-13,
        dense_output=True,
        events=near_saturation,
    )
    if sol.status < 0:
        raise IntegrationError(f"aligned flow failed at ln tau = {sol.t[-1]:.3g}: {sol.message}")
    x_end = sol.t[-1]
    k = max(2, int(round((x_end - math.log(tau_min)) / math.log(10) * points_per_decade)) + 1)
    x = np.linspace(math.log(tau_min), x_end, k)
    beta = np.exp(sol.sol(x)[0])
    loss = tab.loss(beta, beta_star)
    dV = tab.V(np.minimum(beta, beta_star)) - Vs
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = -np.exp(x) * pref * dV**2 / loss
    curve = AlignedCurve(n, beta_star, np.exp(x), beta, loss, slope, pref, sol.sol)
    curve._table = tab
    return curve
