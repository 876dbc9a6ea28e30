"""Late-time solution of the reduced flow as a series in alpha^(-1/3), with its free constant.

Derivation (SymPy, :func:`derive_late_time_series`; ``eps = 1/D``, ``kappa = eta/(K-1)``):

1. *Slaving.*  ``Delta = S(eps) = Delta* + s_1 eps + s_2 eps^2 + ...`` solves the invariant-manifold
   equation ``S'(D) dD/dalpha = dDelta/dalpha`` order by order, with every expansion coefficient
   Taylor-expanded about ``Delta*``.  The left side starts at ``eps^4``: the dynamic correction enters
   ``s_3``.
2. *Drift on the manifold.*  ``dD/dalpha = kappa eps^2 (g_0 + g_1 eps + g_2 eps^2 + ...)``.
3. *Quadrature.*  ``dalpha/dD = D^2/(kappa g_0) (1 + e_1/D + e_2/D^2 + e_3/D^3 + ...)`` integrates to ::

       kappa g_0 alpha = D^3/3 + e_1 D^2/2 + e_2 D + e_3 ln D + kappa g_0 C - sum_{i>=4} e_i D^(3-i)/(i-3),

   where ``C`` is the **only free constant** (set by the initial condition).  A logarithm appears
   whenever ``e_3 != 0`` (it does for K >= 3; for K = 2 every odd order vanishes).
4. *Inversion.*  With ``x = (3 kappa g_0 alpha)^(1/3)`` and ``t = 1/x`` ::

       D = x (1 + b_1 t + b_2 t^2 + (b_3 + l_3 ln x) t^3 + ...),

   ``b_1, b_2`` universal, ``l_3 = -e_3``, and ``b_3`` linear in ``C``.
5. *Observables.*  ``eps_g``, ``L`` and ``Delta`` follow by inserting ``eps = 1/D(x)`` into their
   expansions; each is ``t (E_1 + E_2 t + E_3 t^2 + (E_4 + E_4' ln x) t^3 + ...)``.

Numbers: the leading constants come at any precision from the closed forms; the correction
coefficients (:func:`~asymptotics.asymptotic.expansion.coefficient_taylor`) use the binary layer moments and,
for ``K >= 3``, the junction moments of every size, all at the requested precision with exact
Delta-derivatives (heat equation).  The numeric series goes to relative order 5 for every ``K``
(:data:`MAX_SERIES_ORDER`: up to ``t^5`` every coefficient is linear in ``ln x`` and ``C``; ``t^6`` brings
``C^2``, ``C ln x`` and ``ln^2 x``); the symbolic derivation is written out to order 3.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import sympy as sp

from asymptotics.asymptotic.expansion import coefficient_taylor
from asymptotics.asymptotic.expansion_domain import K_MAX, check_eta, check_expansion_digits, exact_key
from asymptotics.asymptotic.reduced_flow import leading_prefactors
from asymptotics.validation import (
    InvalidInputError,
    check_num_classes,
    fraction_to_mpf,
)

__all__ = ["LateTimeSeries", "derive_late_time_series", "late_time_series", "coefficient_taylor"]

_FLOW = ("drift", "restoring", "noise")
_OBS = ("eps_g", "loss")


# ---------------------------------------------------------------------------------------------------
# Symbolic derivation (generic coefficients)
# ---------------------------------------------------------------------------------------------------


def _coef_symbol(name: str, j: int, k: int) -> sp.Symbol:
    """Taylor coefficient ``(1/k!) d^k c^name_j/dDelta^k`` at Delta*."""
    return sp.Symbol(f"{name}_{j}_{k}")


@functools.lru_cache(maxsize=16)
def derive_late_time_series(order: int) -> dict:
    """Symbolic late-time solution in terms of the manifold-drift coefficients (SymPy).

    Returns the slaving coefficients to first order (``s``: ``s_1 = -h_1/h_0'``), the quadrature
    ``alpha(D)`` (key ``alpha``), and the inverted series ``D/x`` in ``t = 1/x`` with ``Lx = ln x`` and the
    free constant ``C`` (key ``D``), for ``order <= 3``.  Symbols: ``e_i`` the coefficients of
    ``dalpha/dD = D^2/(kappa g_0) (1 + sum e_i D^-i)``, ``kappa_g0``.

    >>> derive_late_time_series(2)["D"]
    e_1**2*t**2/4 - e_1*t/2 - e_2*t**2 + 1
    """
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 3:
        raise InvalidInputError(f"order must be an integer in [0, 3], got {order!r}")
    n = order
    t, Lx, C, D, kg0 = sp.symbols("t Lx C D kappa_g0")
    e = [sp.Integer(1)] + list(sp.symbols(f"e_1:{n + 1}")) if n else [sp.Integer(1)]
    quadrature = _quadrature_alpha(e, n, D, log=sp.log)
    alpha = (quadrature + kg0 * C) / kg0 if n >= 3 else quadrature / kg0 + C
    b = sp.symbols(f"b1:{n + 1}") if n else ()
    lam = sp.symbols(f"l1:{n + 1}") if n else ()
    ratio = 1 + sum((b[i - 1] + lam[i - 1] * Lx) * t**i for i in range(1, n + 1))
    # 3 kappa g0 alpha(D) = x^3, multiplied by t^3 = 1/x^3, with D = ratio/t and ln D = Lx + ln(ratio)
    terms = ratio**3 / 3
    if n >= 1:
        terms += e[1] * ratio**2 * t / 2
    if n >= 2:
        terms += e[2] * ratio * t**2
    if n >= 3:
        terms += e[3] * t**3 * (Lx + sp.log(ratio)) + kg0 * C * t**3
    series = sp.expand(sp.series(terms - sp.Rational(1, 3), t, 0, n + 1).removeO())
    bsol = {}
    for i in range(1, n + 1):
        ci = sp.expand(series.coeff(t, i).subs(bsol))
        poly = sp.Poly(ci, Lx)
        eqs = [poly.coeff_monomial(Lx**p) for p in range(poly.degree() + 1)]
        res = sp.solve(eqs, [b[i - 1], lam[i - 1]], dict=True)
        res = res[0] if res else {}
        res.setdefault(lam[i - 1], sp.Integer(0))
        bsol.update(res)
    D_series = sp.expand(ratio.subs(bsol))
    h0p, h1 = sp.symbols("h_0' h_1")
    return {
        "alpha": alpha,
        "D": D_series,
        "s": [-h1 / h0p],
        "symbols": {"t": t, "Lx": Lx, "C": C, "D": D, "kappa_g0": kg0, "e": e},
    }


def _ps_mul(a, b, n):
    out = [mpmath.mpf(0)] * (n + 1)
    for i, x in enumerate(a[: n + 1]):
        if x == 0:
            continue
        for j, y in enumerate(b[: n + 1 - i]):
            out[i + j] += x * y
    return out


def _ps_compose(taylor, delta, n):
    """sum_k taylor[k] delta^k as a power series (delta has zero constant term)."""
    out = [mpmath.mpf(0)] * (n + 1)
    power = [mpmath.mpf(1)] + [mpmath.mpf(0)] * n
    for c in taylor:
        for i in range(n + 1):
            out[i] += c * power[i]
        power = _ps_mul(power, delta, n)
    return out


def _ps_inverse(a, n):
    inv = [1 / a[0]] + [mpmath.mpf(0)] * n
    for i in range(1, n + 1):
        inv[i] = -sum(a[k] * inv[i - k] for k in range(1, i + 1)) / a[0]
    return inv


# ---------------------------------------------------------------------------------------------------
# Numeric coefficients
# ---------------------------------------------------------------------------------------------------


@dataclass
class LateTimeSeries:
    """Numeric late-time series at fixed ``eta`` (notation of the module docstring).

    ``series[name]`` (name in ``D``, ``eps_g``, ``loss``, ``Delta``) lists, for each power ``t^i`` of the
    relative series (``D = x * sum``, ``eps_g = t * sum``, ``L = t * sum``, ``Delta = sum``), the triple
    ``(a, a_Lx, a_C)`` meaning ``a + a_Lx ln x + a_C C``; ``x = x_scale alpha^(1/3)``, ``t = 1/x``.
    ``coefficients[name]`` re-expresses the relative corrections in powers of ``alpha^(-1/3)``:
    ``[1, a_1, a_2, (a_3, a_3_log, a_3_C), ...]`` meaning ``a_3 + a_3_log ln(alpha) + a_3_C C``.
    ``e`` are the quadrature coefficients (``e_3 != 0`` means a ``ln(alpha)/alpha`` term).
    """

    K: int
    eta: object
    order: int
    digits: int
    leading: dict
    slaving: list
    drift_on_manifold: list
    e: list
    x_scale: object
    series: dict = field(default_factory=dict)
    coefficients: dict = field(default_factory=dict)

    @property
    def kappa_g0(self):
        return self.leading["kappa_g0"]

    def _eval(self, name, alpha, C, terms):
        terms = self.order + 1 if terms is None else terms
        with mpmath.workdps(self.digits + 5):
            x = self.x_scale * mpmath.cbrt(mpmath.mpf(alpha))
            lx = mpmath.log(x)
            C = mpmath.mpf(C)
            total = sum(
                (a + al * lx + ac * C) * x ** (-i) for i, (a, al, ac) in enumerate(self.series[name][:terms])
            )
            if name == "D":
                return x * total
            if name == "Delta":
                return total
            return total / x

    def D(self, alpha, C=0, terms=None):
        """D(alpha) from the first ``terms`` terms (default all) with initial constant ``C``."""
        return self._eval("D", alpha, C, terms)

    def eps_g(self, alpha, C=0, terms=None):
        """eps_g(alpha) from the first ``terms`` terms."""
        return self._eval("eps_g", alpha, C, terms)

    def loss(self, alpha, C=0, terms=None):
        """L(alpha) from the first ``terms`` terms."""
        return self._eval("loss", alpha, C, terms)

    def Delta(self, alpha, C=0, terms=None):
        """Delta(alpha) from the first ``terms`` terms (the first is Delta*)."""
        return self._eval("Delta", alpha, C, terms)

    def alpha_of_D(self, D, C=0):
        """``alpha(D) = (D^3/3 + e_1 D^2/2 + e_2 D + e_3 ln D - sum_{i>=4} e_i D^(3-i)/(i-3))/(kappa g_0) + C``."""
        with mpmath.workdps(self.digits + 5):
            D = mpmath.mpf(D)
            return _quadrature_alpha(self.e, self.order, D) / self.kappa_g0 + C

    def fit_initial_constant(self, alpha, D) -> mpmath.mpf:
        """Free constant ``C = alpha - alpha_of_D(D)`` from one point of an exact curve (error O(D^(2-order))).

        Use the largest-alpha point of an integrated exact closure.
        """
        return mpmath.mpf(alpha) - self.alpha_of_D(D, 0)


#: highest relative order of the numeric late-time series: up to t^5 every coefficient is linear in ln x and C
MAX_SERIES_ORDER = 5


def _quadrature_alpha(e, n, D, log=mpmath.log):
    """``kappa g_0 (alpha - C)`` as a function of ``D`` (the integrated ``dalpha/dD``, order ``n``).

    Numbers with ``log=mpmath.log``, SymPy expressions with ``log=sympy.log``.
    """
    total = D**3 / 3
    if n >= 1:
        total += e[1] * D**2 / 2
    if n >= 2:
        total += e[2] * D
    if n >= 3:
        total += e[3] * log(D)
    for i in range(4, n + 1):
        total -= e[i] * D ** (3 - i) / (i - 3)
    return total


def _ps_log1p(u, n):
    """log(1 + u) as a power series (``u`` without constant term)."""
    out = [mpmath.mpf(0)] * (n + 1)
    power = [mpmath.mpf(1)] + [mpmath.mpf(0)] * n
    for k in range(1, n + 1):
        power = _ps_mul(power, u, n)
        for i in range(n + 1):
            out[i] += (-1) ** (k + 1) * power[i] / k
    return out


def _ps_power(a, p: int, n):
    """``a^p`` for an integer ``p`` (``a[0] != 0``)."""
    base = a if p >= 0 else _ps_inverse(a, n)
    out = [mpmath.mpf(1)] + [mpmath.mpf(0)] * n
    for _ in range(abs(p)):
        out = _ps_mul(out, base, n)
    return out


def _invert_quadrature(e, kappa_g0, lx, C, n):
    """``R(t) = D/x`` solving ``3 kappa g_0 (alpha - C) = x^3`` order by order in ``t = 1/x``.

    With ``D = x R``: ``R^3 + (3/2) e_1 t R^2 + 3 e_2 t^2 R + 3 e_3 t^3 (ln x + ln R) + 3 kappa g_0 C t^3
    - 3 sum_{i>=4} e_i t^i R^(3-i)/(i-3) = 1``; the t^i coefficient is ``3 r_i + (lower orders)``.
    ``lx`` (= ln x) and ``C`` are numbers here; the result is linear in them up to ``t^5``.
    """
    R = [mpmath.mpf(1)] + [mpmath.mpf(0)] * n
    for i in range(1, n + 1):
        R[i] = mpmath.mpf(0)
        lhs = _ps_power(R, 3, n)
        terms = []
        if n >= 1:
            terms.append((1, mpmath.mpf(3) / 2 * e[1], _ps_power(R, 2, n)))
        if n >= 2:
            terms.append((2, 3 * e[2], R))
        if n >= 3:
            log_r = _ps_log1p([mpmath.mpf(0)] + R[1:], n)
            log_r[0] += lx
            terms.append((3, 3 * e[3], log_r))
            terms.append((3, 3 * kappa_g0 * C, [mpmath.mpf(1)] + [mpmath.mpf(0)] * n))
        for j in range(4, n + 1):
            terms.append((j, -3 * e[j] / (j - 3), _ps_power(R, 3 - j, n)))
        for shift, coef, series in terms:
            for m in range(n + 1 - shift):
                lhs[m + shift] += coef * series[m]
        R[i] = -lhs[i] / 3
    return R


def _check_series_order(order):
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise InvalidInputError(f"order must be an integer >= 0, got {order!r}")
    if order > MAX_SERIES_ORDER:
        raise InvalidInputError(f"order must be <= {MAX_SERIES_ORDER} for the late-time series, got {order}")
    return order


@functools.lru_cache(maxsize=64)
def _late_time_cached(K, eta_key, order, digits):
    n = order
    with mpmath.workdps(digits + 10):
        eta = fraction_to_mpf(Fraction(eta_key))
        lead = dict(leading_prefactors(K, eta_key, digits))
        d_star = lead["Delta_star"]
        tay = {}
        for name in _FLOW + _OBS:
            top_j = n + 1 if name in ("restoring", "noise") else n
            tay[name] = [
                [coefficient_taylor(K, name, j, k, d_star, digits) for k in range(top_j - j + 1)]
                for j in range(top_j + 1)
            ]

        def on_manifold(name, delta, top):
            out = [mpmath.mpf(0)] * (top + 1)
            for j, taylor in enumerate(tay[name][: top + 1]):
                comp = _ps_compose(taylor, delta, top - j)
                for i, c in enumerate(comp):
                    out[i + j] += c
            return out

        # slaving: H(eps) = -2 S r(S) + eta n(S) = -eps^2 dS/deps * eps G(eps)   (orders eps^1..eps^(n+1))
        s = []
        h0p = -2 * tay["restoring"][0][0] - 2 * d_star * tay["restoring"][0][1] + eta * tay["noise"][0][1]
        for i in range(1, n + 1):
            delta = [mpmath.mpf(0)] + s + [mpmath.mpf(0)] * (n + 1 - len(s))
            S = [d_star] + delta[1:]
            r = on_manifold("restoring", delta, n + 1)
            nz = on_manifold("noise", delta, n + 1)
            H = [-2 * sum(S[a] * r[m - a] for a in range(m + 1)) + eta * nz[m] for m in range(n + 2)]
            G = on_manifold("drift", delta, n)
            dS = [(m + 1) * delta[m + 1] for m in range(n + 1)]
            lhs = [mpmath.mpf(0)] * (n + 2)
            for a, x in enumerate(dS):
                for b_, y in enumerate(G):
                    if a + b_ + 3 <= n + 1:
                        lhs[a + b_ + 3] -= x * y
            residual = H[i] - lhs[i]  # with s_i = 0; H is linear in s_i at eps^i via h0'
            s.append(-residual / h0p)
        delta = [mpmath.mpf(0)] + s
        delta += [mpmath.mpf(0)] * (n + 1 - len(delta) + 1)
        kappa = eta / (K - 1)
        g = on_manifold("drift", delta, n)
        kappa_g0 = kappa * g[0]
        inv = _ps_inverse(g, n)
        e = [inv[i] * g[0] for i in range(n + 1)]
        lead["kappa_g0"] = kappa_g0
        x_scale = mpmath.cbrt(3 * kappa_g0)

        def series_for(lx, C):
            beta = _invert_quadrature(e, kappa_g0, lx, C, n)
            eps_t = [mpmath.mpf(0)] + _ps_inverse(beta, n)  # eps = t / R(t)
            out = {"D": beta}
            # Delta(t) = Delta* + sum s_i eps(t)^i
            delta_t = [d_star] + [mpmath.mpf(0)] * n
            power = [mpmath.mpf(1)] + [mpmath.mpf(0)] * n
            for i in range(1, n + 1):
                power = _ps_mul(power, eps_t, n)
                for m in range(n + 1):
                    delta_t[m] += s[i - 1] * power[m]
            out["Delta"] = delta_t
            delta_eps = [mpmath.mpf(0)] + s
            for name in _OBS:
                obs_eps = on_manifold(name, delta_eps + [mpmath.mpf(0)], n)  # coefficient of eps^(1+i)
                total = [mpmath.mpf(0)] * (n + 1)
                power = [mpmath.mpf(1)] + [mpmath.mpf(0)] * n  # (eps/t)^(1+i)
                ratio = _ps_inverse(beta, n)
                power = ratio[:]
                for i in range(n + 1):
                    for m in range(n + 1):
                        total[m] += obs_eps[i] * (power[m - i] if m >= i else 0)
                    power = _ps_mul(power, ratio, n)
                out[name] = total
            return out

        base = series_for(0, 0)
        with_log = series_for(1, 0)
        with_c = series_for(0, 1)
        tiny = mpmath.mpf(10) ** (-digits - 3)

        def chop(x, scale):  # differences that cancel to working precision are exact zeros
            return mpmath.mpf(0) if abs(x) < tiny * (1 + abs(scale)) else x

        series = {
            name: [
                (
                    base[name][i],
                    chop(with_log[name][i] - base[name][i], base[name][i]),
                    chop(with_c[name][i] - base[name][i], base[name][i]),
                )
                for i in range(n + 1)
            ]
            for name in base
        }
        mixed = series_for(1, 1)  # linearity in (ln x, C) up to t^5: the triples are exact
        for name in base:
            for i, (a, al, ac) in enumerate(series[name]):
                if abs(mixed[name][i] - (a + al + ac)) > mpmath.mpf(10) ** (-digits) * (
                    1 + abs(a) + abs(al) + abs(ac)
                ):
                    raise ArithmeticError(f"late-time coefficient {name}[{i}] is not linear in (ln x, C)")
    return lead, s, g, e, x_scale, series


def late_time_series(K: int, eta, order: int = 3, digits: int = 15) -> LateTimeSeries:
    """Numeric late-time series of D, Delta, eps_g, L at fixed ``eta`` up to relative ``order`` (<= 5).

    Every coefficient to ``digits`` digits (arbitrary-precision junction moments), for every ``K``.

    >>> lt = late_time_series(2, 1.0, order=0)
    >>> mpmath.nstr(lt.leading["C_D"], 6)
    '1.1711'
    """
    K = check_num_classes(K, maximum=K_MAX)
    eta_q = check_eta(eta, series=True)
    digits = check_expansion_digits(digits)
    order = _check_series_order(order)
    lead, s, g, e, x_scale, series = _late_time_cached(K, exact_key(eta_q), order, digits)
    result = LateTimeSeries(
        K=K,
        eta=eta,
        order=order,
        digits=digits,
        leading=lead,
        slaving=s,
        drift_on_manifold=g,
        e=e,
        x_scale=x_scale,
        series=series,
    )
    result.coefficients = _alpha_coefficients(result)
    return result


def _alpha_coefficients(lt: LateTimeSeries) -> dict:
    """Relative corrections in powers of alpha^(-1/3) (t = alpha^(-1/3)/x_scale, ln x = ln x_scale + ln(alpha)/3)."""
    out = {}
    with mpmath.workdps(lt.digits + 5):
        xs = lt.x_scale
        lnxs = mpmath.log(xs)
        for name in ("D", "eps_g", "loss"):
            ser = lt.series[name]
            lead = ser[0][0]
            coeffs = [mpmath.mpf(1)]
            for i in range(1, lt.order + 1):
                a0, al, ac = ser[i]
                scale = xs ** (-i) / lead
                if al == 0 and ac == 0:
                    coeffs.append((a0) * scale)
                else:
                    coeffs.append(((a0 + al * lnxs) * scale, al * scale / 3, ac * scale))
            out[name] = coeffs
    return out
