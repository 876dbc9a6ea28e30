"""Derivation of the centred order-parameter closure of the K-class online softmax model.

Conventions of ``spec/boundary_layer.md`` section 1: ``x ~ N(0, I_N)``; teacher fields
``y_k = B_k.x/sqrt(N)``; student logits ``z_k = W_k.x/sqrt(N)``; label ``c = argmax_k y_k``;
``p = softmax(z)``; loss ``-log p_c``; online SGD with step ``eta/sqrt(N)``; ``alpha = steps/N``.

Each step is a function returning a :class:`DerivationStep` (title, named SymPy equations, their
LaTeX) together with the expressions later steps use. Nothing is typed in: the flows come out of

1. :func:`step_sgd_flow` -- the update ``W_k <- W_k + (eta/sqrt N) e_k x`` with
   ``e_k = -d loss/d z_k`` (differentiated), dot products expanded bilinearly, ``|x|^2/N -> 1``;
2. :func:`step_mean_logit_invariance` -- ``sum_k e_k = 0`` from the softmax normalisation, the
   shift invariance of ``p``, the centring projector ``P = I - 11^T/K`` and the centred flows;
3. :func:`step_symmetric_sector` -- traces in the sector ``R = D P, Q = (D^2 + Delta) P``, the
   representation ``z = D y + sqrt(Delta) xi`` (covariances checked), the invariance shift
   ``sum e_k y_k = sum e_k (y_k - y_c)`` and Stein's lemma in ``xi`` through the softmax;
4. :func:`step_observables` -- ``eps_g`` and the test loss in the same representation;
5. :func:`step_binary_reduction` -- K = 2: the binary logistic-regression closure derived on its
   own and mapped onto (D, Delta), and ``eps_g = arccos(D/sqrt(D^2+Delta))/pi`` from the
   bivariate orthant (wedge) probability.

:func:`derive_closure` runs them for an integer K or a symbol K.

>>> cl = derive_closure(num_classes_symbol())
>>> print(cl.flow['D'])
eta*⟨Sum((y[c] - y[k])*p[k], (k, 1, K))⟩/(K - 1)
>>> print(flow_latex(3).splitlines()[0])
\\frac{dD}{d\\alpha} &= \\frac{\\eta}{2} \\left\\langle \\sum_{k=1}^{3} \\left(y_{c} - y_{k}\\right) p_{k} \\right\\rangle \\\\
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sympy
from sympy import Add, Derivative

from asymptotics.symbolic.closure_binary import (
    binary_logistic_closure,
    binary_symbols,
    k2_reduction,
    orthant_error_k2,
    step_binary_reduction,
)
from asymptotics.symbolic.closure_records import (
    ClosureSymbols,
    DerivationStep,
    check_K,
    closure_symbols,
    latex,
    step_latex,
    tex_text,
)
from asymptotics.symbolic.closure_steps import (
    explicit_flow,
    gaussian_covariance,
    step_mean_logit_invariance,
    step_observables,
    step_sgd_flow,
    step_symmetric_sector,
)
from asymptotics.symbolic.expectation import expand_outside
from asymptotics.symbolic.softmax import num_classes_symbol
from asymptotics.validation import InvalidInputError

__all__ = [
    "DerivationStep",
    "ClosureSymbols",
    "ClosureDerivation",
    "closure_symbols",
    "step_sgd_flow",
    "step_mean_logit_invariance",
    "step_symmetric_sector",
    "step_observables",
    "step_binary_reduction",
    "derive_closure",
    "flow_latex",
    "flow_factored",
    "step_latex",
    "closure_latex",
    "explicit_flow",
    "moments_in_gap_coordinates",
    "latex",
    "num_classes_symbol",
    "binary_symbols",
    "binary_logistic_closure",
    "k2_reduction",
    "orthant_error_k2",
    "gaussian_covariance",
]


def moments_in_gap_coordinates(K) -> dict:
    """The five derived closure integrands for integer K in the gap coordinates of the numeric layer.

    Label conditioned to ``c = 1``; for the other classes ``j = 1..K-1`` (class ``j + 1``):
    student gaps ``d_j = z_1 - z_{j+1}``, teacher gaps ``g_j = y_1 - y_{j+1}`` (real symbols
    ``d_j``, ``g_j``). The softmax is shift invariant, so ``z_1`` drops out.

    >>> print(moments_in_gap_coordinates(2)['loss'])
    -log(1/(1 + exp(-d_1)))
    """
    K = check_K(K)
    if not isinstance(K, sympy.Integer):
        raise InvalidInputError("gap coordinates need an integer K")
    n = int(K)
    s = closure_symbols(K)
    cl = derive_closure(K, binary=False)
    d = [sympy.Symbol(f"d_{j}", real=True) for j in range(1, n)]
    g = [sympy.Symbol(f"g_{j}", real=True) for j in range(1, n)]
    z_sub = {s.z[k]: s.z[1] - d[k - 2] for k in range(2, n + 1)}
    y_sub = {s.y[k]: s.y[1] - g[k - 2] for k in range(2, n + 1)}
    out = {}
    for name, E in cl.moments().items():
        f = explicit_flow(E, K).integrand
        f = s.softmax.rewrite_explicit(f).doit().xreplace(z_sub).xreplace(y_sub)
        out[name] = f.xreplace({s.z[1]: 0})   # shift invariance of the softmax (step 2)
    return out


# --------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------

@dataclass
class ClosureDerivation:
    """Result of :func:`derive_closure`: the steps, the flow and its pieces."""

    K: object
    symbols: ClosureSymbols
    steps: list = field(default_factory=list)
    flow: dict = field(default_factory=dict)          # {'D': dD/dalpha, 'Delta': dDelta/dalpha}
    flow_parts: dict = field(default_factory=dict)    # drift / restoring / noise expectations
    observables: dict = field(default_factory=dict)   # eps_g / loss expectations
    checks: dict = field(default_factory=dict)

    def explicit(self, label: int | None = 1) -> dict:
        """For integer K: the flow with sums written out (label conditioned to ``label``)."""
        return {n: explicit_flow(e, self.K, label) for n, e in self.flow.items()}

    def moments(self) -> dict:
        """The five closure expectations keyed drift/restoring/noise/eps_g/loss."""
        return {**self.flow_parts, **self.observables}


@lru_cache(maxsize=None)
def derive_closure(K, *, binary: bool | None = None) -> ClosureDerivation:
    """Run steps 1-4 (and step 5, the binary reduction, when ``binary``; default: for K = 2).

    K is an int >= 2 or an integer SymPy symbol. Results are cached per (K, binary).

    >>> cl = derive_closure(3)
    >>> [st.title.split(':')[0] for st in cl.steps]
    ['Step 1', 'Step 2', 'Step 3', 'Step 4']
    """
    K = check_K(K)
    s = closure_symbols(K)
    st1, r1 = step_sgd_flow(K)
    st2, r2 = step_mean_logit_invariance(K, r1)
    st3, r3 = step_symmetric_sector(K, r2)
    st4, r4 = step_observables(K)
    out = ClosureDerivation(K, s, [st1, st2, st3, st4],
                            {"D": r3["dD"], "Delta": r3["dDelta"]},
                            {"drift": r3["drift"], "restoring": r3["restoring"], "noise": r3["noise"]},
                            {"eps_g": r4["eps_g"], "loss": r4["loss"]},
                            {"sum_e": r2["sum_e"], "shift": r2["shift_difference"],
                             "cov": r3["cov_checks"]})
    if binary is None:
        binary = K == 2
    if binary:
        if K != 2:
            raise InvalidInputError(f"the binary reduction needs K = 2, got {K}")
        st5, r5 = step_binary_reduction()
        out.steps.append(st5)
        out.checks["binary"] = r5
    return out


def flow_factored(K) -> dict:
    """The flow as ``(prefactor, bracket)`` pairs with prefactor ``eta/(K-1)``.

    >>> pre, inner = flow_factored(num_classes_symbol())['Delta']
    >>> print(pre, '|', inner)
    eta/(K - 1) | -2*Delta*⟨Sum((1 - p[k])*p[k], (k, 1, K))⟩ + eta*⟨(1 - p[c])**2 + Sum((1 - KroneckerDelta(c, k))*p[k]**2, (k, 1, K))⟩
    """
    cl = derive_closure(K, binary=False)
    s = cl.symbols
    pre = s.eta / (s.K - 1)
    return {n: (pre, expand_outside(e / pre)) for n, e in cl.flow.items()}


def flow_latex(K) -> str:
    """LaTeX (align body) of the two flow equations for K classes, prefactor ``eta/(K-1)``.

    >>> print(flow_latex(num_classes_symbol()))
    \\frac{dD}{d\\alpha} &= \\frac{\\eta}{K - 1} \\left\\langle \\sum_{k=1}^{K} \\left(y_{c} - y_{k}\\right) p_{k} \\right\\rangle \\\\
    \\frac{d\\Delta}{d\\alpha} &= \\frac{\\eta}{K - 1} \\left\\{- 2 \\Delta \\left\\langle \\sum_{k=1}^{K} \\left(1 - p_{k}\\right) p_{k} \\right\\rangle + \\eta \\left\\langle \\left(1 - p_{c}\\right)^{2} + \\sum_{k \\neq c} p_{k}^{2} \\right\\rangle\\right\\}
    """
    s = closure_symbols(check_K(K))
    parts = flow_factored(K)
    lines = []
    for name, sym in (("D", s.D), ("Delta", s.Delta)):
        pre, inner = parts[name]
        body = latex(inner)
        if isinstance(inner, Add):
            body = r"\left\{%s\right\}" % body
        lines.append("%s &= %s %s" % (latex(Derivative(sym, s.alpha)), latex(pre), body))
    return " \\\\\n".join(lines)


def closure_latex(K, *, binary: bool | None = None, document: bool = False) -> str:
    """All steps as a LaTeX fragment (or a standalone document with ``document=True``)."""
    binary = (K == 2) if binary is None else binary
    cl = derive_closure(K, binary=binary)
    parts = []
    for st in cl.steps:
        parts.append("\\paragraph{%s}\n%s\n\\begin{align*}\n%s\n\\end{align*}\n" % (
            tex_text(st.title), tex_text(st.text),
            "\n".join(l for l in st.latex().splitlines() if not l.startswith("%"))))
    body = "\n".join(parts)
    if document:
        return ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
                + body + "\\end{document}\n")
    return body
