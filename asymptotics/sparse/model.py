"""The sparse-feature model as data, input checks, and the exact three-term decomposition (SymPy).

The model (a stand-in model reproducing the abstract's claims of arXiv 2605.23591):

* coordinates ``i = 1 ... M`` (``M = None``: infinitely many), ``x_i = b_i g_i`` with
  ``b_i ~ Bernoulli(p_i)``, ``g_i ~ N(0, 1)`` independent, activation law ``p_i = min(1, i^-s)``, s > 1;
* target ``y = sum_i w_i x_i`` (no label noise) with ``p_i w_i^2 = i^-(1+a)``, a > 0, i.e.
  ``w_i^2 = i^(s-1-a)``;
* learner: random features ``F x`` with ``F_ki ~ N(0, 1/N)``, prediction ``theta . F x``, ``theta``
  the minimum-norm least-squares fit on D samples; population loss
  ``L = sum_i p_i (beta_i - w_i)^2`` with ``beta = F^T theta``.

:func:`derive_decomposition` averages the loss over the columns ``F_i`` of the coordinates never
active in the training set (they do not enter ``theta``) and obtains exactly
``L = sum_{i in S} p_i (beta_i - w_i)^2 + sum_{i not in S} p_i w_i^2 + (|theta|^2/N) sum_{i not in S} p_i``.

>>> m = SparseModel(2.0, 0.5)
>>> [float(v) for v in (m.p(1), m.p(4), m.w2(4), m.signal(4))]
[1.0, 0.0625, 2.0, 0.125]
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from asymptotics.sparse import MODEL_NAME
from asymptotics.validation import InvalidInputError, exact_real

__all__ = ["MODEL_NAME", "SparseModel", "check_count", "check_counts", "derive_decomposition"]

#: largest sample / feature count accepted (float64 integers are exact up to 2**53)
MAX_COUNT = 10**15


@dataclass(frozen=True)
class SparseModel:
    """Sparsity exponent ``s > 1``, task exponent ``a > 0``, optional finite number of coordinates M.

    ``p(i) = min(1, i^-s)``, ``w2(i) = i^(s-1-a)`` (so that ``p w^2 = i^-(1+a)``), ``signal(i) = p w^2``.

    >>> SparseModel(1.0, 0.5)
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: s must be > 1 (sparsity exponent), got 1.0
    """

    s: float
    a: float
    M: int | None = None
    #: the exponents exactly as given (a decimal string such as "1.3" is one point three, not its float);
    #: the arbitrary-precision expectations and series use these
    s_exact: Fraction = field(default=None, init=False, repr=False, compare=False)
    a_exact: Fraction = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "s_exact", exact_real("s", self.s))
        object.__setattr__(self, "a_exact", exact_real("a", self.a))
        if not float(self.s) > 1:
            raise InvalidInputError(f"s must be > 1 (sparsity exponent), got {self.s!r}")
        if not float(self.a) > 0:
            raise InvalidInputError(f"a must be > 0 (task exponent), got {self.a!r}")
        if float(self.s) > 50:
            raise InvalidInputError(f"s must be <= 50, got {self.s!r}")
        if float(self.a) > 50:
            raise InvalidInputError(f"a must be <= 50, got {self.a!r}")
        if self.M is not None:
            object.__setattr__(self, "M", check_count("M", self.M))
        object.__setattr__(self, "s", float(self.s))
        object.__setattr__(self, "a", float(self.a))

    @property
    def name(self) -> str:
        """The model's name in every output."""
        return MODEL_NAME

    def p(self, i):
        """Activation probability ``min(1, i^-s)`` (numpy-vectorised)."""
        return np.minimum(1.0, np.asarray(i, dtype=float) ** -self.s)[()]

    def w2(self, i):
        """Squared target weight ``i^(s-1-a)``."""
        return (np.asarray(i, dtype=float) ** (self.s - 1 - self.a))[()]

    def signal(self, i):
        """Loss mass of coordinate i, ``p_i w_i^2 = i^-(1+a)``."""
        return (np.asarray(i, dtype=float) ** -(1 + self.a))[()]

    def describe(self) -> dict:
        """JSON-ready description."""
        return {
            "model": MODEL_NAME,
            "s": self.s,
            "a": self.a,
            "M": self.M,
            "activation": "p_i = min(1, i^-s)",
            "target": "p_i w_i^2 = i^-(1+a)",
        }


