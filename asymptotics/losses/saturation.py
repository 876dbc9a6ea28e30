r"""The saturated late-time regime of a loss whose error signal does not vanish in the bulk (label smoothing).

Two exact identities of the closure hold for every shift-invariant loss (Stein's lemma in ``y`` and ``xi``):
with the population loss ``L(D, Delta) = E l(D y + sqrt(Delta) xi, c)``::

    drift = -dL/dD,        restoring = 2 dL/dDelta,

so the flow is a noisy gradient flow, ``dD/dalpha = -eta/(K-1) dL/dD``,
``dDelta/dalpha = eta/(K-1) (-4 Delta dL/dDelta + eta noise)``.  For label smoothing the target is not one-hot,
``L(D, 0)`` grows linearly at large ``D`` and has a minimum at a finite ``D_0`` (:func:`zero_noise_optimum`):
``D`` saturates instead of growing like ``alpha^(1/3)``.

**Fixed eta.**  The state tends exponentially fast (rates ``O(eta)``) to the fixed point of the closure,
``drift(D*, Delta*) = 0`` and ``2 Delta* restoring = eta noise`` (:func:`plateau`, solved on the exact
moments): ``eps_g`` plateaus at ``eps_g(D*, Delta*) > 0``.  For small ``eta`` (:func:`small_eta_plateau`)
``Delta* = eta n_0/(2 r_0) + O(eta^2)``, ``D* = D_0 + O(eta)`` with ``r_0, n_0`` the restoring and noise
moments at ``(D_0, 0)``, and ``eps_g* = rho_K(0) sqrt(Delta*/pi)/D_0 (1 + O(sqrt(eta)))`` (small-angle limit of
the error probability, which depends on ``Delta/D^2`` only).

**Decaying schedules** ``eta = eta0 (1 + alpha/alpha0)^(-beta)`` (:func:`saturated_schedule_law`).  For
``beta < 1`` both variables relax on the time scale ``1/eta`` while the schedule changes on ``alpha/beta``
(``eta alpha -> infinity``): the state follows the fixed point adiabatically, ``D -> D_0``,
``Delta ~ eta n_0/(2 r_0)`` and::

    eps_g ~ rho_K(0) sqrt(n_0 eta0 alpha0^beta /(2 pi r_0)) / D_0 * alpha^(-beta/2)     (Delta -> 0 alone)
    L - L(D_0, 0) ~ (r_0/2) Delta ~ n_0 eta0 alpha0^beta/4 * alpha^(-beta)            (the loss saturates)

(corrections relative ``alpha^-beta`` and ``alpha^-(1-beta)``).  At ``beta = 1`` (``eta ~ a/alpha``,
``a = eta0 alpha0``) adiabaticity is marginal: ``Delta = A/alpha`` if ``2 r_0 a/(K-1) > 1``, otherwise the
homogeneous decay ``alpha^(-2 r_0 a/(K-1))`` wins, so ``eps_g ~ alpha^(-min(1/2, r_0 a/(K-1)))``.

>>> from asymptotics.losses import get_loss
>>> o = zero_noise_optimum(get_loss("label_smoothing:eps=0.1"), 2)
>>> round(o["D0"], 6)
2.578879
"""

from __future__ import annotations

import functools
import math

import numpy as np

from asymptotics.losses.registry import get_loss
from asymptotics.validation import IntegrationError, InvalidInputError, check_num_classes, check_positive

__all__ = ["zero_noise_optimum", "plateau", "small_eta_plateau", "saturated_schedule_law"]


def _moments(loss, K, D, Delta):
    from asymptotics.losses.moments import loss_moments

    if K <= 3:
        return loss_moments(loss, K, D, Delta)
    return loss_moments(loss, K, D, Delta, method="qmc", samples=2**17, seed=2026)


