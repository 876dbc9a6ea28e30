"""Junction moments of the boundary-layer expansion for any number of nearly tied classes, any precision.

The 1/D expansion (:mod:`asymptotics.asymptotic.expansion`) needs, for ``m`` competitors whose gaps to the
winner are all O(1/D), the connected local moments ::

    J_alpha[F](Delta) = int_{R_+^m} prod_j u_j^alpha_j  E F^conn_m(u + a) du,     a_j = b - a'_j,

where ``b`` (winner) and ``a'_j`` (competitors) are independent N(0, Delta) student noises and ``F^conn_m``
is the Moebius-connected integrand of :mod:`asymptotics.asymptotic.local_binary`.  A direct evaluation is an
m-dimensional integral.  This module reduces every ``J`` to *one-dimensional* integrals, for every ``m``.

Derivation (Laplace transform of the softmax denominator).  With ``x_j = e^{-v_j}`` and ``X = sum x_j`` ::

    1/(1+X) = int_0^inf e^{-t} e^{-tX} dt,      1/(1+X)^2 = int_0^inf t e^{-t} e^{-tX} dt,
    log(1+X) = int_0^inf (e^{-t} - e^{-t(1+X)}) dt/t,

so every closure integrand is a t-integral of products ``prod_j E_j``, ``E_j = exp(-t x_j)``, times at most
one special factor (``x_j E_j``, ``x_j^2 E_j`` or ``u_j x_j E_j``).  Moebius inversion of a product is a
product of differences: ``sum_{T subset S} (-1)^{|S-T|} prod_T E_j = prod_S (E_j - 1)``.  Hence ::

    loss       F^conn = -int dt/t e^{-t}  prod (E_j - 1)
    restoring  F^conn = -int dt t e^{-t} [prod (E_j - 1) + sum_j x_j^2 E_j prod_{i != j} (E_i - 1)]
    noise      F^conn =  int dt e^{-t} [(t - 2) prod (E_j - 1) + t sum_j x_j^2 E_j prod_{i != j} (E_i - 1)]
    drift      F^conn =  int dt e^{-t} sum_j u_j x_j E_j prod_{i != j} (E_i - 1)
    eps_g      F^conn = (-1)^(m+1) prod_j 1[v_j < 0]

Given ``b`` the competitors are independent, and with ``s = ln t`` every factor depends on ``b - s`` only
(``t e^{-v} = e^{-(v - s)}``).  Substituting ``c = b - s`` ::

    J = sum_terms coef int dc K_p(c) prod_j G_j(c),
    K_p(c) = int dw psi_p(c + w) phi_Delta(w),      G_{q,n}(c) = int dz e_q(c + z) W_n(z),

with ``psi_p(y) = e^{-p y} exp(-e^{-y})``, ``e_0 = psi_0 - 1``, ``e_1 = psi_1``, ``e_2 = psi_2`` and the
Gaussian partial moment ``W_n(z) = E[(z - a)_+^n]`` (variance Delta).  For ``eps_g`` the u-integrals are
elementary: ``J = (-1)^(m+1) int db phi_Delta(b) prod_j W_{alpha_j+1}(-b)/(alpha_j+1)``.  Delta enters only
through Gaussian convolutions, so ``d/dDelta`` of a factor is half its second derivative in the convolution
variable (heat equation); Delta-derivatives of ``J`` follow exactly by the Leibniz rule.

Numerics.  All integrands are analytic in the strip ``|Im| < pi/2`` and decay at both ends, so the
trapezoidal rule on one uniform grid converges geometrically; on a shared grid the ``G`` and ``K``
functions are discrete correlations (numpy for float64; otherwise python-flint ball arithmetic at
``digits + guard`` digits, with the correlations done exactly on fixed-point integers (``fmpz_poly``) and
their rounding added to the ball radii).  The step ``h`` and the truncation points are chosen from the
requested ``digits``.  Accuracy: ``digits=None`` float64 ~1e-13 absolute; ``digits=N`` to N digits (checked at
15/30/50 digits, against the m = 1 binary moments, the m = 2 tensor quadrature and the closed-form m = 2
error integral in the tests).
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from itertools import combinations
from itertools import product as _iproduct

import mpmath
import numpy as np
import sympy as sp
from scipy.special import ndtr

from asymptotics.asymptotic.layer_integrals import QUANTITIES
from asymptotics.validation import InvalidInputError, check_digits, exact_real, fraction_to_mpf

__all__ = ["junction_moment", "derive_laplace_reduction", "TERMS"]

#: ``quantity: [(coefficient, kernel power p, special factor)]``; the special factor is ``None`` (every class
#: carries ``e_0``) or ``(q, shift)``: one class ``j`` carries ``e_q`` with ``W_{alpha_j + shift}`` (summed over j)
TERMS = {
    "loss": [(-1, 0, None)],
    "restoring": [(-1, 2, None), (-1, 0, (2, 0))],
    "noise": [(-2, 1, None), (1, 2, None), (1, 0, (2, 0))],
    "drift": [(1, 0, (1, 1))],
}

#: validated range of Delta (the c-grid step shrinks like sqrt(Delta); checked at both ends to 15 and
#: 30 digits in tests/test_precision_contract.py)
DELTA_RANGE = ("1e-4", "100")

_FLOAT_DIGITS = 16  # target of the float64 path
_GUARD = 6  # extra digits of the truncation/step choice
_ARB_GUARD = 25  # extra working digits of the arb path


# ---------------------------------------------------------------------------------------------------
# Elementwise functions on float64 arrays or object arrays of arb balls
# ---------------------------------------------------------------------------------------------------


class _FloatOps:
    exact = False

    def __init__(self):
        self.pi = math.pi

    def const(self, x):
        return float(x)

    def grid(self, start: int, stop: int, h):
        return np.arange(start, stop + 1, dtype=float) * h

    def exp(self, x):
        return np.exp(x)

    def expm1(self, x):
        return np.expm1(x)

    def ncdf(self, x):
        return ndtr(x)

    def sqrt(self, x):
        return math.sqrt(x)

    def correlate(self, f, g):
        """``out[i] = sum_j f[i + j] g[j]`` for ``i = 0 .. len(f) - len(g)``."""
        return np.correlate(f, g, mode="valid")


class _ArbOps:
    exact = True

    def __init__(self, digits: int):
        from flint import arb, arb_poly, ctx

        self.arb, self.arb_poly, self.ctx = arb, arb_poly, ctx
        self.pi = arb.pi()
        self._exp = np.frompyfunc(lambda v: v.exp(), 1, 1)
        self._expm1 = np.frompyfunc(lambda v: v.expm1(), 1, 1)
        self._erfc = np.frompyfunc(lambda v: v.erfc(), 1, 1)
        self._sqrt2 = arb(2).sqrt()

    def const(self, x):
        sign, man, exp, _ = mpmath.mpf(x)._mpf_
        arb = self.arb
        v = arb(int(man)) * arb(2) ** int(exp) if exp >= 0 else arb(int(man)) / arb(2) ** int(-exp)
        return -v if sign else v

    def grid(self, start: int, stop: int, h):
        return np.array([self.arb(i) * h for i in range(start, stop + 1)], dtype=object)

    def exp(self, x):
        return self._exp(x)

    def expm1(self, x):
        return self._expm1(x)

    def ncdf(self, x):
        return self._erfc(-x / self._sqrt2) / 2

    def sqrt(self, x):
        return self.arb(x).sqrt() if not isinstance(x, self.arb) else x.sqrt()

    def _fixed(self, values, bits: int):
        """Midpoints as integers ``round(x 2^bits)``, and the largest |x| and radius (floats)."""
        out, big, rad = [], 0.0, 0.0
        for x in values:
            man, exp = x.mid().man_exp()
            man, shift = int(man), int(exp) + bits
            out.append(man << shift if shift >= 0 else (man >> -shift))
            big = max(big, abs(float(x.mid())))
            rad = max(rad, float(x.rad()))
        return out, big, rad

    def correlate(self, f, g):
        """Exact integer convolution of fixed-point midpoints (python-flint ``fmpz_poly``).

        The returned balls carry a bound of the input radii and of the fixed-point rounding.
        """
        from flint import fmpz_poly

        bits = self.ctx.prec + 16
        fi, f_big, f_rad = self._fixed(f, bits)
        gi, g_big, g_rad = self._fixed(g[::-1], bits)
        n_out = len(f) - len(g) + 1
        coeffs = (fmpz_poly(fi) * fmpz_poly(gi)).coeffs()
        coeffs += [0] * (len(g) - 1 + n_out - len(coeffs))
        scale = self.arb(2) ** (-2 * bits)
        bound = len(g) * (f_big * g_rad + g_big * f_rad + f_rad * g_rad + (f_big + g_big + 1) * 2.0**-bits)
        radius = self.arb(0, bound * (1 + 1e-6)) if bound > 0 else self.arb(0)
        return np.array(
            [self.arb(c) * scale + radius for c in coeffs[len(g) - 1 : len(g) - 1 + n_out]], dtype=object
        )


def _hermite_e(ops, r: int, x):
    """Probabilists' Hermite polynomial ``He_r(x)`` elementwise (recurrence)."""
    if r == 0:
        return x * 0 + 1
    prev, cur = x * 0 + 1, x
    for i in range(1, r):
        prev, cur = cur, x * cur - i * prev
    return cur


