"""Closure moments for any K >= 3 to arbitrary precision: the Laplace route in ``arb`` arithmetic.

Same reduction as :func:`asymptotics.numeric.closure_quadrature.laplace_moments` (float64): condition
on the winner's teacher value ``t`` (density ``K phi(t) Phi(t)^(K-1)``); the other ``K - 1`` classes are
then i.i.d. with logit ``zeta = z_j - D t`` of closed-form density, and the Laplace representations ::

    1/Z' = int e^{-u Z'} du,     log Z' = int du/u (e^{-u} - e^{-u Z'}),     u = e^(kappa + sqrt(Delta) xi_1)

turn every moment into a 2-D outer integral over ``(t, kappa)`` of products of 1-D class integrals ::

    A_n(t, kappa) = int omega(zeta|t) X_n(kappa + zeta) dzeta,   X_0 = exp(-e^s),  X_n = e^(n s) X_0,

raised to the power ``K - 1`` (all terms positive).  Here the class integrals are kept *unnormalised*
(``omega~ = Phi(t) omega``, entire in ``t``) and ``A_0 = Phi(t) - B`` with ``B = int omega~ (1 - X_0)``,
so that every integrand decays: ``X_1, X_2, 1 - X_0`` vanish like ``e^s`` below the layer.

Quadrature (everything chosen from the target ``L = ln(10) (digits + 4) + 2 ln(1 + D) + ln K`` nats):

* ``t``: trapezoid rule, step ``0.9 pi sqrt(2/(K L))`` -- the integrand is entire in ``t`` with growth
  ``e^{K b^2/2}`` at ``Im t = b`` (``K`` Gaussian factors), so the error is ``~exp(-2 pi^2/(K h^2))``;
  range where ``K phi Phi^(K-1) > e^-L``.
* ``kappa``: trapezoid rule, either after the double-exponential map ``kappa = s - e^(a-s)`` (uniform
  above ``a``, ``kappa -> -inf`` double-exponentially below; step ``6/L`` to ``7/L``: the integrand is
  analytic for ``|Im kappa| < pi/2``, and ``a`` lies below every point where ``e^(kappa + zeta)`` can be
  large, so the map's complex images stay where the truncated integrand is bounded -- this needs
  ``|Im s| < pi/2``), or, when cheaper (``Delta`` large), plainly in ``kappa`` down to ``-L``: for
  ``Delta > 0`` every factor is Gaussian-smoothed on the scale ``sqrt(Delta)`` (growth
  ``e^{K b^2/(2 Delta)}`` at ``Im kappa = b``), which allows the step ``0.9 pi sqrt(2 Delta/(K L))``.
* winner factors ``Gamma_n(kappa) = E_xi[X_n(kappa + sqrt(Delta) xi)]``: trapezoid rule in ``xi``.
* ``zeta``: composite Gauss-Legendre, ``n ~ L/2.7`` nodes per panel; unit panels where the layer
  ``kappa + zeta ~ 0`` can sit, panels of width ``2 sqrt(Delta)`` over the edge of ``omega`` at
  ``zeta ~ 0``, of width ``2 sigma`` (``sigma = sqrt(D^2 + Delta)``) over the whole law when it is
  narrow, and wide panels (``min(8, 2 sigma)``) in the tail ``kappa + zeta << 0`` where ``X_n ~ e^(n s)``.
  The ``zeta`` nodes are shared by all ``(t, kappa)``: each class integral is one entry of a product of
  ``arb_mat`` matrices ``X_n(kappa_i + zeta_k) w_k`` times ``omega~(zeta_k | t_j)``.  Range: up to
  ``sqrt(Delta) (sqrt(2L) + 1) + 2 Delta`` (below the layer ``X_1, X_2 ~ e^zeta, e^(2 zeta)`` tilt the
  Gaussian ``sqrt(Delta) xi_j`` upwards by ``Delta``, ``2 Delta``), down to where ``e^(kappa + zeta)``
  or ``omega~`` is below ``e^-L``.
* ``eps_g = E_t E_xi1 [1 - (1 - q)^(K-1)]`` with ``q = P(zeta_j > sqrt(Delta) xi_1 | t)``: trapezoid
  rule in ``xi_1`` (step as for ``t``); ``q`` at consecutive nodes by accumulating Gauss-Legendre
  integrals of ``omega`` over the intervals between them, from the top.

Arithmetic is python-flint ``arb`` with ``digits + 8`` guard digits (whole 64-bit limbs); rounding is
tracked rigorously by the ball radii, and the run is repeated with 64 more bits if a radius exceeds
``1e-(digits+4)`` relative.  ``errors``: the difference to a run with half the resolution (``L/2``),
squared relative (exponential convergence: halving ``L`` halves the logarithm of every error term)
times 10, plus the ball radius and the final rounding to ``digits`` digits.

Measured (tests/numeric/test_closure_laplace_mp.py and the module's benchmark numbers in the report):
agreement with the float64 route to ~1e-13, with the independent K = 3 gap-coordinate route
:func:`~asymptotics.numeric.closure_quadrature.k3_moments_mp` to 20 digits, self-consistency 15/20/30
digits, and the exact identity ``drift + D restoring = rho_K(0)`` to the requested digits.

>>> m = laplace_moments_mp(4, 2.0, 0.25, digits=12)
>>> m.method, m.digits
('quadrature-laplace-flint', 12)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import mpmath
from scipy import special

from asymptotics.numeric.closure_quadrature import uniform_closure
from asymptotics.numeric.moments import MOMENT_NAMES, ClosureMoments
from asymptotics.validation import (
    IntegrationError,
    InvalidInputError,
    check_digits,
    check_nonnegative,
    check_num_classes,
)

__all__ = ["laplace_moments_mp"]

_LN10 = math.log(10.0)

#: largest D and Delta for which the resolution rules were validated (beyond: InvalidInputError)
D_MAX = 1e4
DELTA_MAX = 50.0


@dataclass(frozen=True)
class _Resolution:
    """Steps, cut-offs and orders for a target of ``L`` nats (all floats / ints)."""

    L: float
    cut: float  # Gaussian cut-off in units of the standard deviation
    h_t: float
    h_xi_e: float  # xi_1 step for eps_g
    n_gl: int  # Gauss-Legendre nodes per zeta panel
    n_e: int  # Gauss-Legendre nodes per eps_g interval
    c_kappa: float  # kappa step = c_kappa / L (bounded-strip rule)


def _resolution(K: int, D: float, digits: int, scale: float = 1.0) -> _Resolution:
    L = scale * (_LN10 * (digits + 4) + 2 * math.log1p(D) + math.log(K))
    L = max(L, 16.0)
    return _Resolution(
        L=L,
        cut=math.sqrt(2 * L) + 1.0,
        h_t=0.9 * math.pi * math.sqrt(2.0 / (K * L)),
        h_xi_e=0.9 * math.pi * math.sqrt(2.0 / (K * L)),
        n_gl=int(math.ceil((L + 6) / 2.7)),
        n_e=int(math.ceil((L + 6) / 6.0)),
        c_kappa=6.0,
    )


def _working_prec(digits: int, D: float) -> int:
    """Bits: ``digits + 8`` guard digits and ``2 log2(1 + D)`` (moments ~ 1/D^2), in whole limbs."""
    bits = 3.33 * (digits + 8) + 2 * math.log2(1 + D) + 8
    return 64 * int(math.ceil(bits / 64))


# ---------------------------------------------------------------------------------------------
# arb helpers
# ---------------------------------------------------------------------------------------------


class _Prec:
    """Context manager setting python-flint's working precision (bits), restored on exit."""

    def __init__(self, prec):
        self.prec = prec

    def __enter__(self):
        import flint

        self._flint = flint
        self._old = flint.ctx.prec
        flint.ctx.prec = self.prec
        return self

    def __exit__(self, *exc):
        self._flint.ctx.prec = self._old


