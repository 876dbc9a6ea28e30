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
from sympy import (
    Add,
    Derivative,
    Eq,
    Heaviside,
    Indexed,
    IndexedBase,
    KroneckerDelta,
    Lambda,
    Mul,
    Product,
    S,
    Sum,
    sqrt,
)
from sympy.printing.latex import LatexPrinter

from asymptotics.symbolic.expectation import (
    CorrelatedGaussian,
    GaussianExpectation,
    IndexedGaussian,
    collect_expectations,
    expand_outside,
    linear_expand,
    map_integrands,
)
from asymptotics.symbolic.softmax import (
    Softmax,
    class_indices,
    collapse_sums,
    logistic,
    num_classes_symbol,
    pull_constants_out_of_sums,
    rename_bound_indices,
)
from asymptotics.symbolic.stein import stein_integrand, stein_rewrite
from asymptotics.validation import InvalidInputError, check_num_classes

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
]


# --------------------------------------------------------------------------------------------
# records and printing
# --------------------------------------------------------------------------------------------

class ClosurePrinter(LatexPrinter):
    """LaTeX printer that writes ``sum_k (1 - delta_kc) f_k`` as ``\\sum_{k \\neq c} f_k``.

    Also prints ``y[k]`` as ``y_{k}`` and ``d D/d alpha`` as ``\\frac{dD}{d\\alpha}``.
    """

    def _print_Indexed(self, expr):
        base = self._print(expr.base.label)
        return "%s_{%s}" % (base, ",".join(self._print(i) for i in expr.indices))

    def _print_Derivative(self, expr):
        if len(expr.variable_count) == 1 and expr.variable_count[0][1] == 1:
            return r"\frac{d%s}{d%s}" % (self._print(expr.expr), self._print(expr.variables[0]))
        return super()._print_Derivative(expr)

    def _print_Sum(self, expr):
        if len(expr.limits) == 1:
            k, lo, hi = expr.limits[0]
            factors = Mul.make_args(expr.function)
            for f in factors:
                c = _exclusion_label(f, k)
                if c is not None:
                    rest = Mul(*[g for g in factors if g is not f])
                    return r"\sum_{%s \neq %s} %s" % (self._print(k), self._print(c),
                                                     self.parenthesize(rest, 50))
        return super()._print_Sum(expr)


def _exclusion_label(f, k):
    """If ``f`` is ``1 - KroneckerDelta(k, c)`` return ``c``."""
    if isinstance(f, Add) and len(f.args) == 2 and S.One in f.args:
        other = f.args[0] if f.args[1] == S.One else f.args[1]
        if isinstance(other, Mul) and other.args[0] == -1 and len(other.args) == 2 \
                and isinstance(other.args[1], KroneckerDelta):
            a, b = other.args[1].args
            if a == k:
                return b
            if b == k:
                return a
    return None


def latex(expr) -> str:
    """LaTeX of an expression of this module (``\\sum_{k \\neq c}`` for excluded-label sums).

    >>> k, c = class_indices('k c')
    >>> latex(Sum((1 - KroneckerDelta(k, c)) * IndexedBase('y')[k], (k, 1, 3)))
    '\\\\sum_{k \\\\neq c} y_{k}'
    """
    return ClosurePrinter().doprint(expr)


@dataclass(frozen=True)
class DerivationStep:
    """One step of a derivation: a title, a short explanation and named equations.

    >>> s = DerivationStep('t', 'why', (('x', Eq(sympy.Symbol('a'), 1)),))
    >>> s.latex()
    '% t\\n% why\\na &= 1'
    """

    title: str
    text: str
    equations: tuple

    def expressions(self) -> dict:
        return dict(self.equations)

    def latex(self) -> str:
        lines = ["% " + self.title, "% " + self.text.replace("\n", "\n% ")]
        body = []
        for _, eq in self.equations:
            if isinstance(eq, Eq):
                body.append(latex(eq.lhs) + " &= " + latex(eq.rhs))
            else:
                body.append("&" + latex(eq))
        return "\n".join(lines) + "\n" + " \\\\\n".join(body)


@dataclass(frozen=True)
class ClosureSymbols:
    """All symbols of the derivation for one K (int or symbol)."""

    K: object
    eta: sympy.Symbol
    alpha: sympy.Symbol
    N: sympy.Symbol
    D: sympy.Symbol
    Delta: sympy.Symbol
    k: sympy.Symbol
    l: sympy.Symbol
    j: sympy.Symbol
    c: sympy.Symbol
    y: IndexedBase
    xi: IndexedBase
    z: IndexedBase
    e: IndexedBase
    W: IndexedBase
    B: IndexedBase
    R: IndexedBase
    Q: IndexedBase
    x: sympy.Symbol
    r: sympy.Symbol
    softmax: Softmax
    field_measure: IndexedGaussian
    measure: IndexedGaussian

    def p(self, k):
        return self.softmax.prob(k)

    def error_signal(self, k):
        """``e_k = delta_kc - p_k`` (derived in step 1 as ``-d loss / d z_k``)."""
        return KroneckerDelta(k, self.c) - self.p(k)

    def logit_rep(self, k):
        return self.D * self.y[k] + sqrt(self.Delta) * self.xi[k]


def _check_K(K):
    if isinstance(K, sympy.Symbol):
        if not K.is_integer:
            raise InvalidInputError(f"a symbolic K must be an integer symbol, got {K}")
        return K
    return sympy.Integer(check_num_classes(K))


@lru_cache(maxsize=None)
def closure_symbols(K) -> ClosureSymbols:
    """Symbols for K classes (K an int >= 2 or an integer SymPy symbol).

    >>> closure_symbols(3).measure.dim
    3
    """
    K = _check_K(K)
    eta, alpha, N, D, Delta = sympy.symbols("eta alpha N D Delta", positive=True)
    k, l, j, c = class_indices("k l j c")
    y, xi, z, e = (IndexedBase(n, real=True) for n in ("y", "xi", "z", "e"))
    W, B, R, Q = (IndexedBase(n) for n in ("W", "B", "R", "Q"))
    x = sympy.Symbol("x")
    r = sympy.Symbol("r", positive=True)
    soft = Softmax(K, z)
    a, b = sympy.symbols("a b", integer=True)
    field_measure = IndexedGaussian(
        [y, z], K,
        [(y, y, Lambda((a, b), KroneckerDelta(a, b))),
         (z, y, Lambda((a, b), R[a, b])),
         (z, z, Lambda((a, b), Q[a, b]))],
        label=(c, y), markers=(e,))
    measure = IndexedGaussian.standard(
        [y, xi], K, label=(c, y),
        logits=(z, Lambda(a, D * y[a] + sqrt(Delta) * xi[a])), markers=(e,))
    return ClosureSymbols(K, eta, alpha, N, D, Delta, k, l, j, c, y, xi, z, e, W, B, R, Q, x, r,
                          soft, field_measure, measure)


