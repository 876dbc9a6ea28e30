"""The closure integrands of any shift-invariant loss, derived from its expression and compiled.

Gap coordinates as in :mod:`asymptotics.symbolic.integrands` (winner ``c = 1``; student gaps
``d_j = z_c - z_{j+1}``, teacher gaps ``g_j = y_c - y_{j+1}``, ``j = 1 .. K-1``).  With the loss in gap
form ``f(d)`` (:meth:`~asymptotics.losses.model.Loss.gap_form`) the error signal is ``e_{j+1} = df/dd_j``
and ``e_c = -sum_j e_{j+1}`` (shift invariance), so the closure integrands are (derivation:
:mod:`asymptotics.losses.derivation`)::

    drift          sum_k e_k y_k              = -sum_j (df/dd_j) g_j
    restoring      sum_k d^2 l/dz_k^2         = sum_j d^2f/dd_j^2 + sum_{j,l} d^2f/dd_j dd_l
    noise          sum_k e_k^2                = sum_j (df/dd_j)^2 + (sum_j df/dd_j)^2
    eps_g          1[argmax z != c]           = 1[min_j d_j < 0]
    loss           l                          = f
    cross_entropy  -log p_c                   = log(1 + sum_j e^{-d_j})

(:data:`LOSS_MOMENT_NAMES`).  For cross-entropy these are exactly the integrands of
:func:`asymptotics.symbolic.integrands.moment_integrands` (tested).

Overflow-free float64 code (:func:`homogenise`).  The rival weights are ``w_j = e^{-d_j/q}`` with ``q`` the
common denominator of the exponents (``q = T`` for cross-entropy at temperature ``T``).  With the shift
``m = max(0, max_j -d_j/q)``, ``u = e^{-m}`` and ``e_j = e^{-d_j/q - m}`` (all in ``(0, 1]``), every rational
function of the weights becomes a rational function of ``(u, e_j)``; ``log P(w)`` of a polynomial of degree
``n`` becomes ``n m + log P_h(u, e)`` (``log1p(expm1(-n m) + ...)`` when ``P`` has constant term 1), and
non-integer powers act on homogenised bases.  The code is accepted only if every denominator is a
polynomial with non-negative coefficients that contains the pure powers ``u^n`` and ``e_j^n``: then it is
bounded below by a positive constant wherever ``max(u, e_j) = 1`` and the generated code is finite for every
finite ``d``.  The same homogenised expressions are compiled for mpmath and python-flint (the shift ``m`` may
be any number there: the expressions are exact identities for every ``m``).  Constants other than integers
(``exp(1)``, ``1/20`` ...) are passed as arguments evaluated in the target arithmetic.

>>> from asymptotics.losses import get_loss
>>> ig = loss_integrands(get_loss("brier"), 2)
>>> ig["noise"]
2*(2*(-1 + 1/(1 + exp(-d_1)))*exp(-d_1)/(1 + exp(-d_1))**2 - 2*exp(-2*d_1)/(1 + exp(-d_1))**2 + 2*exp(-3*d_1)/(1 + exp(-d_1))**3)**2
>>> f = compiled_loss_split(get_loss("brier"), 2)
>>> bases, coeffs = f(0.0)
>>> [round(float(b), 12) for b in bases]          # d = 0: p = (1/2, 1/2)
[0.0, 0.5, 0.5, 0.0, 0.5, 0.69314718056]
"""

from __future__ import annotations

import math
from functools import cache

import sympy as sp
from sympy.codegen.cfunctions import log1p

from asymptotics.losses.model import Loss
from asymptotics.numeric.moments import MOMENT_NAMES
from asymptotics.validation import InvalidInputError, check_num_classes

__all__ = [
    "LOSS_MOMENT_NAMES",
    "loss_integrands",
    "weight_scale",
    "homogenise",
    "compiled_loss_split",
    "compiled_error_signal",
    "BACKENDS",
]

#: the closure moments of a loss: the five of the cross-entropy closure and the test cross-entropy
LOSS_MOMENT_NAMES = MOMENT_NAMES + ("cross_entropy",)
BACKENDS = ("numpy", "mpmath", "flint")


def _gap_symbols(K):
    from asymptotics.symbolic.integrands import gap_symbols

    return gap_symbols(K)


#: largest K for which the gap-coordinate forms are derived and compiled (the Hessian has (K-1)^2 entries;
#: the deterministic routes use K <= 3, Monte Carlo K <= 10)
GAP_K_MAX = 10


