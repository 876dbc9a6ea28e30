"""Steps 1-4 of the closure derivation of :mod:`asymptotics.symbolic.closure` and the algebra they use.

Step 1 expands the SGD increments of the order parameters bilinearly, step 2 uses the shift invariance
of the softmax, step 3 takes the symmetric sector and applies Stein's lemma, step 4 writes the
observables; :func:`explicit_flow` writes the sums out for an integer K.
"""

from __future__ import annotations

import sympy
from sympy import (
    Add,
    Derivative,
    Eq,
    Heaviside,
    Indexed,
    IndexedBase,
    KroneckerDelta,
    Mul,
    Product,
    S,
    Sum,
    sqrt,
)

from asymptotics.symbolic.closure_records import (
    ClosureSymbols,
    DerivationStep,
    _exclusion_label,
    check_K,
    closure_symbols,
)
from asymptotics.symbolic.expectation import (
    GaussianExpectation,
    expand_outside,
    linear_expand,
    map_integrands,
)
from asymptotics.symbolic.softmax import (
    collapse_sums,
    pull_constants_out_of_sums,
    rename_bound_indices,
)
from asymptotics.symbolic.stein import stein_integrand
from asymptotics.validation import InvalidInputError

# --------------------------------------------------------------------------------------------
# bilinear algebra of the high-dimensional vectors (step 1)
# --------------------------------------------------------------------------------------------


def dot(u: dict, v: dict, table) -> sympy.Expr:
    """``u.v`` for linear combinations ``{vector: coefficient}`` given the pairwise table."""
    return Add(*[cu * cv * table(a, b) for a, cu in u.items() for b, cv in v.items()])


def field_table(s: ClosureSymbols):
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


def orders_in_eta(expr, eta):
    """Split ``expr`` into its eta^1 (drift) and eta^2 (noise) coefficients."""
    poly = sympy.Poly(sympy.expand(expr), eta)
    if poly.degree() > 2 or poly.coeff_monomial(1) != 0:
        raise InvalidInputError("the increment must be a polynomial eta*a + eta^2*b")
    return poly.coeff_monomial(eta), poly.coeff_monomial(eta**2)


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
    table = field_table(s)
    dR_step = sympy.expand(dot(W_new(k), {s.B[l]: 1}, table) / s.N - s.R[k, l])
    dQ_step = sympy.expand(dot(W_new(k), W_new(l), table) / s.N - s.Q[k, l])
    # alpha = steps/N: one step is d alpha = 1/N; |x|^2/N = r -> 1 (fluctuations O(N^-1/2))
    rate_R = sympy.expand(dR_step * s.N)
    rate_Q = sympy.expand(dQ_step * s.N)
    if rate_R.has(s.N) or rate_Q.has(s.N):
        raise InvalidInputError("the increments do not scale as 1/N")  # pragma: no cover
    drift_R, noise_R = orders_in_eta(rate_R, s.eta)
    drift_Q, noise_Q = orders_in_eta(rate_Q, s.eta)
    noise_Q = noise_Q.subs(s.r, 1)
    mu = s.field_measure
    dR = (
        s.eta * GaussianExpectation(drift_R, mu) + s.eta**2 * GaussianExpectation(noise_R, mu)
        if noise_R != 0
        else s.eta * GaussianExpectation(drift_R, mu)
    )
    dQ = s.eta * GaussianExpectation(drift_Q, mu) + s.eta**2 * GaussianExpectation(noise_Q, mu)
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
        eqs,
    )
    return step, {"dR": dR, "dQ": dQ, "drift_Q": drift_Q, "noise_Q": noise_Q, "error_signal": e_k}


# --------------------------------------------------------------------------------------------
# step 2
# --------------------------------------------------------------------------------------------


def apply_error_sum_rule(expr, s: ClosureSymbols):
    """Replace ``sum_j e_j`` (full range) by 0, after moving constant factors out of sums."""
    expr = pull_constants_out_of_sums(expr)

    def is_error_sum(a):
        if isinstance(a, Sum) and len(a.limits) == 1:
            idx, lo, hi = a.limits[0]
            f = a.function
            return isinstance(f, Indexed) and f.base == s.e and f.indices[0] == idx and lo == 1 and hi == s.K
        return False

    return expr.replace(is_error_sum, lambda a: S.Zero)