# --------------------------------------------------------------------------------------------
# bilinear algebra of the high-dimensional vectors (step 1)
# --------------------------------------------------------------------------------------------

def _dot(u: dict, v: dict, table) -> sympy.Expr:
    """``u.v`` for linear combinations ``{vector: coefficient}`` given the pairwise table."""
    return Add(*[cu * cv * table(a, b) for a, cu in u.items() for b, cv in v.items()])


def _field_table(s: ClosureSymbols):
    N = s.N

    def kind(a):
        if a == s.x:
            return "x", None
        return str(a.base), a.indices[0]

    def table(a, b):
        (ka, ia), (kb, ib) = kind(a), kind(b)
        pair = {ka, kb}
        if ka == kb == "W":
            return N * s.Q[ia, ib]
        if pair == {"W", "B"}:
            return N * (s.R[ia, ib] if ka == "W" else s.R[ib, ia])
        if pair == {"x", "B"}:
            return sqrt(N) * s.y[ia if ka == "B" else ib]
        if pair == {"x", "W"}:
            return sqrt(N) * s.z[ia if ka == "W" else ib]
        if ka == kb == "x":
            return N * s.r
        raise InvalidInputError(f"no dot product rule for {a} and {b}")

    return table


def _orders_in_eta(expr, eta):
    """Split ``expr`` into its eta^1 (drift) and eta^2 (noise) coefficients."""
    poly = sympy.Poly(sympy.expand(expr), eta)
    if poly.degree() > 2 or poly.coeff_monomial(1) != 0:
        raise InvalidInputError("the increment must be a polynomial eta*a + eta^2*b")
    return poly.coeff_monomial(eta), poly.coeff_monomial(eta ** 2)


# --------------------------------------------------------------------------------------------
# step 1
# --------------------------------------------------------------------------------------------

def step_sgd_flow(K):
    """Step 1: order-parameter flow of online SGD as Gaussian expectations.

    Returns ``(step, results)`` with results ``dR``, ``dQ`` (right-hand sides), ``drift_Q``,
    ``noise_Q`` (the eta and eta^2 parts of dQ) and ``error_signal`` (``e_k``).

    >>> step, res = step_sgd_flow(3)
    >>> print(res['dR'])
    eta*⟨e[k]*y[l]⟩
    >>> print(res['error_signal'])
    KroneckerDelta(c, k) - p[k]
    """
    s = closure_symbols(K)
    k, l, c = s.k, s.l, s.c
    # e_k = - d(-log p_c)/d z_k, through the softmax chain rule
    loss = -sympy.log(s.p(c))
    e_k = sympy.expand(-sympy.diff(loss, s.z[k]))
    # the update and the exact one-step increments
    W_new = lambda i: {s.W[i]: 1, s.x: s.eta / sqrt(s.N) * s.e[i]}  # noqa: E731
    table = _field_table(s)
    dR_step = sympy.expand(_dot(W_new(k), {s.B[l]: 1}, table) / s.N - s.R[k, l])
    dQ_step = sympy.expand(_dot(W_new(k), W_new(l), table) / s.N - s.Q[k, l])
    # alpha = steps/N: one step is d alpha = 1/N; |x|^2/N = r -> 1 (fluctuations O(N^-1/2))
    rate_R = sympy.expand(dR_step * s.N)
    rate_Q = sympy.expand(dQ_step * s.N)
    if rate_R.has(s.N) or rate_Q.has(s.N):
        raise InvalidInputError("the increments do not scale as 1/N")  # pragma: no cover
    drift_R, noise_R = _orders_in_eta(rate_R, s.eta)
    drift_Q, noise_Q = _orders_in_eta(rate_Q, s.eta)
    noise_Q = noise_Q.subs(s.r, 1)
    mu = s.field_measure
    dR = s.eta * GaussianExpectation(drift_R, mu) + s.eta ** 2 * GaussianExpectation(noise_R, mu) \
        if noise_R != 0 else s.eta * GaussianExpectation(drift_R, mu)
    dQ = s.eta * GaussianExpectation(drift_Q, mu) + s.eta ** 2 * GaussianExpectation(noise_Q, mu)
    eqs = (
        ("error_signal", Eq(s.e[k], e_k)),
        ("update", Eq(sympy.Symbol(r"W_k^{\prime}"), s.W[k] + s.eta / sqrt(s.N) * s.e[k] * s.x)),
        ("increment_R", Eq(sympy.Symbol(r"\delta R_{kl}"), dR_step)),
        ("increment_Q", Eq(sympy.Symbol(r"\delta Q_{kl}"), dQ_step)),
        ("dR", Eq(Derivative(s.R[k, l], s.alpha), dR)),
        ("dQ", Eq(Derivative(s.Q[k, l], s.alpha), dQ)),
    )
    step = DerivationStep(
        "Step 1: order-parameter flow of online SGD",
        "e_k = -d(-log p_c)/dz_k; W_k <- W_k + (eta/sqrt N) e_k x; R_kl = W_k.B_l/N, "
        "Q_kl = W_k.W_l/N; one step is d alpha = 1/N; the eta term is the drift, the eta^2 term "
        "the SGD noise from |x|^2/N -> 1.",
        eqs)
    return step, {"dR": dR, "dQ": dQ, "drift_Q": drift_Q, "noise_Q": noise_Q,
                  "error_signal": e_k}


# --------------------------------------------------------------------------------------------
# step 2
# --------------------------------------------------------------------------------------------

def _apply_error_sum_rule(expr, s: ClosureSymbols):
    """Replace ``sum_j e_j`` (full range) by 0, after moving constant factors out of sums."""
    expr = pull_constants_out_of_sums(expr)

    def is_error_sum(a):
        if isinstance(a, Sum) and len(a.limits) == 1:
            idx, lo, hi = a.limits[0]
            f = a.function
            return isinstance(f, Indexed) and f.base == s.e and f.indices[0] == idx \
                and lo == 1 and hi == s.K
        return False

    return expr.replace(is_error_sum, lambda a: S.Zero)


