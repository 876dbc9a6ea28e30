"""Statistics of the seen set S at sample size D (float64, exact unless stated).

Memberships ``1{i in S}`` are independent Bernoulli(q_i), ``q_i = 1 - h_i``, ``h_i = (1 - p_i)^D``.
Every moment below is a combination of the harmonic sums of :mod:`asymptotics.sparse.harmonic`
(``h^r = (1-p)^(rD)``, so sums of products of q's are sums at D, 2D, 3D):

* ``n = E|S|``, ``var_n = Var|S| = sum q (1 - q) = H_seen(0; 2D) - H_seen(0; D)``;
* ``missing = E sum_{not S} p w^2``, ``unseen = E sum_{not S} p``, ``weight = E |w_S|^2``;
* ``weight_unseen = E[|w_S|^2 U_S] = weight * unseen - (missing(D) - missing(2D))`` (exact);
* ``cov_weight_unseen_n = Cov(|w_S|^2 U_S, |S|)`` (exact, see :func:`seen_statistics`);
* singletons (coordinates active in exactly one sample): ``n1 = sum_i D p_i (1-p_i)^(D-1)`` and the
  rank deficiency of the seen design from singleton collisions: two singletons in the same row are
  collinear, so a row holding c singletons contributes c - 1 null directions.  With
  ``pi_i = p_i (1-p_i)^(D-1)`` (singleton in a given row), ``E defect = D [sum pi - 1 + prod(1 - pi)]``
  exactly for this mechanism (rarer structures, e.g. a doubleton whose two rows hold singletons, are
  of relative order D^(1/s - 1) smaller and neglected).  ``rank = n - defect``.
* the colliding singletons' contributions: the null-space signal ``|P_perp w|^2_Sigma`` (exact average
  over a pair's direction, weighted by the pair probabilities), the null-space mass
  ``tr(Sigma P_perp)`` and the target norm lost from the row space (both half of a pair's).

>>> from asymptotics.sparse.model import SparseModel
>>> st = seen_statistics(SparseModel(2.0, 0.5), 1)            # D = 1: one row, rank exactly 1
>>> round(st.rank, 12), round(st.n, 12)
(1.0, 1.644934066848)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from asymptotics.sparse.harmonic import harmonic_sum
from asymptotics.sparse.model import SparseModel

__all__ = ["SeenStatistics", "seen_statistics", "singleton_sum"]


@dataclass(frozen=True)
class SeenStatistics:
    D: int
    n: float
    var_n: float
    missing: float
    unseen: float
    weight: float
    weight_unseen: float
    cov_weight_unseen_n: float
    n1: float
    defect: float
    removed_fraction: float
    removed_signal: float
    removed_mass: float
    removed_weight: float

    @property
    def rank(self) -> float:
        """Expected rank of the seen design (seen count minus singleton-collision defect)."""
        return self.n - self.defect


def _H(kind, alpha, model, D, y=1.0):
    return float(harmonic_sum(kind, alpha, model.s, float(D), y=y, M=model.M))


def singleton_sum(model: SparseModel, alpha: float, D: int) -> float:
    """``sum_i i^-alpha P(i active in exactly one of D samples) = D sum_i i^-(alpha+s) (1-p_i)^(D-1)``."""
    if D < 1:
        return 0.0
    return D * _H("unseen", alpha + model.s, model, D - 1)


def seen_statistics(model: SparseModel, D: int) -> SeenStatistics:
    """All seen-set moments used by the loss theory (see module docstring)."""
    s, a = model.s, model.a
    aw = 1 + a - s  # w_i^2 = i^-aw
    n = _H("seen", 0.0, model, D)
    var_n = _H("seen", 0.0, model, 2 * D) - n
    M1, M2, M3 = (_H("unseen", 1 + a, model, k * D) for k in (1, 2, 3))
    U1, U2 = (_H("unseen", s, model, k * D) for k in (1, 2))
    W1, W2 = (_H("seen", aw, model, k * D) for k in (1, 2))
    weight_unseen = W1 * U1 - (M1 - M2)
    A0, A1 = W1, W2 - W1  # sum w^2 q, sum w^2 q (1-q)
    B0, B1 = U1, U1 - U2  # sum p (1-q), sum p q (1-q)
    cov = (A1 * B0 - (M2 - M3)) - (A0 * B1 - (M1 - 2 * M2 + M3))
    n1 = singleton_sum(model, 0.0, D)
    if D >= 2:
        sp1 = n1 / D
        sp2 = _H("unseen", 2 * s, model, 2 * (D - 1))
        sp3 = _H("unseen", 3 * s, model, 3 * (D - 1))
        log_prod = -sp1 - sp2 / 2 - sp3 / 3
        defect = D * (sp1 - 1 + math.exp(log_prod)) if sp1 > 1e-6 else D * (sp1**2 / 2 - sp2 / 2)
    else:  # D = 1: all active coordinates share the single row
        defect = n - 1.0
    defect = max(0.0, defect)
    rho = defect / n1 if n1 > 0 else 0.0
    # null-space signal |P_perp w|^2_Sigma of colliding singleton pairs (i, j) in one row, averaged over
    # the direction of (g_i, g_j): (1/4)(p_i w_i^2 + p_j w_j^2) + (1/8)(w_i^2 + w_j^2)(p_i + p_j);
    # summed with the pair weight D pi_i pi_j and scaled from pairs to the defect (rows with c >= 3)
    if D >= 2:
        Pi = lambda al: _H("unseen", al + s, model, D - 1)  # sum_i pi_i i^-al
        Pi2 = _H("unseen", 1 + a + 2 * s, model, 2 * (D - 1))  # sum_i pi_i^2 p_i w_i^2
        P1, PA, PB, PC = Pi(0.0), Pi(1 + a), Pi(aw), Pi(s)
        pairs = D * (P1 * P1 - sp2) / 2
        fit_pairs = D * (3 / 8 * (PA * P1 - Pi2) + 1 / 8 * (PB * PC - Pi2))
        removed_signal = fit_pairs * (defect / pairs) if pairs > 0 else 0.0
    else:
        removed_signal = rho * singleton_sum(model, 1 + a, D)
    return SeenStatistics(
        D=int(D),
        n=n,
        var_n=var_n,
        missing=M1,
        unseen=U1,
        weight=W1,
        weight_unseen=weight_unseen,
        cov_weight_unseen_n=cov,
        n1=n1,
        defect=defect,
        removed_fraction=rho,
        removed_signal=removed_signal,
        removed_mass=rho * singleton_sum(model, s, D),
        removed_weight=rho * singleton_sum(model, aw, D),
    )


def as_array(st: SeenStatistics) -> dict:
    """JSON-ready dict of the statistics."""
    return {k: float(getattr(st, k)) for k in st.__dataclass_fields__} | {"rank": float(st.rank)}