@lru_cache(maxsize=64)
def _gl_rule(n: int, prec: int):
    """Gauss-Legendre nodes/weights on (-1, 1) as arb balls at ``prec`` bits (cached)."""
    from flint import arb, ctx

    old = ctx.prec
    ctx.prec = prec
    try:
        return tuple(arb.legendre_p_root(n, k, weight=True) for k in range(n))
    finally:
        ctx.prec = old


def _gl_panels(edges, n, prec):
    """Composite Gauss-Legendre rule on consecutive float ``edges``: (nodes, weights, float nodes)."""
    from flint import arb

    rule = _gl_rule(n, prec)
    nodes, weights, fnodes = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        half = (arb(hi) - arb(lo)) / 2
        mid = (arb(hi) + arb(lo)) / 2
        for x, w in rule:
            nodes.append(mid + half * x)
            weights.append(half * w)
            fnodes.append(0.5 * (hi + lo) + 0.5 * (hi - lo) * float(x.mid()))
    return nodes, weights, fnodes


def _step_points(lo, hi, step):
    """Points ``lo, lo + step, ..., hi`` (float), at least the two ends."""
    n = max(1, int(math.ceil((hi - lo) / step - 1e-9)))
    return [lo + (hi - lo) * k / n for k in range(n + 1)]