@cache
def loss_integrands(loss: Loss, K: int) -> dict:
    """The six integrands (:data:`LOSS_MOMENT_NAMES`) of ``loss`` in gap coordinates (exact SymPy).

    >>> from asymptotics.losses import get_loss
    >>> loss_integrands(get_loss("cross_entropy"), 2)["drift"]
    g_1*exp(-d_1)/(1 + exp(-d_1))
    """
    K = check_num_classes(K, maximum=GAP_K_MAX)
    loss.require_centred()
    d, g = _gap_symbols(K)
    f = loss.gap_form(K)
    grad = [sp.diff(f, dj) for dj in d]
    drift = -sp.Add(*[gj * gr for gj, gr in zip(g, grad)])
    hess = [[sp.diff(grad[j], d[i]) for i in range(K - 1)] for j in range(K - 1)]
    restoring = sp.Add(*[hess[j][j] for j in range(K - 1)]) + sp.Add(*[h for row in hess for h in row])
    noise = sp.Add(*[gr**2 for gr in grad]) + sp.Add(*grad) ** 2
    eps_g = sp.Piecewise((sp.Integer(1), sp.Or(*[dj < 0 for dj in d])), (sp.Integer(0), True))
    ce = log1p(sp.Add(*[sp.exp(-dj) for dj in d]))
    return dict(zip(LOSS_MOMENT_NAMES, (drift, restoring, noise, eps_g, f, ce)))


# ----------------------------------------------------------------------------------------------------
# homogenisation
# ----------------------------------------------------------------------------------------------------


def _exp_atoms(expr, d):
    return [e for e in expr.atoms(sp.exp) if e.has(*d)]


def _linear_coefficients(arg, d):
    arg = sp.expand(arg)
    try:
        poly = sp.Poly(arg, *d)
    except sp.PolynomialError:
        raise InvalidInputError(f"exponent {arg} is not linear in the logit gaps") from None
    if poly.total_degree() > 1:
        raise InvalidInputError(f"exponent {arg} is not linear in the logit gaps")
    const = poly.coeff_monomial(1)
    coeffs = [poly.coeff_monomial(dj) for dj in d]
    if const.has(*d) or any(not c.is_Rational for c in coeffs):
        raise InvalidInputError(f"exponent {arg} has non-rational coefficients of the logit gaps")
    return const, coeffs


@cache
def weight_scale(loss: Loss, K: int) -> int:
    """The scale ``q`` of the rival weights ``w_j = e^{-d_j/q}``: the common denominator of the exponents.

    >>> from asymptotics.losses import get_loss
    >>> weight_scale(get_loss("cross_entropy:T=2"), 3), weight_scale(get_loss("focal:gamma=2"), 3)
    (2, 1)
    """
    d, _ = _gap_symbols(K)
    exprs = [e for n, e in loss_integrands(loss, K).items() if n != "eps_g"]
    q = 1
    for expr in exprs:
        for atom in _exp_atoms(expr, d):
            _, coeffs = _linear_coefficients(atom.args[0], d)
            for c in coeffs:
                q = math.lcm(q, int(sp.Rational(c).q))
    return q


