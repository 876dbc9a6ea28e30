"""Validated domains of the loss-generic closure routes.

Each route of :func:`asymptotics.losses.moments.loss_moments` answers only inside the ``(D, Delta)`` box where
its accuracy was measured for the registered losses against an independent route
(``tests/losses/test_loss_moments.py``: float64 against the arbitrary-precision routes at the corners, the
arbitrary-precision routes at two precisions, cross-entropy against :mod:`asymptotics.numeric`, Monte
Carlo in the bulk of the box).  Outside, :class:`~asymptotics.validation.InvalidInputError` names the box.

=====================  ====  ==========  ============  ===============================================
route                  K     D           Delta         accuracy (relative, measured)
=====================  ====  ==========  ============  ===============================================
``binary``             2     <= 1e6      <= 100        ~1e-13 (cross-entropy: ~1e-15)
``quadrature``         3     <= 1e6      <= 100        ~1e-11
``binary-mpmath``      2     <= 1e6      <= 100        ``digits``
``quadrature-flint``   3     <= 1e4      <= 100        ``digits``
=====================  ====  ==========  ============  ===============================================

Loss parameters: cross-entropy at temperature ``0.25 <= T <= 4``, focal ``gamma <= 5``, margin ``|m| <= 5``,
label smoothing ``eps < 1`` (any), user losses: the same boxes (their compiled forms are checked against
the plain expressions when built; accuracy is not measured -- compare with ``method="montecarlo"``).
For K >= 4 the cross-entropy family uses the boxes of :mod:`asymptotics.numeric.domain`.

>>> from asymptotics.losses import get_loss
>>> check_loss_domain(get_loss("brier"), 3, 10.0, 1e3, None)
Traceback (most recent call last):
...
asymptotics.validation.InvalidInputError: Delta = 1000 is outside the validated domain of the quadrature route for loss 'brier', K = 3 (0 <= D <= 1e+06, 0 <= Delta <= 100)
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

from asymptotics.numeric.domain import Domain
from asymptotics.validation import InvalidInputError

__all__ = [
    "loss_float_domain",
    "loss_mp_domain",
    "check_loss_domain",
    "tail_scale",
    "check_loss_parameters",
    "PARAMETER_RANGES",
]

#: parameter ranges over which the routes were validated (beyond them a loss is accepted by the registry
#: but refused by the numerics)
PARAMETER_RANGES = {
    "cross_entropy": {"T": (Fraction(1, 4), Fraction(4))},
    "focal": {"gamma": (Fraction(0), Fraction(5))},
    "margin": {"m": (Fraction(-5), Fraction(5))},
    "label_smoothing": {"eps": (Fraction(0), Fraction(1))},
}


def loss_float_domain(K: int) -> Domain:
    """Validated box of the float64 route for K = 2, 3.

    >>> loss_float_domain(2).Delta_max
    100.0
    """
    return Domain("binary" if K == 2 else "quadrature", 1e6, 100.0)


def loss_mp_domain(K: int) -> Domain:
    """Validated box of the arbitrary-precision route for K = 2, 3.

    >>> loss_mp_domain(3).D_max
    10000.0
    """
    return Domain("binary-mpmath", 1e6, 100.0) if K == 2 else Domain("quadrature-flint", 1e4, 100.0)


def check_loss_parameters(loss) -> None:
    """Raise unless the loss's parameters lie in :data:`PARAMETER_RANGES`."""
    ranges = PARAMETER_RANGES.get(loss.family, {})
    for key, value in loss.param_dict.items():
        if key in ranges:
            lo, hi = ranges[key]
            if not lo <= value <= hi or (key == "eps" and value >= 1):
                raise InvalidInputError(
                    f"loss {loss.name!r}: {key} = {float(value):g} is outside the range "
                    f"validated for the numerics ({float(lo):g} <= {key} <= {float(hi):g})"
                )


def check_loss_domain(loss, K: int, D: float, Delta: float, digits) -> Domain:
    """Raise :class:`InvalidInputError` unless ``(D, Delta)`` lies in the route's box for ``loss`` and ``K``."""
    check_loss_parameters(loss)
    if K > 3:
        raise InvalidInputError(f"the gap-coordinate routes serve K = 2, 3; got K = {K}")
    box = loss_float_domain(K) if digits is None else loss_mp_domain(K)
    where = (
        f"the validated domain of the {box.route} route for loss {loss.name!r}, K = {K} "
        f"(0 <= D <= {box.D_max:g}, 0 <= Delta <= {box.Delta_max:g})"
    )
    if not math.isfinite(D) or D > box.D_max:
        raise InvalidInputError(f"D = {D:g} is outside {where}")
    if not math.isfinite(Delta) or Delta > box.Delta_max:
        raise InvalidInputError(f"Delta = {Delta:g} is outside {where}")
    return box


@cache
def tail_scale(loss, K: int) -> float:
    """Decay length of the integrands at large positive margins, relative to cross-entropy's ``e^{-s}``.

    ``1/rate`` for a loss with ``lambda(s) ~ C e^{-rate s}`` (and at least 1: the test cross-entropy decays
    like ``e^{-s}``); ``inf`` when the loss does not vanish at large margins (label smoothing).

    >>> from asymptotics.losses import get_loss
    >>> tail_scale(get_loss("cross_entropy:T=2"), 2), tail_scale(get_loss("label_smoothing"), 2)
    (2.0, inf)
    """
    decay = loss.bulk_decay()
    if decay is None:
        return math.inf
    return max(1.0, 1.0 / float(decay[0]))
