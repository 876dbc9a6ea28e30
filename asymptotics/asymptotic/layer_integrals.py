"""Universal local binary layer integrals and their closed forms.

In the boundary layer between the winning class ``c`` and one competitor the local margin is
``s = u + a`` with ``u = D g >= 0`` (``g`` the teacher gap) and ``a = sqrt(2 Delta) zeta`` the student
noise difference.  The five closure expectations reduce per layer to functions of ``s``
(:data:`LOCAL_FUNCTIONS`, with ``sigma`` the logistic function)::

    drift      u sigma(-s)         (the factor u = D g comes from y_c - y_k = u/D)
    restoring  2 sigma(s) sigma(-s)
    noise      2 sigma(-s)^2
    eps_g      1[s < 0]
    loss       log(1 + e^{-s})

and the layer expectations become the universal moments ::

    I_n[f](Delta) = int_0^inf du u^n E_zeta f(u + sqrt(2 Delta) zeta).

Swapping the integrals (``v = u + a``) gives ``I_n[f] = int f(v) W_n(v) dv`` with the Gaussian partial
moment ``W_n(v) = E[(v - a)_+^n]`` (closed form in phi, Phi): a *one-dimensional* integral, evaluated by
mpmath at any precision (:func:`binary_layer_moment`).  With antiderivatives the low moments are exact
(:func:`derive_closed_forms`, SymPy):

* restoring ``J = int_0^inf E sigma(s) sigma(-s) du = E sigma(-a) = 1/2`` (antiderivative of
  ``sigma(1-sigma)`` is ``sigma``; ``a`` is symmetric);
* drift = loss ``A(Delta) = int u E sigma(-s) = int E log(1+e^{-s}) = E[-Li_2(-e^{a})] = pi^2/12 + Delta/2``
  (dilogarithm inversion ``Li_2(-e^a) + Li_2(-e^{-a}) = -pi^2/6 - a^2/2``);
* noise ``B(Delta) = int E sigma(-s)^2 = E log(1 + e^{a}) - 1/2`` (antiderivative softplus - sigma);
* error ``int P(s < 0) du = E[a_+] = sqrt(Delta/pi)``.

More generally ``int_0^inf u^n f(u + a) du = n! F_{n+1}(a)`` with ``F_k`` the k-fold tail integral of
``f``; for ``sigma(-s)`` this is ``-Li_{n+1}(-e^{-a})`` and for even ``n+1`` the polylogarithm
inversion formula makes ``E[-Li_{n+1}(-e^{a})]`` a polynomial in Delta (Bernoulli polynomials).
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp
from scipy.special import expit, ndtr

from asymptotics.validation import InvalidInputError, check_digits, exact_real, fraction_to_mpf

__all__ = [
    "LOCAL_FUNCTIONS",
    "QUANTITIES",
    "binary_layer_moment",
    "gaussian_partial_moment",
    "restoring_integral",
    "drift_integral",
    "noise_integral",
    "error_integral",
    "derive_closed_forms",
    "binary_layer_moment_derivative",
    "polylog_moment_closed_form",
]

QUANTITIES = ("drift", "restoring", "noise", "eps_g", "loss")


def _sigma(x):
    return 1 / (1 + mpmath.exp(-x))


def _softplus_neg(x):
    # log(1 + e^{-x}), stable for both signs
    if x > 0:
        return mpmath.log1p(mpmath.exp(-x))
    return -x + mpmath.log1p(mpmath.exp(x))


#: local function of the margin and the extra power of u carried by each quantity
LOCAL_FUNCTIONS = {
    "drift": (lambda s: _sigma(-s), 1),
    "restoring": (lambda s: 2 * _sigma(s) * _sigma(-s), 0),
    "noise": (lambda s: 2 * _sigma(-s) ** 2, 0),
    "eps_g": (lambda s: mpmath.mpf(1) if s < 0 else mpmath.mpf(0), 0),
    "loss": (_softplus_neg, 0),
}


def gaussian_partial_moment(n: int, v, var):
    """``W_n(v) = E[(v - a)_+^n]`` for ``a ~ N(0, var)`` (closed form; current mpmath precision).

    >>> float(gaussian_partial_moment(1, 0, 1))   # E[a_+] = 1/sqrt(2 pi)
    0.3989422804014327
    """
    v = mpmath.mpf(v)
    if var == 0:
        return v**n if v > 0 else mpmath.mpf(0)
    sd = mpmath.sqrt(var)
    x = v / sd
    # E[(v - sd Z)^n 1(Z < x)] = sum_k binom(n,k) v^(n-k) (-sd)^k M_k(x), M_k = E[Z^k 1(Z < x)]
    pdf, cdf = mpmath.npdf(x), mpmath.ncdf(x)
    M = [cdf, -pdf]
    for k in range(2, n + 1):
        M.append(-(x ** (k - 1)) * pdf + (k - 1) * M[k - 2])
    return sum(mpmath.binomial(n, k) * v ** (n - k) * (-sd) ** k * M[k] for k in range(n + 1))


_NP_FUNCS = {
    "drift": lambda v: expit(-v),
    "restoring": lambda v: 2 * expit(v) * expit(-v),
    "noise": lambda v: 2 * expit(-v) ** 2,
    "eps_g": lambda v: (v < 0).astype(float),
    "loss": lambda v: np.logaddexp(0.0, -v),
}


def _np_vderiv(n: int, m: int, v, var):
    """float64 version of d^m/dv^m W_n(v) (vectorised)."""
    sd = math.sqrt(var)
    x = v / sd
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    if m <= n:
        k = n - m
        M = [ndtr(x), -pdf]
        for i in range(2, k + 1):
            M.append(-(x ** (i - 1)) * pdf + (i - 1) * M[i - 2])
        w = sum(math.comb(k, i) * v ** (k - i) * (-sd) ** i * M[i] for i in range(k + 1))
        return math.perm(n, m) * w
    r = m - n - 1
    he = np.polynomial.hermite_e.hermeval(x, [0] * r + [1])
    return math.factorial(n) * (-1) ** r * he * pdf / sd ** (r + 1)


@functools.lru_cache(maxsize=4096)
def _moment_float(name: str, power: int, k: int, Delta: float) -> float:
    """int f(v) d_v^{2k} W_power(v) dv in float64 (panelled Gauss-Legendre, ~1e-14 relative)."""
    var = 2 * Delta
    sd = math.sqrt(var)
    lo = -14.0 * sd - 1e-3
    breaks = [
        lo,
        lo / 2,
        lo / 4,
        -sd / 2,
        0.0,
        0.5,
        1.5,
        3.0,
        6.0,
        10.0,
        16.0,
        24.0,
        34.0,
        46.0,
        60.0 + 4 * power,
    ]
    xg, wg = np.polynomial.legendre.leggauss(40)
    total = 0.0
    for a, b in zip(breaks[:-1], breaks[1:]):
        if b <= a:
            continue
        v = 0.5 * (b - a) * xg + 0.5 * (a + b)
        total += 0.5 * (b - a) * float(np.sum(wg * _NP_FUNCS[name](v) * _np_vderiv(power, 2 * k, v, var)))
    return total


def _partial_moment_vderiv(n: int, m: int, v, var):
    """``d^m/dv^m W_n(v)`` for ``a ~ N(0, var)`` (closed form; current precision)."""
    if m == 0:  # the moment itself (no factor ff(n, 0) = 1)
        return gaussian_partial_moment(n, v, var)
    if m <= n:
        return mpmath.ff(n, m) * gaussian_partial_moment(n - m, v, var)
    sd = mpmath.sqrt(var)
    r = m - n - 1  # derivatives of the Gaussian density
    x = v / sd
    return (
        mpmath.factorial(n)
        * (-1) ** r
        * mpmath.hermite(r, x / mpmath.sqrt(2))
        * mpmath.mpf(2) ** (-mpmath.mpf(r) / 2)
        * mpmath.npdf(x)
        / sd ** (r + 1)
    )


@functools.lru_cache(maxsize=4096)
def _moment_cached(name: str, n: int, k: int, Delta_str: str, digits: int):
    """``int f(v) d_v^{2k} W_{n+e}(v) dv`` by tanh-sinh at ``digits + 15`` digits; ``k = 0``: ``I_n`` itself.

    ``k = 0`` admits ``Delta = 0`` (the left scale is kept >= 0.05); derivatives (``Delta > 0``) also
    split at ``+-sd``, where the Gaussian derivatives vary.
    """
    f, extra = LOCAL_FUNCTIONS[name]
    power = n + extra
    with mpmath.workdps(digits + 15):
        Delta = mpmath.mpf(Delta_str)
        var = 2 * Delta
        sd = mpmath.sqrt(var)
        scale = max(sd, mpmath.mpf("0.05")) if k == 0 else sd
        lo = -(12 + mpmath.sqrt(2 * (digits + 15) * mpmath.log(10))) * scale
        hi = 60 + (digits + 15) * mpmath.log(10) + 4 * power
        middle = (0,) if k == 0 else (-sd, 0, sd)
        points = sorted({lo, lo / 2, lo / 4, *middle, 1, 4, 10, 25, hi / 2, hi})
        return mpmath.quad(lambda v: f(v) * _partial_moment_vderiv(power, 2 * k, v, var), points)


#: validated range of Delta > 0 (Delta = 0 is allowed too): tests/test_precision_contract.py checks
#: both ends at 15 and 30 digits; below, the Gaussian scale sqrt(2 Delta) is not resolved
DELTA_RANGE = ("1e-8", "100")


def _moment(name: str, n: int, k: int, Delta, digits) -> mpmath.mpf:
    """``d^k/dDelta^k I_n[f_name](Delta)`` for checked arguments (float64 for ``digits=None`` if ``Delta > 0``)."""
    q = exact_real("Delta", Delta, nonnegative=True)
    if q != 0 and not Fraction(DELTA_RANGE[0]) <= q <= Fraction(DELTA_RANGE[1]):
        raise InvalidInputError(
            f"Delta must be 0 or lie in [{DELTA_RANGE[0]}, {DELTA_RANGE[1]}] for the layer "
            f"moments, got {Delta!r}"
        )
    if digits is None:
        if q > 0:
            return mpmath.mpf(_moment_float(name, n + LOCAL_FUNCTIONS[name][1], k, float(q)))
        digits = 15  # Delta = 0: the quadrature at 15 digits (the float rule needs a scale)
    with mpmath.workdps(digits + 15):
        key = mpmath.nstr(fraction_to_mpf(q), digits + 12)
    return _moment_cached(name, n, k, key, digits)


def binary_layer_moment(name: str, n: int, Delta, digits: int | None = None) -> mpmath.mpf:
    """``I_n[f_name](Delta) = int_0^inf u^(n+e) E f(u + sqrt(2 Delta) zeta) du`` (``e = 1`` for drift).

    One-dimensional quadrature of ``f(v) W_n(v)``: for ``digits=N`` mpmath tanh-sinh with relative
    accuracy ``10^-N``; for ``digits=None`` (default) float64 panelled Gauss-Legendre (~1e-14 relative).

    >>> round(float(binary_layer_moment("restoring", 0, 0.3)), 13)   # 2 J = 1
    1.0
    >>> round(float(binary_layer_moment("eps_g", 0, 0.25)), 13)      # sqrt(Delta/pi)
    0.2820947917739
    """
    if name not in LOCAL_FUNCTIONS:
        raise InvalidInputError(f"unknown quantity {name!r}; expected one of {', '.join(QUANTITIES)}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InvalidInputError(f"moment order must be an integer >= 0, got {n!r}")
    exact_real("Delta", Delta, nonnegative=True)
    return _moment(name, n, 0, Delta, None if digits is None else check_digits(digits))


def restoring_integral(Delta, digits: int | None = None) -> mpmath.mpf:
    """``J = int_0^inf du E sigma(s) sigma(-s)`` (exactly 1/2), by quadrature to ``digits`` digits.

    >>> round(float(restoring_integral(0.7)), 13)
    0.5
    """
    return binary_layer_moment("restoring", 0, Delta, digits) / 2


def drift_integral(Delta, digits: int | None = None) -> mpmath.mpf:
    """``A(Delta) = int_0^inf du u E sigma(-s) = pi^2/12 + Delta/2``, by quadrature to ``digits`` digits.

    >>> round(float(drift_integral(0.5)), 12) == round(math.pi**2/12 + 0.25, 12)
    True
    """
    return binary_layer_moment("drift", 0, Delta, digits)


def noise_integral(Delta, digits: int | None = None) -> mpmath.mpf:
    """``B(Delta) = int_0^inf du E sigma(-s)^2 = E log(1 + e^{sqrt(2 Delta) zeta}) - 1/2`` (``digits`` digits).

    >>> round(float(noise_integral(0)), 12) == round(math.log(2) - 0.5, 12)
    True
    """
    return binary_layer_moment("noise", 0, Delta, digits) / 2


def error_integral(Delta, digits: int | None = None) -> mpmath.mpf:
    """``int_0^inf du P(u + sqrt(2 Delta) zeta < 0) = sqrt(Delta/pi)`` (``digits`` digits).

    >>> round(float(error_integral(1/math.pi)), 13)   # 1/pi
    0.3183098861838
    """
    return binary_layer_moment("eps_g", 0, Delta, digits)


# ---------------------------------------------------------------------------------------------------
# Symbolic derivations
# ---------------------------------------------------------------------------------------------------


def derive_closed_forms() -> dict:
    """Derive the closed-form layer integrals with SymPy; returns ``{name: (steps, result)}``.

    Each entry records the antiderivative used after swapping ``int du`` inside the Gaussian average
    and the resulting expression in the symbol ``Delta``.

    >>> forms = derive_closed_forms()   # doctest: +SKIP
    >>> forms["drift"][1]               # doctest: +SKIP
    Delta/2 + pi**2/12
    >>> forms["restoring"][1], forms["eps_g"][1]   # doctest: +SKIP
    (1/2, sqrt(Delta)/sqrt(pi))
    """
    a, s, u = sp.symbols("a s u", real=True)
    Delta = sp.Symbol("Delta", positive=True)
    zeta = sp.Symbol("zeta", real=True)
    sig = 1 / (1 + sp.exp(-s))
    gauss = sp.exp(-(zeta**2) / 2) / sp.sqrt(2 * sp.pi)
    a_of_zeta = sp.sqrt(2 * Delta) * zeta
    out = {}

    # restoring: antiderivative of sigma(1 - sigma) is sigma
    F = sig
    assert sp.simplify(sp.diff(F, s) - sig * (1 - sig)) == 0
    inner = sp.limit(F, s, sp.oo) - F.subs(s, a)  # int_0^inf du g(u + a) = F(inf) - F(a)
    # E over symmetric a: sigma(-a) + sigma(a) = 1, so E sigma(-a) = 1/2
    sym = sp.simplify(inner + inner.subs(a, -a))
    out["restoring"] = (
        "int_a^inf sigma(1-sigma) = 1 - sigma(a); E sigma(-a) = (E[sigma(-a)+sigma(a)])/2",
        sp.nsimplify(sym / 2),
    )

    # drift = loss: int_0^inf log(1+e^{-(u+a)}) du = -Li_2(-e^{-a}); inversion formula
    L2 = sp.polylog(2, -sp.exp(-a))
    assert sp.simplify(sp.expand_func(sp.diff(-L2, a)) + sp.log(1 + sp.exp(-a))) == 0
    inversion = -(sp.pi**2) / 6 - a**2 / 2  # Li_2(-e^a) + Li_2(-e^-a)
    check = (sp.polylog(2, -sp.exp(a)) + L2 - inversion).subs(a, sp.Rational(7, 10))
    assert abs(sp.N(check, 30)) < 1e-25
    sym = -inversion / 2  # E[-Li_2(-e^{-a})] = E[-(Li_2(-e^a) + Li_2(-e^-a))]/2
    drift = sp.integrate(sym.subs(a, a_of_zeta) * gauss, (zeta, -sp.oo, sp.oo))
    out["drift"] = (
        "int_0^inf u sigma(-(u+a)) du = int_0^inf log(1+e^{-(u+a)}) du = -Li_2(-e^{-a}); "
        "Li_2(-e^a) + Li_2(-e^-a) = -pi^2/6 - a^2/2",
        sp.simplify(drift),
    )
    out["loss"] = out["drift"]

    # noise: antiderivative of sigma(-s)^2 is -(log(1+e^{-s}) - sigma(-s))
    G = -(sp.log(1 + sp.exp(-s)) - 1 / (1 + sp.exp(s)))
    assert sp.simplify(sp.diff(G, s) - (1 / (1 + sp.exp(s))) ** 2) == 0
    out["noise"] = (
        "int_a^inf sigma(-s)^2 ds = log(1+e^{-a}) - sigma(-a); E sigma(-a) = 1/2",
        sp.Symbol("E[log(1+exp(sqrt(2*Delta)*zeta))]") - sp.Rational(1, 2),
    )

    # error: int_0^inf 1[u + a < 0] du = (-a)_+ ; E[(-a)_+] for a ~ N(0, 2 Delta)
    err = sp.integrate(-a_of_zeta * gauss, (zeta, -sp.oo, 0))
    out["eps_g"] = ("int_0^inf 1[u + a < 0] du = max(-a, 0)", sp.simplify(err))
    return out


def polylog_moment_closed_form(n: int) -> sp.Expr:
    """Closed form of ``I_n[sigma(-s)] = n! E[-Li_{n+1}(-e^{a})]`` for odd ``n`` (a polynomial in Delta).

    From ``Li_s(-e^a) + (-1)^s Li_s(-e^{-a}) = -(2 pi i)^s/s! B_s(1/2 + a/(2 pi i))`` with even ``s = n+1``
    and the symmetry of ``a ~ N(0, 2 Delta)``.  (Used for drift moments ``I_n`` with ``n`` odd, i.e.
    ``binary_layer_moment("drift", n-1, ...)``.)

    >>> polylog_moment_closed_form(1)
    Delta/2 + pi**2/12
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1 or n % 2 == 0:
        raise InvalidInputError(f"n must be an odd integer >= 1, got {n!r}")
    a = sp.Symbol("a", real=True)
    Delta = sp.Symbol("Delta", positive=True)
    zeta = sp.Symbol("zeta", real=True)
    s = n + 1
    total = (
        -((2 * sp.pi * sp.I) ** s)
        / sp.factorial(s)
        * sp.bernoulli(s, sp.Rational(1, 2) + a / (2 * sp.pi * sp.I))
    )
    sym = sp.expand(-total / 2)  # E[-Li_s(-e^{a})] by symmetry of a
    gauss = sp.exp(-(zeta**2) / 2) / sp.sqrt(2 * sp.pi)
    val = sp.integrate(sp.expand(sym.subs(a, sp.sqrt(2 * Delta) * zeta) * gauss), (zeta, -sp.oo, sp.oo))
    return sp.expand(sp.simplify(sp.factorial(n) * val))