def _simplify_cheap(expr):
    """``expand`` first; full ``simplify`` only if that does not already give zero."""
    e = sympy.expand(expr)
    return e if e == 0 else sympy.simplify(e)


def _sum_of_probabilities(s: ClosureSymbols):
    """``sum_k p_k`` evaluated from the explicit softmax: returns the chain of forms."""
    k = s.k
    explicit = Sum(s.softmax.explicit(k), (k, 1, s.K))
    pulled = pull_constants_out_of_sums(explicit)
    renamed = rename_bound_indices(pulled)
    if isinstance(s.K, sympy.Integer):
        renamed = renamed.doit()
    return explicit, sympy.simplify(renamed)


def step_mean_logit_invariance(K, previous=None):
    """Step 2: ``sum_k e_k = 0``, shift invariance, projector and centred flows.

    >>> step, res = step_mean_logit_invariance(num_classes_symbol())
    >>> res['sum_e']
    0
    >>> print(res['dR_centered'])
    eta*⟨e[k]*y[l]⟩
    """
    s = closure_symbols(K)
    k, l, j, c = s.k, s.l, s.j, s.c
    if previous is None:
        previous = step_sgd_flow(K)[1]
    # (a) sum of the error signal
    sum_e_raw = Sum(s.error_signal(k), (k, 1, s.K))
    sum_e_collapsed = collapse_sums(sum_e_raw)                   # 1 - sum_k p_k
    explicit_sum, sum_p = _sum_of_probabilities(s)
    if sum_p != 1:
        raise InvalidInputError(f"softmax normalisation failed: sum p = {sum_p}")  # pragma: no cover
    prob_sum = Sum(s.p(k), (k, 1, s.K))
    sum_e = _simplify_cheap(sum_e_collapsed.xreplace({prob_sum: sum_p}).replace(
        lambda a: isinstance(a, Sum) and a.function == s.p(a.limits[0][0]) and a.limits[0][1:] == (1, s.K),
        lambda a: sum_p))
    # (b) the mean student vector does not move
    mean_increment = collapse_sums(Sum(s.eta / sqrt(s.N) * s.error_signal(k) * s.x, (k, 1, s.K)) / s.K)
    mean_increment = _simplify_cheap(mean_increment.replace(
        lambda a: isinstance(a, Sum) and a.function == s.p(a.limits[0][0]), lambda a: sum_p))
    # (c) softmax depends only on centred logits: p_k(z + a 1) = p_k(z)
    a = sympy.Symbol("a", real=True)
    p_explicit = s.softmax.explicit(k)
    shifted = p_explicit.replace(lambda t: isinstance(t, Indexed) and t.base == s.z,
                                 lambda t: t + a)
    shifted_raw = shifted
    shifted = sympy.factor_terms(
        pull_constants_out_of_sums(sympy.expand(shifted, power_exp=True, mul=False)))
    shift_difference = _simplify_cheap(shifted - p_explicit)
    # (d) projector P = I - 11^T/K: P^2 = P and P e = e
    Pm = lambda u, v: KroneckerDelta(u, v) - 1 / s.K  # noqa: E731
    P_squared = collapse_sums(Sum(Pm(k, j) * Pm(j, l), (j, 1, s.K)))
    Pe = _apply_error_sum_rule(collapse_sums(Sum(Pm(k, j) * s.e[j], (j, 1, s.K))), s)
    # (e) centred flows: R_c = P R, Q_c = P Q P
    dR_c = previous["dR"]
    mu = s.field_measure
    i2 = sympy.Symbol("i", integer=True, positive=True)
    dR_centered = map_integrands(
        dR_c.xreplace({k: j}),
        lambda f: _apply_error_sum_rule(collapse_sums(Sum(Pm(k, j) * f, (j, 1, s.K))), s))
    dQ_centered = map_integrands(
        previous["dQ"].xreplace({k: i2, l: j}),
        lambda f: _apply_error_sum_rule(
            collapse_sums(Sum(Sum(Pm(k, i2) * Pm(l, j) * f, (j, 1, s.K)), (i2, 1, s.K))), s))
    Rc, Qc = IndexedBase(r"\check{R}"), IndexedBase(r"\check{Q}")
    eqs = (
        ("sum_e_definition", Eq(Sum(s.e[k], (k, 1, s.K)), sum_e_raw)),
        ("sum_e_collapsed", Eq(sum_e_raw, sum_e_collapsed)),
        ("normalisation", Eq(explicit_sum, sum_p)),
        ("sum_e", Eq(Sum(s.e[k], (k, 1, s.K)), sum_e)),
        ("mean_vector", Eq(sympy.Symbol(r"\delta \bar{W}"), mean_increment)),
        ("shift_invariance", Eq(shifted_raw, p_explicit, evaluate=False)),
        ("projector_idempotent", Eq(Sum(Pm(k, j) * Pm(j, l), (j, 1, s.K)), P_squared)),
        ("projector_on_e", Eq(Sum(Pm(k, j) * s.e[j], (j, 1, s.K)), Pe)),
        ("dR_centered", Eq(Derivative(Rc[k, l], s.alpha), dR_centered)),
        ("dQ_centered", Eq(Derivative(Qc[k, l], s.alpha), dQ_centered)),
    )
    step = DerivationStep(
        "Step 2: mean-logit invariance and centred variables",
        "sum_k e_k = 1 - sum_k p_k = 0, so the mean student vector never moves and p depends only "
        "on centred logits; with P = I - 11^T/K (P^2 = P, P e = e) the centred order parameters "
        "R_c = P R, Q_c = P Q P obey the flows below.",
        eqs)
    return step, {"sum_e": sum_e, "mean_increment": mean_increment,
                  "shift_difference": shift_difference, "P_squared": P_squared, "Pe": Pe,
                  "dR_centered": dR_centered, "dQ_centered": dQ_centered}


# --------------------------------------------------------------------------------------------
# step 3
# --------------------------------------------------------------------------------------------