class _Homogeniser:
    """Rewrites expressions of the gaps ``d`` into the shifted weights ``(m, u, e_j)`` (see module docstring)."""

    def __init__(self, K: int, q: int):
        self.K, self.q = K, q
        self.d, self.g = _gap_symbols(K)
        self.m, self.u, self.um1 = sp.symbols("m u um1", positive=True)
        self.e = tuple(sp.Symbol(f"e_{j}", positive=True) for j in range(1, K))
        self.w = tuple(sp.Symbol(f"w_{j}", positive=True) for j in range(1, K))
        self.expm1_orders: set = set()
        #: log atoms ``n m + log(P_h)`` as symbols (kept as generators, so that polynomials stay short)
        self.logs: dict = {}

    # weights
    def to_weights(self, expr):
        d, w, q = self.d, self.w, self.q

        def repl(atom):
            const, coeffs = _linear_coefficients(atom.args[0], d)
            out = sp.exp(const) if const != 0 else sp.Integer(1)
            for wj, c in zip(w, coeffs):
                n = -c * q
                if not n.is_Integer:
                    raise InvalidInputError(f"exponent {atom.args[0]} is not a multiple of 1/{q}")
                out *= wj**n
            return out

        expr = expr.replace(lambda a: isinstance(a, sp.exp) and a.has(*d), repl)
        expr = sp.expand_log(expr, force=True)
        # log(w_j) = -d_j/q
        expr = expr.xreplace({sp.log(wj): -dj / q for wj, dj in zip(w, d)})
        return expr

    # the map
    def homogenise(self, expr):
        expr = sp.sympify(expr)
        if isinstance(expr, sp.Piecewise) or expr.is_Number:
            return expr
        wexpr = self.to_weights(expr)
        out = self._h(wexpr)
        out = self._finish(out)
        return out

    def _h(self, x):
        if not x.has(*self.w):
            return x
        if x in self.w:
            return self.e[self.w.index(x)] / self.u
        if isinstance(x, (sp.log, log1p)):
            arg = x.args[0] if isinstance(x, sp.log) else 1 + x.args[0]
            return self._log(arg)
        if isinstance(x, sp.Pow):
            base, ex = x.args
            if ex.is_Integer:
                return self._h(base) ** ex
            hb = self._rational(self._h(base))
            self._check_degree_zero(hb, f"base of the power {x}")
            return hb**ex
        if isinstance(x, (sp.Add, sp.Mul)):
            return x.func(*[self._h(a) for a in x.args])
        raise InvalidInputError(f"cannot compile {x.func} of the rival weights into overflow-free code")

    def _rational(self, x):
        return sp.cancel(sp.together(x))

    def _log(self, arg):
        num, den = sp.fraction(sp.cancel(sp.together(arg)))
        return self._log_poly(num) - self._log_poly(den)

    def _log_poly(self, P):
        P = sp.expand(P)
        if not P.has(*self.w):
            return sp.log(P) if P != 1 else sp.Integer(0)
        poly = sp.Poly(P, *self.w)
        if any(not (c.is_positive) for c in poly.coeffs()):
            raise InvalidInputError(
                f"log of {P}: only polynomials with positive coefficients in the rival weights are supported"
            )
        n = poly.total_degree()
        Ph = sp.expand(
            sum(c * sp.Mul(*[(ej / self.u) ** k for ej, k in zip(self.e, mon)]) for mon, c in poly.terms())
            * self.u**n
        )
        self._check_pure_powers(Ph, f"log({P})")
        c0 = poly.coeff_monomial(1)
        if c0 == 1:
            rest = sp.expand(Ph - self.u**n)
            if n == 1:
                value = self.m + log1p(self.um1 + rest)
            else:
                self.expm1_orders.add(n)
                value = n * self.m + log1p(sp.Symbol(f"em{n}") + rest)
        else:
            value = n * self.m + sp.log(Ph)
        for sym, val in self.logs.items():
            if val == value:
                return sym
        sym = sp.Symbol(f"lg_{len(self.logs)}", real=True)
        self.logs[sym] = value
        return sym

    def _check_pure_powers(self, P, where):
        gens = (self.u,) + self.e
        poly = sp.Poly(sp.expand(P), *gens)
        n = poly.total_degree()
        if any(c.is_number and c < 0 for c in poly.coeffs()):
            raise InvalidInputError(
                f"{where}: a denominator with negative coefficients (cancellation; cannot "
                "guarantee overflow-free code)"
            )
        for i in range(len(gens)):
            mon = tuple(n if k == i else 0 for k in range(len(gens)))
            if not poly.coeff_monomial(mon).is_positive:
                raise InvalidInputError(
                    f"{where}: the denominator is not bounded below for every gap (no pure "
                    f"power {gens[i]}^{n}); this loss needs a per-class shift the engine "
                    "does not generate"
                )

    def _check_degree_zero(self, expr, where):
        lam = sp.Symbol("lambda_", positive=True)
        scaled = expr.xreplace({self.u: lam * self.u, **{ej: lam * ej for ej in self.e}})
        if sp.simplify(sp.cancel(scaled - expr)) != 0:
            raise InvalidInputError(f"{where} is not a function of the softmax probabilities alone")

    def _finish(self, expr):
        # rational parts over one denominator (log atoms, m, d, g are generators)
        out = sp.cancel(sp.together(sp.expand(expr)))
        num, den = sp.fraction(out)
        if den.has(self.u, *self.e):
            coeff, factors = sp.factor_list(den)
            for factor, _ in factors:
                if factor.has(self.u, *self.e):
                    self._check_pure_powers(factor, f"denominator {factor}")
            # keep the denominator factored (powers of u + sum_j e_j): far fewer operations in the code
            den = coeff * sp.Mul(*[f**k for f, k in factors])
            num = sp.factor_terms(num)
            out = num / den
        if out.has(*self.w) or out.has(*self.d) and out.has(sp.exp):
            raise InvalidInputError("the homogenised form still depends on the raw weights")
        return out


