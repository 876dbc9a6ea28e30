"""The 1/D expansion of the exact closure expectations, to any order, for any K, at any precision.

From the exact decomposition of :mod:`asymptotics.asymptotic.local_binary` and the Taylor expansion of
the labelled-gap densities (Watson's lemma; the remainder beyond the layer is exponentially small) ::

    E[Q](D, Delta) = sum_{j=0}^n c^Q_j(Delta) D^{-(j + p_Q)} + O(D^{-(n + 1 + p_Q)}),

with ``p_Q = 2`` for the drift (the factor ``y_c - y_k = u/D``) and ``p_Q = 1`` otherwise, and ::

    c^Q_j = q^(j)(0)/j! I_j[Q]                                                   (binary layers, m = 1)
          + sum_{m=2}^{min(j+1, K-1)} binom(K-1, m) sum_{|a| = j+1-m} d^a rho_m(0)/a! J_a[Q]   (junctions)

``q^(j)(0) = (-1)^j rho_K^(j)(0)`` (labelled gaps), ``I_j`` the universal binary moments
(:func:`~asymptotics.asymptotic.layer_integrals.binary_layer_moment`; evaluated here as the ``m = 1`` case
of :func:`~asymptotics.asymptotic.junctions.junction_moment`, which is faster at high precision), the joint density of
``m`` labelled gaps (:func:`~asymptotics.asymptotic.gap_density.gap_joint_derivative`) and ``J_a`` the
``(m+1)``-class junction moments (:func:`~asymptotics.asymptotic.junctions.junction_moment`, reduced to
one-dimensional integrals for every ``m``).  An ``m``-class junction first enters at relative order
``j = m - 1``: three-class junctions at ``1/D``, four-class ones at ``1/D^2``, five-class ones at ``1/D^3``.

* ``K = 2``: no junctions and ``q`` is even, so only even ``j`` survive.
* ``K >= 3``: odd orders come from ``rho_K'(0)`` and from the junctions.
* Every ``K``: ``c^restoring_1 = 0`` and ``c^restoring_{j+2} = -c^drift_j``, from the exact identity
  ``drift + D restoring = rho_K(0)`` (:mod:`asymptotics.symbolic.identities`, Stein's lemma).

Every ingredient is computed to ``digits`` digits (``digits=None``: float64, ~1e-13 absolute).
"""

from __future__ import annotations

import math
from itertools import product as _iproduct

import mpmath
import sympy as sp

from asymptotics.asymptotic.gap_density import gap_joint_derivative, labelled_gap_density_derivative
from asymptotics.asymptotic.junctions import junction_moment
from asymptotics.asymptotic.layer_integrals import QUANTITIES
from asymptotics.validation import (
    InvalidInputError,
    check_digits,
    check_num_classes,
    check_positive,
    exact_real,
)

__all__ = [
    "LEADING_POWER",
    "junction_terms",
    "coefficient_taylor",
    "expansion_coefficients",
    "expansion_coefficient",
    "expanded_moments",
    "expansion_sympy",
]

#: power of 1/D of the leading term of each closure expectation
LEADING_POWER = {"drift": 2, "restoring": 1, "noise": 1, "eps_g": 1, "loss": 1}


def _check_order(order) -> int:
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise InvalidInputError(f"order must be an integer >= 0, got {order!r}")
    return order


def _check_name(name: str) -> str:
    if name not in QUANTITIES:
        raise InvalidInputError(f"unknown quantity {name!r}; expected one of {', '.join(QUANTITIES)}")
    return name


def junction_terms(K: int, j: int):
    """The junction multi-indices of order ``j``: ``[(m, a, multiplicity)]`` with ``a`` sorted.

    ``a`` runs over the sorted tuples of ``m >= 2`` integers with ``|a| = j + 1 - m``; ``multiplicity`` counts
    its distinct orderings (the summand is symmetric).

    >>> junction_terms(5, 2)
    [(2, (0, 1), 2), (3, (0, 0, 0), 1)]
    """
    out = []
    for m in range(2, min(j + 1, K - 1) + 1):
        total = j + 1 - m
        counts = {}
        for a in _iproduct(range(total + 1), repeat=m):
            if sum(a) == total:
                key = tuple(sorted(a))
                counts[key] = counts.get(key, 0) + 1
        out += [(m, a, counts[a]) for a in sorted(counts)]
    return out