def _gauss_derivative(ops, k: int, x, sd):
    """``2^-k d^{2k}/dx^{2k} phi_Delta(x)`` = ``d^k/dDelta^k phi_Delta(x)`` (``sd = sqrt(Delta)``)."""
    t = x / sd
    pdf = ops.exp(-t * t / 2) / (sd * ops.sqrt(2 * ops.pi))
    if k == 0:
        return pdf
    return _hermite_e(ops, 2 * k, t) * pdf / (2**k * sd ** (2 * k))


def _partial_moment_derivative(ops, n: int, k: int, v, sd):
    """``d^k/dDelta^k W_n(v) = 2^-k d^{2k}/dv^{2k} W_n(v)``, ``W_n(v) = E[(v - a)_+^n]``, ``a ~ N(0, sd^2)``."""
    m = 2 * k
    x = v / sd
    pdf = ops.exp(-x * x / 2) / ops.sqrt(2 * ops.pi)
    if m <= n:
        p = n - m
        M = [ops.ncdf(x), -pdf]
        for i in range(2, p + 1):
            M.append(-(x ** (i - 1)) * pdf + (i - 1) * M[i - 2])
        w = sum(math.comb(p, i) * v ** (p - i) * (-sd) ** i * M[i] for i in range(p + 1))
        return math.perm(n, m) * w / 2**k
    r = m - n - 1
    return math.factorial(n) * (-1) ** r * _hermite_e(ops, r, x) * pdf / (sd ** (r + 1) * 2**k)


