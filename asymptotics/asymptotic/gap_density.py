"""Teacher gap densities at the decision boundary, to any precision and in closed form.

With ``y_1..y_K`` i.i.d. N(0, 1) and ``c = argmax y``, the *top gap* ``g = y_(1) - y_(2)`` has density ::

    rho_K(g) = K (K-1) int phi(y + g) phi(y) Phi(y)^(K-2) dy,

so ``rho_K^(n)(0) = (-1)^n K (K-1) int He_n(y) phi(y)^2 Phi(y)^(K-2) dy`` (``He_n`` the probabilists'
Hermite polynomials, ``phi^(n) = (-1)^n He_n phi``).  By Stein's lemma ``E[max_k y_k] = rho_K(0)``.

The boundary-layer expansion needs the *joint* density of ``m`` labelled gaps ``g_j = y_c - y_j``
(``j`` in a fixed set of ``m`` non-winning classes).  Given the winner's value ``t`` the other classes are
i.i.d. below ``t``, hence ::

    rho_m(g_1..g_m) = K int phi(t) prod_j phi(t - g_j) Phi(t)^(K-1-m) dt,
    d^a rho_m / dg^a (0) = K int phi(t)^(m+1) prod_j He_{a_j}(t) Phi(t)^(K-1-m) dt

(:func:`gap_joint_derivative`).  For ``m = 1`` summed over the ``K-1`` classes this is the density of a
*labelled* gap, which differs from the top-gap density at odd orders: the difference is the three-class
junction (two gaps small at once).

Numerics: every quantity is a 1-D integral ``int P(t) phi(t)^a Phi(t)^b dt`` evaluated by mpmath
tanh-sinh quadrature inside ``workdps(digits + guard)``, with the range split around the peak of
``phi^a Phi^b`` (near ``sqrt(2 ln b)`` for large ``b``) on the scale of its width, so that ``K`` up to
``10^5`` and beyond is handled.  Results are correct to the requested ``digits`` (relative), checked
against the SymPy closed forms for ``K = 2, 3, 4`` and against the independent formula
``E[max] = K int y phi Phi^(K-1) dy``.
"""

from __future__ import annotations

import functools
import math

import mpmath
import sympy as sp

from asymptotics.validation import InvalidInputError, check_digits, check_num_classes

__all__ = [
    "top_gap_density_at_zero",
    "top_gap_density_derivative",
    "labelled_gap_density_derivative",
    "gap_joint_derivative",
    "expected_maximum",
    "top_gap_density_closed_form",
    "top_gap_density_sympy",
]


def _check_order(name: str, n) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InvalidInputError(f"{name} must be an integer >= 0, got {n!r}")
    return n


def _guard(K: int) -> int:
    return 12 + int(math.log10(K + 1))


def _peak_and_width(a: int, b: int):
    """Peak and width of ``phi(t)^a Phi(t)^b`` (current mpmath precision, low accuracy suffices)."""
    with mpmath.workdps(20):
        if b == 0:
            return mpmath.mpf(0), 1 / mpmath.sqrt(a)

        def slope(t):
            return -a * t + b * mpmath.npdf(t) / mpmath.ncdf(t)

        hi = mpmath.sqrt(2 * mpmath.log(b + 1)) + 2
        lo = mpmath.mpf(-1)
        for _ in range(200):  # bisection: slope is decreasing
            mid = (lo + hi) / 2
            if slope(mid) > 0:
                lo = mid
            else:
                hi = mid
        t0 = (lo + hi) / 2
        r = mpmath.npdf(t0) / mpmath.ncdf(t0)
        curvature = a + b * (t0 * r + r * r)
        return t0, 1 / mpmath.sqrt(curvature)


def _gauss_power_integral(poly_coeffs, a: int, b: int):
    """``int P(t) phi(t)^a Phi(t)^b dt`` at the current precision (P given by ascending coefficients)."""
    t0, w = _peak_and_width(a, b)
    offsets = [-60, -30, -15, -8, -4, -2, -1, 0, 1, 2, 4, 8, 15, 30]
    points = [-mpmath.inf] + [t0 + k * w for k in offsets] + [mpmath.inf]

    def integrand(t):
        p = mpmath.polyval(list(reversed(poly_coeffs)), t) if len(poly_coeffs) > 1 else poly_coeffs[0]
        return p * mpmath.npdf(t) ** a * mpmath.ncdf(t) ** b

    return mpmath.quad(integrand, points)