def simplify_cheap(expr):
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

    >>> from asymptotics.symbolic.softmax import num_classes_symbol
    >>> step, res = step_mean_logit_invariance(num_classes_symbol())
    >>> res['sum_e']
    0
    >>> print(res['dR_centered'])
    eta*⟨e[k]*y[l]⟩
    """
    s = closure_symbols(K)
    k, l, j = s.k, s.l, s.j
    if previous is None:
        previous = step_sgd_flow(K)[1]
    # (a) sum of the error signal
    sum_e_raw = Sum(s.error_signal(k), (k, 1, s.K))
    sum_e_collapsed = collapse_sums(sum_e_raw)  # 1 - sum_k p_k
    explicit_sum, sum_p = _sum_of_probabilities(s)
    if sum_p != 1:
        raise InvalidInputError(f"softmax normalisation failed: sum p = {sum_p}")  # pragma: no cover
    prob_sum = Sum(s.p(k), (k, 1, s.K))
    sum_e = simplify_cheap(
        sum_e_collapsed.xreplace({prob_sum: sum_p}).replace(
            lambda a: (
                isinstance(a, Sum) and a.function == s.p(a.limits[0][0]) and a.limits[0][1:] == (1, s.K)
            ),
            lambda a: sum_p,
        )
    )
    # (b) the mean student vector does not move
    mean_increment = collapse_sums(Sum(s.eta / sqrt(s.N) * s.error_signal(k) * s.x, (k, 1, s.K)) / s.K)
    mean_increment = simplify_cheap(
        mean_increment.replace(
            lambda a: isinstance(a, Sum) and a.function == s.p(a.limits[0][0]), lambda a: sum_p
        )
    )
    # (c) softmax depends only on centred logits: p_k(z + a 1) = p_k(z)
    a = sympy.Symbol("a", real=True)
    p_explicit = s.softmax.explicit(k)
    shifted = p_explicit.replace(lambda t: isinstance(t, Indexed) and t.base == s.z, lambda t: t + a)
    shifted_raw = shifted
    shifted = sympy.factor_terms(pull_constants_out_of_sums(sympy.expand(shifted, power_exp=True, mul=False)))
    shift_difference = simplify_cheap(shifted - p_explicit)
    # (d) projector P = I - 11^T/K: P^2 = P and P e = e
    Pm = lambda u, v: KroneckerDelta(u, v) - 1 / s.K  # noqa: E731
    P_squared = collapse_sums(Sum(Pm(k, j) * Pm(j, l), (j, 1, s.K)))
    Pe = apply_error_sum_rule(collapse_sums(Sum(Pm(k, j) * s.e[j], (j, 1, s.K))), s)
    # (e) centred flows: R_c = P R, Q_c = P Q P
    dR_c = previous["dR"]
    i2 = sympy.Symbol("i", integer=True, positive=True)
    dR_centered = map_integrands(
        dR_c.xreplace({k: j}),
        lambda f: apply_error_sum_rule(collapse_sums(Sum(Pm(k, j) * f, (j, 1, s.K))), s),
    )
    dQ_centered = map_integrands(
        previous["dQ"].xreplace({k: i2, l: j}),
        lambda f: apply_error_sum_rule(
            collapse_sums(Sum(Sum(Pm(k, i2) * Pm(l, j) * f, (j, 1, s.K)), (i2, 1, s.K))), s
        ),
    )
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
        eqs,
    )
    return step, {
        "sum_e": sum_e,
        "mean_increment": mean_increment,
        "shift_difference": shift_difference,
        "P_squared": P_squared,
        "Pe": Pe,
        "dR_centered": dR_centered,
        "dQ_centered": dQ_centered,
    }


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

    >>> from sympy import Sum
    >>> from asymptotics.symbolic.softmax import num_classes_symbol
    >>> s = closure_symbols(num_classes_symbol())
    >>> k, l = s.k, s.l
    >>> gaussian_covariance(s.y[k] - Sum(s.y[s.j], (s.j, 1, s.K)) / s.K, s.y[l], s.measure)
    KroneckerDelta(k, l) - 1/K
    """
    total = S.Zero
    for ca, va, la in _linear_terms(a):
        for cb, vb, lb in _linear_terms(b):
            fresh = {lim[0]: sympy.Dummy(str(lim[0]), integer=True, positive=True) for lim in lb}
            cb2, vb2 = cb.xreplace(fresh), vb.xreplace(fresh)
            lb2 = tuple((fresh[lim[0]],) + tuple(lim[1:]) for lim in lb)
            term = ca * cb2 * measure.covariance(va, vb2)
            for lim in reversed(la + lb2):
                term = Sum(term, lim)
            total += collapse_sums(term)
    return sympy.expand(collapse_sums(total))