def _psi(ops, q, y):
    """``psi_q(y) = e^{-q y} exp(-e^{-y})``; ``q = 'e0'`` gives ``exp(-e^{-y}) - 1``."""
    if q == "e0":
        return ops.expm1(-ops.exp(-y))
    return ops.exp(-q * y - ops.exp(-y))


# ---------------------------------------------------------------------------------------------------
# Grid workspace: trapezoidal rule on a shared uniform grid
# ---------------------------------------------------------------------------------------------------


def _step(L: float, Delta: float) -> float:
    """Trapezoid step: error ~ exp(-2 pi d/h + d^2/(2 Delta)) <= e^{-L} for the best strip width d < pi/2."""
    best = 0.0
    for d in np.linspace(0.02, 1.5, 75):
        best = max(best, 2 * math.pi * d / (L + d * d / (2 * Delta)))
    return best


class _Workspace:
    """Kernels ``K_p^(k)`` and factors ``G^(k)`` on the c-grid for one ``(Delta, digits)``."""

    def __init__(self, Delta, digits: int, gaussians: int = 1):
        self.digits = digits
        self.float_mode = digits == 0  # 0: the float64 path (digits=None)
        target = _FLOAT_DIGITS if self.float_mode else digits
        L = (target + _GUARD) * math.log(10)
        Df = float(Delta)
        # the integrand is a product of ``gaussians`` Gaussian-smoothed factors (the kernel and one per
        # competitor), each growing like exp(Im^2/(2 Delta)) off the real axis: the step is chosen
        # for Delta / gaussians
        self.h_float = _step(L + 8, Df / gaussians)
        reach = math.sqrt(Df) * math.sqrt(2 * (L + 8)) + 2
        n_reach = int(math.ceil(reach / self.h_float))
        c_hi = L + 12 + 3 * math.log(L)
        # below c = -reach - ln(L + 8) - 1 the kernels exp(-e^{-y}) are below e^{-L-8} even after the
        # Gaussian smoothing (a fixed margin of 2 limited small-Delta moments to ~e^{-60} ~ 1e-26)
        c_lo = reach + math.log(L + 8) + 1
        self.c_range = (-int(math.ceil(c_lo / self.h_float)), int(math.ceil(c_hi / self.h_float)))
        z_hi = c_hi + reach + 4
        self.z_range = (-n_reach, int(math.ceil(z_hi / self.h_float)))
        self.w_range = (-n_reach, n_reach)
        if self.float_mode:
            self.ops = _FloatOps()
            self._old_prec = None
        else:
            self._prec = int((digits + _ARB_GUARD) * 3.33) + 16
            self.ops = None
        with self._precision():
            if self.ops is None:
                self.ops = _ArbOps(digits)
            ops = self.ops
            self.h = ops.const(self.h_float)
            self.Delta = ops.const(Delta if not self.float_mode else Df)
            self.sd = ops.sqrt(self.Delta)
            self.c = ops.grid(*self.c_range, self.h)
        self._cache = {}

    def _precision(self):
        ws = self

        class _Ctx:
            def __enter__(self_inner):
                if not ws.float_mode:
                    from flint import ctx

                    self_inner.old = ctx.prec
                    ctx.prec = ws._prec

            def __exit__(self_inner, *exc):
                if not ws.float_mode:
                    from flint import ctx

                    ctx.prec = self_inner.old

        return _Ctx()

    def _convolve(self, q, second, second_range):
        """``out(c_i) = h sum_j psi_q(c_i + z_j) second(z_j)``."""
        lo = self.c_range[0] + second_range[0]
        hi = self.c_range[1] + second_range[1]
        key = ("psi", q, lo, hi)
        if key not in self._cache:
            self._cache[key] = _psi(self.ops, q, self.ops.grid(lo, hi, self.h))
        return self.h * self.ops.correlate(self._cache[key], second)

    def kernel(self, p: int, k: int):
        """``d^k/dDelta^k K_p(c)`` on the c-grid."""
        key = ("K", p, k)
        if key not in self._cache:
            with self._precision():
                w = self.ops.grid(*self.w_range, self.h)
                self._cache[key] = self._convolve(p, _gauss_derivative(self.ops, k, w, self.sd), self.w_range)
        return self._cache[key]

    def factor(self, q, n: int, k: int):
        """``d^k/dDelta^k G_{q,n}(c)`` on the c-grid (``q`` in ``'e0', 1, 2``)."""
        key = ("G", q, n, k)
        if key not in self._cache:
            with self._precision():
                z = self.ops.grid(*self.z_range, self.h)
                self._cache[key] = self._convolve(
                    q, _partial_moment_derivative(self.ops, n, k, z, self.sd), self.z_range
                )
        return self._cache[key]

    def error_kernel(self, k: int):
        key = ("phi", k)
        if key not in self._cache:
            with self._precision():
                self._cache[key] = _gauss_derivative(self.ops, k, self.c, self.sd)
        return self._cache[key]

    def error_factor(self, n: int, k: int):
        """``d^k/dDelta^k W_n(-c)/n`` on the c-grid."""
        key = ("Wneg", n, k)
        if key not in self._cache:
            with self._precision():
                self._cache[key] = _partial_moment_derivative(self.ops, n, k, -self.c, self.sd) / n
        return self._cache[key]

    def integrate(self, terms):
        """``h sum_i sum_terms coef prod(arrays)[i]`` as an mpmath number (or float)."""
        with self._precision():
            total = None
            for coef, arrays in terms:
                prod = arrays[0]
                for a in arrays[1:]:
                    prod = prod * a
                prod = coef * prod
                total = prod if total is None else total + prod
            value = self.h * np.sum(total)
            if self.float_mode:
                return mpmath.mpf(float(value))
            mid = value.mid()
            rad = float(value.rad())
            scale = max(1.0, abs(float(mid)))
            if rad > 10.0 ** (-self.digits - 2) * scale:
                raise ArithmeticError(f"junction moment lost precision: radius {rad:.2e}")
            man, exp = mid.man_exp()
            man = int(man)
            with mpmath.workprec(max(53, abs(man).bit_length() + 8)):
                return mpmath.mpf((man, int(exp)))