def _hermite_coeffs(n: int):
    """Ascending integer coefficients of the probabilists' Hermite polynomial He_n."""
    t = sp.Symbol("t")
    poly = sp.Poly(sp.hermite_prob(n, t), t)
    return [int(c) for c in reversed(poly.all_coeffs())]


def _poly_mul(p, q):
    out = [0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] += a * b
    return out


@functools.lru_cache(maxsize=4096)
def _joint_derivative_cached(K: int, orders: tuple, digits: int):
    m = len(orders)
    poly = [1]
    for n in orders:
        poly = _poly_mul(poly, _hermite_coeffs(n))
    if K - 1 - m == 0 and sum(orders) % 2 == 1:
        return mpmath.mpf(0)  # odd polynomial against the even phi^(m+1): exactly zero
    with mpmath.workdps(digits + _guard(K) + 2 * sum(orders)):
        value = K * _gauss_power_integral(poly, m + 1, K - 1 - m)
    return value


def gap_joint_derivative(K: int, orders, digits: int = 15) -> mpmath.mpf:
    """Mixed derivative ``d^a rho_m/dg^a`` at 0 of the joint density of ``m = len(orders)`` labelled gaps.

    ``orders = (a_1, ..., a_m)``; ``m <= K-1``.  Value for *one* fixed set of ``m`` classes (multiply by
    ``binomial(K-1, m)`` to sum over sets).  Accurate to ``digits`` significant digits.

    >>> float(gap_joint_derivative(3, (0, 0)))   # 3 int phi^3 = sqrt(3)/(2 pi)
    0.27566444771089604
    """
    K = check_num_classes(K)
    digits = check_digits(digits)
    orders = tuple(
        _check_order("derivative order", int(n))
        if isinstance(n, int)
        else _check_order("derivative order", n)
        for n in orders
    )
    if not 1 <= len(orders) <= K - 1:
        raise InvalidInputError(f"need between 1 and K-1 = {K - 1} gap orders, got {len(orders)}")
    return _joint_derivative_cached(K, tuple(sorted(orders)), digits)


def labelled_gap_density_derivative(K: int, n: int, digits: int = 15) -> mpmath.mpf:
    """``q^(n)(0)`` for ``q(g) = sum_{k != c} density of y_c - y_k at g`` (labelled gaps, summed).

    ``q^(n)(0) = (-1)^n rho_K^(n)(0)``; accurate to ``digits`` significant digits.

    >>> float(labelled_gap_density_derivative(3, 1))    # sqrt(3)/(2 pi)
    0.27566444771089604
    """
    K = check_num_classes(K)
    n = _check_order("n", n)
    if K == 2 and n % 2 == 1:
        return mpmath.mpf(0)  # phi^2 is even, He_n odd
    value = gap_joint_derivative(K, (n,), digits)
    with mpmath.workdps(digits + _guard(K)):
        return (K - 1) * value


def top_gap_density_derivative(K: int, n: int, digits: int = 15) -> mpmath.mpf:
    """``rho_K^(n)(0)``, the n-th derivative of the top-gap density at zero, to ``digits`` digits.

    >>> float(top_gap_density_derivative(2, 2))     # rho_2(g) = exp(-g^2/4)/sqrt(pi)
    -0.28209479177387814
    """
    value = labelled_gap_density_derivative(K, n, digits)
    with mpmath.workdps(digits + _guard(K)):
        return +value if n % 2 == 0 else -value


def top_gap_density_at_zero(K: int, digits: int = 15) -> mpmath.mpf:
    """``rho_K(0) = K (K-1) int phi^2 Phi^(K-2) dy``, correct to ``digits`` significant digits.

    Works for any ``K >= 2`` (tested to ``K = 32000``).

    >>> float(top_gap_density_at_zero(3))   # 3/(2 sqrt(pi))
    0.8462843753216345
    """
    return top_gap_density_derivative(K, 0, digits)


@functools.lru_cache(maxsize=1024)
def _expected_maximum_cached(K: int, digits: int):
    with mpmath.workdps(digits + _guard(K)):
        return K * _gauss_power_integral([0, 1], 1, K - 1)


def expected_maximum(K: int, digits: int = 15) -> mpmath.mpf:
    """``E[max_k y_k]`` for K i.i.d. standard normals, as ``K int y phi Phi^(K-1) dy`` (``digits`` digits).

    This is an integral independent of :func:`top_gap_density_at_zero`; the two agree by Stein's lemma.

    >>> float(expected_maximum(2))   # 1/sqrt(pi)
    0.5641895835477563
    """
    K = check_num_classes(K)
    digits = check_digits(digits)
    return _expected_maximum_cached(K, digits)


