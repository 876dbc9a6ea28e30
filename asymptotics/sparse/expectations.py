"""Exact finite-D expectations of the sparse model (float64 or any precision).

With ``q_i(D) = 1 - (1 - p_i)^D`` the probability that coordinate i is active in at least one of D
samples (p_1 = 1: coordinate 1 is always seen), the seen set S has independent memberships and

=====================  =============================================  ===================
name                   expectation                                    harmonic sum
=====================  =============================================  ===================
``seen_expected``      ``E|S| = sum_i q_i``                           seen, alpha = 0
``missing_signal``     ``E sum_{i not in S} p_i w_i^2``               unseen, alpha = 1+a
``unseen_mass``        ``E sum_{i not in S} p_i``                     unseen, alpha = s
``seen_weight``        ``E sum_{i in S} w_i^2 = E|w_S|^2``            seen, alpha = 1+a-s
=====================  =============================================  ===================

``digits=None`` uses the float64 path (vectorised over D, ~1e-15 relative); ``digits=N`` returns
mpmath numbers with N correct digits from one of two independent routes
(:mod:`asymptotics.sparse.harmonic_mp`; ``route="mellin"`` by default, falling back to
``"euler-maclaurin"`` where the Mellin route is not available).

>>> from asymptotics.sparse.model import SparseModel
>>> m = SparseModel(2.0, 0.5)
>>> v = seen_expected(m, [1, 2])             # sum p_i = zeta(2); sum 2p - p^2 = 2 zeta(2) - zeta(4)
>>> import math
>>> bool(abs(v[0] - math.pi ** 2 / 6) < 1e-15 and abs(v[1] - (math.pi ** 2 / 3 - math.pi ** 4 / 90)) < 1e-15)
True
>>> import mpmath
>>> print(mpmath.nstr(missing_signal(m, 1000, digits=25)[0], 25))
0.3223170190520947626318575
"""

from __future__ import annotations

import mpmath
import numpy as np

from asymptotics.sparse.harmonic import harmonic_sum
from asymptotics.sparse.harmonic_mp import RouteUnavailable, harmonic_sum_mp
from asymptotics.sparse.model import SparseModel, check_counts
from asymptotics.validation import InvalidInputError, check_digits, fraction_to_mpf

__all__ = [
    "EXPECTATIONS",
    "alpha_of",
    "expectation",
    "missing_signal",
    "seen_expected",
    "seen_weight",
    "unseen_mass",
]

#: name -> (kind, alpha as a function of (s, a), description)
EXPECTATIONS = {
    "seen_expected": ("seen", lambda s, a: 0 * s, "expected seen count E|S|"),
    "missing_signal": ("unseen", lambda s, a: 1 + a, "missing signal E sum_{i not in S} p_i w_i^2"),
    "unseen_mass": ("unseen", lambda s, a: s + 0 * a, "unseen mass E sum_{i not in S} p_i"),
    "seen_weight": ("seen", lambda s, a: 1 + a - s, "seen target norm E sum_{i in S} w_i^2"),
}


def alpha_of(name: str, s, a):
    """The exponent alpha of the harmonic sum behind an expectation (exact in mpmath or float)."""
    if name not in EXPECTATIONS:
        raise InvalidInputError(f"unknown expectation {name!r}; choose from {sorted(EXPECTATIONS)}")
    return EXPECTATIONS[name][1](s, a)


def expectation(name: str, model: SparseModel, D, *, digits: int | None = None, route: str = "mellin"):
    """The expectation ``name`` at each D (integers >= 1): float64 array, or a list of mpf.

    >>> m = SparseModel(3.0, 1.0)
    >>> v = expectation("unseen_mass", m, 1, digits=30)[0]       # sum_i i^-3 (1 - i^-3) = zeta(3) - zeta(6)
    >>> import mpmath
    >>> with mpmath.workdps(40): print(abs(v - (mpmath.zeta(3) - mpmath.zeta(6))) < 1e-29)
    True
    """
    if not isinstance(model, SparseModel):
        raise InvalidInputError("model must be a SparseModel")
    Ds = check_counts("D", D)
    kind = EXPECTATIONS.get(name, (None,))[0]
    if kind is None:
        raise InvalidInputError(f"unknown expectation {name!r}; choose from {sorted(EXPECTATIONS)}")
    if digits is None:
        alpha = float(alpha_of(name, model.s, model.a))
        return harmonic_sum(kind, alpha, model.s, Ds.astype(float), M=model.M)
    digits = check_digits(digits, minimum=5, maximum=1000)
    with mpmath.workdps(digits + 40):  # the exponents exactly as given (decimals stay decimals)
        s_mp, a_mp = fraction_to_mpf(model.s_exact), fraction_to_mpf(model.a_exact)
        alpha = alpha_of(name, s_mp, a_mp)
    out = []
    for d in Ds:
        try:
            v = harmonic_sum_mp(kind, alpha, s_mp, int(d), M=model.M, digits=digits, route=route)
        except RouteUnavailable:
            other = "euler-maclaurin" if route == "mellin" else "mellin"
            v = harmonic_sum_mp(kind, alpha, s_mp, int(d), M=model.M, digits=digits, route=other)
        out.append(v)
    return out


def seen_expected(model: SparseModel, D, *, digits: int | None = None, route: str = "mellin"):
    """Expected number of distinct coordinates active in D samples, ``E|S| = sum_i [1 - (1-p_i)^D]``."""
    return expectation("seen_expected", model, D, digits=digits, route=route)


def missing_signal(model: SparseModel, D, *, digits: int | None = None, route: str = "mellin"):
    """Expected missing signal ``E sum_{i not in S} p_i w_i^2 = sum_i i^-(1+a) (1-p_i)^D``."""
    return expectation("missing_signal", model, D, digits=digits, route=route)


def unseen_mass(model: SparseModel, D, *, digits: int | None = None, route: str = "mellin"):
    """Expected unseen activation mass ``E sum_{i not in S} p_i = sum_i p_i (1-p_i)^D``."""
    return expectation("unseen_mass", model, D, digits=digits, route=route)


def seen_weight(model: SparseModel, D, *, digits: int | None = None, route: str = "mellin"):
    """Expected squared target norm on the seen coordinates, ``E|w_S|^2 = sum_i w_i^2 [1-(1-p_i)^D]``."""
    return expectation("seen_weight", model, D, digits=digits, route=route)


def as_float_array(values) -> np.ndarray:
    """Convert a list of mpf (or an array) to a float64 array."""
    return np.array([float(v) for v in values]) if isinstance(values, list) else np.asarray(values, float)
