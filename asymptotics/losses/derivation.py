r"""Derivation of the centred (D, Delta) closure for any loss, step by step with LaTeX.

The steps of :mod:`asymptotics.symbolic.closure`, with the loss as data (symbolic ``K``, or an integer):

1. :func:`step_error_signal` -- ``e_k = -dl/dz_k`` differentiated through the softmax atoms and the logits
   (class sums collapsed); the order-parameter increments of online SGD are those of step 1 of the
   cross-entropy derivation, which never used the form of ``e``;
2. :func:`step_shift_invariance` -- ``sum_k e_k``, reduced with the index algebra and ``sum_k p_k = 1``; if it
   vanishes the mean student vector never moves and the centred flows of step 2 hold; otherwise the loss
   is refused (:class:`~asymptotics.validation.InvalidInputError` naming ``sum_k e_k``);
3. :func:`step_symmetric_sector_loss` -- the symmetric sector ``R = D P``, ``Q = (D^2 + Delta) P``: the drift
   ``E[sum_k e_k y_k] = E[sum_k e_k (y_k - y_c)]``, Stein's lemma in the student noise,
   ``E[sum_k e_k xi_k] = sqrt(Delta) E[sum_k de_k/dz_k] = -sqrt(Delta) E[sum_k d^2 l/dz_k^2]`` (the Hessian of
   the loss replaces ``p_k (1 - p_k)``), and the noise ``E[sum_k e_k^2]``::

       dD/dalpha     = eta/(K-1) E[sum_k e_k y_k]
       dDelta/dalpha = eta/(K-1) {-2 Delta E[sum_k d^2 l/dz_k^2] + eta E[sum_k e_k^2]}

4. :func:`step_observables_loss` -- ``eps_g``, the training loss ``E[l]`` and the test cross-entropy.

For cross-entropy the flows and the five moments are *identical* SymPy expressions to those of
:func:`asymptotics.symbolic.closure.derive_closure` (tested, symbolic K and K = 2, 3).

>>> from asymptotics.losses import get_loss
>>> cl = derive_loss_closure(get_loss("brier"))
>>> print(cl.flow["D"])
eta*⟨Sum(2*(-y[c] + y[k])*(-p[c] - p[k] + Sum(p[_j]**2, (_j, 1, K)))*p[k], (k, 1, K))⟩/(K - 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cache

import sympy
from sympy import Derivative, Eq, Indexed, S, Sum, sqrt

from asymptotics.losses.registry import get_loss
from asymptotics.symbolic.closure_records import (
    ClosureSymbols,
    DerivationStep,
    check_K,
    closure_symbols,
    latex,
    tex_text,
)
from asymptotics.symbolic.closure_steps import (
    explicit_flow,
    simplify_cheap,
    split_label_term,
    stein_restoring_integrand,
    step_mean_logit_invariance,
    step_observables,
    step_sgd_flow,
    substitute_error_signal,
    symmetric_sector_traces,
)
from asymptotics.symbolic.expectation import (
    GaussianExpectation,
    expand_outside,
)
from asymptotics.symbolic.softmax import (
    SoftmaxProbability,
    canonical_form,
    collapse_sums,
    pull_constants_out_of_sums,
)
from asymptotics.validation import InvalidInputError

__all__ = [
    "LossClosureDerivation",
    "derive_loss_closure",
    "step_error_signal",
    "step_shift_invariance",
    "step_symmetric_sector_loss",
    "step_observables_loss",
    "loss_flow_latex",
    "loss_closure_latex",
    "explicit_moments",
]


@dataclass(frozen=True)
class LossSymbols(ClosureSymbols):
    """The closure symbols with the loss's error signal ``e_k`` (an expression in ``signal_index``)."""

    signal: object = None
    signal_index: object = None

    def error_signal(self, k):
        return self.signal.xreplace({self.signal_index: k})


