"""Harmonic sums of the sparse model at any precision: two independent routes (mpmath).

The sums (see :mod:`asymptotics.sparse.harmonic`) are ``sum_{i=1}^{M} i^-alpha g(D, p_i)`` with
``p_i = min(1, i^-s)`` and ``g = 1 - (1-p)^D`` (kind "seen") or ``(1-p)^D`` (kind "unseen").

Route ``"euler-maclaurin"``:
    coordinates with ``D p_i >= T`` (T set by the precision) are summed in closed form (their
    ``(1-p)^D < e^-T`` is below the working precision: 0 for unseen, a generalised harmonic number
    for seen); the next ones directly up to a point J where the summand varies on a scale
    ``>= 1`` (``s D J^-(s+1) <= 1``, ``J >= (dps ln 10 + 10)/pi``); beyond J the Euler-Maclaurin
    formula, with the integral ``int_J^M f`` done by tanh-sinh quadrature in ``t = x^-s`` (split at
    multiples of 1/D) and the odd derivatives ``f^(2k-1)(J)`` from an exact Taylor series of
    ``f(J + h)`` (power-series arithmetic, no numerical differentiation).

Route ``"mellin"``:
    for moderate D, the terms ``i < J2 = (D/rho)^(1/s) + 1`` (rho = 1) directly and the tail by the
    binomial theorem and Hurwitz zeta values, ``sum_k C(D,k) (-1)^k zeta(alpha + s k, J2)`` (a
    convergent series, terms <= 1/k!); for large D the Mellin-Barnes integral closed over its
    residues at ``u_k = (alpha-1)/s + k`` (and ``u = 0`` for the seen kind), with the remainder
    bounded by the saddle-point estimate of :func:`asymptotics.sparse.harmonic.d_switch` at the
    working precision (the route raises rather than use it where the bound is not met).

Both work at ``digits + 12`` guard digits (more near alpha = 1, where two poles cancel) and return
mpf values rounded to the requested digits' context; the tests require the two routes to agree to
1e-25 at 30 digits for D = 1 ... 1e12, and 15/30/50-digit results to agree.

>>> import mpmath
>>> v = harmonic_sum_mp("seen", 0, 2, 10 ** 6, digits=30)                 # E|S|, s = 2, D = 1e6
>>> w = harmonic_sum_mp("seen", 0, 2, 10 ** 6, digits=30, route="euler-maclaurin")
>>> abs(v - w) < mpmath.mpf(10) ** -25
True
"""

from __future__ import annotations

import math

import flint
import mpmath

from asymptotics.sparse.harmonic import check_kind, d_switch, e_coefficients
from asymptotics.validation import IntegrationError, InvalidInputError, check_digits

__all__ = ["ROUTES", "RouteUnavailable", "harmonic_sum_mp"]

ROUTES = ("mellin", "euler-maclaurin")
#: largest number of direct terms of the binomial/Hurwitz branch of the Mellin route
J2_LIMIT = 20_000


class RouteUnavailable(IntegrationError):
    """The chosen route cannot evaluate this sum (the other route can); raised before any work."""


def _guard(alpha: float, digits: int) -> int:
    extra = 12
    if abs(alpha - 1) < 0.5 and alpha != 1:
        extra += int(max(0.0, -math.log10(abs(alpha - 1)))) + 2
    return digits + extra


def _g(kind: str, D, p):
    """``(1-p)^D`` or ``1 - (1-p)^D`` without cancellation."""
    if p >= 1:
        return mpmath.mpf(0) if kind == "unseen" else mpmath.mpf(1)
    lg = D * mpmath.log1p(-p)
    return mpmath.exp(lg) if kind == "unseen" else -mpmath.expm1(lg)


def _direct(kind, alpha, s, D, i0, i1):
    """sum_{i0 <= i < i1} i^-alpha g(D, p_i)."""
    tot = mpmath.mpf(0)
    for i in range(i0, i1):
        x = mpmath.mpf(i)
        tot += x ** (-alpha) * _g(kind, D, x ** (-s))
    return tot


def _hurwitz(sigma, a):
    """Hurwitz zeta(sigma, a) at the working precision, from arb (python-flint).

    mpmath 1.3's ``zeta(sigma, a)`` loses up to ~10 digits for large a and sigma (e.g. 2e-10
    relative at sigma = 30, a = 1001, whatever the precision); arb's value is a certified ball.
    """
    old = flint.ctx.prec
    try:
        flint.ctx.prec = mpmath.mp.prec + 30
        z = flint.arb(mpmath.mpf(sigma)).zeta(flint.arb(mpmath.mpf(a)))
        if not z.is_finite() or (
            z.rad() > abs(z.mid()) * flint.arb(2) ** (-mpmath.mp.prec - 4) and z.rad() > 0
        ):
            raise IntegrationError(f"Hurwitz zeta({mpmath.nstr(sigma, 8)}, {a}) not resolved by arb")
        man, exp = z.mid().man_exp()
        return mpmath.mpf((int(man), int(exp)))
    finally:
        flint.ctx.prec = old


