"""The reduced (D, Delta) flow at late times and its fixed point.

Inserting the 1/D expansion (:mod:`asymptotics.asymptotic.expansion`) into the exact flow ::

    dD/dalpha     = eta/(K-1) * drift
    dDelta/dalpha = eta/(K-1) * (-2 Delta restoring + eta noise)

gives at leading order (``q_0 = rho_K(0)``, restoring ``q_0 * 2J/D = q_0/D``, noise ``2 q_0 B/D``) ::

    dD/dalpha     = eta rho_K(0) A(Delta) / ((K-1) D^2),          A = pi^2/12 + Delta/2
    dDelta/dalpha = 2 eta rho_K(0) [eta B(Delta) - Delta] / ((K-1) D)

so ``Delta`` relaxes on the scale ``D/eta`` to the root of ``Delta = eta B(Delta)`` while ``D`` grows on the
scale ``D^3/eta``.  ``B(Delta) = E log(1 + e^{sqrt(2 Delta) zeta}) - 1/2`` is evaluated as a 1-D Gaussian
integral at the working precision, so :func:`fixed_point_Delta` is correct to any requested precision.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp
from scipy.optimize import brentq

from asymptotics.asymptotic.expansion import expansion_sympy
from asymptotics.asymptotic.expansion_domain import (
    LEADING_K_MAX,
    check_eta,
    check_expansion_digits,
    exact_key,
)
from asymptotics.asymptotic.gap_density import top_gap_density_at_zero
from asymptotics.validation import (
    InvalidInputError,
    check_digits,
    check_num_classes,
    check_positive,
    exact_real,
    fraction_to_mpf,
)

__all__ = [
    "noise_function",
    "noise_function_float",
    "fixed_point_Delta",
    "fixed_point_Delta_float",
    "leading_prefactors",
    "reduced_flow_sympy",
]


def _noise_function_mp(Delta):
    """B(Delta) at the current precision (1-D Gaussian integral of softplus, split at the origin)."""
    if Delta == 0:
        return mpmath.log(2) - mpmath.mpf(1) / 2
    a = mpmath.sqrt(2 * Delta)

    def f(z):
        x = a * z
        sp_ = x + mpmath.log1p(mpmath.exp(-x)) if x > 0 else mpmath.log1p(mpmath.exp(x))
        return sp_ * mpmath.npdf(z)

    return mpmath.quad(f, [-mpmath.inf, -4, 0, 4, mpmath.inf]) - mpmath.mpf(1) / 2


def noise_function(Delta, digits: int = 15) -> mpmath.mpf:
    """``B(Delta) = E log(1 + e^{sqrt(2 Delta) zeta}) - 1/2`` to ``digits`` digits.

    >>> mpmath.nstr(noise_function(0), 15)   # ln 2 - 1/2
    '0.193147180559945'
    """
    q = exact_real("Delta", Delta, nonnegative=True)
    digits = check_digits(digits)
    with mpmath.workdps(digits + 10):
        return _noise_function_mp(fraction_to_mpf(q))


def _noise_derivative_mp(Delta):
    """B'(Delta) = E[sigma(a) sigma(-a)] (heat equation: d/dDelta E f(a) = E f''(a) for Var a = 2 Delta)."""
    a = mpmath.sqrt(2 * Delta)

    def f(z):
        x = a * z
        return mpmath.npdf(z) / (2 + 2 * mpmath.cosh(x))

    return mpmath.quad(f, [-mpmath.inf, -4, 0, 4, mpmath.inf])


