"""The linear softmax head as a model: aligned-student reduction of the gradient flow (SymPy).

Model: inputs ``x ~ N(0, I_m)``, teacher logits ``beta* h`` with ``h = W_hat x/sqrt(m)``, student
logits ``W x`` (W is n x m, zero at tau = 0), loss ``KL(softmax(beta* h) || softmax(W x))``, gradient
flow ``dW/dtau = -grad_W L = E[(p - q) x^T]`` in the dynamic time tau = sum of learning rates.

Derivation (carried out by :func:`derive_aligned_flow`):

1. ``1^T (p - q) = 0``: the mean row of W never moves; from W(0) = 0 the student stays centered,
   ``W = P W``, ``P = I - 11^T/n``.
2. Stein's lemma, for any W: ``E[(p - q) x^T] = beta* E[J(p)] W_hat/sqrt(m) - E[J(q)] W`` with
   ``J = diag(q) - q q^T``; for i.i.d. teacher logits (``W_hat W_hat^T = m I``) exchangeability gives
   ``E[J] ∝ P``, so ``W(tau) = beta(tau) P W_hat/sqrt(m)`` exactly.
3. Projection on ``V = P W_hat/sqrt(m)``: ``<-grad L, V> = -dL/dbeta`` (chain rule) and
   ``E||V||_F^2 = tr(P) = n - 1``.  Hence ``dbeta/dtau = -(1/(n-1)) dL/dbeta``: the spec's ``c/n``
   has ``c = n/(n-1)``, not 1 -- projecting on the uncentered ``W_hat`` (``||W_hat||^2 = nm``) would
   give 1/n, which is wrong by the factor (n-1)/n (checked against the full-matrix flow in the tests).
4. With ``L(beta) = U*(beta - beta*) + beta* F* - beta F`` (stat-mech form), ``dL/dbeta = U* - U``.

>>> d = derive_aligned_flow()
>>> d["prefactor"]
1/(n - 1)
"""

from __future__ import annotations

import sympy as sp

__all__ = ["derive_aligned_flow", "PeakedModel"]

from dataclasses import dataclass

from asymptotics.validation import InvalidInputError, check_num_classes, check_positive


@dataclass(frozen=True)
class PeakedModel:
    """Parameters of the toy LM head: ``n`` classes, ``m`` inputs, teacher inverse temperature.

    >>> PeakedModel(128, 32, 100.0).iid_logits
    False
    """

    n: int
    m: int
    beta_star: float

    def __post_init__(self):
        check_num_classes(self.n)
        if not isinstance(self.m, int) or self.m < 1:
            raise InvalidInputError(f"m must be a positive integer, got {self.m!r}")
        check_positive("beta_star", self.beta_star)

    @property
    def iid_logits(self) -> bool:
        """Whether the teacher logits are close to i.i.d. (m >= 16 n, the regime of the reduction)."""
        return self.m >= 16 * self.n


def derive_aligned_flow() -> dict:
    """Derive the scalar ODE of the aligned student from the matrix gradient flow (SymPy).

    Returns ``trace_P`` (= n - 1), ``norm_V`` (E||P W_hat/sqrt(m)||^2), ``norm_uncentered``
    (E||W_hat/sqrt(m)||^2 = n), ``prefactor``, ``dL_dbeta`` (from the stat-mech loss) and ``ode``
    (an Eq for dbeta/dtau).

    >>> derive_aligned_flow()["ode"]
    Eq(Derivative(beta(tau), tau), (-U(beta_star) + U(beta(tau)))/(n - 1))
    """
    n, m = sp.symbols("n m", integer=True, positive=True)
    i, j = sp.symbols("i j", integer=True)
    tau = sp.Symbol("tau", nonnegative=True)
    beta_s = sp.Symbol("beta_star", positive=True)
    P = lambda a, b: sp.KroneckerDelta(a, b) - sp.Rational(1, 1) / n
    # E[(W_hat W_hat^T)_{ij}] = m delta_ij
    EWW = lambda a, b: m * sp.KroneckerDelta(a, b)
    trace_P = sp.simplify(sp.Sum(P(i, i), (i, 1, n)).doit())
    # E||P W_hat||_F^2 / m = sum_{ij} P_ij E[(W W^T)_ji] / m   (P symmetric idempotent)
    # the j-sum collapses on the Kronecker delta of E[W W^T]
    inner = sp.Sum(P(i, j) * EWW(j, i), (j, 1, n))
    inner = P(i, i) * m  # == inner.doit() for 1 <= i <= n
    norm_V = sp.simplify(sp.Sum(inner, (i, 1, n)).doit() / m)
    norm_unc = sp.simplify(sp.Sum(EWW(i, i), (i, 1, n)).doit() / m)
    b = sp.Symbol("beta", positive=True)
    U, F = sp.Function("U"), sp.Function("F")
    L = U(beta_s) * (b - beta_s) + beta_s * F(beta_s) - b * F(b)
    # thermodynamic identity U = d(beta F)/dbeta
    dL = sp.diff(L, b).subs(sp.Derivative(F(b), b), (U(b) - F(b)) / b)
    dL = sp.simplify(dL)
    prefactor = sp.simplify(1 / norm_V)
    bt = sp.Function("beta")(tau)
    ode = sp.Eq(bt.diff(tau), sp.simplify(-prefactor * dL.subs(b, bt)))
    return {
        "trace_P": trace_P,
        "norm_V": norm_V,
        "norm_uncentered": norm_unc,
        "prefactor": prefactor,
        "dL_dbeta": dL,
        "ode": ode,
    }
