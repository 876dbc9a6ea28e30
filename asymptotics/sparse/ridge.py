"""Ridge-regularised random-feature learner on the sparse model: theory of E L(N, D, lambda) and the
optimal ridge (a stand-in model reproducing the abstract's claims of arXiv 2605.23591).

The learner minimises ``(1/D)|Phi theta - y|^2 + lambda |theta|^2`` (``Phi = X F^T``), so that
``theta = (G^T K G + mu)^-1 G^T K w`` with ``K = A^T A`` the Gram matrix of the seen design,
``G = F_S^T`` and ``mu = D lambda``.  The exact three-term decomposition of
:func:`asymptotics.sparse.model.derive_decomposition` holds for any ``theta`` that does not depend
on the unseen columns of F, hence for ridge too.

Given the data, ``Z = K^(1/2) G`` is a sample of N columns with covariance ``K/N``; the
deterministic equivalent of ``mu (Z Z^T + mu)^-1`` is ``kappa (K + kappa)^-1`` with the effective
regularisation ``kappa`` solving::

    mu = kappa (1 - df1(kappa)/N),      df1 = sum_i d_i/(d_i + kappa),

which at ``mu = 0`` is the ridgeless equation ``N = df1`` of :mod:`asymptotics.sparse.learner`.
The second-order equivalent (the test metric ``diag(p)`` differs from the training metric K) gives
the same seen-fit formula as the ridgeless under-parameterised theory::

    seen fit  = kappa^2 sum p_i w_i^2/(d_i+kappa)^2
                + kappa^2 [sum p_i/(d_i+kappa)^2] [sum w_i^2 d_i^2/(d_i+kappa)^2] / (N - df2),

and, from ``|theta|^2 = d/dmu [mu u^T (Z Z^T + mu)^-1 u]`` (``u = K^(1/2) w``) with
``dmu/dkappa = 1 - df2/N``::

    |theta|^2 = N [sum w_i^2 d_i^2/(d_i+kappa)^2] / (N - df2),       df2 = sum d_i^2/(d_i+kappa)^2,

now valid on both sides of the threshold (``kappa > 0`` for every ``mu > 0``).  The sums over the
random seen set, the diagonal ``d_i = chi^2_(k_i)``, the colliding singletons (null-space directions:
``d = 0``) and the data-level factor are those of :class:`~asymptotics.sparse.learner.LossTheory`;
the data-level factor is ``(D-1)/(D-df1-1)`` (``df1`` = the trace of the hat matrix; it reduces to
the ridgeless ``(D-1)/(D-N-1)``).  All of this is asymptotic (deterministic equivalent); the
measured gaps to simulation are in ``tests/sparse/test_sparse_ridge.py``.

The optimal ridge ``lambda*(N, D)`` minimises the theory over ``ln lambda`` (bounded Brent); at
``lambda*`` the loss decreases monotonically in N: the optimal ridge removes the double-descent peak.

>>> from asymptotics.sparse.model import SparseModel
>>> from asymptotics.sparse.learner import LossTheory
>>> rt = RidgeTheory(LossTheory(SparseModel(2.0, 0.5), 1000))
>>> opt = rt.optimal(55)                       # at the ridgeless threshold: finite
>>> bool(opt["loss"] < 1.0 and opt["ridge"] > 0)
True
"""

from __future__ import annotations

import math

from scipy.optimize import brentq, minimize_scalar

from asymptotics.sparse.learner import LossTheory, _check_real
from asymptotics.sparse.model import check_count
from asymptotics.validation import InvalidInputError

__all__ = ["RIDGE_MAX", "RidgeTheory", "check_ridge"]

#: largest ridge handled by the theory (lambda in units of the per-sample loss)
RIDGE_MAX = 10.0