def _fresh_bound(expr):
    """Rename every summation index inside ``expr`` to a fresh ``_j`` dummy-like symbol (no collisions)."""
    counter = [0]

    def rule(a):
        if len(a.limits) != 1:
            return a
        idx, lo, hi = a.limits[0]
        new = sympy.Symbol("_j" if counter[0] == 0 else f"_j{counter[0]}", integer=True, positive=True)
        counter[0] += 1
        return Sum(a.function.xreplace({idx: new}), (new, lo, hi))

    return expr.replace(lambda a: isinstance(a, Sum), rule)


def _loss_symbols(s: ClosureSymbols, signal) -> LossSymbols:
    return LossSymbols(**{f.name: getattr(s, f.name) for f in fields(s)}, signal=signal, signal_index=s.k)


# --------------------------------------------------------------------------------------------
# step 1
# --------------------------------------------------------------------------------------------


def step_error_signal(loss, K):
    """Step 1: ``e_k = -dl/dz_k`` for the loss, and the flows of ``R``, ``Q`` (as for any error signal).

    >>> from asymptotics.losses import get_loss
    >>> step, res = step_error_signal(get_loss("cross_entropy"), check_K(3))
    >>> print(res['error_signal'])
    KroneckerDelta(c, k) - p[k]
    """
    s = closure_symbols(K)
    k = s.k
    ell = loss.builder(s)
    # differentiate in a fresh index (the loss's own class sums may use k as their bound index)
    i = sympy.Symbol("i_", integer=True, positive=True)
    e_i = collapse_sums(-sympy.diff(ell, s.z[i]))
    e_i = _fresh_bound(sympy.expand(e_i) if not e_i.has(sympy.log) else e_i)
    e_k = e_i.xreplace({i: k})
    e_k = canonical_form(e_k, logits=s.z) if not e_k.has(sympy.log) else e_k
    e_k = _fresh_bound(e_k)
    e_k = sympy.factor_terms(e_k) if e_k.has(sympy.log) else e_k
    cross = step_sgd_flow(K)
    ce_step, res = cross
    eqs = (("loss", Eq(sympy.Symbol(r"\ell"), ell)), ("error_signal", Eq(s.e[k], e_k))) + tuple(
        eq for eq in ce_step.equations if eq[0] != "error_signal"
    )
    step = DerivationStep(
        "Step 1: error signal and order-parameter flow of online SGD",
        f"loss {loss.name}; e_k = -d l/dz_k (softmax atoms: dp_k/dz_l = p_k (delta_kl - p_l)); "
        "W_k <- W_k + (eta/sqrt N) e_k x; one step is d alpha = 1/N; the eta term is the drift, the eta^2 "
        "term the SGD noise from |x|^2/N -> 1.",
        eqs,
    )
    return step, {**res, "error_signal": e_k, "loss": ell}


# --------------------------------------------------------------------------------------------
# step 2
# --------------------------------------------------------------------------------------------


def _sum_is_zero(expr, s) -> bool:
    e = canonical_form(expr, logits=s.z)
    if e == 0:
        return True
    e = simplify_cheap(e)
    return e == 0