def _power_sum(alpha, n):
    """sum_{i=1}^{n} i^-alpha (exact, any real alpha)."""
    if n <= 0:
        return mpmath.mpf(0)
    if n <= 200:
        return mpmath.fsum(mpmath.mpf(i) ** (-alpha) for i in range(1, n + 1))
    if alpha == 1:
        return mpmath.harmonic(n)
    return _hurwitz(alpha, 1) - _hurwitz(alpha, n + 1)


# ----------------------------------------------------------------------------------------------
# route "mellin"
# ----------------------------------------------------------------------------------------------


def _binomial_tail(kind, alpha, s, D, J, M, tol, scale):
    """sum_{J <= i <= M} i^-alpha g(D, p_i) = sum_k C(D,k) (-1)^k zeta(alpha + s k, J) (- same at M+1)."""
    coef = mpmath.mpf(1)
    tail = mpmath.mpf(0)
    for k in range(100000):
        if k > 0:
            coef = coef * (D - (k - 1)) / k * (-1)
            if coef == 0:
                break
        if kind == "seen" and k == 0:
            continue
        z = _hurwitz(alpha + s * k, J)
        if M is not None:
            z -= _hurwitz(alpha + s * k, M + 1)
        term = coef * z
        tail += term
        if k >= 2 and abs(term) <= tol * abs(scale + tail):
            break
    return tail if kind == "unseen" else -tail


def _binomial_hurwitz(kind, alpha, s, D, M, tol):
    J = max(2, int(mpmath.ceil(D ** (1 / s))) + 1)
    if M is not None and M + 1 <= J:
        return _direct(kind, alpha, s, D, 1, M + 1)
    total = _direct(kind, alpha, s, D, 1, J)
    return total + _binomial_tail(kind, alpha, s, D, J, M, tol, total)


def _residues(kind, alpha, s, D, tol):
    lD = mpmath.log(D)
    if kind == "unseen":
        total, sign, skip0 = mpmath.mpf(0), 1, False
    else:
        total, sign = mpmath.mpf(1), -1  # i = 1 is always seen (p_1 = 1)
        skip0 = alpha == 1
        if skip0:  # Gamma pole and u_0 pole merge at u = 0
            total += mpmath.euler - 1 + (mpmath.euler + lD) / s
        else:
            total += _hurwitz(alpha, 1) - 1
    small_run = 0
    for k in range(400):
        if skip0 and k == 0:
            continue
        u = (alpha - 1) / s + k
        e = e_coefficients(-u, k, one=mpmath.mpf(1))[k]
        term = mpmath.gamma(u) * e * mpmath.exp(-u * lD) / s
        total += sign * term
        small_run = small_run + 1 if abs(term) <= tol * abs(total) else 0
        if small_run >= 3:
            return total
    raise IntegrationError(f"residue series of the {kind} sum did not converge at D = {mpmath.nstr(D, 6)}")


def _route_mellin(kind, alpha, s, D, M, dps):
    tol = mpmath.mpf(10) ** (-dps)
    J2 = float(D) ** (1.0 / float(s))
    if (M is not None and M <= J2_LIMIT) or J2 <= J2_LIMIT:
        return _binomial_hurwitz(kind, alpha, s, D, M, tol)
    need = d_switch(float(s), float(alpha), log_accuracy=dps * math.log(10) + 10)
    if float(D) < need:
        raise RouteUnavailable(
            f"D = {float(D):.6g} is below the residue method's range ({need:.3g}) "
            f"and above the direct range at {dps} digits"
        )
    total = _residues(kind, alpha, s, D, tol)
    if M is None:
        return total
    if float(D) * float(M + 1) ** -float(s) > 1:
        raise RouteUnavailable(
            f"finite M = {M} with D M^-s > 1 and D^(1/s) > {J2_LIMIT}: use the Euler-Maclaurin route"
        )
    # subtract the coordinates beyond M (binomial series, D (M+1)^-s <= 1)
    return total - _binomial_tail(kind, alpha, s, D, M + 1, None, tol, total)


# ----------------------------------------------------------------------------------------------
# route "euler-maclaurin"
# ----------------------------------------------------------------------------------------------


def _series_mul(a, b, n):
    return [mpmath.fsum(a[j] * b[k - j] for j in range(k + 1)) for k in range(n)]


def _series_exp(a, n):
    """exp of a power series a (a[0] arbitrary)."""
    out = [mpmath.exp(a[0])] + [mpmath.mpf(0)] * (n - 1)
    for k in range(1, n):
        out[k] = mpmath.fsum(j * a[j] * out[k - j] for j in range(1, k + 1)) / k
    return out


