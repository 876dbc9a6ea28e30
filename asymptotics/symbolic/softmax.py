"""Symbolic softmax probabilities and the class-index sums they live in.

A probability ``p_k = exp(z_k) / sum_j exp(z_j)`` is kept as an unevaluated atom
:class:`SoftmaxProbability` (prints as ``p_k``) that knows its derivative with respect to the
logits, ``d p_k / d z_l = p_k (delta_kl - p_l)``; :meth:`Softmax.explicit` gives the closed form.
The number of classes ``K`` may be an integer or a SymPy symbol: class sums are written as
``Sum(f, (k, 1, K))`` in both cases and :func:`collapse_sums` applies the index algebra
(Kronecker deltas, factors that do not depend on the summation index, sum of a constant) with the
convention that every free class index (such as the label ``c``) lies in ``1..K``.

>>> S = Softmax(3)
>>> k, l = class_indices('k l')
>>> sympy.diff(S.prob(k), S.logits[l])
(KroneckerDelta(k, l) - p[l])*p[k]
>>> collapse_sums(sympy.Sum(sympy.KroneckerDelta(k, l) * S.prob(k), (k, 1, 3)))
p[l]
"""

from __future__ import annotations

import sympy
from sympy import Add, Expr, Indexed, IndexedBase, KroneckerDelta, Mul, S, Sum

from asymptotics.validation import InvalidInputError

__all__ = [
    "SoftmaxProbability",
    "Softmax",
    "class_indices",
    "num_classes_symbol",
    "class_sum",
    "collapse_sums",
    "pull_constants_out_of_sums",
    "rename_bound_indices",
    "canonical_form",
]


def class_indices(names: str):
    """Integer class-index symbols (``k``, ``l``, ``j``, the label ``c`` ...).

    >>> class_indices('k')
    k
    """
    return sympy.symbols(names, integer=True, positive=True)


def num_classes_symbol() -> sympy.Symbol:
    """The symbol ``K`` (number of classes) used for a symbolic class count.

    >>> num_classes_symbol().is_integer
    True
    """
    return sympy.Symbol("K", integer=True, positive=True)


def _check_K(K):
    if isinstance(K, sympy.Symbol):
        if not K.is_integer:
            raise InvalidInputError(f"a symbolic class count must be an integer symbol, got {K}")
        return K
    if isinstance(K, sympy.Integer):
        K = int(K)
    if isinstance(K, bool) or not isinstance(K, int) or K < 2:
        raise InvalidInputError(f"K must be an integer >= 2 or an integer SymPy symbol, got {K!r}")
    return sympy.Integer(K)


class SoftmaxProbability(Expr):
    """The softmax probability ``p_k`` of class ``k`` for the logits ``z`` (an IndexedBase), K classes.

    Unevaluated atom; differentiates with respect to ``z[l]`` as ``p_k (delta_kl - p_l)`` and is
    constant with respect to everything else (dependence on other variables goes through the logits,
    see :func:`asymptotics.symbolic.stein.total_derivative`).

    >>> z = IndexedBase('z'); k = class_indices('k')
    >>> p = SoftmaxProbability(k, z, 4)
    >>> sympy.latex(p)
    'p_{k}'
    >>> sympy.diff(p, z[k])
    (1 - p[k])*p[k]
    """

    is_commutative = True
    is_real = True
    is_positive = True

    def __new__(cls, index, logits, K):
        return Expr.__new__(cls, sympy.sympify(index), logits, sympy.sympify(K))

    @property
    def index(self):
        return self.args[0]

    @property
    def logits(self):
        return self.args[1]

    @property
    def K(self):
        return self.args[2]

    def _eval_derivative(self, s):
        if isinstance(s, Indexed) and s.base == self.logits:
            l = s.indices[0]
            return self * (KroneckerDelta(self.index, l) - self.func(l, self.logits, self.K))
        return S.Zero

    def explicit(self, dummy=None):
        """``exp(z_k) / sum_j exp(z_j)`` (a ``Sum`` for symbolic K, an ``Add`` for integer K)."""
        j = dummy if dummy is not None else sympy.Symbol("j", integer=True, positive=True)
        z = self.logits
        if isinstance(self.K, sympy.Integer):
            Z = Add(*[sympy.exp(z[i]) for i in range(1, int(self.K) + 1)])
        else:
            Z = Sum(sympy.exp(z[j]), (j, 1, self.K))
        return sympy.exp(z[self.index]) / Z

    def _sympystr(self, printer):
        return "p[%s]" % printer._print(self.index)

    def _latex(self, printer):
        return "p_{%s}" % printer._print(self.index)

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm

        return prettyForm("p[%s]" % printer._print(self.index))