def _linear_terms(expr, limits=()):
    """Terms ``(coefficient, component, sum limits)`` of a linear form in Gaussian components."""
    out = []
    for t in Add.make_args(sympy.expand(expr)):
        if isinstance(t, Sum):
            out += _linear_terms(t.function, limits + tuple(t.limits))
            continue
        comps = [f for f in Mul.make_args(t) if isinstance(f, Indexed)]
        sums = [f for f in Mul.make_args(t) if isinstance(f, Sum)]
        if sums:
            const = Mul(*[f for f in Mul.make_args(t) if not isinstance(f, Sum)])
            out += [(const * c0, v, limits + lim) for (c0, v, lim) in _linear_terms(sums[0], ())]
            continue
        if len(comps) != 1:
            raise InvalidInputError(f"not a linear form in Gaussian components: {t}")
        out.append((t / comps[0], comps[0], limits))
    return out


def gaussian_covariance(a, b, measure) -> sympy.Expr:
    """``Cov(a, b)`` of two linear forms (class sums allowed) under an :class:`IndexedGaussian`.

    >>> s = closure_symbols(num_classes_symbol())
    >>> k, l = s.k, s.l
    >>> gaussian_covariance(s.y[k] - Sum(s.y[s.j], (s.j, 1, s.K)) / s.K, s.y[l], s.measure)
    KroneckerDelta(k, l) - 1/K
    """
    total = S.Zero
    for (ca, va, la) in _linear_terms(a):
        for (cb, vb, lb) in _linear_terms(b):
            fresh = {lim[0]: sympy.Dummy(str(lim[0]), integer=True, positive=True) for lim in lb}
            cb2, vb2 = cb.xreplace(fresh), vb.xreplace(fresh)
            lb2 = tuple((fresh[lim[0]],) + tuple(lim[1:]) for lim in lb)
            term = ca * cb2 * measure.covariance(va, vb2)
            for lim in reversed(la + lb2):
                term = Sum(term, lim)
            total += collapse_sums(term)
    return sympy.expand(collapse_sums(total))


def _flip_negative_constant(expr):
    """Write factors like ``(p - 1)`` as ``-(1 - p)`` inside products."""
    def rule(m):
        sign = 1
        new = []
        for f in Mul.make_args(m):
            base, expo = f.as_base_exp()
            if isinstance(base, Add) and expo.is_Integer and \
                    any(t.is_Number and t < 0 for t in base.args):
                sign = sign * (-1) ** int(expo)
                new.append(Add(*[-t for t in base.args]) ** expo)
            else:
                new.append(f)
        return sign * Mul(*new)

    return expr.replace(lambda a: isinstance(a, (Mul, sympy.Pow)), rule)


def _absorb_sign(expr):
    """Inside sums write ``-(a - b) f`` as ``(b - a) f``."""
    def rule(m):
        fs = list(Mul.make_args(m))
        adds = [f for f in fs if isinstance(f, Add)]
        if fs and fs[0] == -1 and len(adds) == 1:
            rest = [f for f in fs[1:] if f is not adds[0]]
            return Mul(*rest) * (-adds[0])
        return m

    return expr.replace(lambda a: isinstance(a, Sum),
                        lambda a: Sum(rule(a.function), *a.limits))


def _shift_by_label(sum_expr, s):
    """``sum_k e_k g_k = sum_k e_k (g_k - g_c)`` (uses ``sum_k e_k = 0``)."""
    (k, lo, hi), = sum_expr.limits
    f = sum_expr.function
    g = sympy.cancel(f / s.e[k])
    if g.has(s.e):
        raise InvalidInputError(f"not linear in the error signal: {f}")  # pragma: no cover
    return Sum(s.e[k] * (g - g.xreplace({k: s.c})), (k, lo, hi))


def _split_label_term(sum_expr, s):
    """``sum_k g_k = g_c + sum_k (1 - delta_kc) g_k``."""
    (k, lo, hi), = sum_expr.limits
    g = sum_expr.function
    return g.xreplace({k: s.c}), Sum((1 - KroneckerDelta(k, s.c)) * g, (k, lo, hi))


def _substitute_error_signal(expr, s):
    """Insert ``e_k = delta_kc - p_k``; inside ``(1 - delta_kc)(...)`` set ``delta_kc = 0``."""
    expr = expr.replace(lambda a: isinstance(a, Indexed) and a.base == s.e,
                        lambda a: s.error_signal(a.indices[0]))

    def excl(m):
        fs = Mul.make_args(m)
        for f in fs:
            if isinstance(f, Add) and len(f.args) == 2 and S.One in f.args:
                other = [t for t in f.args if t != S.One][0]
                if isinstance(other, Mul) and other.args[0] == -1 and len(other.args) == 2 \
                        and isinstance(other.args[1], KroneckerDelta):
                    d = other.args[1]
                    rest = Mul(*[g for g in fs if g is not f]).xreplace({d: S.Zero})
                    return f * sympy.factor_terms(rest)
        return m

    return expr.replace(lambda a: isinstance(a, Mul), excl)


def _drop_vanishing_exclusion(sum_expr, s):
    """``sum_k (1 - delta_kc) h_k = sum_k h_k`` when ``h_c = 0``."""
    (k, lo, hi), = sum_expr.limits
    fs = Mul.make_args(sum_expr.function)
    for f in fs:
        if _exclusion_label(f, k) == s.c:
            h = Mul(*[g for g in fs if g is not f])
            if _simplify_cheap(h.xreplace({k: s.c})) == 0:
                return Sum(h, (k, lo, hi))
    return sum_expr