def step_shift_invariance(loss, K, previous):
    """Step 2: ``sum_k e_k = 0`` (shift invariance) and the centred flows; raises if the sum does not vanish."""
    s = closure_symbols(K)
    k = s.k
    e_k = previous["error_signal"]
    total = collapse_sums(Sum(e_k, (k, 1, s.K)))
    decided = _sum_is_zero(total, s)
    how = "index algebra with sum_k p_k = 1"
    if not decided:
        info = loss.shift_invariance()
        if not info["invariant"]:
            raise InvalidInputError(
                f"loss {loss.name!r} is not shift invariant: sum_k e_k = {sympy.sstr(sympy.simplify(total))} "
                "does not vanish, so the mean logit moves and the centred (D, Delta) closure does not apply; the "
                "engine refuses such losses (it does not carry the mean-logit variable)"
            )
        how = (
            "the symbolic-K sum was not reduced to 0 by the index algebra; the explicit forms for K = 2, 3 give "
            "sum_k dl/dz_k = 0 identically"
        )
    _, r2 = step_mean_logit_invariance(K, previous)
    Rc, Qc = sympy.IndexedBase(r"\check{R}"), sympy.IndexedBase(r"\check{Q}")
    eqs = (
        ("sum_e", Eq(Sum(s.e[k], (k, 1, s.K)), total)),
        ("sum_e_reduced", Eq(Sum(s.e[k], (k, 1, s.K)), S.Zero)),
        ("dR_centered", Eq(Derivative(Rc[k, s.l], s.alpha), r2["dR_centered"])),
        ("dQ_centered", Eq(Derivative(Qc[k, s.l], s.alpha), r2["dQ_centered"])),
    )
    step = DerivationStep(
        "Step 2: shift invariance and centred variables",
        f"sum_k e_k = 0 ({how}): the loss depends on the logits only through their differences, the mean "
        "student vector never moves and the centred order parameters R_c = P R, Q_c = P Q P obey the flows "
        "below (P = I - 11^T/K).",
        eqs,
    )
    return step, {**r2, "sum_e": S.Zero, "sum_e_raw": total, "decided_symbolically": decided}


# --------------------------------------------------------------------------------------------
# step 3
# --------------------------------------------------------------------------------------------


def step_symmetric_sector_loss(loss, K, previous, signal):
    """Step 3: drift, restoring (Stein's lemma: the loss's Hessian) and noise in the symmetric sector."""
    base = closure_symbols(K)
    s = _loss_symbols(base, signal)
    parts = symmetric_sector_traces(s, previous)
    mu, cov_zy, cov_zz, cov_checks = parts["mu"], parts["cov_zy"], parts["cov_zz"], parts["cov_checks"]
    dD, dDelta_raw, E_ey, shifted, drift = (
        parts[n] for n in ("dD", "dDelta_raw", "E_ey", "shifted", "drift")
    )
    # (d) restoring: sum_k e_k xi_k, Stein in xi through the logits
    E_exi, exi, exi_stein = stein_restoring_integrand(
        s, dDelta_raw, mu, prepare=lambda exi: _random_factors_into_sums(exi, mu)
    )
    exi_coeff, exi_sum = exi_stein.as_independent(Sum)
    if isinstance(exi_sum, Sum) and exi_coeff == -sqrt(s.Delta):
        restoring = GaussianExpectation(exi_sum, mu)
        stein_form = exi_coeff * restoring
    else:
        integrand = sympy.expand(-exi_stein / sqrt(s.Delta))
        integrand = canonical_form(collapse_sums(integrand), logits=s.z)
        if integrand.has(s.xi):
            raise InvalidInputError(
                f"Stein's lemma left the student noise in the restoring term of {loss.name!r}: {integrand}"
            )  # pragma: no cover - guard of the derivation
        restoring = GaussianExpectation(_tidy(integrand), mu)
        stein_form = -sqrt(s.Delta) * restoring
    # (e) noise
    E_ee = [
        E
        for E in dDelta_raw.atoms(GaussianExpectation)
        if E.integrand.has(s.e) and not E.integrand.has(s.xi) and not E.integrand.has(s.y)
    ][0]
    lab, others = split_label_term(E_ee.integrand, s)
    noise_integrand = substitute_error_signal(lab, s) + substitute_error_signal(others, s)
    noise = GaussianExpectation(noise_integrand, mu)
    dD_final = dD.xreplace({E_ey: drift})
    dDelta = dDelta_raw.xreplace({E_exi: stein_form, E_ee: noise})
    dDelta = sympy.factor_terms(expand_outside(dDelta))
    Ddot, Deltadot = Derivative(s.D, s.alpha), Derivative(s.Delta, s.alpha)
    eqs = (
        ("representation_cov_R", Eq(sympy.Symbol(r"\operatorname{Cov}(\check z_k, y_l)"), cov_zy)),
        ("representation_cov_Q", Eq(sympy.Symbol(r"\operatorname{Cov}(\check z_k, \check z_l)"), cov_zz)),
        ("invariance_shift", Eq(E_ey.integrand, shifted)),
        ("drift", Eq(E_ey, drift)),
        ("error_times_noise", Eq(E_exi.integrand, exi)),
        ("stein", Eq(E_exi, stein_form)),
        ("noise", Eq(E_ee, noise)),
        ("dD", Eq(Ddot, dD_final)),
        ("dDelta", Eq(Deltadot, dDelta)),
    )
    step = DerivationStep(
        "Step 3: symmetric sector R_c = D P, Q_c = (D^2 + Delta) P",
        "z = D y + sqrt(Delta) xi has the centred covariances of the sector; sum_k e_k y_k = sum_k e_k (y_k - y_c); "
        "Stein's lemma in xi, E[e_k xi_k] = sqrt(Delta) E[de_k/dz_k], brings in the Hessian of the loss: "
        "restoring = E[sum_k d^2 l/dz_k^2].",
        eqs,
    )
    return step, {
        "dD": dD_final,
        "dDelta": dDelta,
        "drift": drift,
        "restoring": restoring,
        "noise": noise,
        "cov_checks": cov_checks,
    }