class Softmax:
    """The softmax map of ``K`` logits ``z`` (K an int >= 2 or an integer symbol).

    ``prob(k)`` is the atom ``p_k``; ``explicit(k)`` its closed form; ``rewrite_explicit(expr)``
    replaces every atom by its closed form.

    >>> S = Softmax(2)
    >>> sympy.simplify(S.explicit(1) - 1 / (1 + sympy.exp(S.logits[2] - S.logits[1])))
    0
    """

    def __init__(self, K, logits: IndexedBase | None = None):
        self.K = _check_K(K)
        self.logits = logits if logits is not None else IndexedBase("z", real=True)

    def prob(self, k) -> SoftmaxProbability:
        return SoftmaxProbability(k, self.logits, self.K)

    def explicit(self, k) -> Expr:
        return self.prob(k).explicit()

    def rewrite_explicit(self, expr) -> Expr:
        return expr.replace(lambda a: isinstance(a, SoftmaxProbability), lambda a: a.explicit())

    def derivative(self, k, l) -> Expr:
        """``d p_k / d z_l = p_k (delta_kl - p_l)``."""
        return self.prob(k) * (KroneckerDelta(k, l) - self.prob(l))


def class_sum(summand, index, K) -> Expr:
    """``Sum(summand, (index, 1, K))``, unevaluated also for integer K (use ``.doit()`` to expand).

    >>> k = class_indices('k')
    >>> class_sum(k, k, 3).doit()
    6
    """
    return Sum(summand, (index, 1, K))


# --------------------------------------------------------------------------------------------
# index algebra
# --------------------------------------------------------------------------------------------


def _split_factor(term, index):
    """Split a product into (factor independent of ``index``, factor depending on it)."""
    const, dep = [], []
    for f in Mul.make_args(term):
        (dep if f.has(index) else const).append(f)
    return Mul(*const), Mul(*dep)


def _delta_partner(factor, index):
    """If ``factor`` is ``KroneckerDelta(index, m)`` (m free of index) return m, else None."""
    if isinstance(factor, KroneckerDelta):
        a, b = factor.args
        if a == index and not b.has(index):
            return b
        if b == index and not a.has(index):
            return a
    return None


def _collapse_one(summand, index, lo, hi):
    summand = sympy.expand(summand)
    out = []
    for term in Add.make_args(summand):
        const, dep = _split_factor(term, index)
        if dep == 1:
            out.append(const * (hi - lo + 1))
            continue
        partner = None
        for f in Mul.make_args(dep):
            partner = _delta_partner(f, index)
            if partner is not None:
                break
        if partner is not None:
            # every free class index is taken to lie in 1..K
            rest = Mul(*[f for f in Mul.make_args(dep) if f != KroneckerDelta(index, partner)])
            out.append(const * rest.xreplace({index: partner}))
            continue
        out.append(const * Sum(dep, (index, lo, hi)))
    return Add(*out)


def collapse_sums(expr) -> Expr:
    """Expand class sums and apply the index algebra, innermost sums first.

    Rules: linearity, factors free of the summation index leave the sum,
    ``sum_k delta_{k m} f_k = f_m`` (free indices lie in ``1..K``) and ``sum_k 1 = K``.
    Sums with several limits are first split into nested single sums.

    >>> k, c = class_indices('k c'); K = num_classes_symbol(); y = IndexedBase('y')
    >>> collapse_sums(Sum((KroneckerDelta(k, c) - 1 / K) * y[k], (k, 1, K)))
    y[c] - Sum(y[k], (k, 1, K))/K
    """
    expr = sympy.sympify(expr)
    if not expr.has(Sum):
        return expr
    if isinstance(expr, Sum):
        inner = expr.function
        limits = list(expr.limits)
        for idx, lo, hi in reversed(limits):
            inner = collapse_sums(inner)
            inner = _collapse_one(inner, idx, lo, hi)
        return inner
    if expr.args:
        return expr.func(*[collapse_sums(a) for a in expr.args])
    return expr