def step_symmetric_sector(K, previous=None):
    """Step 3: the closed flow of (D, Delta) in the symmetric sector, derived by manipulation.

    Returns ``(step, results)`` with results ``dD``, ``dDelta`` (the flows), ``drift``,
    ``restoring``, ``noise`` (the three expectations) and the covariance checks.

    >>> step, res = step_symmetric_sector(num_classes_symbol())
    >>> print(res['restoring'])
    ⟨Sum((1 - p[k])*p[k], (k, 1, K))⟩
    """
    s = closure_symbols(K)
    k, l, j, c = s.k, s.l, s.j, s.c
    if previous is None:
        previous = step_mean_logit_invariance(K)[1]
    mu = s.measure
    Pm = lambda u, v: KroneckerDelta(u, v) - 1 / s.K  # noqa: E731
    # (a) representation z = D y + sqrt(Delta) xi reproduces the centred covariances
    zc = lambda i: s.logit_rep(i) - Sum(s.logit_rep(j), (j, 1, s.K)) / s.K  # noqa: E731
    cov_zy = gaussian_covariance(zc(k), s.y[l], mu)
    cov_zz = gaussian_covariance(zc(k), zc(l), mu)
    cov_checks = {"R": _simplify_cheap(cov_zy - s.D * Pm(k, l)),
                  "Q": _simplify_cheap(cov_zz - (s.D ** 2 + s.Delta) * Pm(k, l))}
    # (b) traces: D = tr R_c/(K-1), D^2 + Delta = tr Q_c/(K-1)
    trace = lambda expr: map_integrands(  # noqa: E731
        expr.xreplace({l: k}), lambda f: Sum(f, (k, 1, s.K)))
    tr_dR = trace(previous["dR_centered"])
    tr_dQ = trace(previous["dQ_centered"])
    tr_dQ = map_integrands(tr_dQ, lambda f: _apply_error_sum_rule(collapse_sums(f), s))
    # the same expectations under the representation law
    to_rep = lambda expr: expr.replace(  # noqa: E731
        lambda a: isinstance(a, GaussianExpectation),
        lambda a: GaussianExpectation(a.integrand, mu))
    tr_dR, tr_dQ = to_rep(tr_dR), to_rep(tr_dQ)
    tr_dQ = map_integrands(tr_dQ, lambda f: f.replace(
        lambda a: isinstance(a, Indexed) and a.base == s.z, lambda a: s.logit_rep(a.indices[0])))
    tr_dQ = linear_expand(map_integrands(tr_dQ, lambda f: pull_constants_out_of_sums(
        Sum(sympy.expand(f.function), *f.limits) if isinstance(f, Sum) else f)))
    tr_dQ = _split_expectation_sums(tr_dQ, mu)
    dD = tr_dR / (s.K - 1)
    dDelta_raw = sympy.expand(tr_dQ / (s.K - 1) - 2 * s.D * dD)
    # (c) the drift: sum_k e_k y_k = sum_k p_k (y_c - y_k)
    E_ey = tr_dR.atoms(GaussianExpectation).pop()
    shifted = _shift_by_label(E_ey.integrand, s)
    label_term, rest = _split_label_term(shifted, s)
    label_term = _simplify_cheap(label_term)
    rest = _substitute_error_signal(rest, s)
    drift_integrand = _absorb_sign(_drop_vanishing_exclusion(rest, s)) + label_term
    drift = GaussianExpectation(drift_integrand, mu)
    # (d) restoring: sum_k e_k xi_k = xi_c - sum_k p_k xi_k, then Stein in xi
    E_exi = [E for E in dDelta_raw.atoms(GaussianExpectation) if E.integrand.has(s.xi)][0]
    exi = collapse_sums(_substitute_error_signal(E_exi.integrand, s))
    exi = pull_constants_out_of_sums(exi)
    exi_stein = stein_integrand(exi, mu, [s.xi])
    exi_stein = _flip_negative_constant(pull_constants_out_of_sums(exi_stein.replace(
        lambda a: isinstance(a, Sum), lambda a: Sum(sympy.factor_terms(a.function), *a.limits))))
    # -sqrt(Delta) * sum_k p_k (1 - p_k)
    exi_coeff, exi_sum = exi_stein.as_independent(Sum)
    restoring = GaussianExpectation(exi_sum, mu)
    # (e) noise: sum_k e_k^2 = (1 - p_c)^2 + sum_{k != c} p_k^2
    E_ee = [E for E in dDelta_raw.atoms(GaussianExpectation)
            if E.integrand.has(s.e) and not E.integrand.has(s.xi) and not E.integrand.has(s.y)][0]
    lab, others = _split_label_term(E_ee.integrand, s)
    noise_integrand = _substitute_error_signal(lab, s) + _substitute_error_signal(others, s)
    noise = GaussianExpectation(noise_integrand, mu)
    # (f) assemble
    dD_final = dD.xreplace({E_ey: drift})
    dDelta = dDelta_raw.xreplace({E_exi: exi_coeff * restoring, E_ee: noise})
    dDelta = sympy.factor_terms(expand_outside(dDelta))
    Ddot, Deltadot = Derivative(s.D, s.alpha), Derivative(s.Delta, s.alpha)
    eqs = (
        ("representation_cov_R", Eq(sympy.Symbol(r"\operatorname{Cov}(\check z_k, y_l)"), cov_zy)),
        ("representation_cov_Q", Eq(sympy.Symbol(r"\operatorname{Cov}(\check z_k, \check z_l)"), cov_zz)),
        ("trace_dD", Eq(Ddot, dD)),
        ("trace_dDelta", Eq(Deltadot, dDelta_raw)),
        ("invariance_shift", Eq(E_ey.integrand, shifted)),
        ("drift", Eq(E_ey, drift)),
        ("error_times_noise", Eq(E_exi.integrand, exi)),
        ("stein", Eq(E_exi, exi_coeff * restoring)),
        ("noise", Eq(E_ee, noise)),
        ("dD", Eq(Ddot, dD_final)),
        ("dDelta", Eq(Deltadot, dDelta)),
    )
    step = DerivationStep(
        "Step 3: symmetric sector R_c = D P, Q_c = (D^2 + Delta) P",
        "In distribution z = D y + sqrt(Delta) xi has the centred covariances of the sector; "
        "D = tr R_c/(K-1), Delta = tr Q_c/(K-1) - D^2; sum_k e_k y_k = sum_k e_k (y_k - y_c); "
        "Stein's lemma in xi through the softmax gives E[p_k xi_k] = sqrt(Delta) E[p_k (1 - p_k)].",
        eqs)
    return step, {"dD": dD_final, "dDelta": dDelta, "drift": drift, "restoring": restoring,
                  "noise": noise, "cov_checks": cov_checks, "dDelta_raw": dDelta_raw}


def _split_expectation_sums(expr, mu):
    """``E[sum_k (a_k + b_k)] -> E[sum_k a_k] + E[sum_k b_k]`` with constants pulled out."""
    def rule(E):
        f = E.integrand
        if isinstance(f, Sum) and len(f.limits) == 1:
            out = S.Zero
            for t in Add.make_args(sympy.expand(f.function)):
                const, dep = t.as_independent(*[a for a in mu.random_markers()])
                const2, dep2 = (const, dep)
                if mu.is_random(const2):  # pragma: no cover - defensive
                    const2, dep2 = S.One, t
                idx = f.limits[0][0]
                c_free, c_dep = const2.as_independent(idx)
                out += c_free * GaussianExpectation(Sum(c_dep * dep2, *f.limits), mu)
            return out
        return E

    return expr.replace(lambda a: isinstance(a, GaussianExpectation), rule)