def _random_factors_into_sums(expr, mu):
    """``F(p_c) sum_k g_k -> sum_k F(p_c) g_k`` for random factors ``F`` free of the summation index, so that
    Stein's lemma finds the Gaussian component inside the sum (constant factors stay outside)."""
    out = []
    gaussian = [b for b in mu.bases if str(b) == "xi"]
    for term in sympy.Add.make_args(sympy.expand(expr)):
        factors = sympy.Mul.make_args(term)
        sums = [f for f in factors if isinstance(f, Sum) and len(f.limits) == 1 and f.has(*gaussian)]
        if len(sums) == 1:
            sm = sums[0]
            idx = sm.limits[0][0]
            others = [f for f in factors if f is not sm]
            random = [f for f in others if mu.is_random(f) and not f.has(idx)]
            const = [f for f in others if f not in random]
            if random:
                out.append(sympy.Mul(*const) * Sum(sympy.Mul(*random) * sm.function, *sm.limits))
                continue
        out.append(term)
    return sympy.Add(*out)


def _tidy(expr):
    """Factor each class sum's summand and pull constants out (readable, same value)."""
    expr = expr.replace(
        lambda a: isinstance(a, Sum), lambda a: Sum(sympy.factor_terms(a.function), *a.limits)
    )
    return sympy.factor_terms(pull_constants_out_of_sums(expr))


# --------------------------------------------------------------------------------------------
# step 4
# --------------------------------------------------------------------------------------------


def step_observables_loss(loss, K):
    """Step 4: ``eps_g``, the training loss ``E[l]`` and the test cross-entropy ``E[-log p_c]``."""
    s = closure_symbols(K)
    _, r4 = step_observables(K)
    mu = s.measure
    train = GaussianExpectation(loss.builder(s), mu)
    eqs = (
        ("eps_g", Eq(sympy.Symbol(r"\varepsilon_g"), r4["eps_g"])),
        ("loss", Eq(sympy.Symbol("L"), train)),
        ("cross_entropy", Eq(sympy.Symbol(r"L_{\mathrm{CE}}"), r4["loss"])),
    )
    step = DerivationStep(
        "Step 4: observables",
        "eps_g = P[argmax z != c]; the training loss L = E[l] and the test cross-entropy "
        "L_CE = E[-log p_c], with z = D y + sqrt(Delta) xi.",
        eqs,
    )
    return step, {"eps_g": r4["eps_g"], "loss": train, "cross_entropy": r4["loss"]}


# --------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------