def _constants(exprs):
    """Replace non-integer numbers and constant transcendental atoms by symbols: ``(exprs, {symbol: value})``."""
    table = {}
    counter = [0]

    def symbol_for(value):
        for s, v in table.items():
            if v == value:
                return s
        s = sp.Symbol(f"kappa_{counter[0]}", real=True)
        counter[0] += 1
        table[s] = value
        return s

    def is_const(a):
        if a.free_symbols:
            return False
        if a.is_Integer:
            return False
        if a.is_Rational or a.is_Float:
            return True
        return isinstance(a, (sp.exp, sp.log)) or a in (sp.E, sp.pi)

    out = []
    for e in exprs:
        if isinstance(e, sp.Piecewise):
            out.append(e)
            continue
        out.append(e.replace(is_const, symbol_for))
    return out, table


@cache
def homogenise(loss: Loss, K: int, exprs: tuple):
    """Homogenised forms of ``exprs`` (gap-coordinate expressions of ``loss``).

    Returns ``(symbols, expressions, expm1_orders)`` with ``symbols = (m, u, um1, em_n..., e_1..e_{K-1})``.

    >>> from asymptotics.losses import get_loss
    >>> L = get_loss("cross_entropy")
    >>> syms, (lo,), _ = homogenise(L, 2, (loss_integrands(L, 2)["loss"],))
    >>> lo
    m + log1p(e_1 + um1)
    """
    hz = _Homogeniser(K, weight_scale(loss, K))
    outs = tuple(hz.homogenise(e).xreplace(hz.logs) for e in exprs)
    orders = tuple(sorted(hz.expm1_orders))
    em = tuple(sp.Symbol(f"em{n}") for n in orders)
    return (hz.m, hz.u, hz.um1) + em + hz.e, outs, orders


def _modules(backend: str):
    if backend == "numpy":
        return "numpy"
    if backend == "mpmath":
        return "mpmath"
    return [{"exp": lambda x: x.exp(), "log1p": lambda x: x.log1p(), "log": lambda x: x.log()}, "mpmath"]


@cache
def gap_split_exprs(loss: Loss, K: int) -> tuple:
    """``(bases, drift_coefficients)``: the six g-independent parts and the ``K-1`` coefficients of ``g_j``.

    >>> from asymptotics.losses import get_loss
    >>> bases, coeffs = gap_split_exprs(get_loss("focal:gamma=2"), 2)
    >>> bases[0], len(bases), len(coeffs)
    (0, 6, 1)
    """
    d, g = _gap_symbols(K)
    ig = loss_integrands(loss, K)
    bases = []
    for name in LOSS_MOMENT_NAMES:
        expr = ig[name]
        if isinstance(expr, sp.Piecewise):
            bases.append(expr)
            continue
        if name != "drift" and any(sp.diff(expr, gj) != 0 for gj in g):
            raise InvalidInputError(f"integrand {name} depends on the teacher gaps")  # pragma: no cover
        bases.append(expr.subs({gj: 0 for gj in g}))
    coeffs = tuple(sp.diff(ig["drift"], gj) for gj in g)
    if any(c.has(*g) for c in coeffs):
        raise InvalidInputError("the drift is not affine in the teacher gaps")  # pragma: no cover
    return tuple(bases), coeffs


@cache
def homogenised_primitives(loss: Loss, K: int) -> dict:
    """Homogenised ``f``, ``df/dd_j``, ``d^2f/dd_j dd_l`` (``l >= j``) and the test cross-entropy.

    Returns ``{"symbols", "orders", "f", "grad", "hess", "ce"}``; the closure integrands are sums and
    products of these (:func:`homogenised_split`), so no large rational function is ever cancelled.

    >>> from asymptotics.losses import get_loss
    >>> homogenised_primitives(get_loss("cross_entropy"), 2)["grad"]
    (-e_1/(e_1 + u),)
    """
    loss.require_centred()
    K = check_num_classes(K, maximum=GAP_K_MAX)
    d, _ = _gap_symbols(K)
    f = loss.gap_form(K)
    grad = [sp.diff(f, dj) for dj in d]
    hess = {(j, l): sp.diff(grad[j], d[l]) for j in range(K - 1) for l in range(j, K - 1)}
    ce = log1p(sp.Add(*[sp.exp(-dj) for dj in d]))
    keys = ["f"] + [("grad", j) for j in range(K - 1)] + [("hess",) + jl for jl in hess] + ["ce"]
    exprs = [f] + grad + list(hess.values()) + [ce]
    syms, hexprs, orders = homogenise(loss, K, tuple(exprs))
    table = dict(zip(keys, hexprs))
    return {
        "symbols": syms,
        "orders": orders,
        "f": table["f"],
        "grad": tuple(table[("grad", j)] for j in range(K - 1)),
        "hess": {jl: table[("hess",) + jl] for jl in hess},
        "ce": table["ce"],
    }