def pull_constants_out_of_sums(expr) -> Expr:
    """Move factors free of the summation index in front of each sum (no expansion).

    >>> k = class_indices('k'); a = sympy.Symbol('a'); y = IndexedBase('y')
    >>> pull_constants_out_of_sums(Sum(-a * y[k] * (1 - y[k]), (k, 1, 3)))
    -a*Sum((1 - y[k])*y[k], (k, 1, 3))
    """

    def rule(s):
        if len(s.limits) != 1:
            return s
        idx = s.limits[0][0]
        const, dep = _split_factor(s.function, idx)
        if const == 1:
            return s
        return const * Sum(dep, *s.limits)

    return expr.replace(lambda a: isinstance(a, Sum), rule)


def rename_bound_indices(expr, prefix: str = "_s") -> Expr:
    """Rename bound summation indices canonically (``_s0``, ``_s1``... by nesting depth).

    Used only to compare expressions: equal sums with different dummy names become identical.

    >>> j, k = class_indices('j k'); y = IndexedBase('y')
    >>> rename_bound_indices(Sum(y[j], (j, 1, 3))) == rename_bound_indices(Sum(y[k], (k, 1, 3)))
    True
    """

    def walk(e, depth):
        if isinstance(e, Sum) and len(e.limits) == 1:
            idx, lo, hi = e.limits[0]
            new = sympy.Symbol(f"{prefix}{depth}", integer=True, positive=True)
            body = walk(e.function.xreplace({idx: new}), depth + 1)
            return Sum(body, (new, lo, hi))
        if e.args and not isinstance(e, (Indexed, SoftmaxProbability)):
            return e.func(*[walk(a, depth) for a in e.args])
        return e

    return walk(expr, 0)


def canonical_form(expr, *, normalisation: bool = True, logits: IndexedBase | None = None) -> Expr:
    """A normal form for comparing class-sum expressions: expand, collapse sums, rename indices.

    With ``normalisation`` the identity ``sum_k p_k = 1`` is applied to sums of bare probabilities.

    >>> k, c = class_indices('k c'); K = num_classes_symbol(); S = Softmax(K)
    >>> y = IndexedBase('y')
    >>> a = Sum(S.prob(k) * (y[c] - y[k]), (k, 1, K))
    >>> b = y[c] - Sum(S.prob(k) * y[k], (k, 1, K))
    >>> canonical_form(a - b)
    0
    """
    e = collapse_sums(sympy.expand(expr))
    e = sympy.expand(e)
    e = rename_bound_indices(e)
    if normalisation:

        def is_prob_sum(a):
            return (
                isinstance(a, Sum)
                and len(a.limits) == 1
                and isinstance(a.function, SoftmaxProbability)
                and a.function.index == a.limits[0][0]
                and a.limits[0][1] == 1
                and a.limits[0][2] == a.function.K
                and (logits is None or a.function.logits == logits)
            )

        e = sympy.expand(e.replace(is_prob_sum, lambda a: S.One))
    return e


class logistic(sympy.Function):
    """The logistic function ``sigma(x) = 1/(1 + exp(-x))`` (the K = 2 softmax), printed ``sigma``.

    >>> x = sympy.Symbol('x', real=True)
    >>> sympy.diff(logistic(x), x)
    (1 - logistic(x))*logistic(x)
    >>> sympy.latex(logistic(-x))
    '\\\\sigma\\\\left(- x\\\\right)'
    >>> logistic(x).rewrite(sympy.exp)
    1/(1 + exp(-x))
    """

    is_real = True

    @classmethod
    def eval(cls, x):
        if x == 0:
            return S.Half

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sympy.exp(-x))

    def _latex(self, printer, exp=None):
        body = r"\sigma\left(%s\right)" % printer._print(self.args[0])
        return body if exp is None else r"%s^{%s}" % (body, exp)
