"""One entry point for the closure moments: :func:`closure_moments` picks the algorithm.

Methods (``method=``):

* ``"auto"``: fastest deterministic float64 path -- ``binary`` for K = 2, ``quadrature`` for
  K >= 3 (gap-coordinate quadrature for K = 3, Laplace route for K >= 4).  With ``digits=N`` the
  arbitrary-precision path of the same method.
* ``"binary"`` (K = 2), ``"quadrature"`` (K >= 3): float64, or arbitrary precision when ``digits``
  is given (K = 3: :func:`~asymptotics.numeric.closure_quadrature.k3_moments_mp`; K >= 4: the
  Laplace route in ``arb`` arithmetic,
  :func:`~asymptotics.numeric.closure_laplace_mp.laplace_moments_mp`).
* ``"mpmath"``: arbitrary precision (``digits``, default 30), any K.
* ``"montecarlo"``, ``"qmc"``: any K, with standard errors; ``samples`` and ``seed``.

Accuracy (float64, measured, see benchmarks/results/closure.json): K = 2 ~4e-16 (~0.5 ms),
K = 3 ~1e-12 (gap quadrature, 2-25 ms), K >= 4 ~5e-12 (Laplace route, 0.1-0.2 s); relative.
Arbitrary precision: K = 2 ~1-4 s at 30-50 digits, K = 3 ~7 s at 20 digits (python-flint).
Each route answers only inside its validated box of ``(D, Delta)`` (the table of
:mod:`asymptotics.numeric.domain`; e.g. float64 K = 3: ``D <= 1e6``, ``Delta <= 1e3``) and raises
``InvalidInputError`` outside it; below the scale ``sqrt(D^2 + Delta) = 1e-14`` the exact
small-scale limit is used.  ``D`` and ``Delta`` may be given as decimal strings or fractions
(kept exact for ``digits=``).  ``rtol`` makes the call fail (IntegrationError) if the error
estimate of any moment exceeds ``rtol`` relative; for K = 3 (float64) ``rtol`` also chooses the
quadrature's node counts from the requested accuracy (faster at lower accuracy, see
:func:`~asymptotics.numeric.closure_quadrature.k3_rule`).

>>> m = closure_moments(3, 10.0, 0.25)
>>> m.method, round(m.eps_g, 10)
('quadrature', 0.0237783766)
"""

from __future__ import annotations

import dataclasses

import mpmath

from asymptotics.numeric import closure_binary as _binary
from asymptotics.numeric import closure_laplace_mp as _laplace_mp
from asymptotics.numeric import closure_montecarlo as _mc
from asymptotics.numeric import closure_quadrature as _quad
from asymptotics.numeric.domain import check_in_domain, small_scale_threshold
from asymptotics.numeric.moments import MOMENT_NAMES, ClosureMoments
from asymptotics.validation import (
    IntegrationError,
    InvalidInputError,
    check_digits,
    check_nonnegative,
    check_num_classes,
    exact_real,
    fraction_to_mpf,
)

METHODS = ("auto", "binary", "quadrature", "mpmath", "montecarlo", "qmc")


def check_moment_arguments(K, D, Delta, method, digits, rtol, samples):
    """Validate the arguments shared by the closure-moment entry points, before any work.

    Returns ``(K, D, Delta, method, digits)`` with ``D`` and ``Delta`` as exact fractions, ``method``
    resolved (``"auto"`` becomes ``"binary"`` for K = 2 and ``"quadrature"`` otherwise) and ``digits``
    defaulted to 30 for ``"mpmath"``.

    >>> check_moment_arguments(3, "0.5", 0, "auto", None, None, None)
    (3, Fraction(1, 2), Fraction(0, 1), 'quadrature', None)
    >>> check_moment_arguments(2, 1, 0, "qmc", 20, None, None)
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: digits is not available for method 'qmc'
    """
    K = check_num_classes(K)
    D_exact = exact_real("D", D, nonnegative=True)
    Delta_exact = exact_real("Delta", Delta, nonnegative=True)
    if method not in METHODS:
        raise InvalidInputError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if digits is not None:
        digits = check_digits(digits)
        if method in ("montecarlo", "qmc"):
            raise InvalidInputError(f"digits is not available for method {method!r}")
    if samples is not None and method not in ("montecarlo", "qmc"):
        raise InvalidInputError(f"samples only applies to montecarlo/qmc, not {method!r}")
    if rtol is not None:
        check_nonnegative("rtol", rtol)
        if float(rtol) <= 0:
            raise InvalidInputError(f"rtol must be > 0, got {rtol!r}")
        if digits is None and method not in ("montecarlo", "qmc") and float(rtol) < 1e-15:
            raise InvalidInputError(
                f"rtol={rtol} is below float64 accuracy; pass digits=N for arbitrary precision"
            )
    if method == "mpmath" and digits is None:
        digits = 30
    if method == "auto":
        method = "binary" if K == 2 else "quadrature"
    return K, D_exact, Delta_exact, method, digits


