"""A surrogate loss as data: its SymPy expression and the symbolic facts the engine needs.

A :class:`Loss` holds a builder that writes ``l(z, c)`` in the symbols of
:func:`asymptotics.symbolic.closure_records.closure_symbols` (logits ``z[k]``, softmax atoms ``p[k]``, label ``c``,
class count ``K`` as an integer or a symbol).  From it the engine derives, with SymPy:

* :meth:`Loss.explicit` -- the loss for an integer ``K`` with the label fixed to class 1, written in the
  logits only (sums expanded, ``p_k = e^{z_k}/sum_j e^{z_j}``);
* :meth:`Loss.shift_invariance` -- whether ``sum_k dl/dz_k = 0`` identically (the loss depends on the logits
  only through their differences), decided symbolically for ``K = 2, 3`` (and ``K = 4`` in the
  full check); a loss that moves the mean logit is refused by the centred closure
  (:meth:`Loss.require_centred`);
* :meth:`Loss.class_symmetry` -- the loss is the same function for every label under a relabelling of the
  classes (needed for the symmetric sector: the closure conditions on ``c = 1`` by symmetry);
* :meth:`Loss.gap_form` -- with ``z_1 = 0`` and ``z_{j+1} = -d_j`` (shift invariance), the loss as a function
  ``f(d_1, ..., d_{K-1})`` of the student gaps of the numeric layer;
* :meth:`Loss.local_binary` -- the two-class loss ``lambda(s)`` at margin ``s`` (``f`` for ``K = 2``), which
  governs the boundary layers, and :meth:`Loss.reduces_to_binary` -- whether the K-class loss tends to
  ``lambda`` when the other classes are far below (the rival weights ``e^{-d_j} -> 0``).

>>> from asymptotics.losses import get_loss
>>> get_loss("cross_entropy").gap_form(2)
log(1 + exp(-d_1))
>>> get_loss("squared_logits").shift_invariance()["invariant"]
False
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import sympy
from sympy import Integer

from asymptotics.validation import InvalidInputError, check_num_classes

__all__ = ["Loss"]


@dataclass(frozen=True, eq=False)
class Loss:
    """A loss ``l(z, c)``: canonical ``name``, ``family``, exact ``params`` and the expression ``builder``.

    Use :func:`asymptotics.losses.get_loss` or :func:`asymptotics.losses.loss_from_expression` to make one.
    Two losses are equal when their name, family and parameters are.
    """

    name: str
    family: str
    params: tuple
    builder: Callable = field(repr=False)
    description: str = ""

    # identity -------------------------------------------------------------------------------------
    def _key(self):
        return (self.name, self.family, self.params)

    def __eq__(self, other):
        return isinstance(other, Loss) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"Loss({self.name!r})"

    @property
    def param_dict(self) -> dict:
        """Parameters as ``{key: Fraction}`` (empty for families without parameters and user losses)."""
        return {} if self.family == "user" else dict(self.params)

    @property
    def is_cross_entropy(self) -> bool:
        """True for plain cross-entropy (``T = 1``), by name."""
        return self.name == "cross_entropy"

    # expressions ----------------------------------------------------------------------------------
    def expression(self, K=None) -> sympy.Expr:
        """The loss in the closure symbols for ``K`` classes (``None``: the symbol ``K``)."""
        from asymptotics.symbolic.closure import closure_symbols
        from asymptotics.symbolic.softmax import num_classes_symbol

        s = closure_symbols(num_classes_symbol() if K is None else K)
        return self.builder(s)

    def explicit(self, K: int, label: int = 1) -> sympy.Expr:
        """The loss for integer ``K`` with label ``label``, in the logits ``z[1..K]`` only.

        >>> from asymptotics.losses import get_loss
        >>> get_loss("brier").explicit(2)
        (-1 + exp(z[1])/(exp(z[1]) + exp(z[2])))**2 + exp(2*z[2])/(exp(z[1]) + exp(z[2]))**2
        """
        return _explicit(self, check_num_classes(K), int(label))

    def gap_form(self, K: int) -> sympy.Expr:
        """``f(d_1..d_{K-1})``: the loss at ``z_1 = 0``, ``z_{j+1} = -d_j`` (label 1; needs shift invariance)."""
        self.require_centred()
        return _gap_form(self, check_num_classes(K))

    def local_binary(self) -> sympy.Expr:
        """The two-class loss ``lambda(s)`` at margin ``s = z_c - z_other`` (symbol ``s``, real).

        >>> from asymptotics.losses import get_loss
        >>> get_loss("focal:gamma=2").local_binary()
        (1 - 1/(1 + exp(-s)))**2*log(1 + exp(-s))
        """
        d, _ = _gap_symbols(2)
        return self.gap_form(2).xreplace({d[0]: margin_symbol()})

    # symbolic checks ------------------------------------------------------------------------------
    def shift_invariance(self, full: bool = False) -> dict:
        """Decide symbolically whether ``sum_k dl/dz_k = 0`` (K = 2, 3; with ``full`` also K = 4).

        Returns ``{"invariant": bool, "sum_gradient": {K: simplified expression}, "method": str}``.
        """
        return _shift_invariance(self, (2, 3, 4) if full else (2, 3))

    @property
    def is_shift_invariant(self) -> bool:
        return self.shift_invariance()["invariant"]

    def require_centred(self) -> None:
        """Raise :class:`InvalidInputError` unless the loss is shift invariant and class symmetric."""
        info = self.shift_invariance()
        if not info["invariant"]:
            expr = info["sum_gradient"].get(2)
            raise InvalidInputError(
                f"loss {self.name!r} is not shift invariant: sum_k dl/dz_k = {sympy.sstr(expr)} (K = 2) is not "
                "identically 0, so the mean logit moves and the centred (D, Delta) closure does not apply; the "
                "engine refuses such losses (it does not carry the mean-logit variable)"
            )
        sym = self.class_symmetry()
        if not sym["symmetric"]:
            raise InvalidInputError(
                f"loss {self.name!r} is not symmetric under a relabelling of the classes "
                f"({sym['reason']}); the symmetric-sector closure needs that symmetry"
            )

    def class_symmetry(self) -> dict:
        """Check (K = 3) that the loss with label 2 is the label-1 loss with classes 1, 2 swapped and that
        the label-1 loss is symmetric in the rivals 2, 3.  Returns ``{"symmetric": bool, "reason": str}``."""
        return _class_symmetry(self)

    def reduces_to_binary(self, K: int = 3) -> bool:
        """True if the K-class loss tends to ``lambda(d_1)`` when the other rival weights vanish.

        This is the condition for the boundary-layer reduction (only the two nearly tied classes matter);
        it fails for label smoothing, whose loss grows with every rival gap.
        """
        return _reduces_to_binary(self, check_num_classes(K))

    def bulk_decay(self):
        """Leading decay of ``lambda(s)`` at ``s -> +infinity``: ``(rate, coefficient)`` with
        ``lambda ~ coefficient * exp(-rate s)``, or ``None`` if ``lambda`` does not vanish exponentially.

        >>> from asymptotics.losses import get_loss
        >>> get_loss("focal:gamma=2").bulk_decay()
        (3, 1)
        >>> get_loss("label_smoothing:eps=0.1").bulk_decay() is None
        True
        """
        return _bulk_decay(self)


# ----------------------------------------------------------------------------------------------------
# implementations (cached per loss)
# ----------------------------------------------------------------------------------------------------


def margin_symbol() -> sympy.Symbol:
    """The local margin ``s`` of the two-class reduction (real symbol)."""
    return sympy.Symbol("s", real=True)


def _gap_symbols(K: int):
    from asymptotics.symbolic.integrands import gap_symbols

    return gap_symbols(K)


@cache
def _explicit(loss: Loss, K: int, label: int) -> sympy.Expr:
    from asymptotics.symbolic.closure import closure_symbols
    from asymptotics.symbolic.softmax import SoftmaxProbability

    if not 1 <= label <= K:
        raise InvalidInputError(f"label must lie in 1..{K}, got {label}")
    s = closure_symbols(K)
    expr = loss.expression(K).xreplace({s.c: Integer(label)})
    expr = expr.doit()
    expr = expr.replace(lambda a: isinstance(a, SoftmaxProbability), lambda a: a.explicit())
    expr = expr.doit()
    if expr.has(sympy.Sum):
        raise InvalidInputError(f"loss {loss.name!r}: the class sums could not be written out for K = {K}")
    bad = [
        a
        for a in expr.free_symbols
        if not (isinstance(a, sympy.Indexed) and a.base == s.z) and a != s.z.label
    ]
    if bad:
        raise InvalidInputError(
            f"loss {loss.name!r} depends on {', '.join(map(str, bad))} besides the logits"
        )
    return expr


def _logit_sub(K: int):
    from asymptotics.symbolic.closure import closure_symbols

    s = closure_symbols(K)
    d, _ = _gap_symbols(K)
    return s, {s.z[1]: Integer(0), **{s.z[j + 1]: -d[j - 1] for j in range(1, K)}}


def _tidy_logs(expr):
    """``log(1/x) -> -log(x)`` and ``log(e^{-a} / x) -> -a - log(x)`` (real arguments)."""
    expr = sympy.expand_log(expr, force=True)
    return expr


@cache
def _gap_form(loss: Loss, K: int) -> sympy.Expr:
    s, sub = _logit_sub(K)
    f = loss.explicit(K).xreplace(sub)
    f = sympy.powsimp(sympy.expand_power_exp(f), combine="exp")
    f = _tidy_logs(f)
    return _canonical_exp(f)


def _canonical_exp(expr):
    """Write every ``exp(a - b d_j)`` as ``exp(a) exp(-b d_j)`` (so the rival weights are atoms)."""

    def split(e):
        arg = sympy.expand(e.args[0])
        terms = sympy.Add.make_args(arg)
        const = sympy.Add(*[t for t in terms if not t.free_symbols])
        rest = sympy.Add(*[t for t in terms if t.free_symbols])
        if const == 0 or rest == 0:
            return sympy.exp(arg, evaluate=True)
        return sympy.exp(const) * sympy.exp(rest)

    return expr.replace(lambda e: isinstance(e, sympy.exp), split)


def _is_zero(expr) -> bool:
    expr = sympy.sympify(expr)
    if expr == 0:
        return True
    for fn in (lambda e: sympy.cancel(sympy.together(e)), sympy.simplify):
        try:
            if fn(expr) == 0:
                return True
        except (TypeError, ValueError, NotImplementedError):  # pragma: no cover - SymPy limitation
            continue
    return False


def _numeric_zero(expr, symbols, trials: int = 6) -> bool:
    """High-precision spot check of ``expr == 0`` at random points (used only to confirm ``not zero``)."""
    import random

    import mpmath

    rng = random.Random(12345)
    f = sympy.lambdify(symbols, expr, modules="mpmath")
    with mpmath.workdps(40):
        for _ in range(trials):
            point = [mpmath.mpf(rng.uniform(-2, 2)) for _ in symbols]
            try:
                if abs(f(*point)) > mpmath.mpf(10) ** -30:
                    return False
            except (ZeroDivisionError, ValueError):  # pragma: no cover
                continue
    return True


@cache
def _shift_invariance(loss: Loss, Ks: tuple) -> dict:
    from asymptotics.symbolic.closure import closure_symbols

    sums = {}
    invariant = True
    method = "symbolic"
    for K in Ks:
        s = closure_symbols(K)
        ell = loss.explicit(K)
        zs = [s.z[i] for i in range(1, K + 1)]
        total = sympy.Add(*[sympy.diff(ell, zi) for zi in zs])
        simple = sympy.simplify(sympy.cancel(sympy.together(total)))
        sums[K] = simple
        if not _is_zero(simple):
            # SymPy could not prove zero: a numerical check at 40 digits decides which way to report
            if _numeric_zero(simple, zs):
                method = "symbolic simplification inconclusive; zero at 40 digits at random points"
                sums[K] = Integer(0)
                continue
            invariant = False
    return {"invariant": invariant, "sum_gradient": sums, "method": method}


@cache
def _class_symmetry(loss: Loss) -> dict:
    from asymptotics.symbolic.closure import closure_symbols

    K = 3
    s = closure_symbols(K)
    z1, z2, z3 = (s.z[i] for i in (1, 2, 3))
    l1 = loss.explicit(K, 1)
    l2 = loss.explicit(K, 2)
    swap12 = l1.xreplace({z1: z2, z2: z1})
    if not _is_zero(l2 - swap12) and not _numeric_zero(l2 - swap12, [z1, z2, z3]):
        return {
            "symmetric": False,
            "reason": "the loss for label 2 is not the label-1 loss with classes 1 and 2 exchanged",
        }
    swap23 = l1.xreplace({z2: z3, z3: z2})
    if not _is_zero(l1 - swap23) and not _numeric_zero(l1 - swap23, [z1, z2, z3]):
        return {"symmetric": False, "reason": "the label-1 loss is not symmetric in the other classes"}
    return {"symmetric": True, "reason": ""}


def _weights(K: int):
    d, _ = _gap_symbols(K)
    return d


@cache
def _reduces_to_binary(loss: Loss, K: int) -> bool:
    if K == 2:
        return True
    d = _weights(K)
    f = loss.gap_form(K)
    lam = loss.local_binary().xreplace({margin_symbol(): d[0]})
    t = sympy.Symbol("t", positive=True)
    # other rivals far below: d_j = t -> infinity for j >= 2
    diff = (f - lam).xreplace({dj: t for dj in d[1:]})
    try:
        lim = sympy.limit(diff, t, sympy.oo)
    except (NotImplementedError, ValueError, TypeError):  # pragma: no cover - SymPy limitation
        return False
    if _is_zero(lim):
        return True
    # SymPy's simplification may miss log identities: decide at 40 digits at random points
    syms = sorted(lim.free_symbols, key=str)
    return bool(syms) and _numeric_zero(lim, syms)


@cache
def _bulk_decay(loss: Loss):
    lam = loss.local_binary()
    sv = margin_symbol()
    try:
        if sympy.limit(lam, sv, sympy.oo) != 0:
            return None
    except (NotImplementedError, ValueError, TypeError):  # pragma: no cover
        return None
    # leading exponential: lambda ~ C exp(-r s); r from the limit of -log(lambda)/s
    try:
        rate = sympy.limit(-sympy.log(lam) / sv, sv, sympy.oo)
    except (NotImplementedError, ValueError, TypeError):  # pragma: no cover
        return None
    if not (rate.is_number and rate.is_positive and rate.is_finite):
        return None
    coef = sympy.limit(sympy.simplify(lam * sympy.exp(rate * sv)), sv, sympy.oo)
    if not (coef.is_number and coef.is_finite and coef != 0):
        return None
    return (rate, sympy.nsimplify(coef))
