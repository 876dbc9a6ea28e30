"""Input validation shared by the library and the command line.

Every public entry point checks its arguments with these helpers so that bad input fails early with
a one-line, human-readable message.  All raise :class:`InvalidInputError` (a ``ValueError``).

>>> check_num_classes(3)
3
>>> check_num_classes(1)
Traceback (most recent call last):
...
asymptotics.validation.InvalidInputError: K must be an integer >= 2, got 1
"""

from __future__ import annotations

import math
import numbers


class InvalidInputError(ValueError):
    """Raised for arguments outside the domain of a model or a numerical routine."""


class IntegrationError(RuntimeError):
    """Raised when an integration cannot continue (blow-up, non-finite state, step failure).

    The message says where (time / state) and why.
    """


def _is_real_number(x) -> bool:
    if isinstance(x, bool):
        return False
    if isinstance(x, numbers.Real):
        return True
    try:  # mpmath.mpf and numpy scalars
        float(x)
        return not isinstance(x, str)
    except (TypeError, ValueError):
        return False


def check_finite(name: str, value):
    """Return ``value`` if it is a finite real number, else raise."""
    if not _is_real_number(value) or not math.isfinite(float(value)):
        raise InvalidInputError(f"{name} must be a finite real number, got {value!r}")
    return value


def check_positive(name: str, value):
    """Return ``value`` if it is finite and > 0."""
    check_finite(name, value)
    if not float(value) > 0:
        raise InvalidInputError(f"{name} must be > 0, got {value!r}")
    return value


def check_nonnegative(name: str, value):
    """Return ``value`` if it is finite and >= 0."""
    check_finite(name, value)
    if float(value) < 0:
        raise InvalidInputError(f"{name} must be >= 0, got {value!r}")
    return value


def check_num_classes(K, *, maximum: int | None = None) -> int:
    """Return ``K`` if it is an integer >= 2 (and <= ``maximum`` when given)."""
    if isinstance(K, bool) or not isinstance(K, numbers.Integral) or K < 2:
        raise InvalidInputError(f"K must be an integer >= 2, got {K!r}")
    if maximum is not None and K > maximum:
        raise InvalidInputError(f"K must be <= {maximum} for this method, got {K}")
    return int(K)


def check_digits(digits, *, minimum: int = 5, maximum: int = 10_000) -> int:
    """Return the requested number of decimal digits if it is an integer in [minimum, maximum]."""
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral):
        raise InvalidInputError(f"digits must be an integer, got {digits!r}")
    if digits < minimum:
        raise InvalidInputError(
            f"precision too low: {digits} digits requested, at least {minimum} are needed"
        )
    if digits > maximum:
        raise InvalidInputError(f"precision too high: {digits} digits requested, at most {maximum}")
    return int(digits)


def exact_real(name: str, value, *, positive: bool = False, nonnegative: bool = False):
    """The exact value of a real parameter as a :class:`fractions.Fraction`, validated.

    Accepts ``int``, ``float`` (its exact binary value), a decimal or rational string such as
    ``"0.1"`` or ``"1/3"`` (the number itself, not its nearest float), :class:`fractions.Fraction`, :class:`decimal.Decimal`,
    ``mpmath.mpf`` and SymPy numbers, so that a parameter feeding an arbitrary-precision result
    keeps every digit the user gave.  Raises :class:`InvalidInputError` for anything else, for
    non-finite values and (with ``positive``/``nonnegative``) for values out of range.

    >>> exact_real("eta", "0.1")
    Fraction(1, 10)
    >>> exact_real("eta", 0.5, positive=True)
    Fraction(1, 2)
    >>> exact_real("eta", "-1", positive=True)
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: eta must be > 0, got '-1'
    """
    import decimal
    from fractions import Fraction

    frac = None
    if isinstance(value, bool):
        frac = None
    elif isinstance(value, (int, Fraction)):
        frac = Fraction(value)
    elif isinstance(value, str):  # "0.1", "1e-3", "1/3"
        try:
            frac = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            frac = None
    elif isinstance(value, decimal.Decimal):
        frac = Fraction(value) if value.is_finite() else None
    elif hasattr(value, "_mpf_"):  # mpmath.mpf
        import mpmath

        if mpmath.isfinite(value):
            man, exp = value.man_exp
            frac = Fraction(int(man)) * (Fraction(2) ** int(exp))
    elif hasattr(value, "is_Rational") and getattr(value, "is_Rational", False):  # SymPy Rational
        frac = Fraction(int(value.p), int(value.q))
    elif hasattr(value, "is_Float") and getattr(value, "is_Float", False):  # SymPy Float
        import mpmath

        return exact_real(name, mpmath.mpf(value._mpf_), positive=positive, nonnegative=nonnegative)
    elif _is_real_number(value):
        f = float(value)
        frac = Fraction(f) if math.isfinite(f) else None
    if frac is None:
        raise InvalidInputError(f"{name} must be a finite real number, got {value!r}")
    if positive and not frac > 0:
        raise InvalidInputError(f"{name} must be > 0, got {value!r}")
    if nonnegative and frac < 0:
        raise InvalidInputError(f"{name} must be >= 0, got {value!r}")
    return frac


def fraction_to_mpf(frac):
    """``mpmath.mpf`` of a :class:`fractions.Fraction`, rounded once at the current precision.

    >>> import mpmath
    >>> from fractions import Fraction
    >>> with mpmath.workdps(30):
    ...     print(fraction_to_mpf(Fraction(1, 10)))
    0.1
    """
    import mpmath
    from mpmath import libmp

    return mpmath.mpf(
        libmp.from_rational(frac.numerator, frac.denominator, mpmath.mp.prec, libmp.round_nearest)
    )
