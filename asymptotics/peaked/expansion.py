"""Low-temperature expansion of the peaked-distribution mechanism, derived with SymPy.

Write ``<ln Z> = beta c0 + E ln(1 + S)``, ``S = sum_j exp(-beta g_j)`` with ``g_j`` the gaps below the top
logit and ``c0 = E[max h]``.  Decompose ``ln(1 + sum_j a_j)`` over subsets of classes (Moebius
inversion): ``sum_j f1(a_j) + sum_{j<k} B2(a_j, a_k) + ...`` with ``f1 = ln(1+a)`` and
``B2(a, b) = ln(1+a+b) - ln(1+a) - ln(1+b)``.  A term with k gaps needs all k gaps to be O(1/beta):
its weight is the joint density of k labelled gaps at zero, times ``beta^-k``.  Near-ties are not
linearised: the kernel integrals are exact,

    int_0^inf x^k ln(1 + e^-x) dx = k! eta(k+2)                         (Dirichlet eta),
    I3 = int int_0^inf B2(e^-x, e^-y) dx dy = -5 zeta(3)/12            (identified by PSLQ, 30 digits),

so that ``<ln Z> = beta c0 + c2/beta + c3/beta^2 + O(beta^-3)`` with

    c2 = eta(2) rho(0) = (pi^2/12) rho_n(0),
    c3 = eta(3) q'(0) + binom(n-1, 2) rho_2(0, 0) I3 = tau3 zeta(3)/6,

``q'(0) = n(n-1) int y phi^2 Phi^(n-2)`` the slope of the labelled-gap density (equal to ``tau3/2`` by
parts) and ``tau3 = n(n-1)(n-2) int phi^3 Phi^(n-3)`` the density of three-way ties; the densities
come from :mod:`asymptotics.asymptotic.gap_density`.  Hence ``F = -c0 - c2/beta^2 - c3/beta^3``,
``U = -c0 + c2/beta^2 + 2 c3/beta^3``, and in the intermediate regime ``L = c2/beta``,
``beta^3 = 3 c2 tau/(n-1)``, ``L tau^(1/3) -> c2^(2/3) ((n-1)/3)^(1/3)``; a gap density
``rho(g) ~ g^k`` gives ``L ~ tau^(-(k+1)/(k+3))``.

>>> coefficients(2)["c3"] == 0
True
>>> round(float(coefficients(3)["c2"]), 10)   # (pi^2/12) * 3/(2 sqrt(pi))
0.6960409996
"""

from __future__ import annotations

import math
from functools import lru_cache

import mpmath
import sympy as sp

from asymptotics.asymptotic.gap_density import (
    expected_maximum,
    gap_joint_derivative,
    labelled_gap_density_derivative,
    top_gap_density_at_zero,
)
from asymptotics.validation import check_digits, check_num_classes

__all__ = [
    "eta_kernel_integral",
    "pair_kernel_integral",
    "coefficients",
    "expansion_sympy",
    "gap_power_exponent",
    "intermediate_prefactor",
    "slope_corrections",
    "regimes",
]

beta, beta_s, tau, n_sym, k_sym = sp.symbols("beta beta_star tau n k", positive=True)
c0, c2 = sp.symbols("c_0 c_2", positive=True)
c3 = sp.Symbol("c_3", real=True)


def eta_kernel_integral(k: int) -> sp.Expr:
    """``int_0^inf x^k ln(1 + e^-x) dx`` derived term by term from ``ln(1+u) = sum (-1)^(j+1) u^j/j``.

    >>> eta_kernel_integral(1)
    3*zeta(3)/4
    """
    x = sp.Symbol("x", positive=True)
    j = sp.Symbol("j", integer=True, positive=True)
    term = sp.integrate(x**k * sp.exp(-j * x), (x, 0, sp.oo))  # k!/j^(k+1)
    total = sp.Sum((-1) ** (j + 1) / j * term, (j, 1, sp.oo)).doit()
    return sp.simplify(
        sp.nsimplify(total.rewrite(sp.zeta)) if total.has(sp.polylog) else total.rewrite(sp.zeta)
    )


def pair_kernel_integral(digits: int = 20):
    """``I3 = int int_{[0,inf)^2} [ln(1+e^-x+e^-y) - ln(1+e^-x) - ln(1+e^-y)] dx dy`` (mpmath,
    ``digits`` significant digits; 2-D tanh-sinh in ``a = e^-x``, ``b = e^-y``).

    Equals ``-5 zeta(3)/12`` (PSLQ; checked to 30 digits in the tests).

    >>> round(float(pair_kernel_integral(6)), 5)
    -0.50086
    """
    digits = check_digits(digits)
    with mpmath.workdps(digits + 8):
        f = lambda a, b: (mpmath.log(1 + a + b) - mpmath.log1p(a) - mpmath.log1p(b)) / (a * b)
        val = mpmath.quad(f, [0, 1], [0, 1])
    return +val