# --------------------------------------------------------------------------------------------
# step 4
# --------------------------------------------------------------------------------------------

def step_observables(K):
    """Step 4: generalisation error and test loss in the representation.

    >>> step, res = step_observables(num_classes_symbol())
    >>> print(res['loss'])
    ⟨-log(p[c])⟩
    """
    s = closure_symbols(K)
    k, c = s.k, s.c
    mu = s.measure
    correct = Product(Heaviside(s.z[c] - s.z[k], 1), (k, 1, s.K))
    eps_g = GaussianExpectation(1 - correct, mu)
    loss = GaussianExpectation(-sympy.log(s.p(c)), mu)
    loss_explicit = sympy.expand_log(-sympy.log(s.softmax.explicit(c)), force=True)
    eps_rep = map_integrands(eps_g, lambda f: f.replace(
        lambda a: isinstance(a, Indexed) and a.base == s.z, lambda a: s.logit_rep(a.indices[0])))
    eqs = (
        ("eps_g", Eq(sympy.Symbol(r"\varepsilon_g"), eps_g)),
        ("eps_g_representation", Eq(sympy.Symbol(r"\varepsilon_g"), eps_rep)),
        ("loss", Eq(sympy.Symbol("L"), loss)),
        ("loss_integrand", Eq(-sympy.log(s.p(c)), loss_explicit)),
    )
    step = DerivationStep(
        "Step 4: observables",
        "eps_g = P[argmax z != c] = 1 - E[prod_k H(z_c - z_k)] (H(0) = 1), L = E[-log p_c], "
        "with z = D y + sqrt(Delta) xi.",
        eqs)
    return step, {"eps_g": eps_g, "loss": loss, "eps_g_representation": eps_rep}


# --------------------------------------------------------------------------------------------
# explicit forms for integer K
# --------------------------------------------------------------------------------------------

def explicit_flow(expr, K, label: int | None = 1):
    """Write class sums out for integer K and (optionally) condition on the label ``c = label``.

    Valid for class-symmetric expectations (the closure flows and observables): by exchangeability
    ``E[F] = E[F | c = label]``.

    >>> print(explicit_flow(derive_closure(2, binary=False).flow['D'], 2))
    eta*⟨(y[1] - y[2])*p[2]⟩
    """
    K = _check_K(K)
    if not isinstance(K, sympy.Integer):
        raise InvalidInputError("explicit_flow needs an integer K")
    s = closure_symbols(K)

    def rule(E):
        f = E.integrand.doit()
        mu = E.measure
        if label is not None:
            f = f.xreplace({s.c: sympy.Integer(label)})
            mu = mu.with_conditioned_label(label)
        return GaussianExpectation(sympy.factor_terms(f), mu)

    return sympy.sympify(expr).replace(lambda a: isinstance(a, GaussianExpectation), rule)


def moments_in_gap_coordinates(K) -> dict:
    """The five derived closure integrands for integer K in the gap coordinates of the numeric layer.

    Label conditioned to ``c = 1``; for the other classes ``j = 1..K-1`` (class ``j + 1``):
    student gaps ``d_j = z_1 - z_{j+1}``, teacher gaps ``g_j = y_1 - y_{j+1}`` (real symbols
    ``d_j``, ``g_j``). The softmax is shift invariant, so ``z_1`` drops out.

    >>> print(moments_in_gap_coordinates(2)['loss'])
    -log(1/(1 + exp(-d_1)))
    """
    K = _check_K(K)
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
# step 5 (K = 2)
# --------------------------------------------------------------------------------------------

def binary_symbols():
    """Symbols of the binary reduction: ``h, zeta, s, u, w`` (real)."""
    return sympy.symbols("h zeta s u w", real=True)


def k2_reduction():
    """The K = 2 closure integrands (label conditioned to c = 1, i.e. h > 0) in (s, h).

    Substitutes ``y_{1,2} = (u +- h)/sqrt 2``, ``xi_{1,2} = (w +- zeta)/sqrt 2`` into the explicit
    softmax and eliminates ``zeta`` by ``s = sqrt2 D h + sqrt(2 Delta) zeta``.

    >>> print(k2_reduction()['drift'])
    sqrt(2)*h*logistic(-s)
    """
    s2 = closure_symbols(2)
    h, zeta, sv, u, w = binary_symbols()
    cl = derive_closure(2, binary=False)
    pieces = {"drift": cl.flow_parts["drift"], "restoring": cl.flow_parts["restoring"],
              "noise": cl.flow_parts["noise"], "eps_g": cl.observables["eps_g"],
              "loss": cl.observables["loss"]}
    subs = {s2.y[1]: (u + h) / sqrt(2), s2.y[2]: (u - h) / sqrt(2),
            s2.xi[1]: (w + zeta) / sqrt(2), s2.xi[2]: (w - zeta) / sqrt(2)}
    zeta_of_s = (sv - sqrt(2) * s2.D * h) / sqrt(2 * s2.Delta)
    to_s = lambda f: f.replace(  # noqa: E731
        lambda a: isinstance(a, Indexed) and a.base == s2.z,
        lambda a: s2.logit_rep(a.indices[0])).xreplace(subs).xreplace({zeta: zeta_of_s})
    # the two probabilities as functions of s
    p_red = {}
    for i in (1, 2):
        # p_i = 1 / sum_j exp(z_j - z_i), then z_j - z_i in terms of s
        others = Add(*[sympy.exp(sympy.expand(to_s(s2.z[j] - s2.z[i]))) for j in (1, 2)])
        p_red[s2.p(i)] = _to_logistic(1 / others, sv)
    out = {}
    for name, E in pieces.items():
        f = explicit_flow(E, 2).integrand.xreplace(p_red)
        f = sympy.expand(to_s(f))
        if not f.has(sympy.log, Heaviside):
            f = _to_logistic(f, sv)
        out[name] = f
    return out


