r"""Bayes-optimal and optimal-online references for K = 2 (the teacher-student perceptron).

For K = 2 the softmax teacher with Gaussian ``B`` labels an input by ``sign(h)``,
``h = (y_1 - y_2)/sqrt(2)``: a perceptron teacher ``(B_1 - B_2)/sqrt(2)`` with i.i.d. Gaussian weights
(norm^2 = N).  The student error ``eps_g = P[argmax z != c]`` is the perceptron misclassification.

**Batch Bayes-optimal (replica-symmetric state evolution).**  For a Gaussian prior and the noiseless
sign channel, with ``V = 1 - q`` the fixed point is

    q = qhat/(1 + qhat),   qhat = alpha E_xi sum_{y=+-1} Z_out(y) g_out(y)^2
                                = (2 alpha/V) int Dxi phi(x)^2 / Phi(x),   x = sqrt(q/V) xi,

and the Bayes-optimal error is ``arccos(sqrt(q))/pi``.  With ``xi = r x``, ``r = sqrt(V/q)`` the
integral is ``r K(r)``, ``K(r) = int dx phi(r x) phi(x)^2/Phi(x)``, which stays well conditioned as
``V -> 0``.  Large alpha: ``sqrt(V) ~ 1/(2 alpha K(0))`` so ``eps_g ~ kappa_B/alpha`` with
``kappa_B = 1/(2 pi K(0)) = 1/(sqrt(2 pi) I)``, ``I = int phi^2/Phi``.

**Optimal online (Kinouchi--Caticha).**  Update ``J += f(lambda, sigma) x/sqrt(N)``; maximising
``d rho/d alpha`` pointwise over ``f`` (``rho`` the normalised overlap) gives
``f = (sqrt(Q)/rho) E[u | lambda, sigma] - lambda`` and

    d rho/d alpha = (1 - rho^2)/rho * int Dlambda phi(x)^2/Phi(x),   x = rho lambda/sqrt(1 - rho^2),

i.e. ``(1 - rho^2)^(3/2)/rho^2 K(sqrt(1 - rho^2)/rho)``, with ``eps_g = arccos(rho)/pi``.  Large alpha:
``1 - rho ~ pi/(I alpha)^2``, ``eps_g ~ kappa_O/alpha``, ``kappa_O = sqrt(2/pi)/I = 2 kappa_B``.

The constants are not typed in: :func:`bayes_error` solves the state evolution, :func:`online_optimal_error`
integrates the online ODE, and :func:`large_alpha_constants` evaluates ``I`` by quadrature.  The tests
compare them with the published values 0.442 (Opper--Haussler) and 0.883 (Kinouchi--Caticha).

**K >= 3: not covered.**  The multi-class Bayes-optimal state evolution (argmax channel with K
Gaussian teacher fields, Cornacchia et al. 2023) needs (K-1)-dimensional orthant integrals of the
channel posterior; it is not implemented here.  What the toolkit offers for K >= 3 is only the
statement that any consistent estimator has error at best ``O(1/alpha)`` (the K = 2 sub-problem of two
classes already gives ``kappa_B/alpha``), not a computed curve.

>>> round(float(bayes_error(1.0)), 4)
0.2544
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import mpmath
import numpy as np
from scipy.integrate import quad, solve_ivp
from scipy.special import log_ndtr

from asymptotics.validation import (
    IntegrationError,
    InvalidInputError,
    check_digits,
    check_num_classes,
    exact_real,
    fraction_to_mpf,
)

__all__ = [
    "overlap_kernel",
    "bayes_overlap",
    "bayes_error",
    "gibbs_error",
    "online_optimal_error",
    "large_alpha_constants",
    "bayes_reference_curve",
]


def _kernel_float(r: float) -> float:
    if r > 1.0:  # x = w/r keeps the integrand's width O(1)

        def g(w):
            x = w / r
            return math.exp(-0.5 * w * w - x * x - log_ndtr(x)) / (2 * math.pi) ** 1.5 / r

        return (
            quad(g, -np.inf, 0.0, epsabs=0, epsrel=1e-13, limit=200)[0]
            + quad(g, 0.0, np.inf, epsabs=0, epsrel=1e-13, limit=200)[0]
        )

    def f(x):
        return math.exp(-0.5 * (r * x) ** 2 - x * x - log_ndtr(x)) / (2 * math.pi) ** 1.5

    return (
        quad(f, -np.inf, 0.0, epsabs=0, epsrel=1e-13, limit=200)[0]
        + quad(f, 0.0, np.inf, epsabs=0, epsrel=1e-13, limit=200)[0]
    )


def overlap_kernel(r, digits: int | None = None):
    """``K(r) = int dx phi(r x) phi(x)^2 / Phi(x)`` (float64 ~1e-13, or mpmath at ``digits``).

    >>> round(overlap_kernel(0.0) * math.sqrt(2 * math.pi), 6)   # = I = int phi^2/Phi
    0.903197
    """
    if digits is None:
        return _kernel_float(float(r))
    digits = check_digits(digits)
    with mpmath.workdps(digits + 10):
        r = mpmath.mpf(r)
        if r > 1:
            f = lambda w: mpmath.npdf(w) * mpmath.npdf(w / r) ** 2 / mpmath.ncdf(w / r) / r
        else:
            f = lambda x: mpmath.npdf(r * x) * mpmath.npdf(x) ** 2 / mpmath.ncdf(x)
        return mpmath.quad(f, [-mpmath.inf, -5, 0, 5, mpmath.inf])


def _qhat(q, V, alpha, digits):
    r = (V / q) ** 0.5 if digits is None else mpmath.sqrt(V / q)
    return 2 * alpha / V * r * overlap_kernel(r, digits)


@lru_cache(maxsize=256)
def _bayes_overlap_cached(alpha: float, digits):
    if digits is None:
        from scipy.optimize import brentq

        # unknown t = ln(V/q), V = 1 - q; the fixed point q/V = qhat written in logs
        def g(t):
            V, q = 1.0 / (1.0 + math.exp(-t)), 1.0 / (1.0 + math.exp(t))
            return -t - math.log(_qhat(q, V, alpha, None))

        return brentq(g, -150.0, 30.0, xtol=1e-14, rtol=1e-15)
    exact = Fraction(alpha)  # alpha is the exact rational "p/q"
    with mpmath.workdps(digits + 10):
        a = fraction_to_mpf(exact)

        def g(t):
            q, V = 1 / (1 + mpmath.exp(t)), 1 / (1 + mpmath.exp(-t))
            return -t - mpmath.log(_qhat(q, V, a, digits))

        t0 = mpmath.mpf(_bayes_overlap_cached(float(exact), None))
        return mpmath.findroot(g, t0, tol=mpmath.mpf(10) ** (-digits - 4))


def bayes_overlap(alpha, digits: int | None = None):
    """Fixed point ``q(alpha)`` of the Bayes-optimal state evolution (float64 ~1e-12, or ``digits``).

    With ``digits`` the result is an ``mpmath.mpf`` carrying ``digits + 10`` digits of working precision.

    >>> round(float(bayes_overlap(2.0)), 6)
    0.728298
    """
    t = _bayes_t(alpha, digits)
    if digits is None:
        return 1.0 / (1.0 + math.exp(t))
    with mpmath.workdps(digits + 10):
        return 1 / (1 + mpmath.exp(t))


def _bayes_t(alpha, digits):
    q = exact_real("alpha", alpha, positive=True)
    if digits is None:
        return _bayes_overlap_cached(float(q), None)
    return _bayes_overlap_cached(f"{q.numerator}/{q.denominator}", check_digits(digits))


def bayes_error(alpha, digits: int | None = None):
    """Bayes-optimal generalization error ``arccos(sqrt(q))/pi`` at ``alpha`` (K = 2).

    Accurate to the precision of the overlap (see :func:`bayes_overlap`).

    >>> round(float(bayes_error(10.0)), 5)
    0.04357
    """
    t = _bayes_t(alpha, digits)
    # arccos(sqrt(q)) = arcsin(sqrt(V)), V = 1 - q, avoids cancellation near q = 1
    if digits is None:
        return math.asin(math.sqrt(1.0 / (1.0 + math.exp(-t)))) / math.pi
    with mpmath.workdps(digits + 10):
        return mpmath.asin(mpmath.sqrt(1 / (1 + mpmath.exp(-t)))) / mpmath.pi


def gibbs_error(alpha) -> float:
    """Gibbs-learning error ``arccos(q)/pi`` (a typical posterior sample; float64).

    >>> bayes_error(5.0) < gibbs_error(5.0)
    True
    """
    t = _bayes_t(alpha, None)
    V = 1.0 / (1.0 + math.exp(-t))
    # arccos(1 - V) = 2 arcsin(sqrt(V/2))
    return 2.0 * math.asin(math.sqrt(V / 2.0)) / math.pi


def online_optimal_error(alphas, *, rtol: float = 1e-11):
    """Optimal online learning curve ``arccos(rho(alpha))/pi`` at increasing ``alphas`` (float64).

    Integrates ``s = 1 - rho^2`` in ``ln alpha`` from the small-alpha solution ``rho^2 = 2 alpha/pi``
    (relative accuracy ~ ``rtol`` plus ~1e-12 from the kernel quadrature).

    >>> [round(x, 4) for x in online_optimal_error([1.0, 10.0])]
    [0.2711, 0.0712]
    """
    a = np.asarray(alphas, dtype=float).ravel()
    if a.size == 0 or np.any(a <= 0) or np.any(np.diff(a) <= 0):
        raise InvalidInputError("alphas must be positive and strictly increasing")
    a0 = min(1e-8, a[0] / 10)

    def rhs(x, y):
        s = math.exp(y[0])  # s = 1 - rho^2
        rho = math.sqrt(1.0 - s)
        r = math.sqrt(s) / rho
        # d rho/d alpha = s^(3/2)/rho^2 K(r);  d ln s/d ln alpha = -2 rho alpha (d rho/d alpha)/s
        drho = s**1.5 / rho**2 * _kernel_float(r)
        return [-2.0 * rho * math.exp(x) * drho / s]

    y0 = [math.log1p(-2 * a0 / math.pi)]
    sol = solve_ivp(
        rhs, (math.log(a0), math.log(a[-1])), y0, method="DOP853", t_eval=np.log(a), rtol=rtol, atol=1e-14
    )
    if not sol.success:
        raise IntegrationError(f"optimal-online ODE failed: {sol.message}")
    s = np.exp(sol.y[0])
    return (np.arcsin(np.sqrt(s)) / math.pi).tolist()


def large_alpha_constants(digits: int = 15) -> dict:
    """Large-alpha constants ``eps_g ~ kappa/alpha`` derived from the state evolution / online ODE.

    ``I = int phi^2/Phi`` by quadrature at ``digits``; ``kappa_bayes = 1/(sqrt(2 pi) I)``,
    ``kappa_online = sqrt(2/pi)/I``, ``kappa_gibbs = sqrt(2) kappa_bayes`` (Gibbs: ``arccos(q)`` with the
    same q).

    >>> c = large_alpha_constants()
    >>> round(float(c["kappa_online"] / c["kappa_bayes"]), 12)
    2.0
    """
    digits = check_digits(digits)
    with mpmath.workdps(digits + 10):
        I = overlap_kernel(0, digits) * mpmath.sqrt(2 * mpmath.pi)
        kb = 1 / (mpmath.sqrt(2 * mpmath.pi) * I)
        return {
            "I": I,
            "kappa_bayes": kb,
            "kappa_online": mpmath.sqrt(2 / mpmath.pi) / I,
            "kappa_gibbs": mpmath.sqrt(2) * kb,
        }


def bayes_reference_curve(alphas, K: int = 2) -> dict:
    """Bayes-optimal and optimal-online eps_g on ``alphas`` (K = 2 only), for plots next to SGD curves.

    >>> d = bayes_reference_curve([10.0, 100.0])
    >>> d["eps_bayes"][1] < d["eps_online"][1]
    True
    """
    check_num_classes(K, maximum=2)
    a = [float(x) for x in alphas]
    return {"alpha": a, "eps_bayes": [bayes_error(x) for x in a], "eps_online": online_optimal_error(a)}
