"""Integration of the exact centered (D, Delta) flow of the online softmax teacher-student model.

The flow (derived in :mod:`asymptotics.symbolic.closure`) is::

    dD/dalpha     = eta(alpha)/(K-1) * drift(D, Delta)
    dDelta/dalpha = eta(alpha)/(K-1) * (-2 Delta restoring(D, Delta) + eta(alpha) noise(D, Delta))

with the expectations of :mod:`asymptotics.numeric.moments` evaluated by
:func:`asymptotics.numeric.closure.closure_moments`.

Time variable.  Late-time solutions are power laws (D ~ alpha^(1/3)), so the flow is integrated in
``tau = ln(1 + alpha)``: the dynamics become smooth and nearly linear in tau, a single run reaches
alpha = 1e8 in a few hundred steps, and the start alpha = 0 (e.g. W(0) = 0, D = Delta = 0) is regular.

Stiffness.  Delta relaxes on the time scale D/eta while D grows on the scale D^3/eta, so in tau the
relaxation rate grows like alpha^(2/3): the flow becomes stiff at late times (an explicit Runge--Kutta
method needs millions of steps to reach alpha = 1e8).  The solver is LSODA, which switches between
Adams (non-stiff, early times) and BDF (stiff, late times) automatically: ~1200 flow evaluations take
K = 2 from alpha = 0 to 1e8.

Accuracy.  Relative tolerance ``rtol`` on the state and absolute tolerance ``rtol * 1e-4``.  With the
default ``rtol = 1e-10`` the relative error of eps_g is below 1e-6 over alpha in [0, 1e8] for K = 2
(tested against a run at rtol = 1e-13); the moments themselves are evaluated to ~1e-15 (K = 2) and
~1e-12 (K = 3) relative in float64.

>>> curve = integrate_closure(2, 0.5, [1.0, 10.0])
>>> [round(float(x), 4) for x in curve.eps_g]
[0.2763, 0.088]
>>> import numpy as np   # K = 2: eps_g = arccos(D / sqrt(D^2 + Delta)) / pi exactly
>>> bool(np.allclose(curve.eps_g, np.arccos(curve.D / np.sqrt(curve.D**2 + curve.Delta)) / np.pi))
True
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.integrate import solve_ivp

from asymptotics.numeric.closure import closure_moments
from asymptotics.numeric.domain import check_in_domain
from asymptotics.validation import (
    IntegrationError,
    InvalidInputError,
    check_nonnegative,
    check_num_classes,
    check_positive,
)

__all__ = ["ClosureCurve", "integrate_closure", "learning_rate_function", "log_grid"]


def log_grid(alpha_min: float, alpha_max: float, points_per_decade: int = 8) -> np.ndarray:
    """Logarithmic grid from ``alpha_min`` to ``alpha_max`` (both included), ``points_per_decade`` per decade.

    >>> [round(a, 12) for a in log_grid(1, 100, 2).tolist()]
    [1.0, 3.162277660168, 10.0, 31.622776601684, 100.0]
    """
    check_positive("alpha_min", alpha_min)
    check_positive("alpha-max", alpha_max)
    if alpha_max < alpha_min:
        raise InvalidInputError(f"alpha-max ({alpha_max}) must be >= alpha_min ({alpha_min})")
    if int(points_per_decade) < 1:
        raise InvalidInputError(f"points per decade must be >= 1, got {points_per_decade}")
    decades = math.log10(alpha_max / alpha_min)
    n = max(2, int(round(decades * points_per_decade)) + 1)
    grid = np.logspace(math.log10(alpha_min), math.log10(alpha_max), n)
    grid[0], grid[-1] = alpha_min, alpha_max
    return grid


def learning_rate_function(eta) -> Callable[[float], float]:
    """Return ``alpha -> eta(alpha)`` for a constant (float) or a schedule (callable), validated.

    >>> learning_rate_function(0.5)(123.0)
    0.5
    """
    if callable(eta):
        def rate(alpha: float) -> float:
            value = float(eta(alpha))
            if not (math.isfinite(value) and value > 0):
                raise InvalidInputError(
                    f"the learning-rate schedule must give a finite eta > 0; eta({alpha:g}) = {value!r}")
            return value
        return rate
    value = float(check_positive("eta", eta))
    return lambda alpha: value


@dataclass
class ClosureCurve:
    """Solution of the closure flow: observables at the requested ``alpha`` and dense output in between.

    Arrays ``alpha, D, Delta, eps_g, loss`` have equal length.  ``state_at(alpha)`` evaluates (D, Delta)
    anywhere in the integrated range from the solver's dense output.
    """

    K: int
    eta: object
    alpha: np.ndarray
    D: np.ndarray
    Delta: np.ndarray
    eps_g: np.ndarray
    loss: np.ndarray
    D0: float = 0.0
    Delta0: float = 0.0
    alpha_start: float = 0.0
    rtol: float = 1e-10
    method: str = "auto"
    rhs_evaluations: int = 0
    _dense: object = field(default=None, repr=False)
    #: the training loss (``None``: the cross-entropy closure of the default call) and, with a loss, the
    #: test cross-entropy at each alpha
    loss_name: str | None = None
    cross_entropy: np.ndarray | None = None

    def state_at(self, alpha) -> tuple[np.ndarray, np.ndarray]:
        """(D, Delta) at any alpha in [alpha_start, max alpha] from the solver's dense output (interpolant)."""
        alpha = np.asarray(alpha, dtype=float)
        if np.any(alpha < self.alpha_start * (1 - 1e-12)) or np.any(alpha > self.alpha.max() * (1 + 1e-12)):
            raise InvalidInputError("alpha outside the integrated range")
        y = self._dense(np.log1p(alpha))
        return y[0], y[1]

    def as_dict(self) -> dict:
        """Plain lists, suitable for JSON (with a loss given: also ``cross_entropy``)."""
        out = {
            "alpha": self.alpha.tolist(),
            "D": self.D.tolist(),
            "Delta": self.Delta.tolist(),
            "eps_g": self.eps_g.tolist(),
            "loss": self.loss.tolist(),
        }
        if self.loss_name is not None:
            out["cross_entropy"] = self.cross_entropy.tolist()
        return out