def closure_moments(
    K: int,
    D,
    Delta,
    *,
    method: str = "auto",
    digits: int | None = None,
    rtol=None,
    samples: int | None = None,
    seed=None,
) -> ClosureMoments:
    """Closure moments (drift, restoring, noise, eps_g, loss) at ``(K, D, Delta)``.

    Returns a :class:`~asymptotics.numeric.moments.ClosureMoments` with error estimates.
    Float values for float64 methods, ``mpmath.mpf`` when ``digits`` is given.  Bad input raises
    :class:`~asymptotics.validation.InvalidInputError`.

    >>> closure_moments(2, 1, 0, digits=20).eps_g      # Delta = 0: no errors
    mpf('0.0')
    >>> closure_moments(2, -1.0, 0.0)
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: D must be >= 0, got -1.0
    """
    K, D_exact, Delta_exact, method, digits = check_moment_arguments(
        K, D, Delta, method, digits, rtol, samples
    )
    if method in ("montecarlo", "qmc"):
        D, Delta = float(D_exact), float(Delta_exact)
    else:
        if method == "binary" and K != 2:
            raise InvalidInputError(f"method 'binary' needs K = 2, got K = {K}")
        if method == "quadrature" and K == 2:
            raise InvalidInputError("method 'quadrature' needs K >= 3; use 'binary' for K = 2")
        check_in_domain(K, float(D_exact), float(Delta_exact), digits)
        if digits is None:
            D, Delta = float(D_exact), float(Delta_exact)
        else:
            with mpmath.workdps(digits + 20):
                D, Delta = fraction_to_mpf(D_exact), fraction_to_mpf(Delta_exact)
        scale_sq = D_exact * D_exact + Delta_exact
        if 0 < scale_sq < small_scale_threshold(digits) ** 2:
            result = _small_scale_limit(K, D_exact, Delta_exact, method, digits)
            if rtol is not None:
                _check_rtol(result, float(rtol))
            return result

    if method == "binary" or (method == "mpmath" and K == 2):
        if K != 2:
            raise InvalidInputError(f"method 'binary' needs K = 2, got K = {K}")
        result = (
            _binary.binary_moments(D, Delta)
            if digits is None
            else _binary.binary_moments_mp(D, Delta, digits)
        )
    elif method in ("quadrature", "mpmath"):
        if K == 2:
            raise InvalidInputError("method 'quadrature' needs K >= 3; use 'binary' for K = 2")
        if digits is not None:
            result = (
                _quad.k3_moments_mp(D, Delta, digits)
                if K == 3
                else _laplace_mp.laplace_moments_mp(K, D, Delta, digits)
            )
        elif K == 3:  # rtol picks the node counts (faster at lower accuracy)
            result = _quad.k3_moments(D, Delta, rtol=None if rtol is None else float(rtol))
        else:
            result = _quad.laplace_moments(K, D, Delta)
    elif method == "montecarlo":
        result = _mc.montecarlo_moments(
            K, D, Delta, samples=200_000 if samples is None else samples, seed=seed
        )
    else:
        result = _mc.qmc_moments(K, D, Delta, samples=2**16 if samples is None else samples, seed=seed)
    if digits is not None and method not in ("montecarlo", "qmc"):
        _check_digits_reached(result, digits)
    if rtol is not None:
        _check_rtol(result, float(rtol))
    return result