@lru_cache(maxsize=256)
def coefficients(n: int, digits: int = 15) -> dict:
    """Numerical coefficients for n i.i.d. logits (mpf, ``digits`` significant digits).

    Keys: ``c0`` (E[max]), ``rho0`` (top-gap density at 0), ``c2``, ``q1`` (labelled-gap density slope),
    ``tau3`` (three-way tie density), ``c3`` (next coefficient), ``c3_two_way`` and ``c3_three_way`` (its
    two parts), ``prefactor`` (limit of L tau^(1/3)).

    >>> round(float(coefficients(3)["c3"]), 8)
    0.11045478
    """
    n = check_num_classes(n)
    digits = check_digits(digits)
    with mpmath.workdps(digits + 5):
        rho0 = top_gap_density_at_zero(n, digits + 3)
        cmax = expected_maximum(n, digits + 3)
        q1 = labelled_gap_density_derivative(n, 1, digits + 3) if n > 2 else mpmath.mpf(0)
        pair = (
            mpmath.binomial(n - 1, 2) * gap_joint_derivative(n, (0, 0), digits + 3)
            if n > 2
            else mpmath.mpf(0)
        )
        eta2 = mpmath.pi**2 / 12
        eta3 = 3 * mpmath.zeta(3) / 4
        I3 = -5 * mpmath.zeta(3) / 12
        c2v = eta2 * rho0
        two, three = eta3 * q1, pair * I3
        out = {
            "c0": cmax,
            "rho0": rho0,
            "c2": c2v,
            "q1": q1,
            "tau3": 2 * pair,
            "c3_two_way": two,
            "c3_three_way": three,
            "c3": two + three,
            "prefactor": c2v ** (mpmath.mpf(2) / 3) * (mpmath.mpf(n - 1) / 3) ** (mpmath.mpf(1) / 3),
        }
    with mpmath.workdps(digits):  # round to the requested digits, not to the caller's context
        return {k: +v for k, v in out.items()}


def expansion_sympy() -> dict:
    """Symbolic low-temperature forms: ``lnZ``, ``F``, ``U``, ``L`` (aligned loss), ``dbeta_dtau``,
    the intermediate-regime solution ``beta_intermediate`` and ``L_intermediate(tau)``.

    >>> e = expansion_sympy()
    >>> e["U"]
    -c_0 + c_2/beta**2 + 2*c_3/beta**3
    >>> e["L_intermediate"]
    3**(2/3)*c_2**(2/3)/(3*tau**(1/3)*(1/(n - 1))**(1/3))
    """
    A = beta * c0 + c2 / beta + c3 / beta**2
    F = sp.expand(-A / beta)
    U = sp.expand(sp.diff(beta * F, beta))
    As = A.subs(beta, beta_s)
    L = A - As - (beta - beta_s) * sp.diff(A, beta).subs(beta, beta_s)
    dbeta = sp.simplify(-sp.diff(L, beta) / (n_sym - 1))
    # intermediate regime: beta << beta*, leading term
    lead = sp.limit(dbeta * beta**2, beta_s, sp.oo)
    lead = sp.limit(lead.subs(c3, 0), beta, sp.oo) if lead.has(beta) else lead.subs(c3, 0)
    # separate variables: int_0^b b'^2 db' = lead * tau
    bsym = sp.Symbol("b", positive=True)
    b_int = sp.solve(sp.Eq(sp.integrate(bsym**2, (bsym, 0, bsym)), lead * tau), bsym)[0]
    L_int = sp.simplify(c2 / b_int)
    return {
        "lnZ": A,
        "F": F,
        "U": U,
        "L": sp.simplify(L),
        "dbeta_dtau": dbeta,
        "beta_intermediate": sp.simplify(b_int),
        "L_intermediate": L_int,
    }