@functools.lru_cache(maxsize=64)
def _workspace(Delta_key: str, digits: int, gaussians: int = 1) -> _Workspace:
    if digits == 0:
        return _Workspace(float(Delta_key), digits, gaussians)
    with mpmath.workdps(digits + _ARB_GUARD):
        return _Workspace(mpmath.mpf(Delta_key), digits, gaussians)


def _compositions(k: int, parts: int):
    """All tuples of ``parts`` integers >= 0 summing to ``k``."""
    for combo in _iproduct(range(k + 1), repeat=parts):
        if sum(combo) == k:
            yield combo


def _multinomial(k: int, combo) -> int:
    out = math.factorial(k)
    for c in combo:
        out //= math.factorial(c)
    return out


def _terms(ws: _Workspace, name: str, alpha: tuple, k: int):
    m = len(alpha)
    out = []
    for combo in _compositions(k, m + 1):
        mult = _multinomial(k, combo)
        k0, ks = combo[0], combo[1:]
        if name == "eps_g":
            arrays = [ws.error_kernel(k0)] + [ws.error_factor(a + 1, kj) for a, kj in zip(alpha, ks)]
            out.append(((-1) ** (m + 1) * mult, arrays))
            continue
        for coef, p, special in TERMS[name]:
            if special is None:
                arrays = [ws.kernel(p, k0)] + [ws.factor("e0", a, kj) for a, kj in zip(alpha, ks)]
                out.append((coef * mult, arrays))
                continue
            q, shift = special
            for j in range(m):
                arrays = [ws.kernel(p, k0)]
                for i, (a, kj) in enumerate(zip(alpha, ks)):
                    arrays.append(ws.factor(q, a + shift, kj) if i == j else ws.factor("e0", a, kj))
                out.append((coef * mult, arrays))
    return out