def _check_alphas(alphas) -> np.ndarray:
    try:
        grid = np.asarray(alphas, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"alpha values must be numbers: {exc}") from None
    if grid.size == 0:
        raise InvalidInputError("at least one alpha is required")
    if not np.all(np.isfinite(grid)):
        raise InvalidInputError("alpha values must be finite")
    if np.any(grid < 0):
        raise InvalidInputError(f"alpha values must be >= 0, got {grid.min()!r}")
    if np.any(np.diff(grid) <= 0):
        raise InvalidInputError("alpha values must be strictly increasing")
    return grid


class _Progress:
    """Progress on stderr in units of ln(1 + alpha); silent unless enabled."""

    def __init__(self, enabled: bool, tau_end: float, tau_start: float = 0.0):
        self.bar = None
        if enabled:
            from tqdm import tqdm
            self.bar = tqdm(total=tau_end - tau_start, desc="closure  ln(1+alpha)", file=sys.stderr,
                            unit="", bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} [{elapsed}<{remaining}]")
        self.done = tau_start
        self.start = tau_start

    def update(self, tau: float) -> None:
        tau = min(tau, self.start + self.bar.total) if self.bar is not None else tau
        if self.bar is not None and tau > self.done:
            self.bar.update(tau - self.done)
            self.done = tau

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _check_fixed_point_in_domain(K: int, eta: float) -> None:
    """Refuse a constant eta whose fixed point Delta* = eta B(Delta*) lies outside the moments' box.

    Delta relaxes towards Delta* on the time scale D/eta, so such a flow leaves the validated domain
    of the closure moments at alpha of order 1 (e.g. K = 3, eta = 100: Delta* = 3084 > 1e3).
    """
    from asymptotics.asymptotic.reduced_flow import fixed_point_Delta_float, noise_function_float
    from asymptotics.numeric.domain import float_domain

    box = float_domain(K)
    d_star = fixed_point_Delta_float(eta)
    if d_star > box.Delta_max:
        eta_max = box.Delta_max / noise_function_float(box.Delta_max)
        raise InvalidInputError(
            f"eta = {eta:g}: Delta relaxes to Delta* = {d_star:.4g}, outside the validated domain of the "
            f"closure moments for K = {K} (Delta <= {box.Delta_max:g}); use eta <= {eta_max:.3g}")