def check_ridge(value, *, allow_zero: bool = True) -> float:
    """lambda as a float in [0, 10] (a clear error otherwise; ``allow_zero=False``: in (0, 10]).

    >>> check_ridge(-1)
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: ridge must be >= 0, got -1
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"ridge must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise InvalidInputError(f"ridge must be finite, got {value!r}")
    if v < 0:
        raise InvalidInputError(f"ridge must be >= 0, got {value!r}")
    if v == 0 and not allow_zero:
        raise InvalidInputError("ridge must be > 0 here (the ridgeless theory is LossTheory)")
    if v > RIDGE_MAX:
        raise InvalidInputError(f"ridge must be <= {RIDGE_MAX:g}, got {value!r}")
    return v


class RidgeTheory:
    """E L(N, D, lambda) for one D (wraps a :class:`LossTheory`, whose tables it reuses)."""

    def __init__(self, theory: LossTheory):
        if not isinstance(theory, LossTheory):
            raise InvalidInputError("theory must be a LossTheory")
        self.th = theory

    def _N(self, N) -> float:
        return _check_real("N", N, 1.0) if self.th.continuous else float(check_count("N", N))

    def _df1(self, kappa: float) -> float:
        return self.th.tables["seen"]["1"] - kappa * self.th._R("1", kappa, 1)

    def kappa(self, N: float, mu: float) -> float:
        """Effective regularisation: ``mu = kappa (1 - df1(kappa)/N)``, ``mu = D lambda > 0``."""
        if not mu > 0:
            raise InvalidInputError(f"mu must be > 0, got {mu}")
        f = lambda lk: math.exp(lk) * (1.0 - self._df1(math.exp(lk)) / N) - mu
        lo, hi = math.log(1e-14), math.log(1e-7 / self.th.tables["t"][0])
        if f(hi) < 0:
            raise InvalidInputError(f"ridge too large for the kappa grid (mu = {mu:g})")
        if f(lo) > 0:  # mu below the smallest representable kappa
            raise InvalidInputError(f"ridge too small for the kappa grid (mu = {mu:g})")
        return math.exp(brentq(f, lo, hi, xtol=1e-13, rtol=1e-13))

    def loss(self, N, ridge: float) -> dict:
        """Theory of E L at (N, lambda = ridge > 0) and its three parts."""
        N = self._N(N)
        lam = check_ridge(ridge, allow_zero=False)
        th, st = self.th, self.th.stats
        D = float(th.D)
        k = self.kappa(N, D * lam)
        R11, R21 = th._R("1", k, 1), th._R("1", k, 2)
        n_eff = th.tables["seen"]["1"]
        df1 = n_eff - k * R11
        df2 = n_eff - 2 * k * R11 + k * k * R21
        F1 = k * k * th._R("pw2", k, 2)
        F2 = th._R("p", k, 2)
        F3 = th.tables["seen"]["w2"] - 2 * k * th._R("w2", k, 1) + k * k * th._R("w2", k, 2)
        if not D - df1 - 1 > 0:
            raise InvalidInputError(f"N = {N} with ridge {lam:g}: the fitted degrees of freedom reach D")
        infl = (D - 1) / (D - df1 - 1)
        theta2 = N * F3 / (N - df2)
        fit = (F1 + k * k * F2 * F3 / (N - df2)) * infl + st.removed_signal + theta2 / N * st.removed_mass
        alias = theta2 / N * st.unseen
        loss = fit + st.missing + alias
        return {
            "N": N,
            "D": th.D,
            "ridge": lam,
            "loss": loss,
            "seen_fit": fit,
            "missing_signal": st.missing,
            "aliasing": alias,
            "theta_norm2": theta2,
            "kappa": k,
            "df1": df1,
            "df2": df2,
            "data_inflation": infl,
        }

    def optimal(self, N, *, mu_bounds=(1e-8, None)) -> dict:
        """The ridge minimising the theory at N and the loss there: scan and bounded Brent in
        ``ln mu``, ``mu = D lambda`` in ``[1e-8, 10 D]`` (the natural scale of mu is the Gram diagonal
        ``d_i = O(1)`` of the coordinates seen a few times)."""
        N = self._N(N)
        D = float(self.th.D)
        lo = math.log(mu_bounds[0] / D)
        hi = math.log((mu_bounds[1] if mu_bounds[1] is not None else RIDGE_MAX * D) / D)

        def obj(lr):
            try:
                return self.loss(N, math.exp(lr))["loss"]
            except InvalidInputError:
                return math.inf

        # coarse scan (the objective can be flat over decades): start Brent at the best grid cell
        n = 25
        grid = [lo + (hi - lo) * j / (n - 1) for j in range(n)]
        vals = [obj(g) for g in grid]
        j = min(range(n), key=lambda i: vals[i])
        a, b = grid[max(0, j - 1)], grid[min(n - 1, j + 1)]
        res = minimize_scalar(obj, bounds=(a, b), method="bounded", options={"xatol": 1e-6})
        best = min((res.fun, res.x), (vals[j], grid[j]))
        out = self.loss(N, math.exp(best[1]))
        out["at_bound"] = bool(abs(best[1] - lo) < 1e-3 or abs(best[1] - hi) < 1e-3)
        return out
