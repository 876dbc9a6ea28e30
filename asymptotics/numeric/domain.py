"""Validated domains of the closure-moment routines, and the small-scale limit.

Every deterministic route of :func:`~asymptotics.numeric.closure.closure_moments` is trusted only
on the ``(K, D, Delta)`` box where its stated accuracy was measured against an independent route
(``tests/numeric/test_closure_domain.py`` checks the corners).  Outside it the dispatcher raises
:class:`~asymptotics.validation.InvalidInputError` naming the box; it never returns a value it
cannot vouch for.

======================  =========  ==============  ==============  ==============================
route                   K          D               Delta           accuracy (relative)
======================  =========  ==============  ==============  ==============================
``binary``              2          <= 1e6          <= 1e6          ~1e-15
``quadrature``          3          <= 1e6          <= 1e3          ~1e-12 (<= 1e-11)
``quadrature-laplace``  4 .. 20    <= 1e6          <= 10           ~5e-12
``binary-mpmath``       2          <= 1e6          <= 1e6          ``digits``
``quadrature-flint``    3          <= 1e4          <= 100          ``digits``
``laplace-flint``       4 .. 20    <= 1e4          <= 50           ``digits``
======================  =========  ==============  ==============  ==============================

Measured (``tests/numeric/test_closure_domain.py``): the float64 routes against the 20-digit
routes at the corners of the boxes they share, against closed forms (``D = 0``, the K = 2 and
K = 3 error probabilities, the identity ``drift + D restoring = E[max of K normals]``) and against
Monte Carlo where no deterministic reference exists (K = 3, ``100 < Delta <= 1e3``).  The float64
Laplace route (K >= 4) loses accuracy as ``Delta`` grows (5e-12 at ``Delta = 10``, 5e-11 at 20,
5e-10 at 50, with error estimates too small by up to 10x beyond 10): hence its box stops at 10;
it also loses digits as K grows (the identity above holds to 2e-14 at K = 20, 2e-11 at K = 30,
5e-10 at K = 50), hence ``K <= 20``.

Small scale.  With ``r = sqrt(D^2 + Delta)`` the student logits are ``z = r (cos t y + sin t xi)``.
``eps_g`` depends on the angle ``t`` only (it is an event on the direction of ``z``), so it is
evaluated exactly at the rescaled point ``(D/r, Delta/r^2)``; drift, restoring, noise and loss
are smooth in ``z`` and equal their values at ``z = 0`` (the closed forms of the uniform point)
up to ``O(r)``.  Below ``r = 1e-14`` (float64) or ``r = 10^-(digits + 5)`` this limit is used: its
error is below the routes' own.

>>> box = float_domain(3)
>>> box.D_max, box.Delta_max
(1000000.0, 1000.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from asymptotics.validation import InvalidInputError

__all__ = [
    "Domain",
    "float_domain",
    "mp_domain",
    "check_in_domain",
    "K_MAX",
    "SMALL_SCALE_FLOAT",
    "small_scale_threshold",
]

#: largest number of classes of the deterministic routes (the float64 Laplace route loses digits
#: beyond: its error estimate is 1e-9 at K = 20, 3e-8 at K = 30; Monte Carlo serves any K)
K_MAX = 20
#: below this scale r = sqrt(D^2 + Delta) the float64 routes use the small-scale limit
SMALL_SCALE_FLOAT = 1e-14


@dataclass(frozen=True)
class Domain:
    """The box ``0 <= D <= D_max``, ``0 <= Delta <= Delta_max`` of one route."""

    route: str
    D_max: float
    Delta_max: float


def float_domain(K: int) -> Domain:
    """Validated box of the float64 route for ``K`` classes.

    >>> float_domain(2).Delta_max
    1000000.0
    """
    if K == 2:
        return Domain("binary", 1e6, 1e6)
    if K == 3:
        return Domain("quadrature", 1e6, 1e3)
    return Domain("quadrature-laplace", 1e6, 10.0)


def mp_domain(K: int) -> Domain:
    """Validated box of the arbitrary-precision route for ``K`` classes.

    >>> mp_domain(5).D_max
    10000.0
    """
    if K == 2:
        return Domain("binary-mpmath", 1e6, 1e6)
    if K == 3:
        return Domain("quadrature-flint", 1e4, 100.0)
    return Domain("laplace-flint", 1e4, 50.0)


def small_scale_threshold(digits: int | None) -> float:
    """Scale ``r`` below which the small-scale limit replaces the quadrature.

    >>> small_scale_threshold(None), small_scale_threshold(30)
    (1e-14, 1e-35)
    """
    return SMALL_SCALE_FLOAT if digits is None else 10.0 ** (-(digits + 5))


def check_in_domain(K: int, D, Delta, digits: int | None) -> Domain:
    """Raise :class:`InvalidInputError` unless ``(K, D, Delta)`` lies in the route's box.

    >>> check_in_domain(3, 1.0, 1e6, None)
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: Delta = 1e+06 is outside the validated domain of the \
quadrature route for K = 3 (0 <= D <= 1e+06, 0 <= Delta <= 1000)
    """
    if K > K_MAX:
        raise InvalidInputError(
            f"K = {K} exceeds the largest number of classes of the deterministic "
            f"routes ({K_MAX}); use method='montecarlo'"
        )
    box = float_domain(K) if digits is None else mp_domain(K)
    where = (
        f"the validated domain of the {box.route} route for K = {K} "
        f"(0 <= D <= {box.D_max:g}, 0 <= Delta <= {box.Delta_max:g})"
    )
    Df, Deltaf = float(D), float(Delta)
    if not math.isfinite(Df) or Df > box.D_max:
        raise InvalidInputError(f"D = {Df:g} is outside {where}")
    if not math.isfinite(Deltaf) or Deltaf > box.Delta_max:
        raise InvalidInputError(f"Delta = {Deltaf:g} is outside {where}")
    return box