def _to_logistic(f, sv=None):
    """Write ``1/(1 + exp(a))`` as ``sigma(-a)`` and use ``1 - sigma(a) = sigma(-a)``.

    Polynomials in logistic functions are factored first, so ``2 sigma(-s) - 2 sigma(-s)^2``
    becomes ``2 sigma(s) sigma(-s)``.

    >>> s = sympy.Symbol('s', real=True)
    >>> _to_logistic(1 / (1 + sympy.exp(-s)) - 1 / (1 + sympy.exp(-s)) ** 2)
    logistic(-s)*logistic(s)
    """
    def is_inv_one_plus_exp(e):
        if isinstance(e, sympy.Pow) and e.exp.is_Integer and e.exp < 0 and isinstance(e.base, Add):
            terms = e.base.args
            return len(terms) == 2 and S.One in terms and any(isinstance(t, sympy.exp) for t in terms)
        return False

    def to_sigma(e):
        t = [a for a in e.base.args if a != S.One][0]
        return logistic(-t.args[0]) ** (-e.exp)

    def one_minus(e):
        if isinstance(e, Add) and len(e.args) == 2 and S.One in e.args:
            other = [a for a in e.args if a != S.One][0]
            if isinstance(other, Mul) and other.args[0] == -1 and len(other.args) == 2 \
                    and isinstance(other.args[1], logistic):
                return True
        return False

    g = f.replace(is_inv_one_plus_exp, to_sigma)
    if g.has(logistic) and not g.has(sympy.log, Heaviside, sympy.exp):
        # canonical variable sigma(x) with x not negated: sigma(-x) = 1 - sigma(x)
        g = g.replace(lambda e: isinstance(e, logistic) and e.args[0].could_extract_minus_sign(),
                      lambda e: 1 - logistic(-e.args[0]))
        g = _flip_negative_constant(sympy.factor(sympy.expand(g)))
    g = g.replace(one_minus, lambda e: logistic(-[a for a in e.args if a != S.One][0].args[1].args[0]))
    return sympy.expand(g) if g.has(logistic) else g


def binary_logistic_closure():
    """The binary logistic-regression closure derived on its own, mapped to (D, Delta).

    Binary online SGD ``w <- w + (eta_b/sqrt N) t sigma(-t s) x`` (the negative gradient of
    ``log(1 + e^{-t s})`` in ``s``), label ``t = sign(h)``; by the symmetry ``(h, zeta) -> -(h, zeta)``
    conditioned on ``h > 0``. Mapping ``w = W_1 - W_2`` (centred), teacher ``(B_1 - B_2)/sqrt 2``,
    ``eta_b = 2 eta`` gives ``R_b = sqrt2 D``, ``Q_b = 2 (D^2 + Delta)``.

    >>> res = binary_logistic_closure()
    >>> print(res['integrands']['drift'])
    sqrt(2)*h*logistic(-s)
    """
    s2 = closure_symbols(2)
    D, Delta, eta, N = s2.D, s2.Delta, s2.eta, s2.N
    h, zeta, sv, u, w = binary_symbols()
    t = sympy.Symbol("t", real=True)
    eta_b = sympy.Symbol("eta_b", positive=True)
    Rb, Qb = sympy.symbols("R_b Q_b", real=True)
    # error signal of the binary logistic loss, using t^2 = 1
    lam = sympy.Symbol("lambda", real=True)
    e_b = sympy.simplify(-sympy.diff(sympy.log(1 + sympy.exp(-t * lam)), lam))
    e_b = sympy.simplify(e_b.rewrite(sympy.exp))
    e_b = t * logistic(-t * lam) if sympy.simplify(
        e_b - (t * logistic(-t * lam)).rewrite(sympy.exp)) == 0 else e_b
    # one step of the binary update, dot products
    wv, Bv, xv = sympy.symbols("w_vec B_vec x_vec")
    table = {frozenset([wv]): N * Qb, frozenset([wv, Bv]): N * Rb, frozenset([xv, Bv]): sqrt(N) * h,
             frozenset([xv, wv]): sqrt(N) * lam, frozenset([xv]): N * s2.r}
    dot = lambda a, b: _dot(a, b, lambda p, q: table[frozenset([p, q])])  # noqa: E731
    w_new = {wv: 1, xv: eta_b / sqrt(N) * e_b}
    dRb = sympy.expand(dot(w_new, {Bv: 1}) - N * Rb)
    dQb = sympy.expand(dot(w_new, w_new) - N * Qb).subs(s2.r, 1)
    dRb, dQb = (sympy.expand(x.subs(t, 1)) for x in (dRb, dQb))   # t = 1 on h > 0
    # mapping from the symmetric sector
    P2 = sympy.Matrix([[1, -1], [-1, 1]]) / 2
    v = sympy.Matrix([1, -1])
    Rb_val = sympy.simplify((v.T * (D * P2) * v)[0] / sqrt(2))
    Qb_val = sympy.simplify((v.T * ((D ** 2 + Delta) * P2) * v)[0])
    # flows of D = R_b/sqrt2 and Delta = Q_b/2 - D^2 with s = lambda in representation
    mu = CorrelatedGaussian([h, zeta], sympy.eye(2), sympy.StrictGreaterThan(h, 0))
    s_rep = sqrt(2) * D * h + sqrt(2 * Delta) * zeta
    E = lambda f: GaussianExpectation(sympy.expand(f.subs(lam, s_rep)), mu)  # noqa: E731
    dD_b = (eta_b * E(dRb / eta_b)).subs(eta_b, 2 * eta) / sqrt(2)
    dQb_drift, dQb_noise = _orders_in_eta(dQb, eta_b)
    dDelta_b = (eta_b * E(dQb_drift) + eta_b ** 2 * E(dQb_noise)).subs(eta_b, 2 * eta) / 2 \
        - 2 * D * dD_b
    dDelta_b = linear_expand(dDelta_b)
    dDelta_b = stein_rewrite(dDelta_b, [zeta])
    dDelta_b = linear_expand(dDelta_b)
    # express the integrands in s
    zeta_of_s = (sv - sqrt(2) * D * h) / sqrt(2 * Delta)
    in_s = lambda f: sympy.expand(f.subs(zeta, zeta_of_s))  # noqa: E731
    integrands = {
        "drift": in_s(sympy.expand(dRb.subs(lam, s_rep) / eta_b * 2 / sqrt(2))),
    }
    # split into the eta (restoring) and eta^2 (noise) parts and merge each into one expectation
    reps = {E0: sympy.Dummy("E") for E0 in dDelta_b.atoms(GaussianExpectation)}
    first, second = _orders_in_eta(expand_outside(dDelta_b).xreplace(reps), eta)
    inv = {v0: k0 for k0, v0 in reps.items()}
    restoring = collect_expectations(sympy.expand(first.xreplace(inv) / (-2 * Delta)))
    noise = collect_expectations(sympy.expand(second.xreplace(inv)))
    if not (isinstance(restoring, GaussianExpectation) and isinstance(noise, GaussianExpectation)):
        raise InvalidInputError("binary closure did not separate into two expectations")  # pragma: no cover
    integrands["restoring"] = in_s(restoring.integrand)
    integrands["noise"] = in_s(noise.integrand)
    integrands = {k: _to_logistic(f, sv) for k, f in integrands.items()}
    dDelta_b = eta * (-2 * Delta * map_integrands(restoring, _to_logistic)
                      + eta * map_integrands(noise, _to_logistic))
    return {"error_signal": e_b, "dRb": dRb, "dQb": dQb, "Rb": Rb_val, "Qb": Qb_val,
            "dD": dD_b, "dDelta": dDelta_b, "integrands": integrands, "measure": mu}