def binary_layer_moment_derivative(name: str, n: int, k: int, Delta, digits: int | None = None) -> mpmath.mpf:
    """``d^k/dDelta^k I_n[f_name](Delta)`` by the heat equation ``d_Delta W = d_v^2 W`` (``digits`` digits).

    ``W_n(v) = E[(v-a)_+^n]`` with ``Var a = 2 Delta`` solves ``d_Delta W = d_v^2 W``, so the k-th Delta
    derivative is ``int f(v) d_v^{2k} W_n(v) dv``: one quadrature, no numerical differentiation.

    >>> round(float(binary_layer_moment_derivative("drift", 0, 1, 0.3)), 13)   # d/dDelta (pi^2/12 + Delta/2)
    0.5
    """
    if name not in LOCAL_FUNCTIONS:
        raise InvalidInputError(f"unknown quantity {name!r}; expected one of {', '.join(QUANTITIES)}")
    for label, val in (("moment order", n), ("derivative order", k)):
        if isinstance(val, bool) or not isinstance(val, int) or val < 0:
            raise InvalidInputError(f"{label} must be an integer >= 0, got {val!r}")
    exact_real("Delta", Delta, nonnegative=True)
    digits = None if digits is None else check_digits(digits)
    if k > 0 and not exact_real("Delta", Delta) > 0:
        raise InvalidInputError(f"Delta must be > 0 for derivatives, got {Delta!r}")
    return _moment(name, n, k, Delta, digits)