@functools.lru_cache(maxsize=64)
def zero_noise_optimum(loss, K: int) -> dict:
    """``D_0 = argmin_D L(D, 0)`` (the root of the drift at ``Delta = 0``) and the moments there.

    Returns ``D0``, ``r0`` (restoring), ``n0`` (noise), ``L_min`` (training loss), ``CE0`` (test cross-entropy),
    ``curvature`` (``d^2L/dD^2 = -d drift/dD``), and ``method``.  K = 2, 3 exact (float64 routes, ~1e-12);
    K >= 4 with fixed-seed quasi-Monte Carlo moments (``errors`` from the standard errors).
    """
    from scipy.optimize import brentq

    loss = get_loss(loss)
    K = check_num_classes(K)
    loss.require_centred()
    f = lambda D: float(_moments(loss, K, D, 0.0).drift)  # noqa: E731
    lo, hi = 0.05, 1.0
    if f(lo) <= 0:
        raise InvalidInputError(f"loss {loss.name!r}: the drift at Delta = 0 is not positive at small D")
    while f(hi) > 0:
        hi *= 1.5
        if hi > 1e4:
            raise InvalidInputError(
                f"loss {loss.name!r}: L(D, 0) has no minimum below D = 1e4 (the loss does "
                "not saturate; use the boundary-layer route)"
            )
    D0 = brentq(f, lo, hi, xtol=1e-14, rtol=1e-14)
    m = _moments(loss, K, D0, 0.0)
    h = 1e-4 * D0
    curv = -(f(D0 + h) - f(D0 - h)) / (2 * h)
    out = {
        "D0": D0,
        "r0": float(m.restoring),
        "n0": float(m.noise),
        "L_min": float(m.loss),
        "CE0": float(m.cross_entropy),
        "curvature": curv,
        "method": m.method,
    }
    if K > 3:
        err_drift = m.errors["drift"]
        out["errors"] = {
            "D0": abs(err_drift / curv),
            **{k: m.errors[n] for k, n in (("r0", "restoring"), ("n0", "noise"), ("L_min", "loss"))},
        }
    return out


@functools.lru_cache(maxsize=256)
def _plateau_cached(loss, K: int, eta: float) -> dict:
    from scipy.optimize import fsolve

    small = small_eta_plateau(loss, K, eta)
    x0 = np.array([math.log(small["D"]), math.log(small["Delta"])])

    def F(x):
        D, Delta = math.exp(x[0]), math.exp(x[1])
        m = _moments(loss, K, D, Delta)
        return [float(m.drift), (-2 * Delta * float(m.restoring) + eta * float(m.noise)) / max(Delta, 1e-300)]

    sol, info, ier, msg = fsolve(F, x0, full_output=True, xtol=1e-12)
    residual = max(abs(v) for v in F(sol))
    tol = 1e-11 if K <= 3 else 1e-6
    if residual > tol:
        raise IntegrationError(
            f"plateau of {loss.name} (K = {K}, eta = {eta:g}): the fixed-point solver failed "
            f"(residual {residual:.2e}): {msg}"
        )
    D, Delta = math.exp(sol[0]), math.exp(sol[1])
    m = _moments(loss, K, D, Delta)
    return {
        "D": D,
        "Delta": Delta,
        "eps_g": float(m.eps_g),
        "loss": float(m.loss),
        "cross_entropy": float(m.cross_entropy),
        "residual": residual,
        "method": m.method,
    }


def plateau(loss, K: int, eta: float) -> dict:
    """The fixed point ``(D*, Delta*)`` of the exact closure at constant ``eta`` and ``eps_g``, ``L``, ``CE`` there.

    Newton-type solve (``scipy.optimize.fsolve`` in ``(ln D, ln Delta)``) of ``drift = 0`` and
    ``2 Delta restoring = eta noise`` on the exact moments (K = 2, 3: float64 routes, ~1e-12, so the fixed
    point is accurate to ~1e-10; K >= 4: fixed-seed quasi-Monte Carlo, ~1e-3).

    >>> from asymptotics.losses import get_loss
    >>> p = plateau(get_loss("label_smoothing:eps=0.1"), 2, 1.0)
    >>> round(p["eps_g"], 6) > 0
    True
    """
    loss = get_loss(loss)
    K = check_num_classes(K)
    check_positive("eta", eta)
    return _plateau_cached(loss, K, float(eta))