def _merge_edges(points, tol):
    """Sorted ``points`` without near-duplicates (the two ends are kept)."""
    pts = sorted(points)
    out = [pts[0]]
    for p in pts[1:-1]:
        if p - out[-1] > tol and pts[-1] - p > tol:
            out.append(p)
    out.append(pts[-1])
    return out


def _arb_exact(x):
    """The exact binary value of a float / int / mpf as an arb."""
    from flint import arb

    man, exp = mpmath.mpf(x).man_exp
    return arb(int(man)) / arb(2 ** int(-exp)) if exp < 0 else arb(int(man) * 2 ** int(exp))


def _ipow(x, n: int):
    """``x**n`` for an integer ``n >= 0`` by multiplication (arb's ``**`` goes through exp/log and
    returns nan for balls that contain 0)."""
    from flint import arb

    result = arb(1)
    while n:
        if n & 1:
            result = result * x
        n >>= 1
        if n:
            x = x * x
    return result


def _exact_mpf(x):
    """An exact arb (midpoint or radius) as mpf (exact, independent of the mpmath precision)."""
    man, exp = x.man_exp()
    return mpmath.mpf((int(man), int(exp))) if man != 0 else mpmath.mpf(0)


def _to_mpf(x):
    return _exact_mpf(x.mid())


def _rad_mpf(x):
    return _exact_mpf(x.rad())


# ---------------------------------------------------------------------------------------------
# grids
# ---------------------------------------------------------------------------------------------


def _t_range(K: int, L: float):
    """Range of ``t`` where ``K phi(t) Phi(t)^(K-1) > e^-L`` (floats)."""

    def logw(t):
        return math.log(K) - 0.5 * t * t - 0.5 * math.log(2 * math.pi) + (K - 1) * special.log_ndtr(t)

    lo, hi = -80.0, 0.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if logw(mid) < -L:
            lo = mid
        else:
            hi = mid
    t_hi = math.sqrt(2 * (L + math.log(K)))
    return lo - 0.25, t_hi + 0.25


def _t_grid(K: int, res: _Resolution):
    """Trapezoid nodes ``t_j`` and the float range."""
    from flint import arb

    t_lo, t_hi = _t_range(K, res.L)
    h = res.h_t
    ks = range(int(math.floor(t_lo / h)), int(math.ceil(t_hi / h)) + 1)
    return [arb(k) * arb(h) for k in ks], arb(h), t_hi