def _series_log1m(w, n):
    """log(1 - w) for a series w with w[0] = 0."""
    # d/dh log(1-w) = -w'/(1-w);  1/(1-w) = sum w^m
    inv = [mpmath.mpf(1)] + [mpmath.mpf(0)] * (n - 1)
    for k in range(1, n):  # inv = 1 + w * inv
        inv[k] = mpmath.fsum(w[j] * inv[k - j] for j in range(1, k + 1))
    dw = [(k + 1) * w[k + 1] for k in range(n - 1)] + [mpmath.mpf(0)]
    prod = _series_mul(dw, inv, n)
    return [mpmath.mpf(0)] + [-prod[k - 1] / k for k in range(1, n)]


def _taylor(kind, alpha, s, D, x0, n):
    """Taylor coefficients c_0 .. c_{n-1} of f(x0 + h) = (x0+h)^-alpha g(D, (x0+h)^-s)."""
    x0 = mpmath.mpf(x0)
    binom = lambda e, k: mpmath.binomial(e, k)
    powa = [x0 ** (-alpha) * binom(-alpha, k) / x0**k for k in range(n)]
    z = [x0 ** (-s) * binom(-s, k) / x0**k for k in range(n)]
    z0 = z[0]
    w = [mpmath.mpf(0)] + [z[k] / (1 - z0) for k in range(1, n)]
    lg = _series_log1m(w, n)
    lg[0] = mpmath.log1p(-z0)
    hD = _series_exp([D * c for c in lg], n)
    g = hD if kind == "unseen" else [-mpmath.expm1(D * lg[0])] + [-c for c in hD[1:]]
    return _series_mul(powa, g, n)