def check_count(name: str, value, *, minimum: int = 1, maximum: int = MAX_COUNT) -> int:
    """Return ``value`` as an int if it is an integer in [minimum, maximum] (integral floats accepted).

    >>> check_count("D", 1e3)
    1000
    >>> check_count("D", 2.5)
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: D must be an integer, got 2.5
    """
    if isinstance(value, bool) or value is None:
        raise InvalidInputError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        v = int(value)
    else:
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{name} must be an integer, got {value!r}") from None
        if not math.isfinite(f):
            raise InvalidInputError(f"{name} must be a finite integer, got {value!r}")
        if not f.is_integer():
            raise InvalidInputError(f"{name} must be an integer, got {value!r}")
        v = int(f)
    if v < minimum:
        raise InvalidInputError(f"{name} must be >= {minimum}, got {v}")
    if v > maximum:
        raise InvalidInputError(f"{name} must be <= {maximum:.0e}, got {v}")
    return v


def check_counts(name: str, values, **kw) -> np.ndarray:
    """Validate a scalar or a sequence of counts; returns a 1-d int64 array (order kept).

    >>> check_counts("N", [50, 100.0]).tolist()
    [50, 100]
    """
    seq = np.atleast_1d(np.asarray(values, dtype=object)).ravel()
    if seq.size == 0:
        raise InvalidInputError(f"{name} must contain at least one value")
    return np.array([check_count(name, v, **kw) for v in seq], dtype=np.int64)


def derive_decomposition() -> dict:
    """Average the population loss over the unseen columns of F (SymPy) and return the three terms.

    For a coordinate i outside the seen set S, ``beta_i = F_i . theta`` with ``F_i ~ N(0, I/N)``
    independent of ``theta`` (the training inputs vanish on i, so ``theta`` never depends on
    ``F_i``).  SymPy computes ``E_F[(F_i . theta - w_i)^2]`` on a concrete number of features
    (n = 1 ... 4) and the result is ``|theta|^2/N + w_i^2`` in every case; the cross term vanishes
    because ``E F_i = 0``.  Returns the per-coordinate identity, the general decomposition and LaTeX.

    >>> d = derive_decomposition()
    >>> d["per_coordinate"]
    Eq(E[(beta_i - w_i)**2], w_i**2 + |theta|**2/N)
    >>> d["checked_dimensions"]
    [1, 2, 3, 4]
    """
    import sympy as sp
    from sympy.stats import E as expect
    from sympy.stats import Normal

    N = sp.Symbol("N", positive=True)
    w = sp.Symbol("w_i", real=True)
    norm2 = sp.Symbol("|theta|**2", nonnegative=True)
    checked = []
    for n in range(1, 5):
        th = sp.symbols(f"theta1:{n + 1}", real=True)
        F = [Normal(f"F{k}", 0, 1 / sp.sqrt(N)) for k in range(n)]
        beta = sum(f * t for f, t in zip(F, th))
        val = sp.simplify(sp.expand(expect(sp.expand((beta - w) ** 2))))
        target = sum(t**2 for t in th) / N + w**2
        if sp.simplify(val - target) != 0:  # pragma: no cover - would be a SymPy regression
            raise AssertionError(f"decomposition check failed for n = {n}: {val}")
        checked.append(n)
    lhs = sp.Symbol("E[(beta_i - w_i)**2]")
    per = sp.Eq(lhs, w**2 + norm2 / N)
    latex = (
        r"L = \sum_{i\in S} p_i(\hat\beta_i - w_i)^2 + \sum_{i\notin S} p_i w_i^2"
        r" + \frac{\|\theta\|^2}{N}\sum_{i\notin S} p_i"
    )
    return {
        "per_coordinate": per,
        "checked_dimensions": checked,
        "latex": latex,
        "terms": ("seen_fit", "missing_signal", "aliasing"),
    }
