"""Exact identities between the closure expectations, derived with Stein's lemma.

**Drift-restoring identity.**  With student logits ``s_k = D y_k + sqrt(Delta) xi_k`` and softmax ``p``::

    drift     = E[sum_k p_k (y_c - y_k)] = E[y_c] - E[sum_k p_k y_k]        (sum_k p_k = 1)
    E[y_c]    = E[max_k y_k] = rho_K(0)                                       (Stein, gap_density)
    E[sum_k p_k y_k] = sum_k E[d p_k/d y_k] = D E[sum_k p_k (1 - p_k)] = D restoring   (Stein in y)

so ``drift + D restoring = rho_K(0)`` for every ``K``, ``D`` and ``Delta`` -- not only asymptotically.  In
the 1/D expansion this forces ``c^restoring_0 = rho_K(0)``, ``c^restoring_1 = 0`` and
``c^restoring_{j+2} = -c^drift_j``; the reduced flow reads ``dD/dalpha = eta (rho_K(0) - D restoring)/(K-1)``.

>>> steps = drift_restoring_identity()
>>> steps["stein"]
⟨Sum(-D*p[k]**2 + D*p[k], (k, 1, K))⟩
>>> steps["check"]
0
"""

from __future__ import annotations

import sympy
from sympy import IndexedBase, Lambda, Sum, sqrt

from asymptotics.symbolic.expectation import GaussianExpectation, IndexedGaussian
from asymptotics.symbolic.softmax import Softmax, class_indices, num_classes_symbol
from asymptotics.symbolic.stein import stein_rewrite

__all__ = ["drift_restoring_identity"]


def drift_restoring_identity() -> dict:
    """Derive ``E[sum_k p_k y_k] = D E[sum_k p_k (1 - p_k)]`` with Stein's lemma (symbolic ``K``).

    Returns the steps: ``expectation`` (the left side, unevaluated), ``stein`` (after the rewrite),
    ``restoring`` (``D`` times the restoring expectation) and ``check`` (difference of the integrands,
    simplified: 0), plus the resulting ``identity`` as a SymPy equation in the symbols ``drift``,
    ``restoring``, ``D`` and ``rho_K(0)``.
    """
    K = num_classes_symbol()
    k, l = class_indices("k l")
    S = Softmax(K)
    y, xi = IndexedBase("y"), IndexedBase("xi")
    D, Delta = sympy.symbols("D Delta", positive=True)
    law = IndexedGaussian.standard([y, xi], K, logits=(S.logits, Lambda(l, D * y[l] + sqrt(Delta) * xi[l])))
    lhs = GaussianExpectation(Sum(S.prob(k) * y[k], (k, 1, K)), law)
    rewritten = stein_rewrite(lhs)
    restoring = GaussianExpectation(Sum(S.prob(k) * (1 - S.prob(k)), (k, 1, K)), law)
    diff = sympy.simplify((rewritten.args[0] - D * restoring.args[0]).doit())
    drift_s, restoring_s, rho0 = sympy.symbols("drift restoring rho_K(0)")
    return {
        "expectation": lhs,
        "stein": rewritten,
        "restoring": D * restoring,
        "check": diff,
        "identity": sympy.Eq(drift_s + D * restoring_s, rho0),
    }