@dataclass
class LossClosureDerivation:
    """Result of :func:`derive_loss_closure`: steps, the flow, its parts and the observables."""

    loss: object
    K: object
    steps: list = field(default_factory=list)
    flow: dict = field(default_factory=dict)
    flow_parts: dict = field(default_factory=dict)
    observables: dict = field(default_factory=dict)
    checks: dict = field(default_factory=dict)

    def moments(self) -> dict:
        """drift/restoring/noise/eps_g/loss/cross_entropy expectations."""
        return {**self.flow_parts, **self.observables}


@cache
def _derive(loss, K):
    st1, r1 = step_error_signal(loss, K)
    st2, r2 = step_shift_invariance(loss, K, r1)
    st3, r3 = step_symmetric_sector_loss(loss, K, r2, r1["error_signal"])
    st4, r4 = step_observables_loss(loss, K)
    return LossClosureDerivation(
        loss,
        K,
        [st1, st2, st3, st4],
        {"D": r3["dD"], "Delta": r3["dDelta"]},
        {"drift": r3["drift"], "restoring": r3["restoring"], "noise": r3["noise"]},
        {"eps_g": r4["eps_g"], "loss": r4["loss"], "cross_entropy": r4["cross_entropy"]},
        {"sum_e": r2["sum_e_raw"], "sum_e_symbolic": r2["decided_symbolically"], "cov": r3["cov_checks"]},
    )


def derive_loss_closure(loss, K=None) -> LossClosureDerivation:
    """Derive the centred closure of ``loss`` for ``K`` classes (``None``: the symbol ``K``; or an int >= 2).

    Raises :class:`~asymptotics.validation.InvalidInputError` for a loss that is not shift invariant.
    """
    from asymptotics.symbolic.softmax import num_classes_symbol

    loss = get_loss(loss)
    K = check_K(num_classes_symbol() if K is None else K)
    return _derive(loss, K)


def loss_flow_latex(loss, K=None) -> str:
    """LaTeX (align body) of the two flow equations of ``loss``.

    >>> from asymptotics.losses import get_loss
    >>> print(loss_flow_latex(get_loss("cross_entropy"), 3).splitlines()[0])
    \\frac{dD}{d\\alpha} &= \\frac{\\eta \\left\\langle \\sum_{k=1}^{3} \\left(y_{c} - y_{k}\\right) p_{k} \\right\\rangle}{2} \\\\
    """
    cl = derive_loss_closure(loss, K)
    s = closure_symbols(cl.K)
    return " \\\\\n".join(
        f"{latex(Derivative(sym, s.alpha))} &= {latex(cl.flow[name])}"
        for name, sym in (("D", s.D), ("Delta", s.Delta))
    )


def loss_closure_latex(loss, K=None) -> str:
    """All steps of the derivation for ``loss`` as a LaTeX fragment (paragraphs and align environments)."""
    cl = derive_loss_closure(loss, K)
    parts = []
    for st in cl.steps:
        body = "\n".join(line for line in st.latex().splitlines() if not line.startswith("%"))
        parts.append(
            "\\paragraph{%s}\n%s\n\\begin{align*}\n%s\n\\end{align*}\n"
            % (tex_text(st.title), tex_text(st.text), body)
        )
    return "\n".join(parts)


def explicit_moments(loss, K: int) -> dict:
    """The derived moment integrands for integer ``K``, label 1, in the logits ``z[1..K]`` and ``y``.

    Used to check the derivation against the direct differentiation of the numeric layer.
    """
    cl = derive_loss_closure(loss, K)
    s = closure_symbols(K)
    out = {}
    for name, E in cl.moments().items():
        f = explicit_flow(E, K).integrand
        f = f.doit()
        f = f.replace(lambda a: isinstance(a, SoftmaxProbability), lambda a: a.explicit()).doit()
        f = f.replace(lambda a: isinstance(a, Indexed) and a.base == s.z, lambda a: a)
        out[name] = f
    return out
