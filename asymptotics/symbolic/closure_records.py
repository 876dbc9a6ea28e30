"""Records, symbols and LaTeX printing of the closure derivation (:mod:`asymptotics.symbolic.closure`).

Every step of the derivation is a :class:`DerivationStep`; :func:`closure_symbols` gives the symbols of
the model for one K; :func:`latex` prints sums over the classes other than the label as
``\\sum_{k \\neq c}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy
from sympy import (
    Add,
    Eq,
    IndexedBase,
    KroneckerDelta,
    Lambda,
    Mul,
    S,
    sqrt,
)
from sympy.printing.latex import LatexPrinter

from asymptotics.symbolic.expectation import (
    IndexedGaussian,
)
from asymptotics.symbolic.softmax import (
    Softmax,
    class_indices,
)
from asymptotics.validation import InvalidInputError, check_num_classes


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
    >>> from sympy import IndexedBase, KroneckerDelta, Sum
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


def check_K(K):
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
    K = check_K(K)
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


def step_latex(step: DerivationStep) -> str:
    """LaTeX of one :class:`DerivationStep` (comment lines + align body)."""
    return step.latex()


def tex_text(text: str) -> str:
    """Escape plain text for LaTeX (underscores, carets, ampersands, percent signs)."""
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("^", r"\^{}"), ("&", r"\&"),
                 ("%", r"\%"), ("#", r"\#"), ("<-", r"$\leftarrow$"), ("->", r"$\to$")):
        text = text.replace(a, b)
    return text