def _kappa_grid(Delta: float, K: int, res: _Resolution, top: float):
    """Nodes ``kappa_i`` (arb), weights ``dkappa`` (arb) and float nodes of the ``kappa`` trapezoid.

    Two valid rules, the one with fewer nodes is used:

    * double-exponential map ``kappa = s - e^(a-s)`` with ``a = -(top + 6)``, step ``h <= 7/L``: the
      image of the strip ``|Im s| < 0.8 pi/2`` keeps ``Re kappa`` decreasing below ``a`` (where the
      truncated integrand is bounded for any ``Im kappa``), and above ``a`` the integrand is analytic
      for ``|Im kappa| < pi/2``;
    * (``Delta > 0``) plain trapezoid in ``kappa`` down to ``kappa_min`` with the step allowed by the
      Gaussian smoothing of every factor, ``0.9 pi sqrt(2 Delta/(K L))`` (error
      ``~exp(-2 pi^2 Delta/(K h^2))`` on the whole line).
    """
    from flint import arb

    L = res.L
    sq = math.sqrt(Delta)
    kappa_max = math.log(2 * L + 10) + sq * res.cut + 1.0
    kappa_min = -(L + 0.5 * Delta + 4.0)
    a = -(top + 6.0)
    h_gauss = 0.9 * math.pi * math.sqrt(2 * Delta / (K * L)) if Delta > 0 else 0.0
    h_de = max(res.c_kappa / L, min(h_gauss, 7.0 / L))

    def kap(s):
        return s - math.exp(a - s)

    s_lo, s_hi = kappa_min - 1.0, a
    for _ in range(200):  # kap is increasing: solve kap(s) = kappa_min
        mid = 0.5 * (s_lo + s_hi)
        if kap(mid) < kappa_min:
            s_lo = mid
        else:
            s_hi = mid
    s_min, s_max = s_lo, kappa_max + 1.0
    n_de = int(math.ceil((s_max - s_min) / h_de))
    n_uniform = int(math.ceil((s_max - kappa_min) / h_gauss)) if h_gauss > 0 else n_de + 1
    nodes, weights, fnodes = [], [], []
    if n_uniform <= n_de:
        h = min(h_gauss, 0.5)
        ha = arb(h)
        for k in range(int(math.ceil((s_max - kappa_min) / h)) + 1):
            nodes.append(arb(s_max) - k * ha)
            weights.append(ha)
            fnodes.append(s_max - k * h)
        return nodes, weights, fnodes
    h = h_de
    ha = arb(h)
    aa = arb(a)
    for k in range(n_de + 1):
        s = arb(s_max) - k * ha
        ex = (aa - s).exp()
        nodes.append(s - ex)
        weights.append(ha * (1 + ex))
        fnodes.append(kap(s_max - k * h))
    return nodes, weights, fnodes


def _zeta_top(Delta: float, res: _Resolution) -> float:
    """Upper end of the ``zeta`` range: ``X_1, X_2 ~ e^(zeta), e^(2 zeta)`` below the layer tilt the
    Gaussian ``sqrt(Delta) xi_j`` by up to ``2 Delta``, so the cut-off is taken around ``2 Delta``."""
    return math.sqrt(Delta) * res.cut + 2 * Delta if Delta > 0 else 0.0


def _zeta_edges(D: float, Delta: float, res: _Resolution, kappa_max: float, t_hi: float):
    """Panel edges for the non-winner logit ``zeta`` (floats)."""
    L, cut = res.L, res.cut
    sq = math.sqrt(Delta)
    sigma = math.sqrt(D * D + Delta)
    top = _zeta_top(Delta, res)
    bottom = -(L + math.log(L) + 0.5 * Delta + 3.0 + 2.0)
    # narrow law: omega~ vanishes below -(D (t + cut) + sqrt(Delta) cut)
    support = -(D * (t_hi + cut) + sq * cut)
    bottom = max(bottom, support)
    layer_lo = max(bottom, -(kappa_max + 5.0))
    points = [bottom, top]
    # tail: X_n ~ e^(n s), only omega~ matters (scale sigma)
    if layer_lo > bottom:
        points += _step_points(bottom, layer_lo, min(8.0, max(1.0, 2 * sigma)))
    # layer: unit panels (X_n analytic in |Im s| < pi/2)
    points += _step_points(layer_lo, max(top, layer_lo + 1.0), 1.0)
    if Delta > 0:
        # edge of omega at zeta ~ 0 (scale >= sqrt(Delta))
        points += _step_points(max(bottom, -sq * cut), top, min(1.0, 2 * sq))
    if sigma < 1.0:
        points += _step_points(bottom, top, 2 * sigma)
    edges = _merge_edges([p for p in points if bottom <= p <= top], 1e-9 * max(1.0, sq))
    return edges