def _check_digits_reached(result: ClosureMoments, digits: int) -> None:
    """The contract of ``digits=N``: every error estimate below ``10^-N`` relative, or raise."""
    bound = mpmath.mpf(10) ** (-digits)
    for name in MOMENT_NAMES:
        value = abs(getattr(result, name))
        err = abs(result.errors.get(name, 0))
        if err > bound * value and not (value == 0 and err == 0):
            raise IntegrationError(
                f"{result.method}: {name} at K={result.K}, D={mpmath.nstr(result.D, 6)}, "
                f"Delta={mpmath.nstr(result.Delta, 6)} reached only ~{mpmath.nstr(err / max(value, bound), 2)} "
                f"relative accuracy, not the requested {digits} digits"
            )


def _small_scale_limit(K: int, D_exact, Delta_exact, method: str, digits) -> ClosureMoments:
    """Moments at scale ``r = sqrt(D^2 + Delta)`` below the small-scale threshold.

    ``eps_g`` is exact (scale-invariant: evaluated at ``(D/r, Delta/r^2)``); the other four are
    their values at ``z = 0`` with an error ``<= r`` (see :mod:`asymptotics.numeric.domain`).
    """
    from asymptotics.numeric.closure_quadrature import uniform_closure

    r2 = D_exact * D_exact + Delta_exact
    with mpmath.workdps(40 if digits is None else digits + 20):
        r = mpmath.sqrt(fraction_to_mpf(r2))
        unit_D = fraction_to_mpf(D_exact) / r
        unit_Delta = fraction_to_mpf(Delta_exact) / fraction_to_mpf(r2)
    if digits is None:
        unit_D, unit_Delta = float(unit_D), float(unit_Delta)
    unit = closure_moments(K, unit_D, unit_Delta, method=method, digits=digits)
    zero = uniform_closure(K, digits)
    bound = 4 * (float(r) + float(r2))
    errors = {name: zero.errors[name] + bound for name in MOMENT_NAMES}
    errors["eps_g"] = unit.errors["eps_g"]
    if D_exact == 0:  # z = sqrt(Delta) xi: every class wins with probability 1/K
        unit = dataclasses.replace(unit, eps_g=zero.eps_g)
        errors["eps_g"] = zero.errors["eps_g"]
    D_out = float(D_exact) if digits is None else unit_D * r
    Delta_out = float(Delta_exact) if digits is None else unit_Delta * r * r
    return ClosureMoments(
        K,
        D_out,
        Delta_out,
        zero.drift,
        zero.restoring,
        zero.noise,
        unit.eps_g,
        zero.loss,
        errors=errors,
        method=f"{unit.method}+small-scale-limit",
        digits=unit.digits,
    )


def _check_rtol(result: ClosureMoments, rtol: float) -> None:
    for name in MOMENT_NAMES:
        value = abs(float(getattr(result, name)))
        err = float(result.errors.get(name, 0.0))
        if err > rtol * value and not (value == 0.0 and err == 0.0):
            raise IntegrationError(
                f"{result.method}: error estimate {err:.2e} of {name} at K={result.K}, "
                f"D={float(result.D):g}, Delta={float(result.Delta):g} exceeds rtol={rtol:g} "
                f"relative"
            )


def closure_moments_batch(K: int, D, Delta, **options) -> list:
    """:func:`closure_moments` over sequences ``D`` and ``Delta`` (same length, or scalars).

    >>> [round(m.restoring, 6) for m in closure_moments_batch(2, [0.0, 1.0], 0.0)]
    [0.5, 0.363162]
    """
    Ds = list(D) if hasattr(D, "__len__") else None
    Deltas = list(Delta) if hasattr(Delta, "__len__") else None
    if Ds is None and Deltas is None:
        return [closure_moments(K, D, Delta, **options)]
    n = len(Ds) if Ds is not None else len(Deltas)
    Ds = Ds if Ds is not None else [D] * n
    Deltas = Deltas if Deltas is not None else [Delta] * n
    if len(Ds) != len(Deltas):
        raise InvalidInputError(f"D and Delta must have the same length, got {len(Ds)} and {len(Deltas)}")
    return [closure_moments(K, d, dl, **options) for d, dl in zip(Ds, Deltas)]


def is_float64_method(method: str) -> bool:
    """True for the float64 deterministic methods.

    >>> is_float64_method("binary"), is_float64_method("montecarlo")
    (True, False)
    """
    return method in ("auto", "binary", "quadrature")