@functools.lru_cache(maxsize=512)
def _fixed_point_cached(eta_key: str, digits: int):
    # Newton iteration on Delta - eta B(Delta), started from the float64 root; eta_key is the exact
    # rational "p/q".  Iterate until the step is below 10^-(digits+8) relative: the convergence is
    # quadratic, but the float64 start is only ~1e-14 accurate (less for large eta), so at least two
    # steps are always taken
    eta_q = Fraction(eta_key)
    d = fixed_point_Delta_float(float(eta_q))
    with mpmath.workdps(digits + 15):
        eta = fraction_to_mpf(eta_q)
        d = mpmath.mpf(d)
        tol = mpmath.mpf(10) ** (-(digits + 8))
        for _ in range(40):
            step = (d - eta * _noise_function_mp(d)) / (1 - eta * _noise_derivative_mp(d))
            d -= step
            # quadratic convergence: the error after this step is ~ (step/d)^2 relative
            if abs(step) < tol * d or (step / d) ** 2 < tol * mpmath.mpf("1e-3"):
                break
        else:
            raise ArithmeticError(f"Newton iteration for Delta* did not converge (eta = {eta_key})")
        return d


def _gl_nodes():
    # Gauss-Legendre on [-12, 12] split at 0 and +-4 (softplus(sqrt(2 Delta) zeta) bends at zeta = 0);
    # weights normalised to total mass 1 (the Gaussian mass beyond +-12 is 2e-33)
    x, w = np.polynomial.legendre.leggauss(40)
    xs, ws = [], []
    for a, b in ((-12.0, -4.0), (-4.0, 0.0), (0.0, 4.0), (4.0, 12.0)):
        xs.append(0.5 * (b - a) * x + 0.5 * (a + b))
        ws.append(0.5 * (b - a) * w)
    z = np.concatenate(xs)
    wz = np.concatenate(ws) * np.exp(-0.5 * z * z)
    return z, wz / wz.sum()


_Z, _WZ = _gl_nodes()
_B0 = math.log(2.0) - 0.5


def noise_function_float(Delta):
    """``B(Delta)`` in float64 for a float or an array: the fast version (ODE right-hand sides).

    Below ``Delta = 1e-3`` (float input) the Taylor series ``ln 2 - 1/2 + Delta/4 - Delta^2/16 +
    Delta^3/24 - 17 Delta^4/384``; otherwise 160-node Gauss--Legendre in ``zeta`` on ``[-12, 12]``
    (panels split at 0 and +-4).  Relative accuracy ~5e-15 for ``0 <= Delta <= 30``, ~2e-14 at
    ``Delta = 100`` (checked against :func:`noise_function`).

    >>> round(noise_function_float(0.0), 12) == round(math.log(2) - 0.5, 12)
    True
    >>> abs(noise_function_float(2.0) / float(noise_function(2.0)) - 1) < 1e-13
    True
    """
    if isinstance(Delta, float) and 0.0 <= Delta < 1e-3:
        return _B0 + Delta * (0.25 + Delta * (-0.0625 + Delta * (1 / 24 - Delta * (17 / 384))))
    d = np.asarray(Delta, dtype=float)
    x = np.sqrt(2.0 * np.maximum(d, 0.0))[..., None] * _Z
    val = np.logaddexp(0.0, x) @ _WZ - 0.5
    return float(val) if np.ndim(Delta) == 0 else val


def fixed_point_Delta_float(eta) -> float:
    """Root ``Delta*`` of ``Delta = eta B(Delta)`` in float64 (Brent on :func:`noise_function_float`).

    Relative accuracy ~1e-14; the start of :func:`fixed_point_Delta`.

    >>> round(fixed_point_Delta_float(1.0), 6)
    0.252918
    >>> abs(fixed_point_Delta_float(1e-6) / 1e-6 - (math.log(2) - 0.5)) < 1e-6
    True
    """
    eta = float(check_positive("eta", eta))
    hi = eta
    while hi - eta * noise_function_float(hi) <= 0:
        hi *= 2.0
    return brentq(lambda d: d - eta * noise_function_float(d), 0.0, hi, xtol=1e-300, rtol=1e-14)