def flip_negative_constant(expr):
    """Write factors like ``(p - 1)`` as ``-(1 - p)`` inside products."""

    def rule(m):
        sign = 1
        new = []
        for f in Mul.make_args(m):
            base, expo = f.as_base_exp()
            if isinstance(base, Add) and expo.is_Integer and any(t.is_Number and t < 0 for t in base.args):
                sign = sign * (-1) ** int(expo)
                new.append(Add(*[-t for t in base.args]) ** expo)
            else:
                new.append(f)
        return sign * Mul(*new)

    return expr.replace(lambda a: isinstance(a, (Mul, sympy.Pow)), rule)


def absorb_sign(expr):
    """Inside sums write ``-(a - b) f`` as ``(b - a) f``."""

    def rule(m):
        fs = list(Mul.make_args(m))
        adds = [f for f in fs if isinstance(f, Add)]
        if fs and fs[0] == -1 and len(adds) == 1:
            rest = [f for f in fs[1:] if f is not adds[0]]
            return Mul(*rest) * (-adds[0])
        return m

    return expr.replace(lambda a: isinstance(a, Sum), lambda a: Sum(rule(a.function), *a.limits))


def shift_by_label(sum_expr, s):
    """``sum_k e_k g_k = sum_k e_k (g_k - g_c)`` (uses ``sum_k e_k = 0``)."""
    ((k, lo, hi),) = sum_expr.limits
    f = sum_expr.function
    g = sympy.cancel(f / s.e[k])
    if g.has(s.e):
        raise InvalidInputError(f"not linear in the error signal: {f}")  # pragma: no cover
    return Sum(s.e[k] * (g - g.xreplace({k: s.c})), (k, lo, hi))


def split_label_term(sum_expr, s):
    """``sum_k g_k = g_c + sum_k (1 - delta_kc) g_k``."""
    ((k, lo, hi),) = sum_expr.limits
    g = sum_expr.function
    return g.xreplace({k: s.c}), Sum((1 - KroneckerDelta(k, s.c)) * g, (k, lo, hi))


def substitute_error_signal(expr, s):
    """Insert ``e_k = delta_kc - p_k``; inside ``(1 - delta_kc)(...)`` set ``delta_kc = 0``."""
    expr = expr.replace(
        lambda a: isinstance(a, Indexed) and a.base == s.e, lambda a: s.error_signal(a.indices[0])
    )

    def excl(m):
        fs = Mul.make_args(m)
        for f in fs:
            if isinstance(f, Add) and len(f.args) == 2 and S.One in f.args:
                other = [t for t in f.args if t != S.One][0]
                if (
                    isinstance(other, Mul)
                    and other.args[0] == -1
                    and len(other.args) == 2
                    and isinstance(other.args[1], KroneckerDelta)
                ):
                    d = other.args[1]
                    rest = Mul(*[g for g in fs if g is not f]).xreplace({d: S.Zero})
                    return f * sympy.factor_terms(rest)
        return m

    return expr.replace(lambda a: isinstance(a, Mul), excl)


def drop_vanishing_exclusion(sum_expr, s):
    """``sum_k (1 - delta_kc) h_k = sum_k h_k`` when ``h_c = 0``."""
    ((k, lo, hi),) = sum_expr.limits
    fs = Mul.make_args(sum_expr.function)
    for f in fs:
        if _exclusion_label(f, k) == s.c:
            h = Mul(*[g for g in fs if g is not f])
            if simplify_cheap(h.xreplace({k: s.c})) == 0:
                return Sum(h, (k, lo, hi))
    return sum_expr