@functools.lru_cache(maxsize=8192)
def _moment_cached(name: str, alpha: tuple, Delta_key: str, digits: int, derivative: int):
    ws = _workspace(Delta_key, digits, len(alpha) + 1)
    return ws.integrate(_terms(ws, name, alpha, derivative))


def junction_moment(name: str, alpha, Delta, digits: int | None = None, derivative: int = 0) -> mpmath.mpf:
    """``d^k/dDelta^k J_alpha[name](Delta)`` for ``m = len(alpha)`` nearly tied competitors (``k = derivative``).

    ``m = 1`` is the binary layer moment, ``m = 2`` the three-class junction, ``m = 3`` the four-class one,
    and so on.  ``digits=None`` (default): float64 (~1e-13 absolute); ``digits=N``: correct to N digits
    (python-flint ball arithmetic, precision loss is detected and raises).  ``1e-4 <= Delta <= 100``.

    >>> round(float(junction_moment("eps_g", (0,), 0.25)), 12)          # sqrt(Delta/pi)
    0.282094791774
    >>> round(float(junction_moment("restoring", (0,), 0.4)), 12)       # 2 J = 1 for every Delta
    1.0
    >>> round(float(junction_moment("eps_g", (0, 0), 0.5)), 12)        # -Delta (1/3 + sqrt(3)/(2 pi))
    -0.304498890522
    >>> round(float(junction_moment("drift", (0,), 0.3, derivative=1)), 12)   # d/dDelta (pi^2/12 + Delta/2)
    0.5
    """
    if name not in QUANTITIES:
        raise InvalidInputError(f"unknown quantity {name!r}; expected one of {', '.join(QUANTITIES)}")
    try:
        alpha = tuple(int(a) for a in alpha)
    except TypeError:
        raise InvalidInputError(f"alpha must be a sequence of integers >= 0, got {alpha!r}") from None
    if not alpha or min(alpha) < 0:
        raise InvalidInputError(f"alpha must be a non-empty sequence of integers >= 0, got {alpha!r}")
    if isinstance(derivative, bool) or not isinstance(derivative, int) or derivative < 0:
        raise InvalidInputError(f"derivative must be an integer >= 0, got {derivative!r}")
    q = exact_real("Delta", Delta, positive=True)
    if not Fraction(DELTA_RANGE[0]) <= q <= Fraction(DELTA_RANGE[1]):
        raise InvalidInputError(
            f"Delta must lie in [{DELTA_RANGE[0]}, {DELTA_RANGE[1]}] for junction moments "
            f"(the grid grows like 1/sqrt(Delta) below), got {Delta!r}"
        )
    if digits is None:
        return _moment_cached(name, tuple(sorted(alpha)), repr(float(q)), 0, derivative)
    digits = check_digits(digits)
    with mpmath.workdps(digits + 10):
        key = mpmath.nstr(fraction_to_mpf(q), digits + 8)
    return _moment_cached(name, tuple(sorted(alpha)), key, digits, derivative)