def small_eta_plateau(loss, K: int, eta: float) -> dict:
    """Leading small-eta form of the plateau: ``D = D_0``, ``Delta = eta n_0/(2 r_0)``, ``eps_g`` from the angle."""
    from asymptotics.asymptotic.gap_density import top_gap_density_at_zero

    o = zero_noise_optimum(get_loss(loss), K)
    Delta = eta * o["n0"] / (2 * o["r0"])
    rho = float(top_gap_density_at_zero(K, 20))
    return {
        "D": o["D0"],
        "Delta": Delta,
        "eps_g": rho * math.sqrt(Delta / math.pi) / o["D0"],
        "loss": o["L_min"] + o["r0"] * Delta / 2,
    }


def saturated_schedule_law(loss, K: int, beta: float, eta0: float = 1.0, alpha0: float = 1.0) -> dict:
    """Late-time laws of the saturated regime under ``eta = eta0 (1 + alpha/alpha0)^(-beta)``.

    Returns exponents and prefactors of ``eps_g``, ``Delta`` and the excess loss ``L - L_min``, the limits
    ``D0``, ``L_min``, ``CE0`` and the regime.  ``beta = 0`` is the constant rate (plateau, see :func:`plateau`).

    >>> from asymptotics.losses import get_loss
    >>> r = saturated_schedule_law(get_loss("label_smoothing:eps=0.1"), 2, 0.5)
    >>> r["exponent_eps_g"], r["exponent_excess_loss"]
    (-0.25, -0.5)
    """
    from asymptotics.asymptotic.gap_density import top_gap_density_at_zero

    loss = get_loss(loss)
    K = check_num_classes(K)
    if not 0 < beta <= 1:
        raise InvalidInputError(f"beta must lie in (0, 1] for a decaying schedule, got {beta!r}")
    o = zero_noise_optimum(loss, K)
    rho = float(top_gap_density_at_zero(K, 20))
    a = eta0 * alpha0
    out = {"D0": o["D0"], "L_min": o["L_min"], "CE0": o["CE0"], "r0": o["r0"], "n0": o["n0"]}
    if beta < 1:
        scale = eta0 * alpha0**beta
        out.update(
            {
                "regime": "adiabatic: Delta follows eta n0/(2 r0), D -> D0",
                "exponent_eps_g": -beta / 2,
                "exponent_Delta": -beta,
                "exponent_excess_loss": -beta,
                "prefactor_Delta": scale * o["n0"] / (2 * o["r0"]),
                "prefactor_eps_g": rho * math.sqrt(scale * o["n0"] / (2 * math.pi * o["r0"])) / o["D0"],
                "prefactor_excess_loss": scale * o["n0"] / 4,
            }
        )
        return out
    rate = 2 * o["r0"] * a / (K - 1)
    if rate > 1:
        A = a * a * o["n0"] / ((K - 1) * (rate - 1))
        out.update(
            {
                "regime": "beta = 1, 2 r0 a/(K-1) > 1: Delta = A/alpha",
                "exponent_eps_g": -0.5,
                "exponent_Delta": -1.0,
                "exponent_excess_loss": -min(1.0, 2 * a * o["curvature"] / (K - 1)),
                "prefactor_Delta": A,
                "prefactor_eps_g": rho * math.sqrt(A / math.pi) / o["D0"],
                "prefactor_excess_loss": o["r0"] * A / 2 if 2 * a * o["curvature"] / (K - 1) > 1 else None,
            }
        )
    else:
        out.update(
            {
                "regime": "beta = 1, 2 r0 a/(K-1) <= 1: Delta decays as alpha^(-2 r0 a/(K-1)) (initial condition)",
                "exponent_eps_g": -rate / 2,
                "exponent_Delta": -rate,
                "exponent_excess_loss": -min(rate, 2 * a * o["curvature"] / (K - 1)),
                "prefactor_Delta": None,
                "prefactor_eps_g": None,
                "prefactor_excess_loss": None,
            }
        )
    return out
