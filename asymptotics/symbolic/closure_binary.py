"""Step 5 of the closure derivation (K = 2): the binary logistic-regression closure derived on its own,
mapped onto (D, Delta), and eps_g from the bivariate orthant probability.
"""

from __future__ import annotations

import sympy
from sympy import (
    Add,
    Derivative,
    Eq,
    Heaviside,
    Indexed,
    Mul,
    S,
    sqrt,
)

from asymptotics.symbolic.closure_records import DerivationStep, closure_symbols
from asymptotics.symbolic.closure_steps import dot, explicit_flow, flip_negative_constant, orders_in_eta
from asymptotics.symbolic.expectation import (
    CorrelatedGaussian,
    GaussianExpectation,
    collect_expectations,
    expand_outside,
    linear_expand,
    map_integrands,
)
from asymptotics.symbolic.softmax import (
    logistic,
)
from asymptotics.symbolic.stein import stein_rewrite
from asymptotics.validation import InvalidInputError

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
    from asymptotics.symbolic.closure import derive_closure

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
        g = flip_negative_constant(sympy.factor(sympy.expand(g)))
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
    def dot_b(a, b):
        return dot(a, b, lambda p, q: table[frozenset([p, q])])

    w_new = {wv: 1, xv: eta_b / sqrt(N) * e_b}
    dRb = sympy.expand(dot_b(w_new, {Bv: 1}) - N * Rb)
    dQb = sympy.expand(dot_b(w_new, w_new) - N * Qb).subs(s2.r, 1)
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
    dQb_drift, dQb_noise = orders_in_eta(dQb, eta_b)
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
    first, second = orders_in_eta(expand_outside(dDelta_b).xreplace(reps), eta)
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