@cache
def homogenised_split(loss: Loss, K: int) -> tuple:
    """The six bases and ``K-1`` drift coefficients in homogenised form, built from the primitives.

    ``restoring = sum_j H_jj + sum_{j,l} H_jl``, ``noise = sum_j G_j^2 + (sum_j G_j)^2``,
    ``drift = -sum_j G_j g_j`` with ``G = df/dd`` and ``H`` its Jacobian.
    """
    prim = homogenised_primitives(loss, K)
    n = K - 1
    G = prim["grad"]
    H = prim["hess"]

    def h(j, l):
        return H[(min(j, l), max(j, l))]

    restoring = sp.Add(*[h(j, j) for j in range(n)]) * 2 + sp.Add(
        *[2 * h(j, l) for j in range(n) for l in range(j + 1, n)]
    )
    noise = sp.Add(*[x**2 for x in G]) + sp.Add(*G) ** 2
    bases, _ = gap_split_exprs(loss, K)
    eps_g = bases[3]
    out_bases = (sp.Integer(0), restoring, noise, eps_g, prim["f"], prim["ce"])
    coeffs = tuple(-x for x in G)
    return out_bases, coeffs


class _Compiled:
    """Callable ``f(d_1..d_{K-1})`` evaluating homogenised expressions in one arithmetic."""

    def __init__(self, loss, K, hexprs, backend):
        import numpy as np

        self.np = np
        self.K, self.backend = K, backend
        self.q = weight_scale(loss, K)
        prim = homogenised_primitives(loss, K)
        syms, orders = prim["symbols"], prim["orders"]
        hexprs, consts = _constants(list(hexprs))
        self.orders = orders
        self.const_symbols = tuple(consts)
        self.const_values = tuple(consts[s] for s in self.const_symbols)
        d, _ = _gap_symbols(K)
        args = syms + d + self.const_symbols
        self.f = sp.lambdify(args, list(hexprs), modules=_modules(backend), cse=True)
        self._float_consts = tuple(float(v) for v in self.const_values)
        self._prec_consts = {}

    def _consts(self):
        if self.backend == "numpy":
            return self._float_consts
        import mpmath

        key = (self.backend, mpmath.mp.prec)
        if self.backend == "flint":
            import flint

            key = key + (flint.ctx.prec,)
        if key not in self._prec_consts:
            vals = []
            for v in self.const_values:
                if self.backend == "mpmath":
                    vals.append(
                        mpmath.mpf(v.p) / v.q
                        if isinstance(v, sp.Rational)
                        else mpmath.mpf(sp.N(v, mpmath.mp.dps + 10))
                    )
                elif isinstance(v, sp.Rational):
                    vals.append(flint.arb(int(v.p)) / int(v.q))
                else:
                    x = sp.N(v, mpmath.mp.dps + 10)
                    vals.append(flint.arb(str(x)))
            self._prec_consts[key] = tuple(vals)
        return self._prec_consts[key]

    def __call__(self, *args):
        K = self.K
        if self.backend == "numpy":
            np = self.np
            args = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args])
            dd = args[: K - 1]
            scaled = [x / self.q for x in dd] if self.q != 1 else list(dd)
            m = np.maximum(0.0, np.max([-x for x in scaled], axis=0))
            with np.errstate(under="ignore"):
                ee = [np.exp(-x - m) for x in scaled]
                u = np.exp(-m)
            um1 = np.expm1(-m)
            em = [np.expm1(-n * m) for n in self.orders]
            out = self.f(m, u, um1, *em, *ee, *dd, *self._float_consts)
            shape = args[0].shape
            return [np.broadcast_to(np.asarray(v, dtype=float), shape) for v in out]
        dd = args[: K - 1]
        if self.backend == "flint":
            import flint

            mids = [float(x.mid()) if isinstance(x, flint.arb) else float(x) for x in dd]
            mval = max([0.0] + [-x / self.q for x in mids])
            m = flint.arb(repr(mval)) if mval else flint.arb(0)
            scaled = [x / self.q for x in dd]
            u = (-m).exp()
            um1 = (-m).expm1()
            ee = [(-x - m).exp() for x in scaled]
            em = [(-n * m).expm1() for n in self.orders]
        else:
            import mpmath

            scaled = [mpmath.mpf(x) / self.q for x in dd]
            m = max([mpmath.mpf(0)] + [-x for x in scaled])
            u = mpmath.exp(-m)
            um1 = mpmath.expm1(-m)
            ee = [mpmath.exp(-x - m) for x in scaled]
            em = [mpmath.expm1(-n * m) for n in self.orders]
        return list(self.f(m, u, um1, *em, *ee, *dd, *self._consts()))