def stein_restoring_integrand(s: ClosureSymbols, dDelta_raw, mu, prepare=None):
    """Part (d) of step 3, shared by every loss: the integrand ``sum_k e_k xi_k`` of the flow of Delta
    (the expectation in ``dDelta_raw`` that contains ``xi``) with the error signal of ``s`` substituted and
    Stein's lemma applied in ``xi``; ``prepare`` rewrites the integrand first (a loss whose error signal
    has random factors outside its class sums moves them inside).  Returns ``(expectation, integrand,
    stein_form)``: the expectation replaced, its integrand after substitution and the Stein form."""
    E_exi = [E for E in dDelta_raw.atoms(GaussianExpectation) if E.integrand.has(s.xi)][0]
    exi = pull_constants_out_of_sums(collapse_sums(substitute_error_signal(E_exi.integrand, s)))
    exi_stein = stein_integrand(prepare(exi) if prepare else exi, mu, [s.xi])
    exi_stein = flip_negative_constant(
        pull_constants_out_of_sums(
            exi_stein.replace(
                lambda a: isinstance(a, Sum), lambda a: Sum(sympy.factor_terms(a.function), *a.limits)
            )
        )
    )
    return E_exi, exi, exi_stein


def symmetric_sector_traces(s: ClosureSymbols, previous: dict) -> dict:
    """Parts (a)-(c) of step 3, shared by every loss: the covariance checks of the representation
    ``z = D y + sqrt(Delta) xi``, the traced flows ``dD`` and ``dDelta_raw`` (before Stein's lemma) and the
    drift expectation, for the symbols ``s`` (whose ``error_signal`` defines ``e_k``) and the centred flows
    of step 2 in ``previous``.

    >>> from asymptotics.symbolic.softmax import num_classes_symbol
    >>> s = closure_symbols(num_classes_symbol())
    >>> parts = symmetric_sector_traces(s, step_mean_logit_invariance(s.K)[1])
    >>> print(parts["drift"])
    ⟨Sum((y[c] - y[k])*p[k], (k, 1, K))⟩
    """
    k, l, j = s.k, s.l, s.j
    mu = s.measure
    Pm = lambda u, v: KroneckerDelta(u, v) - 1 / s.K  # noqa: E731
    # (a) representation z = D y + sqrt(Delta) xi reproduces the centred covariances
    zc = lambda i: s.logit_rep(i) - Sum(s.logit_rep(j), (j, 1, s.K)) / s.K  # noqa: E731
    cov_zy = gaussian_covariance(zc(k), s.y[l], mu)
    cov_zz = gaussian_covariance(zc(k), zc(l), mu)
    cov_checks = {
        "R": simplify_cheap(cov_zy - s.D * Pm(k, l)),
        "Q": simplify_cheap(cov_zz - (s.D**2 + s.Delta) * Pm(k, l)),
    }
    # (b) traces: D = tr R_c/(K-1), D^2 + Delta = tr Q_c/(K-1)
    trace = lambda expr: map_integrands(  # noqa: E731
        expr.xreplace({l: k}), lambda f: Sum(f, (k, 1, s.K))
    )
    tr_dR = trace(previous["dR_centered"])
    tr_dQ = trace(previous["dQ_centered"])
    tr_dQ = map_integrands(tr_dQ, lambda f: apply_error_sum_rule(collapse_sums(f), s))
    # the same expectations under the representation law
    to_rep = lambda expr: expr.replace(  # noqa: E731
        lambda a: isinstance(a, GaussianExpectation), lambda a: GaussianExpectation(a.integrand, mu)
    )
    tr_dR, tr_dQ = to_rep(tr_dR), to_rep(tr_dQ)
    tr_dQ = map_integrands(
        tr_dQ,
        lambda f: f.replace(
            lambda a: isinstance(a, Indexed) and a.base == s.z, lambda a: s.logit_rep(a.indices[0])
        ),
    )
    tr_dQ = linear_expand(
        map_integrands(
            tr_dQ,
            lambda f: pull_constants_out_of_sums(
                Sum(sympy.expand(f.function), *f.limits) if isinstance(f, Sum) else f
            ),
        )
    )
    tr_dQ = split_expectation_sums(tr_dQ, mu)
    dD = tr_dR / (s.K - 1)
    dDelta_raw = sympy.expand(tr_dQ / (s.K - 1) - 2 * s.D * dD)
    # (c) the drift: sum_k e_k y_k = sum_k p_k (y_c - y_k)
    E_ey = tr_dR.atoms(GaussianExpectation).pop()
    shifted = shift_by_label(E_ey.integrand, s)
    label_term, rest = split_label_term(shifted, s)
    label_term = simplify_cheap(label_term)
    rest = substitute_error_signal(rest, s)
    drift_integrand = absorb_sign(drop_vanishing_exclusion(rest, s)) + label_term
    drift = GaussianExpectation(drift_integrand, mu)
    return {
        "mu": mu,
        "cov_zy": cov_zy,
        "cov_zz": cov_zz,
        "cov_checks": cov_checks,
        "tr_dR": tr_dR,
        "tr_dQ": tr_dQ,
        "dD": dD,
        "dDelta_raw": dDelta_raw,
        "E_ey": E_ey,
        "shifted": shifted,
        "drift": drift,
    }