# ---------------------------------------------------------------------------------------------------
# SymPy closed forms
# ---------------------------------------------------------------------------------------------------

_y = sp.Symbol("y", real=True)
_PHI = sp.exp(-(_y**2) / 2) / sp.sqrt(2 * sp.pi)
_CDF = (1 + sp.erf(_y / sp.sqrt(2))) / 2


def _sheppard_phi2_cdf2():
    """``int phi^2 Phi^2 dy`` derived via Sheppard's orthant formula.

    ``phi(y)^2 = phi(y sqrt 2)/sqrt(2 pi)`` makes the integral ``E_w[Phi(w)^2]/(2 sqrt(pi))`` with
    ``w ~ N(0, 1/2)``; ``E[Phi(w)^2] = P(X_1 - w < 0, X_2 - w < 0)`` for independent N(0,1) ``X_i``,
    a bivariate orthant with correlation ``r = Var w/(1 + Var w)``: ``1/4 + asin(r)/(2 pi)``.
    """
    var_w = sp.Rational(1, 2)
    r = var_w / (1 + var_w)
    orthant = sp.Rational(1, 4) + sp.asin(r) / (2 * sp.pi)
    return orthant / (2 * sp.sqrt(sp.pi))


def _integral_poly_phi2_cdf2(poly):
    """``int poly(y) phi^2 Phi^2 dy`` by one integration by parts down to the Sheppard integral.

    Write ``poly e^{-y^2} = d/dy(r e^{-y^2}) + c e^{-y^2}``; the boundary term vanishes and
    ``d/dy Phi^2 = 2 phi Phi`` leaves ``int r phi^3 Phi`` which SymPy integrates.
    """
    poly = sp.Poly(sp.expand(poly), _y)
    deg = poly.degree()
    if deg <= 0:
        return poly.as_expr() * _sheppard_phi2_cdf2()
    coeffs = sp.symbols(f"r0:{deg}")
    r = sum(cf * _y**i for i, cf in enumerate(coeffs))
    c = sp.Symbol("c")
    eq = sp.Poly(sp.expand(poly.as_expr() - (sp.diff(r, _y) - 2 * _y * r) - c), _y)
    sol = sp.solve(eq.all_coeffs(), list(coeffs) + [c], dict=True)[0]
    r = r.subs(sol)
    c = sol[c]
    # int poly phi^2 Phi^2 = c int phi^2 Phi^2 - int r phi^2 * 2 phi Phi
    rest = sp.integrate(sp.expand(r * _PHI**3 * 2 * _CDF), (_y, -sp.oo, sp.oo))
    return sp.nsimplify(c) * _sheppard_phi2_cdf2() - rest


@functools.lru_cache(maxsize=64)
def top_gap_density_closed_form(K: int, n: int = 0) -> sp.Expr:
    """Exact SymPy expression of ``rho_K^(n)(0)`` for ``K = 2, 3, 4`` (any ``n >= 0``).

    >>> top_gap_density_closed_form(4)
    3*(2*asin(1/3) + pi)/(2*pi**(3/2))
    """
    K = check_num_classes(K, maximum=4)
    n = _check_order("n", n)
    hermite = sp.hermite_prob(n, _y)
    sign = (-1) ** n
    if K == 2:
        value = sp.integrate(sp.expand(hermite * _PHI**2), (_y, -sp.oo, sp.oo))
    elif K == 3:
        value = sp.integrate(sp.expand(hermite * _PHI**2 * _CDF), (_y, -sp.oo, sp.oo))
    else:
        value = _integral_poly_phi2_cdf2(hermite)
    return sp.simplify(sign * K * (K - 1) * value)


def top_gap_density_sympy(K: int) -> sp.Expr:
    """``rho_K(0)`` as an unevaluated SymPy integral (any K), for display and LaTeX.

    >>> top_gap_density_sympy(3)
    6*Integral((erf(sqrt(2)*y/2) + 1)*exp(-y**2)/(4*pi), (y, -oo, oo))
    """
    K = check_num_classes(K)
    return K * (K - 1) * sp.Integral(sp.simplify(_PHI**2 * _CDF ** (K - 2)), (_y, -sp.oo, sp.oo))