# ---------------------------------------------------------------------------------------------
# class law and winner factors
# ---------------------------------------------------------------------------------------------


class _ClassLaw:
    """Unnormalised class weights ``omega~(zeta|t) = Phi(t) omega`` and ``omega~_g`` (times the gap)."""

    def __init__(self, D, Delta):
        from flint import arb

        self.Dn = _arb_exact(D)
        self.Delta = float(Delta)
        self.Delta_arb = _arb_exact(Delta)
        self.isqrt2 = 1 / arb(2).sqrt()
        self.isqrt2pi = 1 / (2 * arb.pi()).sqrt()
        # beyond a_skip, 1 - Phi(a) < phi(a)/a < 2^-(prec + 20)
        self.a_skip = math.sqrt(2 * math.log(2) * (_current_prec() + 20))
        if Delta > 0:
            Dl = _arb_exact(Delta)
            sig2 = self.Dn * self.Dn + Dl
            self.isig = 1 / sig2.sqrt()
            self.sv = (Dl / sig2).sqrt()
            self.mu_sv = (self.Dn / sig2) / self.sv  # mu / sqrt(v)
        else:
            self.iD = 1 / self.Dn

    def ncdf(self, x):
        return (-x * self.isqrt2).erfc() / 2

    def npdf(self, x):
        return (-x * x / 2).exp() * self.isqrt2pi

    def weights(self, t, zetas, with_gap=True):
        """Lists ``omega~(zeta|t)`` and (optionally) ``omega~_g(zeta|t)`` at the nodes ``zetas``."""
        om, omg = [], []
        if self.Delta > 0:
            Dt = self.Dn * t
            svt = self.sv * t
            fsvt, fmu = float(svt.mid()), float(self.mu_sv.mid())
            for z in zetas:
                y = (Dt + z) * self.isig
                a = svt - self.mu_sv * z
                dens = (-y * y / 2).exp() * (self.isqrt2pi * self.isig)
                if fsvt - fmu * float(z.mid()) > self.a_skip:
                    # Phi(a) = 1 and psi(a) = a to far below the working precision
                    om.append(dens)
                    if with_gap:
                        omg.append(dens * self.sv * a)
                    continue
                cdf = self.ncdf(a)
                om.append(dens * cdf)
                if with_gap:
                    omg.append(dens * self.sv * ((-a * a / 2).exp() * self.isqrt2pi + a * cdf))
        else:
            for z in zetas:
                if z < 0:
                    d = self.npdf(t + z * self.iD) * self.iD
                    om.append(d)
                    if with_gap:
                        omg.append(d * (-z * self.iD))
                else:
                    om.append(0 * t)
                    if with_gap:
                        omg.append(0 * t)
        return om, omg


