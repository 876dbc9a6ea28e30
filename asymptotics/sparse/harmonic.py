"""Harmonic sums of the sparse model in float64, vectorised over D (and a scale y of the p_i).

Every exact expectation of the model is a sum of one of two kinds over the coordinates,

    seen:    H_seen(alpha; D, y)   = sum_{i=1}^{M} i^-alpha [1 - (1 - y p_i)^D]
    unseen:  H_unseen(alpha; D, y) = sum_{i=1}^{M} i^-alpha (1 - y p_i)^D,        p_i = min(1, i^-s),

(``y = 1`` for the expectations themselves; ``y < 1`` enters the Laplace transforms used by
:mod:`asymptotics.sparse.learner`).  Two float64 methods, chosen per element:

* **direct + binomial/Hurwitz tail** (small ``yD``): the terms ``i < J`` are summed directly, with
  ``J`` chosen so that ``yD J^-s <= 0.05``; beyond J the binomial theorem gives the exactly convergent
  tail ``sum_k C(D, k) (-y)^k zeta(alpha + s k, J)`` (Hurwitz zeta; ~12 terms).
* **Mellin residues** (large ``yD``, M infinite): with ``nu_i = -ln(1 - y p_i)``,
  ``(1 - y p_i)^D = exp(-D nu_i)`` and the Mellin-Barnes integral over ``Gamma(u) (D)^-u Z(u)``,
  ``Z(u) = sum_{i>=2} i^-alpha nu_i^-u = sum_k e_k(u) y^(k-u) zeta(alpha - s u + s k, 2)``, has simple
  poles at ``u_k = (alpha-1)/s + k`` (and, for the seen kind, at ``u = 0``).  Closing the contour to
  the right gives ``sum_k (1/s) Gamma(u_k) e_k(u_k) y^k (yD)^-u_k`` plus a remainder that is smaller
  than any power of D; ``e_k(u)`` are the Taylor coefficients of ``(-ln(1-x)/x)^-u``.  The method is
  used only where the remainder is below ~1e-26 (``yD >= D_switch(s)``, a bound from the saddle point
  of the remainder integral: ``(1+s) c* >= 60`` with ``c* = ((2 pi/s)^s yD)^(1/(1+s))``); the tests
  check it against the any-precision routes of :mod:`asymptotics.sparse.harmonic_mp`.

Relative accuracy ~1e-15 (measured against 30-digit values in the tests; the tests require 1e-13).

>>> import numpy as np
>>> v = harmonic_sum("seen", 0.0, 2.0, np.array([1.0, 1e6]))       # E|S| at D = 1 and 1e6
>>> bool(abs(v[0] - np.pi ** 2 / 6) < 1e-15)                        # sum_i p_i = zeta(2)
True
>>> bool(abs(v[1] - (np.sqrt(np.pi) * 1e3 - 0.5)) < 1e-3)                  # Gamma(1/2) sqrt(D) - 1/2 + O(D^-1/2)
True
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import special

from asymptotics.validation import InvalidInputError

__all__ = ["KINDS", "d_switch", "harmonic_sum", "series_coefficients_float"]

KINDS = ("seen", "unseen")
#: direct summation up to J with y D J^-s <= RHO
RHO = 0.05
#: largest number of direct terms per element (beyond it the element must use the residue method)
J_LIMIT = 2_000_000
_EULER = 0.57721566490153286061


@lru_cache(maxsize=512)
def d_switch(s: float, alpha: float = 0.0, log_accuracy: float = 52.0) -> float:
    """Smallest ``yD`` at which the residue method is used: remainder below ``exp(-log_accuracy)``.

    The remainder of the Mellin-Barnes integral after all residues is the Poisson-summation
    correction of the sum; a saddle-point estimate gives, relative to the sum,
    ``(yD)^(max(0, alpha-1)/(s(s+1))) exp(-(1+s) c* cos(pi s/(2s+2)))`` with
    ``c* = ((2 pi/s)^s yD)^(1/(1+s))`` (checked against the direct method for s = 1.05 ... 5 and
    alpha up to 12 in the tests).

    >>> round(d_switch(2.0))
    4221
    """
    theta = math.pi * s / (2.0 * s + 2.0)
    amp = max(0.0, alpha - 1.0) / (s * (s + 1.0))
    D = 50.0
    for _ in range(30):
        target = log_accuracy + amp * math.log(D)
        c_star = target / ((1.0 + s) * math.cos(theta))
        new = max(50.0, c_star ** (1.0 + s) * (s / (2.0 * math.pi)) ** s)
        if abs(new - D) <= 1e-9 * new:
            break
        D = new
    return new


def check_kind(kind: str, alpha: float, s: float, M) -> None:
    """Raise unless the sum converges (seen: alpha + s > 1; unseen: alpha > 1) or M is finite."""
    if kind not in KINDS:
        raise InvalidInputError(f"kind must be one of {KINDS}, got {kind!r}")
    if M is None:
        if kind == "unseen" and not alpha > 1:
            raise InvalidInputError(f"the unseen sum of i^-alpha converges only for alpha > 1, got {alpha}")
        if kind == "seen" and not alpha + s > 1:
            raise InvalidInputError(
                f"the seen sum of i^-alpha converges only for alpha + s > 1, got {alpha + s}"
            )


def e_coefficients(beta, order: int, one=1.0):
    """Taylor coefficients ``P_j`` (j = 0 to ``order``) of ``psi(x)^beta``, ``psi(x) = -ln(1-x)/x = sum x^j/(j+1)``.

    J. C. P. Miller's recurrence ``k P_k = sum_{j=1}^k ((beta+1) j - k) psi_j P_{k-j}``; ``beta`` may be
    a float, an mpmath number or a SymPy expression (``one`` sets the arithmetic of ``psi_j``).

    >>> import fractions
    >>> e_coefficients(fractions.Fraction(-1), 3, one=fractions.Fraction(1))   # 1/psi = 1 - x/2 - x^2/12 - x^3/24
    [Fraction(1, 1), Fraction(-1, 2), Fraction(-1, 12), Fraction(-1, 24)]
    """
    P = [one * 1]
    for k in range(1, order + 1):
        acc = 0
        for j in range(1, k + 1):
            acc = acc + ((beta + 1) * j - k) * (one / (j + 1)) * P[k - j]
        P.append(acc / k)
    return P


@lru_cache(maxsize=512)
def series_coefficients_float(alpha: float, s: float, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Powers ``u_k = (alpha-1)/s + k`` and coefficients ``(1/s) Gamma(u_k) e_k(u_k)``, k = 0 ... K-1
    (cached: they depend on alpha and s only)."""
    u = (alpha - 1.0) / s + np.arange(K)
    c = np.empty(K)
    for k in range(K):
        c[k] = special.gamma(u[k]) * e_coefficients(-u[k], k)[k] / s
    u.setflags(write=False)
    c.setflags(write=False)
    return u, c