def orthant_error_k2():
    """``eps_g`` for K = 2 from the wedge probability of the bivariate Gaussian (h, s).

    The error event (given h > 0, twice by symmetry) is ``{h > 0, s < 0}`` with
    ``s = a h + b zeta``, a wedge between the normals ``(1, 0)`` and ``-(a, b)`` in the isotropic
    (h, zeta) plane: probability = (pi - angle between the normals)/(2 pi).

    >>> orthant_error_k2()
    acos(D/sqrt(D**2 + Delta))/pi
    """
    s2 = closure_symbols(2)
    D, Delta = s2.D, s2.Delta
    a, b = sqrt(2) * D, sqrt(2 * Delta)
    n1 = sympy.Matrix([1, 0])
    n2 = -sympy.Matrix([a, b])
    angle = sympy.acos((n1.T * n2)[0] / (n1.norm() * n2.norm()))
    wedge = sympy.pi - angle
    prob = 2 * wedge / (2 * sympy.pi)
    prob = sympy.simplify(prob)
    # acos(-x) = pi - acos(x)
    prob = sympy.simplify(prob.replace(
        lambda e: isinstance(e, sympy.acos) and e.args[0].could_extract_minus_sign(),
        lambda e: sympy.pi - sympy.acos(-e.args[0])))
    return sympy.simplify(sympy.radsimp(prob.replace(
        lambda e: isinstance(e, sympy.acos),
        lambda e: sympy.acos(sympy.simplify(e.args[0].subs(
            sympy.sqrt(2 * D ** 2 + 2 * Delta), sqrt(2) * sqrt(D ** 2 + Delta)))))))


def step_binary_reduction():
    """Step 5: K = 2 reduces to binary logistic regression; eps_g in closed form."""
    red = k2_reduction()
    binr = binary_logistic_closure()
    eps = orthant_error_k2()
    h, zeta, sv, u, w = binary_symbols()
    s2 = closure_symbols(2)
    eqs = (
        ("binary_error_signal", Eq(sympy.Symbol("e_b"), binr["error_signal"])),
        ("mapping_R", Eq(sympy.Symbol("R_b"), binr["Rb"])),
        ("mapping_Q", Eq(sympy.Symbol("Q_b"), binr["Qb"])),
        ("local_field", Eq(sv, sqrt(2) * s2.D * h + sqrt(2 * s2.Delta) * zeta)),
        ("dD_binary", Eq(Derivative(s2.D, s2.alpha), binr["dD"])),
        ("dDelta_binary", Eq(Derivative(s2.Delta, s2.alpha), binr["dDelta"])),
    ) + tuple((f"binary_{n}", Eq(sympy.Symbol(n + r"_{\mathrm{bin}}"), f))
              for n, f in binr["integrands"].items()) \
      + tuple((f"K2_{n}", Eq(sympy.Symbol(n), f)) for n, f in red.items()) + (
        ("eps_g_closed_form", Eq(sympy.Symbol(r"\varepsilon_g"), eps)),)
    step = DerivationStep(
        "Step 5: K = 2 and binary logistic regression",
        "h = (y1 - y2)/sqrt2, zeta = (xi1 - xi2)/sqrt2, s = z1 - z2 = sqrt2 D h + sqrt(2 Delta) zeta, "
        "p_1 = sigma(s); conditioned on c = 1 (h > 0). eps_g from the wedge {h > 0, s < 0}.",
        eqs)
    return step, {"k2": red, "binary": binr, "eps_g": eps}


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
    K = _check_K(K)
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
    s = closure_symbols(_check_K(K))
    parts = flow_factored(K)
    lines = []
    for name, sym in (("D", s.D), ("Delta", s.Delta)):
        pre, inner = parts[name]
        body = latex(inner)
        if isinstance(inner, Add):
            body = r"\left\{%s\right\}" % body
        lines.append("%s &= %s %s" % (latex(Derivative(sym, s.alpha)), latex(pre), body))
    return " \\\\\n".join(lines)


def step_latex(step: DerivationStep) -> str:
    """LaTeX of one :class:`DerivationStep` (comment lines + align body)."""
    return step.latex()


def _tex_text(text: str) -> str:
    """Escape plain text for LaTeX (underscores, carets, ampersands, percent signs)."""
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("^", r"\^{}"), ("&", r"\&"),
                 ("%", r"\%"), ("#", r"\#"), ("<-", r"$\leftarrow$"), ("->", r"$\to$")):
        text = text.replace(a, b)
    return text


def closure_latex(K, *, binary: bool | None = None, document: bool = False) -> str:
    """All steps as a LaTeX fragment (or a standalone document with ``document=True``)."""
    binary = (K == 2) if binary is None else binary
    cl = derive_closure(K, binary=binary)
    parts = []
    for st in cl.steps:
        parts.append("\\paragraph{%s}\n%s\n\\begin{align*}\n%s\n\\end{align*}\n" % (
            _tex_text(st.title), _tex_text(st.text),
            "\n".join(l for l in st.latex().splitlines() if not l.startswith("%"))))
    body = "\n".join(parts)
    if document:
        return ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
                + body + "\\end{document}\n")
    return body
