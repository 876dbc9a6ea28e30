"""Validated domain of the boundary-layer constants and late-time series (``expand``).

The learning rate enters the fixed point ``Delta* = eta B(Delta*)`` and every coefficient after it.
It is taken *exactly* (a decimal string, a fraction or a float's exact binary value), so that
``digits=N`` means N correct digits of the constants for the eta the user wrote.  The domain below
is where the algorithms are validated (``tests/asymptotic/test_expansion_domain.py`` checks its
edges at ``digits`` and ``digits + 20``); outside it the functions raise.

* fixed point and leading constants (``Delta*``, ``A*``, ``C_D``, ``C_eps``, ``C_L``):
  ``ETA_MIN <= eta <= ETA_MAX`` (1e-4 .. 1e3).  Below, ``Delta* ~ eta (ln 2 - 1/2)`` and the
  late-time regime starts only at ``alpha ~ 1/eta^3``; above, ``Delta*`` grows like ``eta^2``.
* corrections (1/D expansion at ``Delta*``, slaving, late-time series):
  ``SERIES_ETA_MIN <= eta <= SERIES_ETA_MAX`` (1e-3 .. 10, i.e. ``Delta* <= 23``): the float64
  junction moments are measured to ~1e-13 there and lose digits beyond (at ``eta = 30``,
  ``Delta* = 257``, the first correction of L is off by 1e-4 relative); below ``1e-3`` the cost
  grows as ``Delta* -> 0`` (27 s at ``eta = 1e-3`` for K = 3 to third order).
* ``digits <= DIGITS_MAX``.
* ``order <= ORDER_MAX`` (the late-time series is linear in ``ln x`` and ``C`` up to ``t^5``).

>>> check_eta("0.1")
Fraction(1, 10)
>>> check_eta(1e4)
Traceback (most recent call last):
...
asymptotics.validation.InvalidInputError: eta must lie in [0.0001, 1000] for the boundary-layer constants, got 10000.0
"""

from __future__ import annotations

from fractions import Fraction

from asymptotics.validation import InvalidInputError, check_digits, exact_real

__all__ = [
    "ETA_MIN",
    "ETA_MAX",
    "SERIES_ETA_MIN",
    "SERIES_ETA_MAX",
    "DIGITS_MAX",
    "ORDER_MAX",
    "K_MAX",
    "LEADING_K_MAX",
    "check_eta",
    "check_expansion_digits",
    "exact_key",
]

ETA_MIN = 1e-4
ETA_MAX = 1e3
SERIES_ETA_MIN = 1e-3
SERIES_ETA_MAX = 10.0
DIGITS_MAX = 100
ORDER_MAX = 5
K_MAX = 20  # the correction terms (junction moments, gap-density derivatives)
LEADING_K_MAX = 1000  # the leading constants (rho_K(0) and Delta*)


def check_eta(eta, *, series: bool = False) -> Fraction:
    """The exact learning rate, validated against the domain of the constants (or of the series).

    >>> check_eta(30, series=True)
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: eta must lie in [0.001, 10] for the correction terms, got 30
    """
    q = exact_real("eta", eta, positive=True)
    lo, hi, what = (
        (SERIES_ETA_MIN, SERIES_ETA_MAX, "the correction terms")
        if series
        else (ETA_MIN, ETA_MAX, "the boundary-layer constants")
    )
    if not Fraction(repr(lo)) <= q <= Fraction(repr(hi)):
        raise InvalidInputError(f"eta must lie in [{lo:g}, {hi:g}] for {what}, got {eta!r}")
    return q


def check_expansion_digits(digits) -> int:
    """``digits`` validated against ``[5, DIGITS_MAX]``."""
    return check_digits(digits, maximum=DIGITS_MAX)


def exact_key(q: Fraction) -> str:
    """Canonical cache key ``"p/q"`` of an exact rational.

    >>> exact_key(Fraction(1, 10))
    '1/10'
    """
    return f"{q.numerator}/{q.denominator}"