def _pair_near_one(alpha: float, s: float, L: np.ndarray) -> np.ndarray:
    """``(zeta(alpha) - 1) - (1/s) Gamma(u_0) e^(-u_0 L)`` for alpha near 1 (two cancelling poles).

    Evaluated with mpmath at 40 digits (the limit alpha = 1 is ``gamma - 1 + (gamma + L)/s``).
    """
    import mpmath

    out = np.empty_like(L)
    with mpmath.workdps(40):
        al = mpmath.mpf(alpha)
        for j, Lj in enumerate(L.ravel()):
            if abs(alpha - 1.0) < 1e-25:
                v = mpmath.euler - 1 + (mpmath.euler + mpmath.mpf(Lj)) / s
            else:
                u0 = (al - 1) / s
                v = (mpmath.zeta(al) - 1) - mpmath.gamma(u0) * mpmath.exp(-u0 * mpmath.mpf(Lj)) / s
            out.ravel()[j] = float(v)
    return out


def _residue_method(kind: str, alpha: float, s: float, D: np.ndarray, y: np.ndarray) -> np.ndarray:
    yD = y * D
    logyD = np.log(yD)
    with np.errstate(divide="ignore"):
        first = np.exp(D * np.log1p(-y)) if np.any(y < 1) else np.zeros_like(D)
    first = np.where(y >= 1, 0.0, first)
    K = 40
    u, c = series_coefficients_float(alpha, s, K)
    near_one = kind == "seen" and abs(alpha - 1.0) < 0.02
    if kind == "unseen":
        total = first.copy()
        sign = 1.0
    else:
        total = (1.0 - first) + (0.0 if near_one else special.zeta(alpha) - 1.0)
        sign = -1.0
        if near_one:
            total = total + _pair_near_one(alpha, s, logyD)
    logy = np.log(y)
    small_run = 0  # a coefficient e_k(u_k) may vanish: stop after three consecutive tiny terms
    for k in range(K):
        if near_one and k == 0:
            continue
        term = c[k] * np.exp(k * logy - u[k] * logyD)
        total = total + sign * term
        small_run = small_run + 1 if np.all(np.abs(term) <= 1e-18 * np.abs(total)) else 0
        if small_run >= 3:
            return total
    raise InvalidInputError("the residue series did not converge (D y too small for the Mellin method)")