def _em_boundary(kind, alpha, s, D, x0, tol, scale, sign):
    """f(x0)/2 and the Euler-Maclaurin derivative terms at x0 (sign +1 lower end, -1 upper end)."""
    n = 2
    while True:
        n = min(2 * n + 2, 400)
        c = _taylor(kind, alpha, s, D, x0, n)
        tot = c[0] / 2
        smallest = None
        ok = False
        for k in range(1, n // 2):
            d = c[2 * k - 1] * mpmath.factorial(2 * k - 1)
            term = -sign * mpmath.bernoulli(2 * k) / mpmath.factorial(2 * k) * d
            tot += term
            if abs(term) <= tol * scale:
                ok = True
                break
            if smallest is not None and k > 6 and abs(term) > 100 * smallest:
                raise IntegrationError(
                    f"Euler-Maclaurin terms grow at x = {mpmath.nstr(x0, 8)} before "
                    "reaching the working precision"
                )
            smallest = abs(term) if smallest is None else min(smallest, abs(term))
        if ok:
            return tot
        if n >= 400:
            raise IntegrationError(
                f"Euler-Maclaurin series at x = {mpmath.nstr(x0, 8)} needs more than 200 terms"
            )


def _integral(kind, alpha, s, D, x0, x1):
    """int_{x0}^{x1} x^-alpha g(D, x^-s) dx (x1 = None: infinity) by tanh-sinh quadrature.

    In ``t = x^-s`` the integrand is ``t^(c-1) g(t)/s`` with ``c = (alpha-1)/s``; its endpoint
    singularity at t = 0 (``t^(c-1)`` for unseen, ``D t^c`` for seen) is removed by
    ``t = t_hi w^(1/e)`` with ``e = c`` (unseen) or ``c + 1`` (seen) when ``e < 1``, so that the
    quadrature sees a bounded integrand; breakpoints sit at multiples of 1/D (the transition).
    """
    c = (alpha - 1) / s
    t_hi = mpmath.mpf(x0) ** (-s)
    t_lo = mpmath.mpf(0) if x1 is None else mpmath.mpf(x1) ** (-s)
    e = c if kind == "unseen" else c + 1
    if e < 1:
        # t = t_hi w^(1/e): t^(c-1) dt = t_hi^c w^(c/e - 1) dw / e; for seen divide g by t
        pref = t_hi**e / (e * s)

        def integrand(w):
            if w <= 0:
                return D * pref if kind == "seen" else pref
            t = t_hi * w ** (1 / e)
            return pref * (_g(kind, D, t) if kind == "unseen" else _g(kind, D, t) / t)

        to_var = lambda t: (t / t_hi) ** e
    else:

        def integrand(t):
            return t ** (c - 1) * _g(kind, D, t) / s if t > 0 else mpmath.mpf(0)

        to_var = lambda t: t
    lo, hi = to_var(t_lo), to_var(t_hi)
    pts = [lo]
    for m in (-3, -2, -1, 0, 1, 2, 3, 4, 5):
        b = mpmath.mpf(10) ** m / D
        if t_lo < b < t_hi:
            pts.append(to_var(b))
    pts.append(hi)
    # mpmath's error estimate has an absolute floor near 10^-dps: integrate f / |I| (|I| from a
    # 20-digit pass) so that the estimate is relative
    with mpmath.workdps(20):
        scale = abs(mpmath.quad(integrand, pts)) or mpmath.mpf(1)
    val, err = mpmath.quad(lambda v: integrand(v) / scale, pts, error=True, maxdegree=10)
    return val * scale, err * scale


def _route_em(kind, alpha, s, D, M, dps):
    tol = mpmath.mpf(10) ** (-dps)
    sf, Df = float(s), float(D)
    ln10 = math.log(10)
    # region where (1 - p)^D < e^-T: closed form
    T = dps * ln10 + 10
    for _ in range(3):
        i_neg = int((Df / T) ** (1 / sf)) if Df > T else 0
        T = (
            dps * ln10
            + 10
            + (1 + max(0.0, -float(alpha))) * math.log(i_neg + 2)
            + max(0.0, (float(alpha) - 1) / sf * math.log(Df + 1))
        )
    i_neg = int((Df / T) ** (1 / sf)) if Df > T else 0
    J1 = int((dps * ln10 + 10) / math.pi) + 2
    J_scale = int((sf * Df) ** (1 / (sf + 1))) + 2
    J = max(i_neg + 1, J1, J_scale, 2)
    # the Euler-Maclaurin remainder is ~exp(-2 pi l) with l the smallest variation scale on [J, inf);
    # across the transition x ~ D^(1/s) that scale is ~D^(1/s)/(s + |alpha|): when it is too short
    # (large s, small D^(1/s)), start beyond the transition, where the scale is J/(s + |alpha| + 1)
    l_req = (dps * ln10 + 10) / (2 * math.pi)
    width = sf + abs(float(alpha)) + 1
    trans = Df ** (1 / sf)
    if trans / width < l_req:
        J = max(J, int(3 * trans) + 1, int(width * l_req) + 1)
    if M is not None and J >= M:
        return _direct(kind, alpha, s, D, 1, M + 1)
    if i_neg >= 1:
        head = _power_sum(alpha, i_neg) if kind == "seen" else mpmath.mpf(0)
    else:
        head = mpmath.mpf(0)
    head += _direct(kind, alpha, s, D, i_neg + 1, J)
    integ, ierr = _integral(kind, alpha, s, D, J, M)
    scale = abs(head) + abs(integ)
    total = head + integ + _em_boundary(kind, alpha, s, D, J, tol, scale, +1)
    if M is not None:
        total += _em_boundary(kind, alpha, s, D, M, tol, scale, -1)
    if ierr > mpmath.mpf(10) ** (8 - dps) * abs(total):  # the 12 guard digits absorb the rest
        raise IntegrationError(
            f"tanh-sinh integral of the {kind} sum beyond x = {J}: error estimate "
            f"{mpmath.nstr(ierr, 3)} above the working precision"
        )
    return total


def harmonic_sum_mp(kind: str, alpha, s, D, *, M: int | None = None, digits: int = 30, route: str = "mellin"):
    """``sum_{i=1}^{M} i^-alpha g(D, p_i)`` to ``digits`` significant digits (mpmath mpf).

    ``alpha``, ``s`` are taken as exact decimals (strings or numbers), ``D`` a positive number
    (integer in the model; the sums are analytic in D).  ``route`` is "mellin" or "euler-maclaurin"
    (see the module docstring).  Raises :class:`InvalidInputError` for a divergent sum or bad input,
    :class:`IntegrationError` when a route cannot reach the precision.

    >>> mpmath.nstr(harmonic_sum_mp("unseen", 2, 2, 1, M=3, digits=20), 20)   # 2^-2 (3/4) + 3^-2 (8/9)
    '0.2862654320987654321'
    >>> with mpmath.workdps(30): print(mpmath.nstr(mpmath.mpf(3) / 16 + mpmath.mpf(8) / 81, 20))
    0.2862654320987654321
    """
    digits = check_digits(digits, minimum=5, maximum=1000)
    if route not in ROUTES:
        raise InvalidInputError(f"route must be one of {ROUTES}, got {route!r}")
    check_kind(kind, float(alpha), float(s), M)
    dps = _guard(float(alpha), digits)
    with mpmath.workdps(dps):
        al, sv, Dv = mpmath.mpf(alpha), mpmath.mpf(s), mpmath.mpf(D)
        if not (mpmath.isfinite(Dv) and Dv > 0):
            raise InvalidInputError(f"D must be finite and > 0, got {D!r}")
        if route == "mellin":
            val = _route_mellin(kind, al, sv, Dv, M, dps)
        else:
            val = _route_em(kind, al, sv, Dv, M, dps)
    with mpmath.workdps(digits):
        return +val