def _winner_factors(kappas, Delta_arb, res: _Resolution):
    """``Gamma_n(kappa) = E_xi[X_n(kappa + sqrt(Delta) xi)]`` for n = 0, 1 (arb lists)."""
    from flint import arb

    Delta = float(Delta_arb.mid())
    if Delta == 0:
        G0, G1 = [], []
        for k in kappas:
            e = k.exp()
            x0 = (-e).exp()
            G0.append(x0)
            G1.append(e * x0)
        return G0, G1
    sq = math.sqrt(Delta)
    L = res.L
    # trapezoid in xi: X_n(kappa + sq xi) analytic for |Im xi| < pi/(2 sq); Gaussian weight
    d_max = 0.8 * math.pi / (2 * sq)
    if d_max >= math.sqrt(2 * L):
        h = math.pi * math.sqrt(2.0 / L)
    else:
        h = 2 * math.pi * d_max / (L + 0.5 * d_max * d_max)
    h *= 0.9
    # Gamma_1 tilts the Gaussian by e^(sqrt(Delta) xi): shift sqrt(Delta) upwards
    m_lo = int(math.ceil(res.cut / h))
    m_hi = int(math.ceil((res.cut + sq) / h))
    ha = arb(h)
    sqa = Delta_arb.sqrt()
    isqrt2pi = 1 / (2 * arb.pi()).sqrt()
    xs = [k * ha for k in range(-m_lo, m_hi + 1)]
    wx = [ha * (-x * x / 2).exp() * isqrt2pi for x in xs]
    ex = [(sqa * x).exp() for x in xs]
    big = 2 * L + 20
    G0, G1 = [], []
    for k in kappas:
        ek = k.exp()
        fk = float(ek.mid())
        g0 = arb(0)
        g1 = arb(0)
        for _x, w, e in zip(xs, wx, ex):
            if fk * float(e.mid()) > big:
                continue
            u = ek * e
            x0 = (-u).exp()
            g0 += w * x0
            g1 += w * u * x0
        G0.append(g0)
        G1.append(g1)
    return G0, G1


# ---------------------------------------------------------------------------------------------
# the sums
# ---------------------------------------------------------------------------------------------


def _x_matrices(kappas, fkappas, zetas, wz, fzetas, L):
    """``arb_mat`` of ``w_k (1 - X_0)``, ``w_k X_1``, ``w_k X_2`` at ``s = kappa_i + zeta_k``."""
    from flint import arb, arb_mat

    F = [z.exp() for z in zetas]
    s_cut = math.log(2 * L + 20)
    zero = arb(0)
    rows_b, rows_1, rows_2 = [], [], []
    for k, fk in zip(kappas, fkappas):
        E = k.exp()
        rb, r1, r2 = [], [], []
        for Fz, w, fz in zip(F, wz, fzetas):
            s = fk + fz
            if s > s_cut:
                rb.append(w)
                r1.append(zero)
                r2.append(zero)
                continue
            u = E * Fz
            x0 = (-u).exp()
            xb = -((-u).expm1()) if s < 0 else 1 - x0
            x1 = u * x0
            rb.append(w * xb)
            r1.append(w * x1)
            r2.append(w * (u * x1))
        rows_b.append(rb)
        rows_1.append(r1)
        rows_2.append(r2)
    return arb_mat(rows_b), arb_mat(rows_1), arb_mat(rows_2)


def _eps_g(K, D, Delta, ts, ht, res: _Resolution, law: _ClassLaw):
    """``eps_g`` (arb) by the xi_1 trapezoid and accumulated Gauss-Legendre integrals of omega~."""
    from flint import arb

    if Delta == 0:
        return arb(0)
    sq = law.Delta_arb.sqrt()
    h = res.h_xi_e
    m = int(math.ceil(res.cut / h))
    ha = arb(h)
    isqrt2pi = 1 / (2 * arb.pi()).sqrt()
    xis = [k * ha for k in range(-m, m + 1)]
    wxi = [ha * (-x * x / 2).exp() * isqrt2pi for x in xis]
    xs = [sq * x for x in xis]
    rule = _gl_rule(res.n_e, _current_prec())
    # nodes of every interval [x_k, x_{k+1}] (k = 0 .. 2m-1), flattened
    inner_nodes, inner_w = [], []
    for lo, hi in zip(xs[:-1], xs[1:]):
        half = (hi - lo) / 2
        mid = (hi + lo) / 2
        inner_nodes.append([mid + half * x for x, _ in rule])
        inner_w.append([half * w for _, w in rule])
    flat = [z for nodes in inner_nodes for z in nodes]
    total = arb(0)
    n_e = res.n_e
    for t in ts:
        Ft = law.ncdf(t)
        wt = ht * K * law.npdf(t) * _ipow(Ft, K - 1)
        om, _ = law.weights(t, flat, with_gap=False)
        # q~(x_k) = int_{x_k}^inf omega~, accumulated from the top (q~(x_top) ~ e^-L: dropped)
        q = arb(0)
        acc = arb(0)
        iFt = 1 / Ft
        for k in range(len(xs) - 2, -1, -1):
            seg = arb(0)
            base = k * n_e
            for j, w in enumerate(inner_w[k]):
                seg += w * om[base + j]
            q += seg
            qn = q * iFt
            one_m = 1 - qn
            # 1 - (1 - q)^(K-1) = q sum_{i<K-1} (1 - q)^i
            s = arb(1)
            p = arb(1)
            for _ in range(K - 2):
                p *= one_m
                s += p
            acc += wxi[k] * qn * s
        total += wt * acc
    return total