@cache
def compiled_loss_split(loss: Loss, K: int, backend: str = "numpy"):
    """Compile the split: ``f(d_1..d_{K-1}) -> (bases, drift_coeffs)`` (interface of
    :func:`asymptotics.symbolic.integrands.compiled_gap_split`, with six bases).

    ``"numpy"``: float64 arrays, finite for every finite ``d`` (homogenised forms); ``"mpmath"``: mpf at the
    working precision; ``"flint"``: python-flint ``arb`` balls at ``flint.ctx.prec``.
    """
    K = check_num_classes(K)
    if backend not in BACKENDS:
        raise InvalidInputError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if _same_as_cross_entropy(loss, K):
        # identical integrands (checked symbolically): the compiled cross-entropy code, so that cross-entropy
        # through the engine is bit for bit the original closure
        from asymptotics.symbolic.integrands import compiled_gap_split

        original = compiled_gap_split(K, backend)

        def ce_split(*d, _f=original):
            bases, coeffs = _f(*d)
            return tuple(bases) + (bases[4],), tuple(coeffs)

        return ce_split
    bases, coeffs = homogenised_split(loss, K)
    same_ce = sp.simplify(bases[4] - bases[5]) == 0
    exprs = list(bases[:5]) + ([] if same_ce else [bases[5]]) + list(coeffs)
    comp = _Compiled(loss, K, exprs, backend)
    nb = 5 if same_ce else 6

    def split(*d, _c=comp, _nb=nb):
        vals = _c(*d)
        b = list(vals[:_nb])
        if _nb == 5:
            b.append(b[4])  # the loss is the cross-entropy: evaluated once
        return tuple(b), tuple(vals[_nb:])

    return split


@cache
def _same_as_cross_entropy(loss: Loss, K: int) -> bool:
    """True if the loss's five closure integrands equal those of :mod:`asymptotics.symbolic.integrands`."""
    from asymptotics.symbolic.integrands import moment_integrands

    if loss.family not in ("cross_entropy", "focal", "user"):
        return False
    try:
        bases, coeffs = gap_split_exprs(loss, K)
    except InvalidInputError:
        return False
    d, g = _gap_symbols(K)
    ref = moment_integrands(K)
    drift = sp.Add(*[c * gj for c, gj in zip(coeffs, g)])
    checks = [
        drift - ref["drift"],
        bases[1] - ref["restoring"],
        bases[2] - ref["noise"],
        sp.expand_log(bases[4] - ref["loss"].rewrite(sp.log), force=True),
    ]
    return all(sp.simplify(c) == 0 for c in checks)


@cache
def compiled_error_signal(loss: Loss, K: int):
    """float64 ``f(d_1..d_{K-1}) -> [e_2, ..., e_K]``: the error signal of the rivals (``e_c = -sum``).

    ``e_{j+1} = df/dd_j``; vectorised and finite for every finite ``d``.

    >>> from asymptotics.losses import get_loss
    >>> [round(float(x), 12) for x in compiled_error_signal(get_loss("cross_entropy"), 3)(0.0, 0.0)]
    [-0.333333333333, -0.333333333333]
    """
    prim = homogenised_primitives(loss, K)
    return _Compiled(loss, K, list(prim["grad"]), "numpy")


@cache
def compiled_observables(loss: Loss, K: int):
    """float64 ``f(d_1..d_{K-1}) -> [loss, cross_entropy]`` (test observables of the simulator)."""
    prim = homogenised_primitives(loss, K)
    return _Compiled(loss, K, [prim["f"], prim["ce"]], "numpy")
