"""Named, parameterised surrogate losses and user losses given as SymPy expressions.

A loss is a SymPy expression ``l(z, c)`` of the student logits ``z_k`` and the label ``c`` (a class index),
written with the symbols of :func:`loss_symbols`: ``z[k]`` (logits), ``p[k]`` (softmax probabilities),
``c`` (label), ``K`` (number of classes, a symbol: class sums are ``Sum(..., (k, 1, K))``) and
``KroneckerDelta``.  Registered families (:data:`FAMILIES`; parameters exact rationals)::

    cross_entropy[:T=t]        -log softmax(z/T)_c                       (T > 0, default 1)
    label_smoothing[:eps=e]    -sum_k ((1-eps) delta_kc + eps/K) log p_k (0 <= eps < 1, default 1/10)
    focal[:gamma=g]            -(1 - p_c)^gamma log p_c                  (gamma >= 0, default 2)
    brier                      sum_k (p_k - delta_kc)^2
    margin[:m=m]               log(1 + e^m sum_{k != c} e^{z_k - z_c})   (softplus of m plus the smoothed
                                                                          largest rival margin = additive-margin
                                                                          softmax; |m| <= 10, default 1)
    squared_logits             sum_k (z_k - delta_kc)^2 / 2              (not shift invariant)

:func:`get_loss` parses the command-line form ``"family:key=value,..."`` (a :class:`~asymptotics.losses.model.Loss`
is returned unchanged); :func:`loss_from_expression` turns a user expression (SymPy object or string) into a
loss after checking that it is a function of the logits and the label only.

>>> get_loss("focal:gamma=2").name
'focal:gamma=2'
>>> get_loss("cross_entropy:T=1").name
'cross_entropy'
>>> get_loss("label_smoothing:eps=1")
Traceback (most recent call last):
...
asymptotics.validation.InvalidInputError: label_smoothing: eps must lie in [0, 1), got 1
>>> print(get_loss("brier").expression())
Sum((-KroneckerDelta(c, k) + p[k])**2, (k, 1, K))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import sympy
from sympy import KroneckerDelta, Rational, Sum, exp, log

from asymptotics.losses.model import Loss
from asymptotics.validation import InvalidInputError, exact_real

__all__ = [
    "FAMILIES",
    "REGISTERED",
    "get_loss",
    "registered_losses",
    "loss_from_expression",
    "loss_symbols",
    "canonical_name",
]


def _q(x: Fraction) -> sympy.Rational:
    return Rational(x.numerator, x.denominator)


def _cross_entropy(s, T):
    if T == 1:
        return -log(s.p(s.c))
    k = s.k
    Tq = _q(T)
    return -s.z[s.c] / Tq + log(Sum(exp(s.z[k] / Tq), (k, 1, s.K)))


def _label_smoothing(s, eps):
    k = s.k
    e = _q(eps)
    return -Sum(((1 - e) * KroneckerDelta(k, s.c) + e / s.K) * log(s.p(k)), (k, 1, s.K))


def _focal(s, gamma):
    return -((1 - s.p(s.c)) ** _q(gamma)) * log(s.p(s.c))


def _brier(s):
    k = s.k
    return Sum((s.p(k) - KroneckerDelta(k, s.c)) ** 2, (k, 1, s.K))


def _margin(s, m):
    k = s.k
    rivals = Sum((1 - KroneckerDelta(k, s.c)) * exp(s.z[k] - s.z[s.c]), (k, 1, s.K))
    return log(1 + exp(_q(m)) * rivals)


def _squared_logits(s):
    k = s.k
    return Sum((s.z[k] - KroneckerDelta(k, s.c)) ** 2, (k, 1, s.K)) / 2


def _check_T(x):
    if not x > 0:
        raise InvalidInputError(f"cross_entropy: T must be > 0, got {_fmt(x)}")


def _check_eps(x):
    if not 0 <= x < 1:
        raise InvalidInputError(f"label_smoothing: eps must lie in [0, 1), got {_fmt(x)}")


def _check_gamma(x):
    if x < 0:
        raise InvalidInputError(f"focal: gamma must be >= 0, got {_fmt(x)}")
    if x > 20:
        raise InvalidInputError(f"focal: gamma must be <= 20, got {_fmt(x)}")


def _check_m(x):
    if abs(x) > 10:
        raise InvalidInputError(f"margin: m must lie in [-10, 10], got {_fmt(x)}")


@dataclass(frozen=True)
class Family:
    """A registered loss family: its parameters (name, default, check) and expression builder."""

    name: str
    parameters: tuple  # ((key, default Fraction, check), ...)
    builder: Callable
    description: str


FAMILIES = {
    "cross_entropy": Family(
        "cross_entropy",
        (("T", Fraction(1), _check_T),),
        _cross_entropy,
        "cross-entropy -log softmax(z/T)_c at temperature T",
    ),
    "label_smoothing": Family(
        "label_smoothing",
        (("eps", Fraction(1, 10), _check_eps),),
        _label_smoothing,
        "label-smoothed cross-entropy, target (1 - eps) delta_kc + eps/K",
    ),
    "focal": Family(
        "focal", (("gamma", Fraction(2), _check_gamma),), _focal, "focal loss -(1 - p_c)^gamma log p_c"
    ),
    "brier": Family("brier", (), _brier, "Brier score sum_k (p_k - delta_kc)^2"),
    "margin": Family(
        "margin",
        (("m", Fraction(1), _check_m),),
        _margin,
        "multiclass margin loss softplus(m + logsumexp_{k != c} z_k - z_c) = additive-margin softmax "
        "-log(e^{z_c - m}/(e^{z_c - m} + sum_{k != c} e^{z_k}))",
    ),
    "squared_logits": Family(
        "squared_logits",
        (),
        _squared_logits,
        "squared error of the logits against the one-hot label (not shift invariant)",
    ),
}

#: the registered losses of the atlas and the tests (one per family, default parameters)
REGISTERED = (
    "cross_entropy",
    "cross_entropy:T=2",
    "label_smoothing:eps=0.1",
    "focal:gamma=2",
    "brier",
    "margin:m=1",
    "squared_logits",
)


def _fmt(x: Fraction) -> str:
    """A parameter value as a short decimal (or p/q when it has no short decimal form).

    >>> _fmt(Fraction(1, 10)), _fmt(Fraction(2)), _fmt(Fraction(1, 3))
    ('0.1', '2', '1/3')
    """
    if x.denominator == 1:
        return str(x.numerator)
    den = x.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den == 1:
        from decimal import Decimal, localcontext

        with localcontext() as ctx:
            ctx.prec = 60
            text = format(Decimal(x.numerator) / Decimal(x.denominator), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{x.numerator}/{x.denominator}"


def canonical_name(family: str, params: dict) -> str:
    """The canonical spelling ``family:key=value,...`` (defaults of cross_entropy omitted).

    >>> canonical_name("cross_entropy", {"T": Fraction(1)}), canonical_name("focal", {"gamma": Fraction(5, 2)})
    ('cross_entropy', 'focal:gamma=2.5')
    """
    fam = FAMILIES[family]
    if not fam.parameters:
        return family
    if family == "cross_entropy" and params["T"] == 1:
        return family
    return family + ":" + ",".join(f"{key}={_fmt(params[key])}" for key, _, _ in fam.parameters)


def _parse_value(family: str, key: str, text: str) -> Fraction:
    try:
        return exact_real(f"{family}: {key}", text.strip())
    except InvalidInputError:
        raise InvalidInputError(
            f"{family}: parameter {key} must be a finite number, got {text.strip()!r}"
        ) from None


def get_loss(spec) -> Loss:
    """The loss named by ``spec`` (``"family"`` or ``"family:key=value,..."``), or ``spec`` if it is a Loss.

    Unknown families or parameters and values outside a family's range raise
    :class:`~asymptotics.validation.InvalidInputError` with a one-line message.

    >>> get_loss("margin").name, get_loss(" focal : gamma = 0.5 ").name
    ('margin:m=1', 'focal:gamma=0.5')
    >>> get_loss("hinge")
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: unknown loss 'hinge' (use cross_entropy, label_smoothing, focal, brier, margin, squared_logits)
    """
    if isinstance(spec, Loss):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidInputError(f"a loss must be a name like 'focal:gamma=2' or a Loss, got {spec!r}")
    family, _, rest = spec.strip().partition(":")
    family = family.strip()
    if family not in FAMILIES:
        raise InvalidInputError(f"unknown loss {family!r} (use {', '.join(FAMILIES)})")
    fam = FAMILIES[family]
    allowed = {key: (default, check) for key, default, check in fam.parameters}
    params = {key: default for key, (default, _) in allowed.items()}
    given = set()
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in allowed:
            hint = ", ".join(allowed) if allowed else "none"
            raise InvalidInputError(f"bad parameter {item!r} for loss {family!r} (allowed: {hint})")
        if key in given:
            raise InvalidInputError(f"parameter {key!r} is given twice in {spec!r}")
        given.add(key)
        params[key] = _parse_value(family, key, value)
    for key, (_, check) in allowed.items():
        check(params[key])
    return _build(family, params)


_CACHE: dict = {}


def _build(family: str, params: dict) -> Loss:
    name = canonical_name(family, params)
    if name not in _CACHE:
        fam = FAMILIES[family]
        values = tuple(params[key] for key, _, _ in fam.parameters)

        def builder(s, _f=fam.builder, _v=values):
            return _f(s, *_v)

        _CACHE[name] = Loss(
            name=name,
            family=family,
            params=tuple((key, params[key]) for key, _, _ in fam.parameters),
            builder=builder,
            description=fam.description,
        )
    return _CACHE[name]


def registered_losses() -> tuple:
    """The registered losses (:data:`REGISTERED`) as :class:`Loss` objects.

    >>> [l.name for l in registered_losses()][:3]
    ['cross_entropy', 'cross_entropy:T=2', 'label_smoothing:eps=0.1']
    """
    return tuple(get_loss(name) for name in REGISTERED)


# ----------------------------------------------------------------------------------------------------
# user losses
# ----------------------------------------------------------------------------------------------------


def loss_symbols() -> dict:
    """The symbols a user loss is written in: ``z``, ``p`` (IndexedBase), ``c``, ``K``, ``k``, ``j``.

    >>> ns = loss_symbols()
    >>> expr = -(1 - ns["p"][ns["c"]]) ** 3 * sympy.log(ns["p"][ns["c"]])
    >>> loss_from_expression(expr, name="focal3").family
    'user'
    """
    from asymptotics.symbolic.closure import closure_symbols
    from asymptotics.symbolic.softmax import num_classes_symbol

    s = closure_symbols(num_classes_symbol())
    j = sympy.Symbol("j", integer=True, positive=True)
    return {
        "z": s.z,
        "p": sympy.IndexedBase("p"),
        "c": s.c,
        "K": s.K,
        "k": s.k,
        "j": j,
        "l": s.l,
        "delta": KroneckerDelta,
        "KroneckerDelta": KroneckerDelta,
        "Sum": Sum,
        "log": log,
        "exp": exp,
        "sqrt": sympy.sqrt,
        "Rational": Rational,
    }


_ALLOWED_FUNCTIONS = (
    sympy.exp,
    sympy.log,
    KroneckerDelta,
    sympy.Abs,
    sympy.tanh,
    sympy.sinh,
    sympy.cosh,
    sympy.atan,
    sympy.erf,
)


def _parse_text(text: str):
    import re

    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    ns = loss_symbols()
    indexed = sorted(set(re.findall(r"([A-Za-z_][A-Za-z_0-9]*)\s*\[", text)) - {"z", "p"})
    if indexed:
        raise InvalidInputError(
            "the loss must be a function of the logits z[k] (or p[k]) and the label c only; "
            f"it contains {', '.join(indexed)}"
        )
    try:
        return parse_expr(
            text,
            local_dict=ns,
            global_dict={"__builtins__": {}, **vars(sympy)},
            transformations=standard_transformations,
            evaluate=True,
        )
    except Exception as exc:  # noqa: BLE001 -- any parse failure is a user error
        msg = " ".join(str(exc).split())
        raise InvalidInputError(f"cannot read the loss expression {text!r}: {msg}") from None


def loss_from_expression(expr, *, name: str | None = None) -> Loss:
    """A user loss from a SymPy expression (or a string) in ``z[k]``, ``p[k]``, ``c`` and ``K``.

    The expression must depend on the logits (through ``z`` or ``p``) and on nothing but the logits,
    the label ``c``, the class count ``K`` and summation indices; numbers are kept exact.  Anything
    else raises :class:`~asymptotics.validation.InvalidInputError`.

    >>> loss_from_expression("-log(p[c]) + x")
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: the loss must be a function of the logits z[k] (or p[k]) and the label c only; it contains x
    >>> loss_from_expression("Sum((p[k] - delta(k, c))**2, (k, 1, K))").is_shift_invariant
    True
    """
    if isinstance(expr, str):
        text = expr
        expr = _parse_text(expr)
    else:
        text = None
    try:
        expr = sympy.sympify(expr)
    except (sympy.SympifyError, TypeError):
        raise InvalidInputError(f"the loss must be a SymPy expression, got {expr!r}") from None
    if not isinstance(expr, sympy.Expr):
        raise InvalidInputError(f"the loss must be a SymPy expression, got {expr!r}")
    expr = sympy.nsimplify(expr, rational=True) if expr.has(sympy.Float) else expr
    ns = loss_symbols()
    from asymptotics.symbolic.closure import closure_symbols
    from asymptotics.symbolic.softmax import num_classes_symbol

    s = closure_symbols(num_classes_symbol())
    pbase = ns["p"]
    expr = expr.replace(
        lambda a: isinstance(a, sympy.Indexed) and a.base == pbase,
        lambda a: s.p(a.indices[0]) if len(a.indices) == 1 else a,
    )
    _check_user_expression(expr, s)
    label = name or (f"user:{text.strip()}" if text else f"user:{sympy.sstr(expr)}")
    frozen = expr

    def builder(sym, _e=frozen, _s=s):
        out = _e
        if sym.K != _s.K:
            out = out.xreplace({_s.K: sym.K})
            out = out.replace(
                lambda a: a.__class__.__name__ == "SoftmaxProbability", lambda a: sym.p(a.index)
            )
        return out

    return Loss(
        name=label,
        family="user",
        params=(("expression", sympy.srepr(frozen)),),
        builder=builder,
        description=f"user loss {sympy.sstr(frozen)}",
    )


def _check_user_expression(expr, s) -> None:
    from asymptotics.symbolic.softmax import SoftmaxProbability

    bound = set()
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, Sum):
            bound.update(lim[0] for lim in node.limits)
    indexed = [a for a in expr.atoms(sympy.Indexed)]
    bad_bases = sorted({str(a.base) for a in indexed if a.base != s.z})
    if bad_bases:
        raise InvalidInputError(
            "the loss must be a function of the logits z[k] (or p[k]) and the label c "
            f"only; it contains {', '.join(bad_bases)}"
        )
    allowed = {s.c, s.K} | bound
    for a in indexed:
        allowed |= a.indices[0].free_symbols & bound
    free = set()
    for a in expr.free_symbols:
        if isinstance(a, sympy.Symbol) and a not in allowed:
            free.add(a)
    # indices of z[...] or p[...] must be the label, a summation index or an integer
    for a in list(indexed) + list(expr.atoms(SoftmaxProbability)):
        idx = a.indices[0] if isinstance(a, sympy.Indexed) else a.index
        for sym in idx.free_symbols:
            if sym not in allowed:
                free.add(sym)
    free = {a for a in free if str(a) != "z"}
    if free:
        raise InvalidInputError(
            "the loss must be a function of the logits z[k] (or p[k]) and the label c "
            f"only; it contains {', '.join(sorted(map(str, free)))}"
        )
    if not (expr.has(s.z) or expr.has(SoftmaxProbability)):
        raise InvalidInputError(f"the loss {sympy.sstr(expr)} does not depend on the logits")
    for f in expr.atoms(sympy.Function):
        if isinstance(f, SoftmaxProbability):
            continue
        if not isinstance(f, _ALLOWED_FUNCTIONS):
            raise InvalidInputError(
                f"the loss uses the function {f.func}, which the engine does not support "
                f"(allowed: exp, log, KroneckerDelta, Abs, tanh, sinh, cosh, atan, erf)"
            )