def _current_prec():
    from flint import ctx

    return ctx.prec


def _laplace_sums_mp(K, D, Delta, res: _Resolution):
    """The five moments (arb) at resolution ``res`` (inside a precision context)."""
    from flint import arb, arb_mat

    prec = _current_prec()
    law = _ClassLaw(D, Delta)
    D, Delta = float(D), float(Delta)
    top = _zeta_top(Delta, res)
    ts, ht, t_hi = _t_grid(K, res)
    kappas, wk, fk = _kappa_grid(Delta, K, res, top)
    kappa_max = max(fk)
    edges = _zeta_edges(D, Delta, res, kappa_max, t_hi)
    zetas, wz, fz = _gl_panels(edges, res.n_gl, prec)
    G0, G1 = _winner_factors(kappas, law.Delta_arb, res)

    Xb, X1, X2 = _x_matrices(kappas, fk, zetas, wz, fz, res.L)
    cols_om, cols_omg = [], []
    for t in ts:
        om, omg = law.weights(t, zetas)
        cols_om.append(om)
        cols_omg.append(omg)
    Om = arb_mat(cols_om).transpose()
    Omg = arb_mat(cols_omg).transpose()
    B = (Xb * Om).tolist()
    A1 = (X1 * Om).tolist()
    A2 = (X2 * Om).tolist()
    Ag = (X1 * Omg).tolist()

    km1 = K - 1
    # per-kappa weights
    # (X_1, X_2 carry the factors e^(kappa + zeta); the winner's e^(kappa + sqrt(Delta) xi_1) is in G1)
    c_0 = [w * g for w, g in zip(wk, G0)]
    c_1 = [w * g for w, g in zip(wk, G1)]
    out = [arb(0)] * 4
    for j, t in enumerate(ts):
        Ft = law.ncdf(t)
        Fpow = [_ipow(Ft, k) for k in range(km1)]
        drift = restoring = noise = loss = arb(0)
        pair = arb(0)
        for i in range(len(kappas)):
            b = B[i][j]
            a0 = Ft - b
            a1 = A1[i][j]
            p3 = _ipow(a0, km1 - 2)
            p2 = p3 * a0
            drift += c_0[i] * Ag[i][j] * p2
            restoring += c_1[i] * a1 * p2
            noise += c_0[i] * A2[i][j] * p2
            pair += c_0[i] * a1 * a1 * p3
            # Phi^(K-1) - A0^(K-1) = B sum_k A0^k Phi^(K-2-k)
            s = arb(0)
            pa = arb(1)
            for kk in range(km1):
                s += pa * Fpow[km1 - 1 - kk]
                pa *= a0
            loss += c_0[i] * b * s
        wt = ht * K * law.npdf(t)
        pair_t = km1 * (km1 - 1) * pair
        vals = [km1 * drift, 2 * km1 * restoring + pair_t, 2 * km1 * noise + pair_t, loss]
        out = [o + wt * v for o, v in zip(out, vals)]
    eps = _eps_g(K, D, Delta, ts, ht, res, law)
    return [out[0], out[1], out[2], eps, out[3]]