def integrate_closure(K: int, eta, alphas, *, D0: float = 0.0, Delta0: float = 0.0, alpha_start: float = 0.0,
                      rtol: float = 1e-10, method: str = "auto", progress: bool = False,
                      moment_rtol: float | None = None, loss=None) -> ClosureCurve:
    """Integrate the exact (D, Delta) closure from alpha = 0 and report observables at ``alphas``.

    Parameters
    ----------
    K : number of classes (>= 2).
    eta : learning rate (float > 0) or schedule (callable alpha -> eta > 0).
    alphas : strictly increasing times >= 0 at which D, Delta, eps_g and loss are returned.
    D0, Delta0 : initial condition (W(0) = 0 gives D0 = Delta0 = 0), imposed at ``alpha_start``.
    alpha_start : time of the initial condition (default 0); every alpha must be >= alpha_start.
    rtol : relative tolerance of the ODE solver (the moments are evaluated more accurately).
    method : evaluation method of the moments, passed to ``closure_moments``.
    progress : show a progress bar on stderr.
    moment_rtol : relative accuracy asked of the moments (K = 3 float64: the quadrature rule is chosen
    from it, faster at lower accuracy; every call fails if its error estimate exceeds it).
    loss : the training loss (a name such as ``"focal:gamma=2"`` or an :class:`asymptotics.losses.Loss`);
    ``None`` (default) is the cross-entropy closure of :func:`asymptotics.numeric.closure.closure_moments`.
    With a loss the moments come from :func:`asymptotics.losses.moments.loss_moments` (validated domains of
    :mod:`asymptotics.losses.domain`), ``loss`` is the population training loss and the curve also
    carries the test ``cross_entropy``.

    Raises ``InvalidInputError`` for bad input and ``IntegrationError`` (saying at which alpha and why)
    if the state becomes non-finite or negative or the solver fails.
    """
    K = check_num_classes(K)
    loss_obj = None
    if loss is not None:
        from asymptotics.losses.flow import prepare_loss_flow
        loss_obj = prepare_loss_flow(loss, K, method)
    rate = learning_rate_function(eta)
    check_nonnegative("D0", D0)
    check_nonnegative("Delta0", Delta0)
    check_positive("rtol", rtol)
    if not 1e-14 <= rtol <= 1e-2:
        raise InvalidInputError(f"rtol must lie in [1e-14, 1e-2], got {rtol}")
    grid = _check_alphas(alphas)
    check_nonnegative("alpha_start", alpha_start)
    if grid[0] < alpha_start:
        raise InvalidInputError(f"alpha values must be >= alpha_start = {alpha_start}, got {grid[0]}")
    tau_start = math.log1p(alpha_start)
    taus = np.log1p(grid)
    tau_end = float(taus[-1])
    counter = {"n": 0}
    bar = _Progress(progress, tau_end, tau_start)

    if loss_obj is not None:
        from asymptotics.losses.flow import check_loss_flow_start, loss_flow_moments
        check_loss_flow_start(loss_obj, K, D0, Delta0, eta, grid[-1], method)
        evaluate = loss_flow_moments(loss_obj, K, method)
    elif method in ("auto", "binary", "quadrature"):
        # the initial state must lie in the validated domain of the moments (checked before any work)
        check_in_domain(K, D0, Delta0, None)
        if not callable(eta) and grid[-1] >= 1.0:
            _check_fixed_point_in_domain(K, float(eta))
    if loss_obj is None:
        def evaluate(D, Delta, rtol):
            return closure_moments(K, D, Delta, method=method, rtol=rtol)

    def moments(D: float, Delta: float):
        try:
            return evaluate(D, Delta, moment_rtol)
        except InvalidInputError as exc:
            raise IntegrationError(f"the flow left the domain of the closure moments at D = {D:.6g}, "
                                   f"Delta = {Delta:.6g}: {exc}") from None

    def rhs(tau, state):
        D, Delta = float(state[0]), float(state[1])
        alpha = math.expm1(tau)
        if not (math.isfinite(D) and math.isfinite(Delta)):
            raise IntegrationError(f"state became non-finite at alpha = {alpha:.6g}: D = {D}, Delta = {Delta}")
        if not (math.isfinite(alpha)):
            raise IntegrationError(f"time overflow at ln(1 + alpha) = {tau:.6g}")
        if D < 0 or Delta < 0:
            # Both stay positive for the exact flow; a negative value is a solver overshoot.
            D, Delta = max(D, 0.0), max(Delta, 0.0)
        counter["n"] += 1
        bar.update(tau)
        e = rate(alpha)
        try:
            m = moments(D, Delta)
        except IntegrationError as exc:
            raise IntegrationError(f"at alpha = {alpha:.6g}: {exc}") from None
        scale = (1.0 + alpha) * e / (K - 1)
        dD = scale * float(m.drift)
        dDelta = scale * (-2.0 * Delta * float(m.restoring) + e * float(m.noise))
        if not (math.isfinite(dD) and math.isfinite(dDelta)):
            raise IntegrationError(
                f"the flow is non-finite at alpha = {alpha:.6g} (D = {D:.6g}, Delta = {Delta:.6g}, eta = {e:.6g})")
        return [dD, dDelta]

    try:
        if tau_end == tau_start:
            dense = lambda t: np.array([[D0] * np.size(t), [Delta0] * np.size(t)]).reshape(2, -1)
        else:
            sol = solve_ivp(rhs, (tau_start, tau_end), [float(D0), float(Delta0)], method="LSODA",
                            rtol=rtol, atol=rtol * 1e-4, dense_output=True)
            if not sol.success:
                raise IntegrationError(
                    f"the ODE solver stopped at alpha = {math.expm1(sol.t[-1]):.6g}: {sol.message}")
            dense = sol.sol
    finally:
        bar.close()

    states = np.asarray(dense(taus)).reshape(2, -1)
    D_out, Delta_out = states[0].copy(), states[1].copy()
    if not (np.all(np.isfinite(states))):
        raise IntegrationError("non-finite state in the dense output")
    eps_g, loss_values = np.empty_like(grid), np.empty_like(grid)
    ce = np.empty_like(grid) if loss_obj is not None else None
    for i, (D, Delta) in enumerate(zip(D_out, Delta_out)):
        m = moments(max(D, 0.0), max(Delta, 0.0))
        eps_g[i], loss_values[i] = float(m.eps_g), float(m.loss)
        if ce is not None:
            ce[i] = float(m.cross_entropy)
    return ClosureCurve(K=K, eta=eta, alpha=grid, D=D_out, Delta=Delta_out, eps_g=eps_g, loss=loss_values,
                        D0=float(D0), Delta0=float(Delta0), alpha_start=float(alpha_start), rtol=rtol, method=method,
                        rhs_evaluations=counter["n"], _dense=dense,
                        loss_name=None if loss_obj is None else loss_obj.name, cross_entropy=ce)