def step_symmetric_sector(K, previous=None):
    """Step 3: the closed flow of (D, Delta) in the symmetric sector, derived by manipulation.

    Returns ``(step, results)`` with results ``dD``, ``dDelta`` (the flows), ``drift``,
    ``restoring``, ``noise`` (the three expectations) and the covariance checks.

    >>> from asymptotics.symbolic.softmax import num_classes_symbol
    >>> step, res = step_symmetric_sector(num_classes_symbol())
    >>> print(res['restoring'])
    ⟨Sum((1 - p[k])*p[k], (k, 1, K))⟩
    """
    s = closure_symbols(K)
    if previous is None:
        previous = step_mean_logit_invariance(K)[1]
    parts = symmetric_sector_traces(s, previous)
    mu, cov_zy, cov_zz, cov_checks = parts["mu"], parts["cov_zy"], parts["cov_zz"], parts["cov_checks"]
    dD, dDelta_raw, E_ey, shifted, drift = (
        parts[n] for n in ("dD", "dDelta_raw", "E_ey", "shifted", "drift")
    )
    # (d) restoring: sum_k e_k xi_k = xi_c - sum_k p_k xi_k, then Stein in xi
    E_exi, exi, exi_stein = stein_restoring_integrand(s, dDelta_raw, mu)
    # -sqrt(Delta) * sum_k p_k (1 - p_k)
    exi_coeff, exi_sum = exi_stein.as_independent(Sum)
    restoring = GaussianExpectation(exi_sum, mu)
    # (e) noise: sum_k e_k^2 = (1 - p_c)^2 + sum_{k != c} p_k^2
    E_ee = [
        E
        for E in dDelta_raw.atoms(GaussianExpectation)
        if E.integrand.has(s.e) and not E.integrand.has(s.xi) and not E.integrand.has(s.y)
    ][0]
    lab, others = split_label_term(E_ee.integrand, s)
    noise_integrand = substitute_error_signal(lab, s) + substitute_error_signal(others, s)
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
        eqs,
    )
    return step, {
        "dD": dD_final,
        "dDelta": dDelta,
        "drift": drift,
        "restoring": restoring,
        "noise": noise,
        "cov_checks": cov_checks,
        "dDelta_raw": dDelta_raw,
    }


def split_expectation_sums(expr, mu):
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

    >>> from asymptotics.symbolic.softmax import num_classes_symbol
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
    eps_rep = map_integrands(
        eps_g,
        lambda f: f.replace(
            lambda a: isinstance(a, Indexed) and a.base == s.z, lambda a: s.logit_rep(a.indices[0])
        ),
    )
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
        eqs,
    )
    return step, {"eps_g": eps_g, "loss": loss, "eps_g_representation": eps_rep}


# --------------------------------------------------------------------------------------------
# explicit forms for integer K
# --------------------------------------------------------------------------------------------


def explicit_flow(expr, K, label: int | None = 1):
    """Write class sums out for integer K and (optionally) condition on the label ``c = label``.

    Valid for class-symmetric expectations (the closure flows and observables): by exchangeability
    ``E[F] = E[F | c = label]``.

    >>> from asymptotics.symbolic.closure import derive_closure
    >>> print(explicit_flow(derive_closure(2, binary=False).flow['D'], 2))
    eta*⟨(y[1] - y[2])*p[2]⟩
    """
    K = check_K(K)
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
