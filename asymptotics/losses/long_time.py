r"""The exact closure of a saturating loss at very long times, integrated in ``(D, ln Delta)``.

Under a decaying schedule the residual variance of a saturating loss (label smoothing) falls like a
power of ``alpha`` while ``D`` tends to ``D_0``. At ``beta = 1`` that approach is as slow as
``alpha^-kappa``, ``kappa = a c/(K-1)`` (``c`` the curvature of ``L(D, 0)`` at ``D_0``,
``a = eta0 alpha0``; ``kappa = 0.036`` for label smoothing ``eps = 0.1``, K = 2). The local exponents
therefore reach the derived ones of
:func:`asymptotics.losses.saturation.saturated_schedule_law` only beyond ``alpha ~ 1e30``.

:func:`asymptotics.dynamics.flow.integrate_closure` integrates ``Delta`` itself, with an absolute
tolerance of ``rtol * 1e-4``, which is far above ``Delta`` at such times. Here the same exact flow::

    dD/dalpha        = eta/(K-1) drift(D, Delta)
    d ln Delta/dalpha = eta/(K-1) (-2 restoring(D, Delta) + eta noise(D, Delta)/Delta)

is integrated in log time ``tau = ln(1 + alpha)`` with ``u = ln Delta``. This keeps the relative
accuracy of ``Delta`` at every size down to float64's smallest numbers. The state at ``alpha_switch``
(default ``1e4``) comes from :func:`~asymptotics.dynamics.flow.integrate_closure` started at
``D = Delta = 0``. The moments are the loss's exact float64 moments
(:func:`asymptotics.losses.moments.loss_moments`, K = 2, 3).

>>> from asymptotics.dynamics.schedules import PowerLaw
>>> c = long_time_closure("label_smoothing:eps=0.1", 2, PowerLaw(1.0, 1.0, 1.0), [1e4, 1e40])
>>> bool(c.Delta[1] < 1e-15 < c.Delta[0]), bool(abs(c.D[1] - c.D_limit) < abs(c.D[0] - c.D_limit))
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from asymptotics.losses.registry import get_loss
from asymptotics.validation import IntegrationError, InvalidInputError, check_num_classes, check_positive

__all__ = ["LongTimeCurve", "excess_loss", "long_time_closure"]

#: the latest time a long-time integration accepts (ln(1 + alpha) <= 690: alpha stays a finite float)
ALPHA_MAX = 1e300


@dataclass(frozen=True)
class LongTimeCurve:
    """Observables of the exact closure at ``alpha``; ``excess_loss = loss - L(D_0, 0)``.

    ``excess_loss`` is computed without cancellation (:func:`excess_loss`), so it keeps its relative
    accuracy when it is many orders of magnitude below ``L_min``.
    """

    loss_name: str
    K: int
    alpha: np.ndarray
    D: np.ndarray
    Delta: np.ndarray
    eps_g: np.ndarray
    loss: np.ndarray
    excess_loss: np.ndarray
    D_limit: float
    L_min: float
    rhs_evaluations: int


def excess_loss(loss, K: int, D: float, Delta: float, D_limit: float, *, nodes: int = 12) -> float:
    """``L(D, Delta) - L(D_0, 0)`` without the cancellation of a float64 difference.

    The exact identities ``dL/dD = -drift`` and ``dL/dDelta = restoring/2`` (Stein's lemma, see
    :mod:`asymptotics.losses.saturation`) turn the difference into a path integral from ``(D_0, 0)``::

        L(D, Delta) - L(D_0, 0) = -int_{D_0}^{D} drift(x, 0) dx + 1/2 int_0^Delta restoring(D, d) dd

    Both integrands are smooth (Gaussian smoothing of smooth functions), so a ``nodes``-point
    Gauss-Legendre rule is exact to the moments' accuracy on the short intervals where the excess
    is small. The relative accuracy then does not depend on the size of the result.

    >>> from asymptotics.losses.moments import loss_moments
    >>> from asymptotics.losses.saturation import zero_noise_optimum
    >>> o = zero_noise_optimum("label_smoothing:eps=0.1", 2)
    >>> direct = float(loss_moments("label_smoothing:eps=0.1", 2, 2.0, 0.3).loss) - o["L_min"]
    >>> bool(abs(excess_loss("label_smoothing:eps=0.1", 2, 2.0, 0.3, o["D0"]) / direct - 1) < 1e-10)
    True
    """
    from asymptotics.losses.moments import loss_moments

    x, w = np.polynomial.legendre.leggauss(nodes)
    total = 0.0
    if D != D_limit:
        mid, half = (D + D_limit) / 2, (D - D_limit) / 2
        total -= half * sum(
            wi * float(loss_moments(loss, K, mid + half * xi, 0.0).drift) for xi, wi in zip(x, w)
        )
    if Delta > 0:
        mid, half = Delta / 2, Delta / 2
        total += (
            0.5
            * half
            * sum(wi * float(loss_moments(loss, K, D, mid + half * xi).restoring) for xi, wi in zip(x, w))
        )
    return total


def _alphas(alphas, alpha_switch):
    a = np.asarray(alphas, dtype=float).ravel()
    if a.size == 0 or not np.all(np.isfinite(a)):
        raise InvalidInputError("alphas must be a non-empty list of finite numbers")
    if np.any(np.diff(a) <= 0):
        raise InvalidInputError("alphas must be strictly increasing")
    if a[0] < alpha_switch or a[-1] > ALPHA_MAX:
        raise InvalidInputError(
            f"alphas must lie in [alpha_switch, {ALPHA_MAX:g}] = [{alpha_switch:g}, {ALPHA_MAX:g}], "
            f"got {a[0]:g} ... {a[-1]:g}"
        )
    return a


def long_time_closure(loss, K: int, schedule, alphas, *, alpha_switch: float = 1e4, rtol: float = 1e-12):
    """Integrate the exact closure of ``loss`` to very long times in ``(D, ln Delta)``.

    ``schedule`` is a learning-rate schedule (callable ``alpha -> eta``, e.g.
    :class:`~asymptotics.dynamics.schedules.PowerLaw`), ``alphas`` increasing times in
    ``[alpha_switch, 1e300]``. Returns a :class:`LongTimeCurve`. The loss must saturate (have a finite
    zero-noise optimum ``D_0``, :func:`asymptotics.losses.saturation.zero_noise_optimum`); K = 2, 3.
    Raises :class:`~asymptotics.validation.IntegrationError` (with the time) if the solver fails or
    ``Delta`` leaves float64's range.
    """
    from scipy.integrate import solve_ivp

    from asymptotics.dynamics.flow import integrate_closure, learning_rate_function
    from asymptotics.losses.moments import loss_moments
    from asymptotics.losses.saturation import zero_noise_optimum

    loss = get_loss(loss)
    K = check_num_classes(K)
    if K > 3:
        raise InvalidInputError(f"long_time_closure needs the exact float64 moments: K = 2 or 3, got {K}")
    alpha_switch = float(check_positive("alpha_switch", alpha_switch))
    rtol = float(check_positive("rtol", rtol))
    if not 1e-13 <= rtol <= 1e-4:
        raise InvalidInputError(f"rtol must lie in [1e-13, 1e-4], got {rtol:g}")
    a = _alphas(alphas, alpha_switch)
    optimum = zero_noise_optimum(loss, K)  # raises for a loss that does not saturate
    rate = learning_rate_function(schedule)
    start = integrate_closure(
        K,
        schedule,
        [alpha_switch],
        loss=loss,
        rtol=min(1e-10, rtol * 10),
        moment_rtol=1e-11 if K == 3 else None,
    )
    D0, Delta0 = float(start.D[0]), float(start.Delta[0])
    if not Delta0 > 0:
        raise IntegrationError(
            f"Delta = {Delta0} at alpha = {alpha_switch:g}: nothing to continue in ln Delta"
        )
    counter = {"n": 0}

    def moments(D, u, alpha):
        if not (math.isfinite(D) and math.isfinite(u)) or u < -700:
            raise IntegrationError(
                f"the state left float64's range at alpha = {alpha:.6g}: D = {D}, ln Delta = {u}"
            )
        try:
            return loss_moments(loss, K, D, math.exp(u))
        except (InvalidInputError, IntegrationError) as exc:
            raise IntegrationError(f"at alpha = {alpha:.6g}: {exc}") from None

    def rhs(tau, state):
        D, u = float(state[0]), float(state[1])
        alpha = math.expm1(tau)
        counter["n"] += 1
        m = moments(max(D, 0.0), u, alpha)
        eta = rate(alpha)
        scale = (1.0 + alpha) * eta / (K - 1)
        return [
            scale * float(m.drift),
            scale * (-2.0 * float(m.restoring) + eta * float(m.noise) * math.exp(-u)),
        ]

    taus = np.log1p(a)
    tau0 = math.log1p(alpha_switch)
    if taus[-1] > tau0:
        sol = solve_ivp(
            rhs,
            (tau0, taus[-1]),
            [D0, math.log(Delta0)],
            method="LSODA",
            rtol=rtol,
            atol=rtol,
            dense_output=True,
        )
        if not sol.success:
            raise IntegrationError(
                f"the ODE solver stopped at alpha = {math.expm1(sol.t[-1]):.6g}: {sol.message}"
            )
        states = np.asarray(sol.sol(taus)).reshape(2, -1)
    else:
        states = np.array([[D0], [math.log(Delta0)]])
    D, u = states
    obs = [moments(d, x, al) for d, x, al in zip(D, u, a)]
    values = np.array([float(m.loss) for m in obs])
    excess = np.array([excess_loss(loss, K, d, math.exp(x), optimum["D0"]) for d, x in zip(D, u)])
    return LongTimeCurve(
        loss_name=loss.name,
        K=K,
        alpha=a,
        D=D.copy(),
        Delta=np.exp(u),
        eps_g=np.array([float(m.eps_g) for m in obs]),
        loss=values,
        excess_loss=excess,
        D_limit=float(optimum["D0"]),
        L_min=float(optimum["L_min"]),
        rhs_evaluations=counter["n"],
    )