def _hurwitz_tail(kind: str, alpha: float, s: float, D: np.ndarray, y: np.ndarray, J: int, M, total):
    """sum_{J <= i <= M} i^-alpha g(D, y i^-s) by the binomial theorem (needs y D J^-s small)."""
    coef = np.ones_like(D)
    tail_sum = np.zeros_like(D)
    for k in range(80):
        if k > 0:
            coef = coef * (D - (k - 1)) / k * (-y)
        if kind == "seen" and k == 0:
            continue
        z = special.zeta(alpha + s * k, J)
        if M is not None:
            z = z - special.zeta(alpha + s * k, M + 1)
        term = coef * z
        tail_sum = tail_sum + term
        if k >= 1 and np.all(np.abs(term) <= 1e-18 * np.abs(total + tail_sum) + 1e-300):
            break
    return tail_sum if kind == "unseen" else -tail_sum


def _direct_method(kind: str, alpha: float, s: float, D: np.ndarray, y: np.ndarray, M) -> np.ndarray:
    yD = y * D
    J = int(min(math.ceil((float(np.max(yD)) / RHO) ** (1.0 / s)) + 1, J_LIMIT))
    J = max(J, 2)
    if M is not None and M + 1 <= J:
        J, tail = M + 1, False
    else:
        tail = True
    total = np.zeros_like(yD)
    Dc, yc = D[:, None], y[:, None]
    for start in range(1, J, 4096):
        i = np.arange(start, min(start + 4096, J), dtype=float)
        p = np.minimum(1.0, i**-s)
        lam = i**-alpha
        with np.errstate(divide="ignore", invalid="ignore"):
            lg = Dc * np.log1p(-yc * p[None, :])
            g = np.exp(lg) if kind == "unseen" else -np.expm1(lg)
        g = np.where(np.isnan(g), 0.0 if kind == "unseen" else 1.0, g)
        total += g @ lam
    if not tail:
        return total
    return total + _hurwitz_tail(kind, alpha, s, D, y, J, M, total)


def harmonic_sum(kind: str, alpha: float, s: float, D, y=1.0, M: int | None = None) -> np.ndarray:
    """``sum_{i=1}^{M} i^-alpha g(D, y p_i)`` with ``g = 1 - (1-x)^D`` (seen) or ``(1-x)^D`` (unseen).

    ``D > 0`` and ``0 < y <= 1`` broadcast against each other (D may be non-integer: the sums are
    analytic in D).  See the module docstring for the methods.  Finite ``M`` uses direct summation
    with a Hurwitz-difference tail (``M`` up to ``2e6`` direct terms per element).

    >>> float(harmonic_sum("unseen", 2.0, 2.0, 1, M=3)) == 1 / 4 * 3 / 4 + 1 / 9 * 8 / 9   # i = 2, 3
    True
    """
    alpha, s = float(alpha), float(s)
    check_kind(kind, alpha, s, M)
    D_arr, y_arr = np.broadcast_arrays(np.asarray(D, dtype=float), np.asarray(y, dtype=float))
    shape = D_arr.shape
    D_arr, y_arr = D_arr.ravel().copy(), y_arr.ravel().copy()
    if np.any(~np.isfinite(D_arr)) or np.any(D_arr < 0):
        raise InvalidInputError("D must be finite and >= 0")
    if np.any(~np.isfinite(y_arr)) or np.any(y_arr <= 0) or np.any(y_arr > 1):
        raise InvalidInputError("y must lie in (0, 1]")
    out = np.empty_like(D_arr)
    yD = y_arr * D_arr
    large = yD >= d_switch(s, alpha)
    if M is not None:
        # finite M at large D: the infinite sum (residues) minus the binomial tail beyond M
        large &= yD * float(M + 1) ** -s <= RHO
        Jneed = (yD / RHO) ** (1.0 / s)
        if np.any(~large & (Jneed > J_LIMIT) & (Jneed < M)):
            raise InvalidInputError(
                f"finite M = {M} with D y M^-s > {RHO} needs more than {J_LIMIT} "
                "direct terms; use M = None (infinite) or a smaller M"
            )
    if np.any(large):
        v = _residue_method(kind, alpha, s, D_arr[large], y_arr[large])
        if M is not None:
            beyond = _hurwitz_tail(kind, alpha, s, D_arr[large], y_arr[large], M + 1, None, v)
            v = v - beyond
        out[large] = v
    small = ~large
    if np.any(small):
        # group by decade of yD so that one J serves elements of similar size
        key = np.floor(np.log10(np.maximum(yD[small], 1e-300)))
        idx = np.nonzero(small)[0]
        for k in np.unique(key):
            sel = idx[key == k]
            out[sel] = _direct_method(kind, alpha, s, D_arr[sel], y_arr[sel], M)
    return out.reshape(shape)[()]
