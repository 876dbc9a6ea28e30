"""The 1/D expansion of the exact closure expectations.

From the exact decomposition of :mod:`asymptotics.asymptotic.local_binary` and the Taylor expansion of
the labelled-gap densities (Watson's lemma; the remainder beyond the layer is exponentially small) ::

    E[Q](D, Delta) = sum_{j=0}^n c^Q_j(Delta) D^{-(j + p_Q)} + O(D^{-(n + 1 + p_Q)}),

with ``p_Q = 2`` for the drift (the factor ``y_c - y_k = u/D``) and ``p_Q = 1`` otherwise, and ::

    c^Q_j = q^(j)(0)/j! I_j[Q]                                            (binary layers)
          + binom(K-1, 2) sum_{|a| = j-1} d^a rho_2(0)/a! J_a[Q]             (three-class junctions)
          + binom(K-1, 3) (four-class junctions, |a| = j-2) + ...

``q^(j)(0) = (-1)^j rho_K^(j)(0)`` (labelled gaps), ``I_j`` the universal binary moments
(:func:`~asymptotics.asymptotic.layer_integrals.binary_layer_moment`, any precision) and ``J_a`` the
three-class junction moments (:func:`~asymptotics.asymptotic.local_binary.junction_moment`, float64,
absolute accuracy ~1e-11).

* ``K = 2``: no junctions and ``q`` is even, so only even ``j`` survive; every order is exact and
  available at any precision.
* ``K = 3``: binary layers plus three-class junctions are *all* terms; every order is available
  (junction parts in float64).  Odd orders come from ``rho_3'(0)`` and from the junction.
* ``K >= 4``: orders ``j <= 1`` are complete.  ``j >= 2`` would need the four-class junction integrals
  (three-dimensional local problems), which are **not implemented**: requesting them raises.
"""

from __future__ import annotations

import math

import mpmath
import sympy as sp

from asymptotics.asymptotic.gap_density import gap_joint_derivative, labelled_gap_density_derivative
from asymptotics.asymptotic.layer_integrals import QUANTITIES, binary_layer_moment
from asymptotics.asymptotic.local_binary import junction_moment
from asymptotics.validation import InvalidInputError, check_digits, check_num_classes, check_positive

__all__ = [
    "LEADING_POWER",
    "max_available_order",
    "expansion_coefficients",
    "expansion_coefficient",
    "expanded_moments",
    "expansion_sympy",
]

#: power of 1/D of the leading term of each closure expectation
LEADING_POWER = {"drift": 2, "restoring": 1, "noise": 1, "eps_g": 1, "loss": 1}


def max_available_order(K: int) -> int | None:
    """Highest relative order ``j`` implemented for ``K`` classes (``None`` = unlimited).

    >>> max_available_order(3) is None, max_available_order(5)
    (True, 1)
    """
    K = check_num_classes(K)
    return None if K <= 3 else 1


def _check_order(K: int, order) -> int:
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise InvalidInputError(f"order must be an integer >= 0, got {order!r}")
    top = max_available_order(K)
    if top is not None and order > top:
        raise InvalidInputError(
            f"order {order} for K = {K} needs four-class junction integrals, which are not "
            f"implemented; the highest available order for K >= 4 is {top}")
    return order


def expansion_coefficient(K: int, name: str, j: int, Delta, digits: int = 15):
    """``c^name_j(Delta)``: coefficient of ``D^{-(j + p)}`` in the 1/D expansion of ``E[name]``.

    Binary part to ``digits`` digits; junction part (``K >= 3``, ``j >= 1``) float64 (~1e-11 absolute).

    >>> round(float(expansion_coefficient(2, "eps_g", 0, 0.25)), 13)    # rho_2(0) sqrt(Delta/pi)
    0.1591549430919
    """
    K = check_num_classes(K)
    if name not in QUANTITIES:
        raise InvalidInputError(f"unknown quantity {name!r}; expected one of {', '.join(QUANTITIES)}")
    j = _check_order(K, j)
    check_positive("Delta", Delta)
    digits = check_digits(digits)
    inner = digits if digits <= 15 else digits + 5
    with mpmath.workdps(digits + 5):
        value = labelled_gap_density_derivative(K, j, digits + 5) / mpmath.factorial(j) \
            * binary_layer_moment(name, j, Delta, inner)
        if K >= 3 and j >= 1:
            pairs = math.comb(K - 1, 2)
            for ak in range(j):
                al = j - 1 - ak
                mu = gap_joint_derivative(K, (ak, al), digits + 5)
                jm = junction_moment(name, (ak, al), float(Delta))
                value += pairs * mu / (mpmath.factorial(ak) * mpmath.factorial(al)) * jm
    return value


def expansion_coefficients(K: int, Delta, order: int, digits: int = 15) -> dict:
    """All coefficients ``{name: [c_0, ..., c_order]}`` at ``Delta`` (see :func:`expansion_coefficient`).

    >>> c = expansion_coefficients(2, 0.25, 1)
    >>> round(float(c["restoring"][0]), 12), abs(round(float(c["restoring"][1]), 12))   # odd order vanishes
    (0.564189583548, 0.0)
    """
    K = check_num_classes(K)
    order = _check_order(K, order)
    return {name: [expansion_coefficient(K, name, j, Delta, digits) for j in range(order + 1)]
            for name in QUANTITIES}


def expanded_moments(K: int, D, Delta, order: int, digits: int = 15, coefficients: dict | None = None) -> dict:
    """Truncated expansion ``sum_{j<=order} c_j D^{-(j+p)}`` of every closure expectation.

    >>> m = expanded_moments(2, 100.0, 0.25, 0)
    >>> abs(float(m["eps_g"]) - math.acos(100/math.sqrt(100**2 + 0.25))/math.pi) < 1e-7
    True
    """
    check_positive("D", D)
    coeffs = coefficients or expansion_coefficients(K, Delta, order, digits)
    out = {}
    with mpmath.workdps(digits + 5):
        D = mpmath.mpf(D)
        for name in QUANTITIES:
            p = LEADING_POWER[name]
            out[name] = sum(c * D ** (-(j + p)) for j, c in enumerate(coeffs[name][: order + 1]))
    return out


def expansion_sympy(K: int, name: str, order: int) -> sp.Expr:
    """The order-``order`` expansion of ``E[name]`` as a SymPy expression in ``D`` and ``Delta``.

    Coefficients appear as named unevaluated objects: ``q_j`` (labelled-gap density derivatives),
    ``I_j(Delta)`` (binary layer moments) and ``rho2_{a,b}``/``J_{a,b}(Delta)`` (junctions).

    >>> expansion_sympy(2, "eps_g", 2)
    q_0*I^{eps_g}_0(Delta)/D - q_2*I^{eps_g}_2(Delta)/(2*D**3)
    """
    K = check_num_classes(K)
    order = _check_order(K, order)
    if name not in QUANTITIES:
        raise InvalidInputError(f"unknown quantity {name!r}; expected one of {', '.join(QUANTITIES)}")
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
        if K >= 3 and j >= 1:
            for ak in range(j):
                al = j - 1 - ak
                term += sp.binomial(K - 1, 2) * sp.Symbol(f"rho2_{ak}{al}") / (
                    sp.factorial(ak) * sp.factorial(al)) * sp.Function(f"J^{{{name}}}_{ak}{al}")(Delta)
        expr += term / D ** (j + p)
    return expr
