"""Closure moments of any shift-invariant loss: :func:`loss_moments` picks the route.

The six moments (:data:`~asymptotics.losses.integrands.LOSS_MOMENT_NAMES`) are Gaussian averages of the
integrands of :mod:`asymptotics.losses.integrands` under ``z = D y + sqrt(Delta) xi``.  Routes (the
cross-entropy routes of :mod:`asymptotics.numeric`, handed the loss's compiled integrands):

* K = 2 (``binary``): one integral over the margin with the teacher average in closed form; float64
  (trapezoid after an exponential map, error by step doubling) or ``digits=N`` (tanh-sinh, mpmath).
* K = 3 (``quadrature``): 2-D quadrature over the student gaps with the orthant probability and the
  truncated teacher moments in closed form; float64, or ``digits=N`` (python-flint balls).
* K >= 4: the Laplace route of :mod:`asymptotics.numeric.closure_quadrature` needs the cross-entropy
  structure (``1/Z`` and ``log Z`` as Laplace integrals): it serves cross-entropy, and cross-entropy at
  temperature ``T`` through the exact map ``m_T(D, Delta) = (drift/T, restoring/T^2, noise/T^2, eps_g, loss)``
  at ``(D/T, Delta/T^2)`` (:mod:`asymptotics.losses.temperature`).  Every other loss has no deterministic
  route for K >= 4: ``method="montecarlo"`` or ``"qmc"`` (standard errors) is the stated method there,
  and ``method="auto"`` refuses with a clear message.
* ``montecarlo``/``qmc`` (any K): sampling in the model variables.

Validated domains: :mod:`asymptotics.losses.domain` (raises outside).  For cross-entropy this module is
the generic path through the same routes; :func:`asymptotics.numeric.closure.closure_moments` stays the
reference (tested to agree to 1e-12).

>>> m = loss_moments("focal:gamma=2", 2, 1.0, 0.25)
>>> m.method, round(m.eps_g, 12) == round(math.acos(1 / math.sqrt(1.25)) / math.pi, 12)
('binary', True)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import cache

import mpmath

from asymptotics.losses.domain import check_loss_domain, tail_scale
from asymptotics.losses.integrands import LOSS_MOMENT_NAMES, compiled_loss_split
from asymptotics.losses.registry import get_loss
from asymptotics.numeric.closure import METHODS, check_moment_arguments
from asymptotics.numeric.moments import ClosureMoments
from asymptotics.validation import (
    IntegrationError,
    InvalidInputError,
    check_num_classes,
    fraction_to_mpf,
)

__all__ = ["LossMoments", "loss_moments", "METHODS", "is_cross_entropy", "uniform_loss_moments"]


@dataclass(frozen=True)
class LossMoments(ClosureMoments):
    """The closure moments of a loss (fields of :class:`~asymptotics.numeric.moments.ClosureMoments`, with
    ``loss`` the training loss) plus ``cross_entropy`` (the test cross-entropy) and the loss name."""

    cross_entropy: object = None
    loss_name: str = "cross_entropy"

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in LOSS_MOMENT_NAMES}


@cache
def is_cross_entropy(loss, K: int) -> bool:
    """True if the loss is cross-entropy for K classes (its gap form equals ``log(1 + sum_j e^{-d_j})``).

    >>> is_cross_entropy(get_loss("focal:gamma=0"), 3), is_cross_entropy(get_loss("brier"), 3)
    (True, False)
    """
    import sympy as sp

    ce = get_loss("cross_entropy")
    if loss == ce:
        return True
    try:
        return sp.simplify(loss.gap_form(K) - ce.gap_form(K)) == 0
    except InvalidInputError:
        return False


def _moments(values, errors, loss, K, D, Delta, method, digits):
    return LossMoments(
        K,
        D,
        Delta,
        *values[:5],
        errors=dict(zip(LOSS_MOMENT_NAMES, errors)),
        method=method,
        digits=digits,
        cross_entropy=values[5],
        loss_name=loss.name,
    )


def uniform_loss_moments(loss, K: int, digits: int | None = None) -> LossMoments:
    """Exact moments at ``D = Delta = 0`` (all logits equal): the integrands at ``d = 0`` and
    ``drift = K c_1(0) E[max_k y_k]`` (``c_1 = -df/dd_1``; every rival enters alike), ``eps_g = 1 - 1/K``.

    >>> round(float(uniform_loss_moments(get_loss("brier"), 2).restoring), 15)
    0.5
    """
    from asymptotics.numeric.closure_quadrature import expected_max

    loss = get_loss(loss)
    K = check_num_classes(K)
    if digits is None:
        bases, coeffs = compiled_loss_split(loss, K, "numpy")(*([0.0] * (K - 1)))
        vals = [K * float(coeffs[0]) * expected_max(K)] + [float(b) for b in bases[1:]]
        vals[3] = 1 - 1 / K
        zero = 0.0
    else:
        with mpmath.workdps(digits + 10):
            bases, coeffs = compiled_loss_split(loss, K, "mpmath")(*([mpmath.mpf(0)] * (K - 1)))
            vals = [K * coeffs[0] * expected_max(K, digits + 5)] + list(bases[1:])
            vals[3] = 1 - mpmath.mpf(1) / K
        with mpmath.workdps(digits):
            vals = [+mpmath.mpf(v) for v in vals]
        zero = mpmath.mpf(0)
    return _moments(
        vals,
        [zero] * 6,
        loss,
        K,
        0.0 if digits is None else zero,
        0.0 if digits is None else zero,
        "closed-form",
        15 if digits is None else digits,
    )


def loss_moments(
    loss,
    K: int,
    D,
    Delta,
    *,
    method: str = "auto",
    digits: int | None = None,
    rtol=None,
    samples: int | None = None,
    seed=None,
) -> LossMoments:
    """The six closure moments of ``loss`` (a :class:`~asymptotics.losses.model.Loss` or a name) at
    ``(K, D, Delta)``, with error estimates.

    ``method``, ``digits``, ``rtol``, ``samples``, ``seed`` as in
    :func:`asymptotics.numeric.closure.closure_moments`.  Raises
    :class:`~asymptotics.validation.InvalidInputError` for bad input, a loss that is not shift invariant,
    or a point outside the validated domain of the route (:mod:`asymptotics.losses.domain`), and
    :class:`~asymptotics.validation.IntegrationError` if ``digits``/``rtol`` cannot be met.

    >>> m = loss_moments("brier", 3, 2.0, 0.25)
    >>> m.method, m.loss_name, round(m.eps_g, 9) == round(loss_moments("cross_entropy", 3, 2.0, 0.25).eps_g, 9)
    ('quadrature', 'brier', True)
    """
    loss = get_loss(loss)
    loss.require_centred()
    K, D_exact, Delta_exact, method, digits = check_moment_arguments(
        K, D, Delta, method, digits, rtol, samples
    )
    if method == "binary" and K != 2:
        raise InvalidInputError(f"method 'binary' needs K = 2, got K = {K}")
    if method == "quadrature" and K == 2:
        raise InvalidInputError("method 'quadrature' needs K >= 3; use 'binary' for K = 2")
    if method in ("montecarlo", "qmc"):
        from asymptotics.losses.montecarlo import loss_montecarlo

        return loss_montecarlo(
            loss, K, float(D_exact), float(Delta_exact), method=method, samples=samples, seed=seed
        )
    if K >= 4:
        return _laplace_family(loss, K, D_exact, Delta_exact, digits, rtol)
    check_loss_domain(loss, K, float(D_exact), float(Delta_exact), digits)
    if D_exact == 0 and Delta_exact == 0:
        return uniform_loss_moments(loss, K, digits)
    from asymptotics.numeric.domain import small_scale_threshold

    scale_sq = D_exact * D_exact + Delta_exact
    if scale_sq < small_scale_threshold(digits) ** 2:
        result = _small_scale_limit(loss, K, D_exact, Delta_exact, digits)
    elif K == 2:
        result = _binary(loss, D_exact, Delta_exact, digits)
    else:
        result = _k3(loss, D_exact, Delta_exact, digits, rtol)
    if digits is not None:
        _check_digits_reached(result, digits)
    if rtol is not None:
        _check_rtol(result, float(rtol))
    return result


def _binary(loss, D_exact, Delta_exact, digits):
    from asymptotics.numeric import closure_binary as cb

    scale = tail_scale(loss, 2)
    if digits is None:
        D, Delta = float(D_exact), float(Delta_exact)
        fine, coarse = cb.binary_sums(D, Delta, 0.125, compiled_loss_split(loss, 2, "numpy"), 48.0 * scale)
        err = cb.trapezoid_error(fine, coarse)
        return _moments(list(map(float, fine)), list(map(float, err)), loss, 2, D, Delta, "binary", 15)
    with mpmath.workdps(digits + 16):
        D, Delta = fraction_to_mpf(D_exact), fraction_to_mpf(Delta_exact)
        vals, errors = cb._binary_quad_mp(
            D,
            Delta,
            digits,
            compiled_loss_split(loss, 2, "mpmath"),
            LOSS_MOMENT_NAMES,
            mpmath.mpf(scale) if math.isfinite(scale) else mpmath.inf,
        )
        vals[3] = mpmath.atan2(mpmath.sqrt(Delta), D) / mpmath.pi  # closed form (see closure_binary)
        errors["eps_g"] = mpmath.mpf(0)
    with mpmath.workdps(digits):
        vals = [+x for x in vals]
    return _moments(vals, [errors[n] for n in LOSS_MOMENT_NAMES], loss, 2, D, Delta, "binary-mpmath", digits)


def _k3(loss, D_exact, Delta_exact, digits, rtol):
    from asymptotics.numeric import closure_quadrature as cq

    if digits is None:
        D, Delta = float(D_exact), float(Delta_exact)
        split = compiled_loss_split(loss, 3, "numpy")
        if rtol is not None and float(rtol) >= 1e-13:
            fine, err = cq.k3_sums_rtol(D, Delta, min(float(rtol), 1e-3), split=split)
        else:
            fine, err = cq.k3_sums(D, Delta, 1 / 6, split)
        return _moments(list(map(float, fine)), list(map(float, err)), loss, 3, D, Delta, "quadrature", 15)
    dps = digits + 10
    degree = 4 if digits <= 22 else (5 if digits <= 38 else 6)
    nums = cq._numbers(dps)
    with nums:
        D, Delta = fraction_to_mpf(D_exact), fraction_to_mpf(Delta_exact)
        fine, coarse = cq._k3_sum_mp(
            D, Delta, digits, degree, nums, split=compiled_loss_split(loss, 3, nums.name)
        )
        fine = [nums.to_mpf(x) for x in fine]
        diff = [abs(f - nums.to_mpf(c)) for f, c in zip(fine, coarse)]
        err = [
            min(e, e * e / abs(f)) + abs(f) * mpmath.mpf(10) ** (-digits - 2) if f else e
            for e, f in zip(diff, fine)
        ]
    with mpmath.workdps(digits):
        vals = [+x for x in fine]
        err = [+e for e in err]
    return _moments(vals, err, loss, 3, D, Delta, f"quadrature-{nums.name}", digits)


def _laplace_family(loss, K, D_exact, Delta_exact, digits, rtol):
    """K >= 4: cross-entropy (Laplace route) and cross-entropy at temperature T (exact map)."""
    from asymptotics.numeric.closure import closure_moments

    if is_cross_entropy(loss, K):
        m = closure_moments(K, D_exact, Delta_exact, digits=digits, rtol=rtol)
        return _from_closure(m, loss, scale=1)
    if loss.family == "cross_entropy":
        from fractions import Fraction

        T = Fraction(loss.param_dict["T"])
        Dt, Deltat = D_exact / T, Delta_exact / (T * T)
        m = closure_moments(K, Dt, Deltat, digits=digits, rtol=rtol)
        ce = closure_moments(K, D_exact, Delta_exact, digits=digits, rtol=rtol)
        out = _from_closure(m, loss, scale=T, D=D_exact, Delta=Delta_exact, digits=digits)
        errors = dict(out.errors)
        errors["cross_entropy"] = ce.errors["loss"]
        return dataclasses.replace(
            out, cross_entropy=ce.loss, errors=errors, method=out.method + "+temperature-map"
        )
    raise InvalidInputError(
        f"no deterministic route for loss {loss.name!r} at K = {K}: the Laplace route of K >= 4 needs the "
        "cross-entropy structure (cross-entropy at any temperature); use method='montecarlo' or 'qmc' "
        "(standard errors), or the boundary-layer constants (asymptotics.losses.layer)"
    )


def _from_closure(m, loss, scale, D=None, Delta=None, digits=None):
    T = scale
    if T == 1:
        values = [m.drift, m.restoring, m.noise, m.eps_g, m.loss, m.loss]
        errors = [m.errors[n] for n in ("drift", "restoring", "noise", "eps_g", "loss", "loss")]
    else:
        if digits is None:
            t = float(T)
        else:
            with mpmath.workdps(digits + 10):
                t = fraction_to_mpf(T)
        values = [m.drift / t, m.restoring / t**2, m.noise / t**2, m.eps_g, m.loss, None]
        errors = [
            m.errors["drift"] / t,
            m.errors["restoring"] / t**2,
            m.errors["noise"] / t**2,
            m.errors["eps_g"],
            m.errors["loss"],
            None,
        ]
        D = float(D) if digits is None else D
        Delta = float(Delta) if digits is None else Delta
    return LossMoments(
        m.K,
        m.D if D is None else D,
        m.Delta if Delta is None else Delta,
        *values[:5],
        errors=dict(zip(LOSS_MOMENT_NAMES, errors)),
        method=m.method,
        digits=m.digits,
        cross_entropy=values[5],
        loss_name=loss.name,
    )


def _small_scale_limit(loss, K, D_exact, Delta_exact, digits):
    """Below the scale ``r = sqrt(D^2 + Delta) = 1e-14`` (float64) or ``10^-(digits+5)``: ``eps_g`` exactly at the
    rescaled point (scale invariant), the other moments at ``z = 0`` with error ``4 (r + r^2)`` (their
    integrands have derivatives of order one at ``z = 0`` for the registered losses; the route's own error
    is larger)."""
    r2 = D_exact * D_exact + Delta_exact
    with mpmath.workdps(40 if digits is None else digits + 20):
        r = mpmath.sqrt(fraction_to_mpf(r2))
        unit_D = fraction_to_mpf(D_exact) / r
        unit_Delta = fraction_to_mpf(Delta_exact) / fraction_to_mpf(r2)
    if digits is None:
        unit_D, unit_Delta = float(unit_D), float(unit_Delta)
    unit = loss_moments(loss, K, unit_D, unit_Delta, digits=digits)
    zero = uniform_loss_moments(loss, K, digits)
    bound = 4 * (float(r) + float(r2))
    errors = {name: zero.errors[name] + bound for name in LOSS_MOMENT_NAMES}
    eps = unit.eps_g
    errors["eps_g"] = unit.errors["eps_g"]
    if D_exact == 0:
        eps = zero.eps_g
        errors["eps_g"] = zero.errors["eps_g"]
    D_out = float(D_exact) if digits is None else unit_D * r
    Delta_out = float(Delta_exact) if digits is None else unit_Delta * r * r
    return LossMoments(
        K,
        D_out,
        Delta_out,
        zero.drift,
        zero.restoring,
        zero.noise,
        eps,
        zero.loss,
        errors=errors,
        method=f"{unit.method}+small-scale-limit",
        digits=unit.digits,
        cross_entropy=zero.cross_entropy,
        loss_name=loss.name,
    )


def _check_digits_reached(result, digits: int) -> None:
    bound = mpmath.mpf(10) ** (-digits)
    for name in LOSS_MOMENT_NAMES:
        value = abs(getattr(result, name) if name != "cross_entropy" else result.cross_entropy)
        err = abs(result.errors.get(name, 0))
        if err > bound * value and not (value == 0 and err == 0):
            raise IntegrationError(
                f"{result.method}: {name} of loss {result.loss_name} at K={result.K}, D={mpmath.nstr(result.D, 6)}, "
                f"Delta={mpmath.nstr(result.Delta, 6)} reached only ~{mpmath.nstr(err / max(value, bound), 2)} "
                f"relative accuracy, not the requested {digits} digits"
            )


def _check_rtol(result, rtol: float) -> None:
    for name in LOSS_MOMENT_NAMES:
        value = abs(float(getattr(result, name)))
        err = float(result.errors.get(name, 0.0))
        if err > rtol * value and not (value == 0.0 and err == 0.0):
            raise IntegrationError(
                f"{result.method}: error estimate {err:.2e} of {name} (loss {result.loss_name}) at K={result.K}, "
                f"D={float(result.D):g}, Delta={float(result.Delta):g} exceeds rtol={rtol:g} relative"
            )
