"""The 1/N correction to the closure for K = 2 online SGD (linear-noise expansion of the exact increments).

K = 2 with W(0) = 0: the student stays centred, ``W = (w, -w)``, and the exact state of a run is three
numbers ``s = (r_u, r_v, q)``::

    r_u = w.(B_1 - B_2)/(sqrt2 N),   r_v = w.(B_1 + B_2)/(sqrt2 N),   q = w.w/N,

with ``D = sqrt2 r_u`` and ``Delta = 2 q - 2 r_u^2``.  A fresh input enters through three fields: ``u, v``
(the teacher fields along ``B_1 -+ B_2``, independent standard normals; the label is ``sign u``) and
``z = w.x/sqrt N = r_u u + r_v v + t xi`` with ``t^2 = q - r_u^2 - r_v^2`` and ``xi`` a third standard
normal.  With ``a = 1{u > 0} - sigmoid(2 z)`` one step (``alpha`` advances by ``1/N``) changes the state by
exactly::

    N dr_u = eta a u,   N dr_v = eta a v,   N dq = 2 eta a z + eta^2 a^2 |x|^2/N.

Since ``|x|^2 = u^2 + v^2 + xi^2 + chi^2_{N-3}`` (the rest of x is independent of the fields), the
expected increment is ``F(s) + G(s)/N`` exactly, with::

    F = eta (E[a u], E[a v], 2 E[a z] + eta E[a^2]),   G = (0, 0, eta^2 E[(u^2 + v^2 + xi^2 - 3) a^2]),

and the increments fluctuate with covariance ``S(s)/N^2`` per step (``S = Cov[N ds]``, leading order).
The N -> infinity limit is the closure ``ds/dalpha = F(s)`` with ``r_v = 0`` (tested against
:func:`asymptotics.dynamics.flow.integrate_closure`).  At finite N the mean and covariance of ``s``
are ``x + m_1/N`` and ``Sigma/N`` to first order (van Kampen's linear-noise expansion of the Markov
chain with step ``1/N``)::

    dx/dalpha     = F(x)
    dSigma/dalpha = J Sigma + Sigma J^T + S(x)
    dm_1/dalpha   = J m_1 + G(x) + 1/2 H(x):Sigma - 1/2 J F(x)

``J, H``: first and second derivatives of ``F``; the three sources of the 1/N shift of the mean are the
``|x|^2/N`` fluctuation (``G``), the curvature of the drift acting on the O(1/N) fluctuations (``H``),
and the Euler time step 1/N of the chain (``-J F/2``).  The observables follow with their own
curvature: ``E[D] = sqrt2 (x_u + m_u/N)``, ``E[Delta] = 2q - 2r_u^2`` averaged
(``- 2 Sigma_uu/N`` from ``Var r_u``), ``eps_g = arccos(r_u/sqrt q)/pi`` and ``L(r_u, q)`` with
``E[f(s)] = f(x) + (grad f . m_1 + H_f:Sigma/2)/N``.  Seed-to-seed spreads are ``sqrt(grad f^T Sigma
grad f / N)``.

Numerics: the field averages are product rules (Gauss-Legendre panels on each half-line of ``u``,
split at the label's jump; Gauss-Hermite in ``v`` and ``xi``), derivatives are central differences of
the same fixed rule (steps scaled to ``t``, which stays > 0 for alpha > 0), and the ODE starts at
``alpha_0 = 1e-3`` from the closure state with ``Sigma = S alpha_0`` (error O(alpha_0)).

Checked (tests/analysis/test_finite_size.py, benchmarks/validate_finite_size.py): ``F`` reproduces the
closure flow to 1e-9; the predicted spreads and 1/N coefficients agree with simulations at N = 50 ... 2000.

>>> s = (1.0 / math.sqrt(2), 0.0, 0.75)                       # D = 1, Delta = 0.5
>>> bool(np.isclose(math.sqrt(2) * k2_drift(s, 1.0)[0], 0.2355090694958, rtol=1e-11))   # = eta * drift
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special
from scipy.integrate import solve_ivp

from asymptotics.validation import InvalidInputError, check_positive

__all__ = ["C1_PARTS", "FiniteSizeK2", "k2_drift", "k2_finite_size", "k2_noise_covariance"]

SQRT2 = math.sqrt(2.0)
#: the four sources of the 1/N coefficient of an observable's mean
C1_PARTS = ("input_norm", "drift_curvature", "time_step", "observable_curvature")


@lru_cache(maxsize=1)
def _fields_rule():
    """Nodes (u, v, xi) and weights of the product rule for E over three standard normals."""
    edges = np.linspace(0.0, 9.0, 13)
    x, w = np.polynomial.legendre.leggauss(10)
    a, b = edges[:-1, None], edges[1:, None]
    up = (0.5 * (b - a) * x + 0.5 * (a + b)).ravel()
    wp = (0.5 * (b - a) * w).ravel() * np.exp(-0.5 * up**2) / math.sqrt(2 * math.pi)
    u = np.concatenate([-up[::-1], up])
    wu = np.concatenate([wp[::-1], wp])
    h, wh = np.polynomial.hermite_e.hermegauss(24)
    wh = wh / math.sqrt(2 * math.pi)
    return u, wu, h, wh


def _moments(s, eta, full: bool = True):
    """Field averages at state s = (r_u, r_v, q): F, and with ``full`` also S and G."""
    r_u, r_v, q = s
    t2 = q - r_u * r_u - r_v * r_v
    if t2 < -1e-12:
        raise InvalidInputError(f"not a state: q = {q} < r_u^2 + r_v^2 = {r_u * r_u + r_v * r_v}")
    t = math.sqrt(max(t2, 0.0))
    u, wu, h, wh = _fields_rule()
    U = u[:, None, None]
    V = h[None, :, None]
    X = h[None, None, :]
    W = wu[:, None, None] * wh[None, :, None] * wh[None, None, :]
    z = r_u * U + r_v * V + t * X
    a = (U > 0).astype(float) - special.expit(2.0 * z)
    a2 = a * a
    comps = [eta * a * U, eta * a * V, 2.0 * eta * a * z + eta * eta * a2]
    mean = np.array([np.sum(W * c) for c in comps])
    if not full:
        return mean
    second = np.array([[np.sum(W * ci * cj) for cj in comps] for ci in comps])
    g = eta * eta * np.sum(W * (U * U + V * V + X * X - 3.0) * a2)
    return mean, second - np.outer(mean, mean), g


def k2_drift(s, eta: float) -> np.ndarray:
    """``F(s)``: the N -> infinity expected increment of (r_u, r_v, q) per unit alpha.

    >>> F = k2_drift((0.0, 0.0, 0.0), 1.0)       # W = 0: E[a u] = E|u|/2, E[a^2] = 1/4
    >>> bool(np.allclose(F, [0.5 * math.sqrt(2 / math.pi), 0.0, 0.25]))
    True
    """
    return _moments(s, eta, full=False)


def k2_noise_covariance(s, eta: float) -> np.ndarray:
    """``S(s)``: covariance of ``N ds`` for one step (leading order in 1/N)."""
    return _moments(s, eta)[1]


def _steps(s):
    r_u, r_v, q = s
    t = math.sqrt(max(q - r_u * r_u - r_v * r_v, 0.0))
    d = 2e-3 * max(t, 1e-3)
    return np.array([d, d, 2e-3 * max(t * t, 1e-6)])


def _derivatives(fun, s):
    """Value, Jacobian and Hessian of a vector function of s by central differences (same fixed rule)."""
    s = np.asarray(s, dtype=float)
    h = _steps(s)
    f0 = fun(s)
    n = len(s)
    J = np.empty((f0.size, n))
    H = np.empty((f0.size, n, n))
    plus, minus = [], []
    for i in range(n):
        e = np.zeros(n)
        e[i] = h[i]
        fp, fm = fun(s + e), fun(s - e)
        plus.append(fp)
        minus.append(fm)
        J[:, i] = (fp - fm) / (2 * h[i])
        H[:, i, i] = (fp - 2 * f0 + fm) / h[i] ** 2
    for i in range(n):
        for j in range(i + 1, n):
            ei, ej = np.zeros(n), np.zeros(n)
            ei[i], ej[j] = h[i], h[j]
            val = (fun(s + ei + ej) - fun(s + ei - ej) - fun(s - ei + ej) + fun(s - ei - ej)) / (
                4 * h[i] * h[j]
            )
            H[:, i, j] = H[:, j, i] = val
    return f0, J, H


def _eps_g(s):
    r_u, _, q = s
    return np.array([math.acos(min(1.0, r_u / math.sqrt(q))) / math.pi]) if q > 0 else np.array([0.5])


@lru_cache(maxsize=1)
def _loss_rule():
    u, wu, h, wh = _fields_rule()
    pos = u > 0
    return u[pos], 2.0 * wu[pos], h, wh  # |u| on the half-line (weights doubled)


def _loss(s):
    """``L = E[softplus(-2 z sign u)]`` with ``z sign u = r_u |u| + sqrt(q - r_u^2) xi`` in law."""
    r_u, _, q = s
    au, wu, h, wh = _loss_rule()
    m = r_u * au[:, None] + math.sqrt(max(q - r_u * r_u, 0.0)) * h[None, :]
    return np.array([np.sum(wu[:, None] * wh[None, :] * np.logaddexp(0.0, -2.0 * m))])


@dataclass
class FiniteSizeK2:
    """Closure values and their 1/N coefficients for K = 2 at the requested ``alpha``.

    For each observable X in (D, Delta, eps_g, loss): ``X`` (N -> infinity), ``X_c1`` with
    ``E[X_N] = X + X_c1/N + O(N^-2)``, and ``X_var1`` with ``Var[X_N] = X_var1/N + O(N^-2)``.
    ``state``, ``m1`` and ``Sigma`` hold the expansion of (r_u, r_v, q).  ``c1_parts[X]`` splits ``X_c1``
    into its four sources (:data:`C1_PARTS`): the ``|x|^2/N`` fluctuation of the step, the drift's
    curvature acting on the fluctuations, the Euler time step 1/N, and the observable's own curvature.
    """

    eta: float
    alpha: np.ndarray
    state: np.ndarray
    m1: np.ndarray
    Sigma: np.ndarray
    values: dict
    c1: dict
    var1: dict
    c1_parts: dict | None = None

    def __getattr__(self, name):
        if name.startswith("__") or name in ("values", "c1", "var1", "c1_parts"):
            raise AttributeError(name)
        if name.endswith("_c1"):
            return self.c1[name[:-3]]
        if name.endswith("_var1"):
            return self.var1[name[:-5]]
        if name in self.values:
            return self.values[name]
        raise AttributeError(name)


def _observables(s):
    r_u, _, q = s
    return {
        "D": np.array([SQRT2 * r_u]),
        "Delta": np.array([2 * q - 2 * r_u * r_u]),
        "eps_g": _eps_g(s),
        "loss": _loss(s),
    }


def k2_finite_size(eta: float, alphas, *, alpha0: float = 1e-3, rtol: float = 1e-6) -> FiniteSizeK2:
    """The 1/N expansion (module docstring) of online SGD for K = 2 at constant ``eta``, at ``alphas``.

    Accuracy: the closure part agrees with ``integrate_closure`` to ~1e-6; the 1/N coefficients carry
    the ODE tolerance ``rtol`` and the O(alpha_0) start (together ~1e-3 relative).  Cost ~10-60 s.
    """
    eta = float(check_positive("eta", eta))
    grid = np.asarray(alphas, dtype=float).ravel()
    if grid.size == 0 or np.any(~np.isfinite(grid)) or np.any(grid <= alpha0) or np.any(np.diff(grid) <= 0):
        raise InvalidInputError(f"alphas must be increasing and > alpha0 = {alpha0}")
    drift = lambda s: _moments(s, eta, full=False)

    def rhs(alpha, y):
        # m_1 is carried as three parts, one per source (linear ODE): |x|^2 term, drift curvature, time step
        x, Sig, parts = y[:3], y[3:12].reshape(3, 3), y[12:].reshape(3, 3)
        F, J, H = _derivatives(drift, x)
        _, S, g = _moments(x, eta)
        dSig = J @ Sig + Sig @ J.T + S
        sources = np.array([[0.0, 0.0, g], 0.5 * np.einsum("ijk,jk->i", H, Sig), -0.5 * J @ F])
        dparts = parts @ J.T + sources
        return np.concatenate([F, dSig.ravel(), dparts.ravel()])

    # start: closure state at alpha0 (F is smooth: first-order Taylor from s = 0 plus a midpoint step)
    F0 = drift(np.zeros(3))
    x0 = alpha0 * drift(0.5 * alpha0 * F0 * np.array([1.0, 0.0, 1.0]))
    x0[1] = 0.0
    _, S0, _ = _moments(np.zeros(3), eta)
    y0 = np.concatenate([x0, (alpha0 * S0).ravel(), np.zeros(9)])
    sol = solve_ivp(
        rhs, (alpha0, float(grid[-1])), y0, t_eval=grid, rtol=rtol, atol=rtol * 1e-3, method="RK45"
    )
    if not sol.success:
        from asymptotics.validation import IntegrationError

        raise IntegrationError(f"the 1/N expansion stopped at alpha = {sol.t[-1]:.4g}: {sol.message}")
    values = {k: [] for k in ("D", "Delta", "eps_g", "loss")}
    c1 = {k: [] for k in values}
    var1 = {k: [] for k in values}
    parts_out = {k: {p: [] for p in C1_PARTS} for k in values}
    for y in sol.y.T:
        x, Sig, parts = y[:3], y[3:12].reshape(3, 3), y[12:].reshape(3, 3)
        Sig = 0.5 * (Sig + Sig.T)
        for name, column in values.items():
            f0, Jf, Hf = _derivatives(lambda s, n=name: _observables(s)[n], x)
            contributions = [float(Jf[0] @ part) for part in parts] + [0.5 * float(np.sum(Hf[0] * Sig))]
            column.append(float(f0[0]))
            c1[name].append(sum(contributions))
            var1[name].append(float(Jf[0] @ Sig @ Jf[0]))
            for label, value in zip(C1_PARTS, contributions):
                parts_out[name][label].append(value)
    arr = lambda d: {k: np.array(v) for k, v in d.items()}
    return FiniteSizeK2(
        eta=eta,
        alpha=grid,
        state=sol.y[:3].T.copy(),
        m1=sol.y[12:].T.reshape(-1, 3, 3).sum(1),
        Sigma=sol.y[3:12].T.reshape(-1, 3, 3).copy(),
        values=arr(values),
        c1=arr(c1),
        var1=arr(var1),
        c1_parts={k: arr(v) for k, v in parts_out.items()},
    )