# ---------------------------------------------------------------------------------------------------
# Symbolic derivation of the Laplace-transform reduction
# ---------------------------------------------------------------------------------------------------


def _connected_softmax_sympy(name: str, x, u):
    """Moebius-connected integrand ``sum_T (-1)^{m-|T|} F_T`` from the softmax (``x_j = e^{-v_j}``)."""
    m = len(x)
    total = 0
    for r in range(m + 1):
        for T in combinations(range(m), r):
            X = sum((x[j] for j in T), sp.Integer(0))
            pc = 1 / (1 + X)
            pj = {j: x[j] / (1 + X) for j in T}
            F = {
                "loss": sp.log(1 + X),
                "restoring": 1 - pc**2 - sum((p**2 for p in pj.values()), sp.Integer(0)),
                "noise": (1 - pc) ** 2 + sum((p**2 for p in pj.values()), sp.Integer(0)),
                "drift": sum((u[j] * p for j, p in pj.items()), sp.Integer(0)),
            }[name]
            total += (-1) ** (m - r) * F
    return total


def _laplace_integrand_sympy(name: str, x, u, t):
    """The Laplace-form integrand of :data:`TERMS` (before the t-integral)."""
    m = len(x)
    E = [sp.exp(-t * xj) for xj in x]
    full = sp.Mul(*[e - 1 for e in E])

    def special(q, shift):
        out = 0
        for j in range(m):
            others = sp.Mul(*[E[i] - 1 for i in range(m) if i != j])
            out += (u[j] if shift else 1) * x[j] ** q * E[j] * others
        return out

    total = 0
    for coef, p, spec in TERMS[name]:
        body = full if spec is None else special(*spec)
        weight = t ** (p - 1) if spec is None else t ** (p - 1 + spec[0])
        total += coef * weight * sp.exp(-t) * body
    return total


def _laplace_integrate(expr, t):
    """``int_0^inf expr dt`` for a sum of terms ``c t^k exp(-t a)`` (``k >= 0``): ``c k!/a^(k+1)``."""
    out = 0
    for term in sp.Add.make_args(sp.expand(sp.powsimp(sp.expand(expr), combine="exp"))):
        term = sp.powsimp(term, combine="exp")
        exps = [f for f in sp.Mul.make_args(term) if f.func == sp.exp]
        rest = term / sp.Mul(*exps)
        rate = -sp.expand(sum(f.args[0] for f in exps) / t)
        k = sp.Poly(rest, t).degree() if rest.has(t) else 0
        coef = sp.expand(rest / t**k)
        if coef.has(t) or rate.has(t):
            raise ValueError(f"unexpected term {term}")
        out += coef * sp.factorial(k) / rate ** (k + 1)
    return out


def derive_laplace_reduction(m: int = 2) -> dict:
    """SymPy check that the Laplace forms of :data:`TERMS` equal the Moebius-connected softmax integrands.

    For ``m`` competitors with ``x_j = e^{-v_j}``: the t-integral of each Laplace form is done term by term
    (``int t^k e^{-a t} dt = k!/a^(k+1)`` after expanding the products) and compared with
    ``sum_T (-1)^{m-|T|} F_T``.  For ``loss`` (weight ``1/t``) the ``x_1``-derivatives are compared, and both sides
    vanish at ``x_1 = 0``.  Returns ``{name: difference}`` (each simplifies to 0).

    >>> derive_laplace_reduction(2)
    {'loss': 0, 'restoring': 0, 'noise': 0, 'drift': 0}
    """
    if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 4:
        raise InvalidInputError(f"m must be an integer in [1, 4], got {m!r}")
    x = sp.symbols(f"x1:{m + 1}", positive=True)
    u = sp.symbols(f"u1:{m + 1}", positive=True)
    t = sp.Symbol("t", positive=True)
    out = {}
    for name in TERMS:
        conn = _connected_softmax_sympy(name, x, u)
        integrand = _laplace_integrand_sympy(name, x, u, t)
        if name == "loss":
            lhs = _laplace_integrate(sp.diff(integrand, x[0]), t)
            rhs = sp.diff(conn, x[0])
            assert conn.subs(x[0], 0) == 0 or sp.simplify(conn.subs(x[0], 0)) == 0
        else:
            lhs, rhs = _laplace_integrate(integrand, t), conn
        out[name] = sp.simplify(sp.together(lhs - rhs))
    return out