def gap_power_exponent() -> dict:
    """For a gap density ``rho(g) = r g^k``: ``excess = E ln(1+e^-beta g)``, ``-dL/dbeta`` and the loss
    exponent ``L ~ tau^-(k+1)/(k+3)``, derived with SymPy for symbolic k.

    >>> gap_power_exponent()["exponent"]
    (-k - 1)/(k + 3)
    """
    r, x = sp.symbols("r x", positive=True)
    # int_0^inf r g^k ln(1+e^{-beta g}) dg = r beta^{-(k+1)} Gamma(k+1) eta(k+2)
    excess = r * beta ** (-(k_sym + 1)) * sp.gamma(k_sym + 1) * sp.Symbol("eta_{k+2}", positive=True)
    force = sp.simplify(-sp.diff(excess, beta))  # = -dL/dbeta for beta << beta*
    p = sp.Symbol("p", positive=True)
    # beta ~ tau^p solves dbeta/dtau ∝ beta^-(k+2):  p - 1 = -(k+2) p
    p_sol = sp.solve(sp.Eq(p - 1, -(k_sym + 2) * p), p)[0]
    exponent = sp.simplify(-(k_sym + 1) * p_sol)
    return {"excess": excess, "force": force, "beta_exponent": p_sol, "exponent": exponent}


def intermediate_prefactor(n: int, digits: int = 15):
    """Limit of ``L tau^(1/3)`` in the intermediate regime: ``c2^(2/3) ((n-1)/3)^(1/3)`` (mpf).

    >>> round(float(intermediate_prefactor(2)), 10)
    0.4155806236
    """
    return coefficients(n, digits)["prefactor"]


def slope_corrections() -> dict:
    """First corrections to the local slope ``d ln L/d ln tau = -1/3 + ...`` (SymPy).

    ``near_tie``: coefficient of c3/(c2 beta) (it vanishes: the c3 terms of L, of the force and of tau
    cancel at first order); ``saturation``: coefficient of beta/beta* (= -2/3).

    >>> slope_corrections()
    {'near_tie': 0, 'saturation': -2/3}
    """
    e = sp.Symbol("epsilon", positive=True)  # 1/beta
    d = sp.Symbol("delta", positive=True)  # beta/beta*
    b = 1 / e
    bs = b / d
    A = lambda x: x * c0 + c2 / x + c3 / x**2
    dA = lambda x: c0 - c2 / x**2 - 2 * c3 / x**3
    L = A(b) - A(bs) - (b - bs) * dA(bs)
    force = dA(bs) - dA(b)  # -dL/dbeta  (times n-1: dbeta/dtau)
    # tau(beta) = (n-1) int_0^beta db'/force(b'); leading two orders in 1/beta, beta* -> inf
    bb = sp.Symbol("b", positive=True)
    f_inf = c2 / bb**2 + 2 * c3 / bb**3
    integrand = sp.series(1 / f_inf, bb, sp.oo, 3).removeO()
    tau_expr = sp.integrate(integrand, bb).subs(bb, b)
    slope_inf = sp.series(
        sp.simplify(-tau_expr * (c2 * e**2 + 2 * c3 * e**3) ** 2 / (c2 * e + c3 * e**2)), e, 0, 2
    ).removeO()
    near = sp.simplify(sp.expand(slope_inf).coeff(e, 1) * c2 / c3)
    # saturation at c3 = 0: exact in delta to first order
    Ld = sp.simplify((L.subs(c3, 0)) / (c2 * e))
    fd = sp.simplify(force.subs(c3, 0) / (c2 * e**2))
    # tau = int_0^beta b'^2 db'/(c2 (1 - b'^2/beta*^2)) -> beta^3/(3 c2) (1 + O(delta^2))
    slope_d = sp.series(-sp.Rational(1, 3) * fd**2 / Ld, d, 0, 2).removeO()
    sat = sp.simplify(slope_d.coeff(d, 1))
    return {"near_tie": near, "saturation": sat}


def regimes(n: int, beta_star: float, tol: float = 5e-3) -> dict:
    """Regime boundaries in beta (floats).

    * ``high_temperature``: beta* below c0 -- flat target, exponential convergence, no power law;
    * ``intermediate``: (beta_lo, beta_hi) where the two leading slope corrections are each below
      tol/2: saturation ``(2/3) beta/beta* < tol/2`` and the second-order near-tie term
      ``(c3/(c2 beta))^2 < tol/2``;
    * ``saturation``: beta within a factor 3 of beta* (exponential approach).

    >>> r = regimes(128, 1e4)
    >>> round(r["intermediate"][0], 2), round(r["intermediate"][1], 2)
    (22.18, 37.5)
    """
    co = coefficients(n)
    c0v, c2v, c3v = float(co["c0"]), float(co["c2"]), float(co["c3"])
    lo = abs(c3v) / c2v / math.sqrt(tol / 2) if c3v else c0v
    hi = 0.75 * tol * beta_star
    return {
        "c0": c0v,
        "high_temperature": beta_star < c0v,
        "intermediate": (lo, hi),
        "has_intermediate": hi > lo and beta_star > c0v,
        "saturation": beta_star / 3,
    }