def coefficient_taylor(K: int, name: str, j: int, k: int, Delta, digits: int | None = None):
    """``(1/k!) d^k c^name_j / dDelta^k`` at ``Delta``, to ``digits`` digits (``k = 0``: the coefficient).

    ``digits=None`` (default): the float64 junction moments, ~1e-13 absolute.

    Delta-derivatives are exact (heat equation in every Gaussian convolution, Leibniz rule).

    >>> round(float(coefficient_taylor(2, "drift", 0, 1, 0.3)), 13)    # rho_2(0)/2 (A' = 1/2)
    0.2820947917739
    """
    K = check_num_classes(K)
    _check_name(name)
    j, k = _check_order(j), _check_order(k)
    exact_real("Delta", Delta, positive=True)
    inner = None if digits is None else check_digits(digits) + 5
    work = 15 if digits is None else digits
    with mpmath.workdps(work + 5):
        value = (
            labelled_gap_density_derivative(K, j, work + 5)
            / mpmath.factorial(j)
            * junction_moment(name, (j,), Delta, inner, derivative=k)
        )
        for m, a, mult in junction_terms(K, j):
            weight = math.comb(K - 1, m) * mult * gap_joint_derivative(K, a, work + 5)
            for ai in a:
                weight /= mpmath.factorial(ai)
            value += weight * junction_moment(name, a, Delta, inner, derivative=k)
        return value / mpmath.factorial(k)


def expansion_coefficient(K: int, name: str, j: int, Delta, digits: int | None = None):
    """``c^name_j(Delta)``: coefficient of ``D^{-(j + p)}`` in the 1/D expansion of ``E[name]`` (``digits`` digits).

    >>> round(float(expansion_coefficient(2, "eps_g", 0, 0.25)), 13)    # rho_2(0) sqrt(Delta/pi)
    0.1591549430919
    """
    return coefficient_taylor(K, name, j, 0, Delta, digits)


def expansion_coefficients(K: int, Delta, order: int, digits: int | None = None) -> dict:
    """All coefficients ``{name: [c_0, ..., c_order]}`` at ``Delta`` (see :func:`expansion_coefficient`).

    >>> c = expansion_coefficients(2, 0.25, 1)
    >>> round(float(c["restoring"][0]), 12), abs(round(float(c["restoring"][1]), 12))   # odd order vanishes
    (0.564189583548, 0.0)
    """
    K = check_num_classes(K)
    order = _check_order(order)
    return {
        name: [expansion_coefficient(K, name, j, Delta, digits) for j in range(order + 1)]
        for name in QUANTITIES
    }


def expanded_moments(
    K: int, D, Delta, order: int, digits: int | None = None, coefficients: dict | None = None
) -> dict:
    """Truncated expansion ``sum_{j<=order} c_j D^{-(j+p)}`` of every closure expectation.

    >>> m = expanded_moments(2, 100.0, 0.25, 0)
    >>> abs(float(m["eps_g"]) - math.acos(100/math.sqrt(100**2 + 0.25))/math.pi) < 1e-7
    True
    """
    check_positive("D", D)
    coeffs = coefficients or expansion_coefficients(K, Delta, order, digits)
    out = {}
    with mpmath.workdps((15 if digits is None else digits) + 5):
        D = mpmath.mpf(D)
        for name in QUANTITIES:
            p = LEADING_POWER[name]
            out[name] = sum(c * D ** (-(j + p)) for j, c in enumerate(coeffs[name][: order + 1]))
    return out


def expansion_sympy(K: int, name: str, order: int) -> sp.Expr:
    """The order-``order`` expansion of ``E[name]`` as a SymPy expression in ``D`` and ``Delta``.

    Coefficients appear as named unevaluated objects: ``q_j`` (labelled-gap density derivatives),
    ``I_j(Delta)`` (binary layer moments) and ``rho{m}_{a}``/``J_{a}(Delta)`` (``m``-gap density derivatives
    and ``(m+1)``-class junction moments).

    >>> expansion_sympy(2, "eps_g", 2)
    q_0*I^{eps_g}_0(Delta)/D - q_2*I^{eps_g}_2(Delta)/(2*D**3)
    >>> expansion_sympy(4, "loss", 2).coeff(sp.Symbol("D", positive=True), -3)
    q_2*I^{loss}_2(Delta)/2 + 6*rho2_01*J^{loss}_01(Delta) + rho3_000*J^{loss}_000(Delta)
    """
    K = check_num_classes(K)
    order = _check_order(order)
    _check_name(name)
    D = sp.Symbol("D", positive=True)
    Delta = sp.Symbol("Delta", positive=True)
    p = LEADING_POWER[name]
    expr = 0
    for j in range(order + 1):
        if K == 2 and j % 2 == 1:
            continue
        q = sp.Symbol(f"q_{j}")
        if K == 2 and j % 4 == 2:
            q = -sp.Symbol(f"q_{j}")  # sign shown explicitly: q_j denotes |q^(j)(0)| for K = 2
        term = q / sp.factorial(j) * sp.Function(f"I^{{{name}}}_{j}")(Delta)
        for m, a, mult in junction_terms(K, j):
            label = "".join(str(x) for x in a)
            weight = sp.binomial(K - 1, m) * mult / sp.prod([sp.factorial(x) for x in a])
            term += weight * sp.Symbol(f"rho{m}_{label}") * sp.Function(f"J^{{{name}}}_{label}")(Delta)
        expr += term / D ** (j + p)
    return expr
