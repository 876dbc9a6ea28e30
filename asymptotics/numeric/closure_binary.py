"""K = 2 closure moments: a fast float64 path and an arbitrary-precision mpmath path.

Reduction (spec section 2).  Fix the winning teacher class (factor 2).  With
``h = (y_1-y_2)/sqrt2``, ``zeta = (xi_1-xi_2)/sqrt2`` the student margin
``s = sqrt2 D h + sqrt(2 Delta) zeta`` is N(0, S^2) with ``S^2 = 2(D^2+Delta)``, and given ``s``
the teacher variable is ``h | s ~ N(m s, v)`` with ``m = sqrt2 D/S^2``, ``v = Delta/(D^2+Delta)``.
Every integrand of :mod:`asymptotics.symbolic.integrands` is affine in the teacher gap
``g = sqrt2 h``, so the teacher average is closed-form:

    P(h > 0 | s)       = Phi(a),                         a = m s / sqrt(v)
    E[g 1(h > 0) | s]  = sqrt(2 v) (phi(a) + a Phi(a))   (= s/D when Delta = 0)

and each moment is ONE integral over ``s`` of a product of positive factors (no cancellation at
any ``D``).  The ``s``-integral is split at ``s = 0`` (where ``eps_g`` jumps and, for small
``Delta``, ``Phi(a)`` varies on the scale ``sqrt(2 Delta)``); on each half-line ``|s| = e^x`` with a
double-exponential map of the left tail, so that the scales ``sqrt(2 Delta)``, 1 (softmax) and
``S`` (up to ~1.4e4) are all resolved by one trapezoid rule.

Accuracy: float64 path ~1e-15 relative (measured: max 4e-16 against 25-30 digit mpmath) for
0 <= D <= 1e4 (tested to 1e5), 0 <= Delta <= 50, error estimate from doubling the step;
~0.3-0.5 ms per call.  mpmath path: any number of digits (tanh-sinh on
geometrically split intervals, at ``digits + 16`` working digits), e.g. 30 digits in ~1 s, 50 digits in ~2-4 s.

>>> m = binary_moments(1.0, 0.25)
>>> round(m.eps_g, 12) == round(math.acos(1/math.sqrt(1.25))/math.pi, 12)
True
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import mpmath
import numpy as np
from scipy import special

from asymptotics.numeric.moments import MOMENT_NAMES, ClosureMoments
from asymptotics.symbolic.integrands import compiled_gap_split
from asymptotics.validation import check_digits, check_nonnegative

_SQRT2PI = math.sqrt(2 * math.pi)


def half_line_nodes(lo: float, hi: float, h: float, tail: float = 40.0, *, linear_beyond_one: bool = False):
    """Nodes and weights of a trapezoid rule for ``int_0^hi f(r) dr`` with multi-scale ``f``.

    ``r = exp(x)``, ``x = t - exp(a - t)``, ``a = log(lo) - 1``: uniform in ``log r`` between the
    smallest feature scale ``lo`` and ``hi``, double-exponentially clustered towards 0 below ``lo``
    (the part below ``lo * e^-tail`` is dropped).  For ``f`` analytic in ``|arg r| < pi/4`` the
    error is ~``exp(-pi^2/(2h))`` (h = 1/8: ~1e-17 relative).  With ``linear_beyond_one`` the map
    is ``r = 4 log(1 + e^x/4)`` instead: the same near 0, but uniform with step ``4h`` for
    ``r >> 4`` (needed where ``f`` has unit-width structure, analytic within ``|Im r| < pi``, at
    large ``r``).

    >>> r, w = half_line_nodes(1.0, 40.0, 0.125)
    >>> abs(float(np.sum(w * np.exp(-r))) - 1) < 1e-15
    True
    """
    a = math.log(lo) - 1.0
    t_min = a - math.log(tail + abs(math.log(lo)) + 2.0)
    t_max = (
        math.log(hi) if not linear_beyond_one else math.log(4.0) + math.log(math.expm1(min(hi, 700.0) / 4.0))
    )
    n = max(int(math.ceil((t_max - t_min) / h)), 8)
    t = t_min + h * np.arange(n + 1)
    ex = np.exp(a - t)
    x = t - ex
    if linear_beyond_one:
        r = 4.0 * np.logaddexp(0.0, x - math.log(4.0))
        w = 4.0 * h * special.expit(x - math.log(4.0)) * (1.0 + ex)
    else:
        r = np.exp(x)
        w = h * r * (1.0 + ex)
    w[-1] *= 0.5
    return r, w


def trapezoid_error(fine, coarse):
    """Error estimate of an exponentially convergent rule from the steps ``h`` and ``2h``.

    The error at step ``h`` is about the square of the relative error at ``2h``; a floor of
    8 ulp per value accounts for rounding.

    >>> float(trapezoid_error(np.array([1.0]), np.array([1.0 + 1e-6]))[0]) < 1e-11
    True
    """
    fine = np.asarray(fine, dtype=float)
    diff = np.abs(fine - np.asarray(coarse, dtype=float))
    scale = np.maximum(np.abs(fine), 1e-300)
    return np.minimum(diff, diff**2 / scale) + 8 * np.finfo(float).eps * np.abs(fine)


def _binary_scales(D, Delta):
    """Return ``S, m, v`` of the reduction (see module docstring)."""
    S2 = 2 * (D * D + Delta)
    return math.sqrt(S2), math.sqrt(2.0) * D / S2, Delta / (D * D + Delta)


def uniform_moments(K: int):
    """Closed forms at D = Delta = 0 (p uniform) for ``K`` classes, as exact SymPy numbers.

    drift = E[max y] = K int t phi(t) Phi(t)^(K-1) dt (evaluated by the caller),
    restoring = 1 - 1/K, noise = (1-1/K)^2 + (K-1)/K^2, eps_g = 1 - 1/K, loss = log K.

    >>> uniform_moments(2)["noise"]
    1/2
    """
    import sympy as sp

    K = sp.Integer(K)
    return {
        "restoring": 1 - 1 / K,
        "noise": (1 - 1 / K) ** 2 + (K - 1) / K**2,
        "eps_g": 1 - 1 / K,
        "loss": sp.log(K),
    }


def _teacher_weights_f64(s, D, Delta):
    """``P(h>0|s)`` and ``E[g 1(h>0)|s]`` in float64 (stable for very negative ``a``)."""
    S, m, v = _binary_scales(D, Delta)
    if v == 0.0:
        pos = (s > 0).astype(float)
        return pos, pos * s / D
    sv = math.sqrt(v)
    a = m * s / sv
    W0 = special.ndtr(a)
    with np.errstate(all="ignore"):
        psi = np.where(
            a >= 0,
            np.exp(-0.5 * a * a) / _SQRT2PI + a * W0,
            np.exp(-0.5 * a * a) * (1 / _SQRT2PI + 0.5 * a * special.erfcx(-a / math.sqrt(2))),
        )
    return W0, math.sqrt(2 * v) * psi


def _sum_moments(s, w, D, Delta, split=None):
    """Return ``sum_i w_i * density * integrand`` for the moments (float64 arrays).

    ``split`` is a compiled gap split (default: the cross-entropy one of
    :func:`~asymptotics.symbolic.integrands.compiled_gap_split`); one value per base it returns.
    """
    S = math.sqrt(2 * (D * D + Delta))
    dens = np.exp(-0.5 * (s / S) ** 2) / (_SQRT2PI * S)
    bases, coeffs = (compiled_gap_split(2, "numpy") if split is None else split)(s)
    W0, W1 = _teacher_weights_f64(s, D, Delta)
    ww = 2.0 * w * dens
    out = np.array([np.dot(ww * W0, b) for b in bases])
    out[0] += np.dot(ww * W1, coeffs[0])
    return out


def binary_sums(D: float, Delta: float, h: float = 0.125, split=None, tail_scale: float = 48.0):
    """Fine (step ``h``) and coarse (step ``2h``) sums of the K = 2 rule, one entry per base of ``split``.

    ``D, Delta`` floats, not both 0.  ``split`` defaults to the cross-entropy integrands; ``tail_scale`` is
    the largest positive margin kept (integrands decay like ``exp(-s)`` for cross-entropy; a loss whose
    integrands decay more slowly passes a larger value).
    """
    S, m, v = _binary_scales(D, Delta)
    layer = math.sqrt(v) / m if (v > 0 and m > 0) else math.inf
    lo = min(1.0, S, layer)
    fine = None
    coarse = None
    # positive half-line: integrands decay like exp(-s) (softmax) or the Gaussian of width S
    hi_pos = min(9.5 * S, tail_scale)
    sides = [(1.0, hi_pos)]
    if v > 0:
        sides.append((-1.0, 9.5 * min(S, layer)))
    for sign, hi in sides:
        r, w = half_line_nodes(lo, max(hi, 2 * lo), h)
        vals = _sum_moments(sign * r, w, D, Delta, split)
        w2 = 2 * w[::2]
        w2[-1] = w[::2][-1] * (2 if len(w) % 2 == 0 else 1)
        vals2 = _sum_moments(sign * r[::2], w2, D, Delta, split)
        fine = vals if fine is None else fine + vals
        coarse = vals2 if coarse is None else coarse + vals2
    return fine, coarse


def binary_moments(D, Delta, *, h: float = 0.125) -> ClosureMoments:
    """K = 2 closure moments in float64.

    Accuracy ~1e-15 relative (error estimate in ``errors`` from the rule with step ``2h``),
    for 0 <= D <= 1e4 and 0 <= Delta <= 50.  About 0.3-0.5 ms per call.

    >>> m = binary_moments(0.0, 0.0)
    >>> round(m.drift * math.sqrt(math.pi), 14), m.restoring, m.loss == math.log(2)
    (1.0, 0.5, True)
    """
    D = float(check_nonnegative("D", D))
    Delta = float(check_nonnegative("Delta", Delta))
    if D == 0.0 and Delta == 0.0:
        vals = [1 / math.sqrt(math.pi)] + [float(x) for x in uniform_moments(2).values()]
        return ClosureMoments(
            2, D, Delta, *vals, errors=dict.fromkeys(MOMENT_NAMES, 0.0), method="binary", digits=15
        )
    fine, coarse = binary_sums(D, Delta, h)
    err = trapezoid_error(fine, coarse)
    return ClosureMoments(
        2,
        D,
        Delta,
        *map(float, fine),
        errors=dict(zip(MOMENT_NAMES, map(float, err))),
        method="binary",
        digits=15,
    )


def _teacher_weights_mp(s, D, m_over_sv, sqrt2v):
    """``P(h>0|s)`` and ``E[g 1(h>0)|s]`` in mpmath (``m_over_sv = m/sqrt(v)``, None if v = 0)."""
    if m_over_sv is None:
        return (mpmath.mpf(1), s / D) if s > 0 else (mpmath.mpf(0), mpmath.mpf(0))
    a = m_over_sv * s
    W0 = mpmath.erfc(-a / mpmath.sqrt(2)) / 2
    return W0, sqrt2v * (mpmath.exp(-a * a / 2) / mpmath.sqrt(2 * mpmath.pi) + a * W0)


@contextmanager
def mp_closure_point(D, Delta, digits):
    """Validate ``D, Delta >= 0`` and ``digits``; inside, ``digits + 16`` working digits.

    Yields ``(D, Delta, digits)`` with ``D``, ``Delta`` as mpf at the working precision and
    ``digits`` checked (:func:`~asymptotics.validation.check_digits`).  The caller rounds its
    result with ``mpmath.workdps(digits)``.

    >>> with mp_closure_point(1, 0.5, 20) as (D, Delta, digits):
    ...     mpmath.mp.dps, D, digits
    (36, mpf('1.0'), 20)
    """
    digits = check_digits(digits)
    check_nonnegative("D", D)
    check_nonnegative("Delta", Delta)
    with mpmath.workdps(digits + 16):
        yield mpmath.mpf(D), mpmath.mpf(Delta), digits


def binary_moments_mp(D, Delta, digits: int = 30) -> ClosureMoments:
    """K = 2 closure moments to ``digits`` significant digits (mpf values).

    Tanh-sinh quadrature (mpmath.quad) over the margin ``s`` on intervals split geometrically
    between the scales ``sqrt(2 Delta)``, 1 and ``S``, at ``digits + 10`` working digits;
    ``errors`` holds mpmath's error estimates.  ``eps_g`` is the closed form
    ``arccos(D/sqrt(D^2 + Delta))/pi``.  ~1 s at 30 digits, ~2-4 s at 50.

    >>> m = binary_moments_mp(1, 0, digits=20)           # Delta = 0: eps_g = 0 exactly
    >>> m.eps_g, abs(float(m.restoring) - binary_moments(1.0, 0.0).restoring) < 1e-15
    (mpf('0.0'), True)
    """
    with mp_closure_point(D, Delta, digits) as (D, Delta, digits):
        if D == 0 and Delta == 0:
            vals = [1 / mpmath.sqrt(mpmath.pi)] + [
                mpmath.mpf(x.evalf(digits + 10)) for x in uniform_moments(2).values()
            ]
            errors = dict.fromkeys(MOMENT_NAMES, mpmath.mpf(0))
        else:
            vals, errors = _binary_quad_mp(D, Delta, digits)
            # eps_g: the closed form arccos(D / sqrt(D^2 + Delta)) / pi of the K = 2 reduction (the
            # quadrature of the orthant indicator loses digits at angles below ~1e-20)
            vals[3] = mpmath.atan2(mpmath.sqrt(Delta), D) / mpmath.pi
            errors["eps_g"] = mpmath.mpf(0)
    with mpmath.workdps(digits):
        vals = [+x for x in vals]
    return ClosureMoments(2, D, Delta, *vals, errors=errors, method="binary-mpmath", digits=digits)


def _binary_quad_mp(D, Delta, digits, split=None, names=MOMENT_NAMES, tail_scale=1):
    """tanh-sinh sums of the K = 2 moments (``split``: a compiled mpmath gap split, default cross-entropy;
    ``names``: one per base; ``tail_scale``: the decay length of the integrands at large margins)."""
    f = compiled_gap_split(2, "mpmath") if split is None else split
    S = mpmath.sqrt(2 * (D * D + Delta))
    m = mpmath.sqrt(2) * D / S**2
    v = Delta / (D * D + Delta)
    layer = mpmath.sqrt(v) / m if (v > 0 and m > 0) else mpmath.inf
    lo = min(mpmath.mpf(1), S, layer)
    ncut = mpmath.sqrt(2 * mpmath.log(10) * (digits + 8)) + 2
    cache = {}
    m_over_sv = m / mpmath.sqrt(v) if v > 0 else None
    sqrt2v = mpmath.sqrt(2 * v)
    dens0 = 2 / (mpmath.sqrt(2 * mpmath.pi) * S)
    inv2S2 = 1 / (2 * S * S)

    def vector(s):
        if s not in cache:
            bases, coeffs = f(s)
            W0, W1 = _teacher_weights_mp(s, D, m_over_sv, sqrt2v)
            dens = dens0 * mpmath.exp(-s * s * inv2S2)
            vals = [dens * b * W0 for b in bases]
            vals[0] += dens * coeffs[0] * W1
            cache[s] = vals
        return cache[s]

    def points(hi):
        pts = [mpmath.mpf(0)]
        x = lo / 4
        while x < hi:
            pts.append(x)
            x *= 4
        pts.append(hi)
        return pts

    hi_pos = min(ncut * S, tail_scale * ((digits + 8) * mpmath.log(10) + 10))
    segments = [points(hi_pos)]
    if v > 0:
        segments.append([-p for p in points(ncut * min(S, layer))][::-1])
    vals = []
    errors = {}
    for k, name in enumerate(names):
        total = mpmath.mpf(0)
        err = mpmath.mpf(0)
        for pts in segments:
            val, e = mpmath.quad(lambda s, k=k: vector(s)[k], pts, error=True)
            total += val
            err += e
        vals.append(total)
        errors[name] = err
    return vals, errors