def laplace_moments_mp(K: int, D, Delta, digits: int = 20) -> ClosureMoments:
    """Closure moments for any ``K >= 3`` to ``digits`` significant digits (mpf values).

    Arbitrary-precision version of
    :func:`~asymptotics.numeric.closure_quadrature.laplace_moments` (see the module docstring for
    the quadrature rules, all chosen from ``digits``), in python-flint ``arb`` arithmetic.
    ``errors``: difference to a half-resolution run (squared, relative), plus the ``arb`` radius and
    the final rounding.  Valid for ``0 <= D <= 1e4``, ``0 <= Delta <= 50`` (validated for
    ``D <= 2000``, ``Delta <= 5``); ``D = Delta = 0`` gives the closed forms.  About 1-10 s at
    20 digits for K = 5, growing with ``digits`` (roughly cubically) and ``Delta``.

    >>> m = laplace_moments_mp(3, 0, 0, digits=10)     # uniform point: closed forms
    >>> m.method, mpmath.nstr(m.restoring, 10)
    ('closed-form', '0.6666666667')
    >>> laplace_moments_mp(2, 1.0, 0.25)
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: laplace_moments_mp needs K >= 3 (use the binary path for K = 2), got 2
    """
    K = check_num_classes(K)
    if K < 3:
        raise InvalidInputError(f"laplace_moments_mp needs K >= 3 (use the binary path for K = 2), got {K}")
    digits = check_digits(digits)
    check_nonnegative("D", D)
    check_nonnegative("Delta", Delta)
    Dm = mpmath.mpf(D) if not isinstance(D, mpmath.mpf) else D
    Deltam = mpmath.mpf(Delta) if not isinstance(Delta, mpmath.mpf) else Delta
    Df, Deltaf = float(D), float(Delta)
    if Df > D_MAX:
        raise InvalidInputError(f"laplace_moments_mp supports D <= {D_MAX:g}, got D = {Df:g}")
    if Deltaf > DELTA_MAX:
        raise InvalidInputError(f"laplace_moments_mp supports Delta <= {DELTA_MAX:g}, got Delta = {Deltaf:g}")
    if Df == 0.0 and Deltaf == 0.0:
        return uniform_closure(K, digits)
    prec = _working_prec(digits, Df)
    fine_res = _resolution(K, Df, digits)
    coarse_res = _resolution(K, Df, digits, scale=0.5)
    target = mpmath.mpf(10) ** (-(digits + 4))
    for _attempt in range(3):
        with _Prec(prec):
            fine = _laplace_sums_mp(K, Dm, Deltam, fine_res)
        if not all(x.is_finite() for x in fine):
            raise IntegrationError(
                f"laplace_moments_mp: non-finite result at K={K}, D={Df:g}, Delta={Deltaf:g}, digits={digits}"
            )
        with mpmath.workdps(prec // 3 + 10):
            vals = [_to_mpf(x) for x in fine]
            rads = [_rad_mpf(x) for x in fine]
            if all(r <= target * abs(v) for r, v in zip(rads, vals)):
                break
        prec += 64  # rounding error too large: more working precision
    else:
        raise IntegrationError(
            f"laplace_moments_mp: rounding errors do not fall below 1e-{digits + 4}"
            f" relative at K={K}, D={Df:g}, Delta={Deltaf:g}"
        )
    with _Prec(prec):
        coarse = _laplace_sums_mp(K, Dm, Deltam, coarse_res)
    with mpmath.workdps(prec // 3 + 10):
        cvals = [_to_mpf(x) for x in coarse]
        floor = mpmath.mpf(2) ** (-mpmath.libmp.dps_to_prec(digits))  # the final rounding
        errs = []
        for v, c, r in zip(vals, cvals, rads):
            e = abs(v - c)
            # exponential convergence: halving the resolution about squares the relative error
            est = min(e, 10 * e * e / abs(v)) if v != 0 else e
            errs.append(est + r + abs(v) * floor)
    with mpmath.workdps(digits):
        vals = [+v for v in vals]
        errs = [+e for e in errs]
    return ClosureMoments(
        K,
        Dm,
        Deltam,
        *vals,
        errors=dict(zip(MOMENT_NAMES, errs)),
        method="quadrature-laplace-flint",
        digits=digits,
    )