def fixed_point_Delta(eta, digits: int = 15) -> mpmath.mpf:
    """Root ``Delta*`` of ``Delta = eta B(Delta)``, correct to ``digits`` significant digits.

    ``eta`` may be a decimal string or a fraction and is used exactly (``"0.1"`` is one tenth);
    domain :data:`~asymptotics.asymptotic.expansion_domain.ETA_MIN` ``<= eta <=``
    :data:`~asymptotics.asymptotic.expansion_domain.ETA_MAX`, ``digits <=``
    :data:`~asymptotics.asymptotic.expansion_domain.DIGITS_MAX`.

    >>> mpmath.nstr(fixed_point_Delta(1), 15)
    '0.252918096760311'
    >>> mpmath.nstr(fixed_point_Delta("0.1", 30), 12)      # eta = 1/10 exactly
    '0.0198074847905'
    """
    eta_q = check_eta(eta)
    digits = check_expansion_digits(digits)
    return _fixed_point_cached(exact_key(eta_q), digits)


def leading_prefactors(K: int, eta, digits: int = 15) -> dict:
    """Leading late-time constants at fixed ``eta``, each to ``digits`` significant digits.

    Returns ``rho0``, ``Delta_star``, ``A_star = pi^2/12 + Delta*/2`` and the prefactors of
    ``D ~ C_D alpha^(1/3)``, ``eps_g ~ C_eps alpha^(-1/3)``, ``L ~ C_L alpha^(-1/3)`` with
    ``C_D^3 = 3 eta rho0 A*/(K-1)``, ``C_eps = rho0 sqrt(Delta*/pi)/C_D``, ``C_L = rho0 A*/C_D``.

    >>> c = leading_prefactors(3, 1)
    >>> [mpmath.nstr(c[k], 6) for k in ("C_D", "C_eps", "C_L")]
    ['1.06401', '0.225676', '0.754748']
    """
    K = check_num_classes(K, maximum=LEADING_K_MAX)
    eta_q = check_eta(eta)
    digits = check_expansion_digits(digits)
    with mpmath.workdps(digits + 10):
        eta_mp = fraction_to_mpf(eta_q)
        rho0 = top_gap_density_at_zero(K, digits + 10)
        d_star = _fixed_point_cached(exact_key(eta_q), digits + 5)
        a_star = mpmath.pi**2 / 12 + d_star / 2
        c_d = mpmath.cbrt(3 * eta_mp * rho0 * a_star / (K - 1))
        return {
            "rho0": +rho0,
            "Delta_star": +d_star,
            "A_star": +a_star,
            "C_D": +c_d,
            "C_eps": rho0 * mpmath.sqrt(d_star / mpmath.pi) / c_d,
            "C_L": rho0 * a_star / c_d,
        }


def reduced_flow_sympy(K: int, order: int = 0):
    """The reduced flow ``(dD/dalpha, dDelta/dalpha)`` at the given 1/D order as SymPy expressions.

    At order 0 the closed forms ``A = pi^2/12 + Delta/2``, ``2J = 1`` are inserted and ``B(Delta)`` stays a
    named function; higher orders keep the coefficient functions of
    :func:`~asymptotics.asymptotic.expansion.expansion_sympy` unevaluated.

    >>> dD, dDelta = reduced_flow_sympy(3)
    >>> dD
    eta*rho_K(0)*(6*Delta + pi**2)/(24*D**2)
    """
    K = check_num_classes(K)
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise InvalidInputError(f"order must be an integer >= 0, got {order!r}")
    D, Delta, eta = sp.symbols("D Delta eta", positive=True)
    rho0 = sp.Symbol("rho_K(0)", positive=True)
    if order == 0:
        A = sp.pi**2 / 12 + Delta / 2
        B = sp.Function("B")(Delta)
        dD = eta / (K - 1) * rho0 * A / D**2
        dDelta = eta / (K - 1) * (-2 * Delta * rho0 / D + eta * 2 * rho0 * B / D)
        return sp.simplify(dD), sp.factor(dDelta)
    drift = expansion_sympy(K, "drift", order)
    rest = expansion_sympy(K, "restoring", order)
    noise = expansion_sympy(K, "noise", order)
    return eta / (K - 1) * drift, eta / (K - 1) * (-2 * Delta * rest + eta * noise)
