"""Arbitrary-precision statistical mechanics of n i.i.d. Gaussian logits (``digits`` digits).

Same quantities as :func:`asymptotics.peaked.stat_mech_float.gap_thermodynamics` -- ``a = <ln Z> - beta c0``,
``V = U + c0``, ``purity``, ``entropy`` -- but from a *two-dimensional* Laplace representation that is
evaluated in ball arithmetic (python-flint ``arb``) at ``digits + guard`` digits.  With ``t = e^r``,
``L(r) = E exp(-t e^{beta h})`` (one logit) and ``E e^{-tZ} = L^n``::

    <ln Z>         = -gamma + int_{-inf}^0 (1 - L^n) dr - int_0^inf L^n dr
    <sum_i p_i h_i> = n int L^(n-1) J1 dr,   J1 = E[h e^w exp(-e^w)],   w = r + beta h
    <sum_i p_i^2>   = n int L^(n-1) J2 dr,   J2 = E[e^{2w} exp(-e^w)]

(``gamma`` = Euler's constant; the split at r = 0 absorbs ``int (e^-t - ...) dt/t``).  The inner
expectations are matrix-vector products on a fixed inner grid: for beta <= 1 Gauss-Legendre panels in
``h`` (kernel ``exp(-t e^{beta h})``), for beta > 1 panels in ``w`` (kernel ``phi((w - r)/beta)/beta``;
the part of ``L`` far below the double-exponential step is the closed form ``Phi(-r/beta)``).  ``1 - L`` is
accumulated separately (``expm1``), so ``1 - L^n`` keeps full relative precision for small t.

Unlike the float64 gap-variable formulation this one *has* cancellation -- ``a = <ln Z> - beta c0`` and
``V = c0 - <sum p h>`` are small at low temperature (``a ~ c2/beta``, ``V ~ c2/beta^2``).  It is paid for
with guard digits: the float64 path estimates ``a`` and ``V`` first and the working precision is raised
by ``log10(beta c0/a)`` and ``log10(c0/V)`` (plus 10 + log10 n).  ``c0 = E[max h]`` comes from
:func:`asymptotics.asymptotic.gap_density.expected_maximum` at the working precision.

Accuracy: the requested ``digits`` (relative) for a, V, purity and entropy; checked by agreement of the
15/30/50-digit results, against the float64 path (~1e-13), against a 1-D reduction for n = 2 and the
high-temperature Taylor series (tests/peaked/test_peaked_stat_mech_mp.py).

Cost (2-core machine, measured, 30 digits; see :data:`MEASURED_TIMES`): n = 128: 1.5 s (beta = 1e-3),
0.9 s (beta = 1), 3.6 s (beta = 100), 4.1 s (beta = 1e4); n = 32000: 1.5 s (beta = 1), 6.3 s (beta = 1e4).
At these points the 30-digit values agree with the float64 path to 4e-15 (n = 128) and 3e-14 (n = 32000,
V at beta = 1) relative.  Cost grows roughly like digits^2 (matrix size) -- 50 digits is ~3x slower.

>>> r = gap_thermodynamics_mp(2, 1, 30)
>>> mpmath.nstr(r["lnZ"], 20)  # <ln Z> for n = 2, beta = 1
'0.90266190772002692704'
"""

from __future__ import annotations

import functools
import math

import mpmath
from flint import arb, arb_mat, ctx

from asymptotics.validation import (
    check_digits,
    check_num_classes,
    exact_real,
    fraction_to_mpf,
)

__all__ = ["gap_thermodynamics_mp", "MEASURED_TIMES"]

#: wall-clock seconds per call measured on the 2-core development machine (filled from benchmarks)
MEASURED_TIMES = {
    (128, 1e-3, 30): 1.48,
    (128, 1.0, 30): 0.85,
    (128, 100.0, 30): 3.61,
    (128, 1e4, 30): 4.14,
    (32000, 1.0, 30): 1.46,
    (32000, 1e4, 30): 6.29,
}

_LN10 = math.log(10.0)
ORDER_FACTOR = 0.3  # Gauss-Legendre nodes per panel = ORDER_FACTOR * working digits + 8


def _to_arb(x) -> arb:
    """Exact conversion of a float / int / mpf to arb."""
    sign, man, exp, _ = mpmath.mpf(x)._mpf_
    v = arb(int(man)) * arb(2) ** int(exp) if exp >= 0 else arb(int(man)) / arb(2) ** int(-exp)
    return -v if sign else v


def _to_mpf(x: arb) -> mpmath.mpf:
    man, exp = x.mid().man_exp()
    man = int(man)
    with mpmath.workprec(max(53, abs(man).bit_length() + 8)):  # exact, whatever the global precision
        return mpmath.mpf((man, int(exp)))


@functools.lru_cache(maxsize=64)
def _gl_unit(order: int, prec: int):
    """Gauss-Legendre nodes and weights on [-1, 1] at ``prec`` bits (arb)."""
    old = ctx.prec
    ctx.prec = prec
    try:
        return tuple(arb.legendre_p_root(order, k, weight=True) for k in range(order))
    finally:
        ctx.prec = old


def _panels_nodes(edges, order: int, prec: int):
    """Composite Gauss-Legendre nodes/weights (lists of arb) on panels between consecutive float edges."""
    unit = _gl_unit(order, prec)
    xs, ws = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        a, b = _to_arb(lo), _to_arb(hi)
        half, mid = (b - a) / 2, (b + a) / 2
        for x, w in unit:
            xs.append(mid + half * x)
            ws.append(half * w)
    return xs, ws


def _graded_edges(lo, core_lo, core_hi, hi, width, growth=1.35, max_width=None):
    """Panel edges: uniform ``width`` on [core_lo, core_hi], geometrically growing widths outside."""
    core_lo, core_hi = max(lo, core_lo), min(hi, core_hi)
    if core_hi <= core_lo:
        core_lo = core_hi = 0.5 * (lo + hi)
    k = max(1, int(math.ceil((core_hi - core_lo) / width)))
    edges = [core_lo + (core_hi - core_lo) * i / k for i in range(k + 1)] if core_hi > core_lo else [core_lo]
    cap = max_width if max_width is not None else float("inf")
    w, x = width, edges[-1]
    while x < hi:
        w = min(w * growth, cap)
        x = min(hi, x + w)
        edges.append(x)
    w, x, left = width, edges[0], []
    while x > lo:
        w = min(w * growth, cap)
        x = max(lo, x - w)
        left.append(x)
    return left[::-1] + edges


def _r_range(n: int, beta: float, dw: int):
    """[r_lo, r_hi] outside which all r-integrands are below 10^-dw (from explicit upper bounds)."""
    target = -(dw * _LN10 + math.log(n) + 10.0)

    def log_one_minus_L_bound(r):  # 1 - L <= P(beta h > -r) + e^{r + beta^2/2} Phi(-r/beta - beta)
        with mpmath.workdps(15):
            v = mpmath.ncdf(r / beta) + mpmath.exp(r + beta * beta / 2) * mpmath.ncdf(-r / beta - beta)
            return float(mpmath.log(v))

    s = math.log(dw * _LN10 + math.log(n) + 30.0)  # exp(-e^s) below the target

    def log_L_bound(r):  # L <= P(beta h < s - r) + exp(-e^s)
        with mpmath.workdps(15):
            return float(mpmath.log(mpmath.ncdf((s - r) / beta) + mpmath.exp(-mpmath.exp(s))))

    lo = -1.0
    while math.log(n) + log_one_minus_L_bound(lo) > target:
        lo *= 2
    a, b = lo, 0.0  # bisection: bound increasing in r
    for _ in range(60):
        m = 0.5 * (a + b)
        if math.log(n) + log_one_minus_L_bound(m) > target:
            b = m
        else:
            a = m
    r_lo = a
    hi = 1.0
    while (n - 1) * log_L_bound(hi) + math.log(n) > target + math.log(1e-3):
        hi *= 2
    a, b = 0.0, hi
    for _ in range(60):
        m = 0.5 * (a + b)
        if (n - 1) * log_L_bound(m) + math.log(n) > target + math.log(1e-3):
            a = m
        else:
            b = m
    return r_lo, b


def _estimates(n: int, beta: float):
    """Float64 estimates of (a, V, c0) to choose guard digits (crude fallbacks outside its range)."""
    from asymptotics.asymptotic.gap_density import expected_maximum

    c0 = float(expected_maximum(n))
    try:
        from asymptotics.peaked.stat_mech_float import gap_thermodynamics

        g = gap_thermodynamics(n, beta)
        a, V = g["a"], g["V"]
        if not (a > 0 and V > 0 and math.isfinite(a) and math.isfinite(V)):
            raise ValueError
    except Exception:  # pragma: no cover - outside the float path's range
        a = min(math.log(n), 1.0 / beta)
        V = min(c0, 1.0 / beta**2)
    return a, V, c0


def gap_thermodynamics_mp(n: int, beta, digits: int = 15) -> dict:
    """``a = <ln Z> - beta c0``, ``V = U + c0``, ``purity``, ``entropy`` (and ``lnZ``, ``U``, ``c0``) as
    mpmath ``mpf`` correct to ``digits`` significant digits (rounded inside ``workdps(digits)``).

    ``beta`` may be a float, int, string or mpf (taken exactly).  Timings on the 2-core machine at 30
    digits: 0.9-4.1 s for n = 128 and beta in [1e-3, 1e4]; 1.5-6.3 s for n = 32000 (beta = 1 and 1e4),
    see :data:`MEASURED_TIMES`.  The result does not depend on the global mpmath precision.

    >>> r = gap_thermodynamics_mp(3, 2, 20)
    >>> mpmath.nstr(r["entropy"], 10)
    '0.6040276281'
    """
    n = check_num_classes(n)
    digits = check_digits(digits)
    beta_q = exact_real("beta", beta, positive=True)
    with mpmath.workdps(digits + 30):
        beta_mp = fraction_to_mpf(beta_q)
    bf = float(beta_mp)
    a_est, V_est, c0_est = _estimates(n, bf)
    lnz_est = a_est + bf * c0_est
    loss = max(math.log10(max(1.0, abs(lnz_est) / a_est)), math.log10(max(1.0, c0_est / V_est)))
    dw = digits + 10 + int(math.ceil(math.log10(n))) + int(math.ceil(loss))
    prec = int(dw * 3.33) + 16
    from asymptotics.asymptotic.gap_density import expected_maximum

    c0_mp = expected_maximum(n, dw)
    old = ctx.prec
    ctx.prec = prec
    try:
        res = _compute(n, beta_mp, bf, dw, prec, lnz_est, c0_mp)
    finally:
        ctx.prec = old
    with mpmath.workdps(dw):
        lnz, sph, purity = res
        c0 = +c0_mp
        a = lnz - beta_mp * c0
        V = c0 - sph
        ent = a + beta_mp * V
        out = {"lnZ": lnz, "a": a, "V": V, "U": -sph, "purity": purity, "entropy": ent, "c0": c0}
    with mpmath.workdps(digits):
        return {k: +v for k, v in out.items()}


def _compute(n, beta_mp, bf, dw, prec, lnz_est, c0_mp):
    order = int(math.ceil(ORDER_FACTOR * dw)) + 8
    beta = _to_arb(beta_mp)
    r_lo, r_hi = _r_range(n, bf, dw)
    center = -lnz_est
    if bf <= 1.0:
        width = 1.0
        core = (center - 6.0, center + 4.0)
    else:
        width = max(1.0, 0.5 * bf / math.sqrt(1.0 + 2.0 * math.log(n)))
        sx = bf / math.sqrt(1.0 + 2.0 * math.log(n))
        core = (center - 6.0 * sx - 6.0, center + 6.0 * sx + 4.0)
    edges = _graded_edges(r_lo, core[0], core[1], r_hi, width, max_width=max(4.0, 2 * width))
    if not any(e == 0.0 for e in edges):
        edges = sorted(edges + [0.0])
    rs, wr = _panels_nodes(edges, order, prec)
    rs_f = [float(x.mid()) for x in rs]
    N = len(rs)
    if bf <= 1.0:
        H = math.sqrt(2.0 * (dw * _LN10 + 5.0)) + 1.0
        hs, wh = _panels_nodes(_graded_edges(-H, -H, H, H, 1.5), order, prec)
        sq = (2 * arb.pi()).sqrt()
        base = [(-(h * h) / 2).exp() / sq * w for h, w in zip(hs, wh)]
        s = [(beta * h).exp() for h in hs]
        s_f = [float(x.mid()) for x in s]
        k0 = base
        k1 = [b * h * si for b, h, si in zip(base, hs, s)]
        k2 = [b * si * si for b, si in zip(base, s)]
        E_rows, Ec_rows = [], []
        ts = [r.exp() for r in rs]
        for t, tf in zip(ts, [math.exp(min(x, 700.0)) for x in rs_f]):
            erow, crow = [], []
            for si, sf in zip(s, s_f):
                u = t * si
                if tf * sf < 0.5:
                    em = (-u).expm1()
                    erow.append(1 + em)
                    crow.append(-em)
                else:
                    e = (-u).exp()
                    erow.append(e)
                    crow.append(1 - e)
            E_rows.append(erow)
            Ec_rows.append(crow)
        E = arb_mat(E_rows)
        Ec = arb_mat(Ec_rows)
        cols = E * arb_mat([[a, b, c] for a, b, c in zip(k0, k1, k2)])
        Lc_col = Ec * arb_mat([[a] for a in k0])
        L = [cols[i, 0] for i in range(N)]
        Lc = [Lc_col[i, 0] for i in range(N)]
        J1 = [ts[i] * cols[i, 1] for i in range(N)]
        J2 = [ts[i] * ts[i] * cols[i, 2] for i in range(N)]
    else:
        W = dw * _LN10 + 12.0
        Wp = math.log(dw * _LN10 + 10.0) + 1.5
        kp = max(1, int(math.ceil(Wp)))
        # 0 must be a panel edge: the step 1_{w<0} is subtracted analytically (Phi(-r/beta))
        w_edges = _graded_edges(-W, -12.0, 0.0, 0.0, 1.0, max_width=min(4.0, bf)) + [
            Wp * i / kp for i in range(1, kp + 1)
        ]
        ws, ww = _panels_nodes(w_edges, order, prec)
        ew = [w.exp() for w in ws]
        eew = [(-e).exp() for e in ew]
        # correction to the step: exp(-e^w) - 1_{w<0}
        corr = []
        for w, e, ee, wt in zip(ws, ew, eew, ww):
            corr.append(wt * (ee if float(w.mid()) > 0 else (-e).expm1()))
        k1 = [wt * e * ee for e, ee, wt in zip(ew, eew, ww)]
        k2 = [wt * e * e * ee for e, ee, wt in zip(ew, eew, ww)]
        sq = (2 * arb.pi()).sqrt()
        inv2b2 = 1 / (2 * beta * beta)
        G_rows, Gd_rows = [], []
        for r in rs:
            grow, drow = [], []
            for w in ws:
                d = w - r
                g = (-(d * d) * inv2b2).exp()
                grow.append(g)
                drow.append(g * d)
            G_rows.append(grow)
            Gd_rows.append(drow)
        G = arb_mat(G_rows)
        Gd = arb_mat(Gd_rows)
        cols = G * arb_mat([[c, b] for c, b in zip(corr, k2)])
        j1 = Gd * arb_mat([[b] for b in k1])
        norm = 1 / (sq * beta)
        L, Lc, J1, J2 = [], [], [], []
        for i, r in enumerate(rs):
            x = r / beta
            c = cols[i, 0] * norm
            Lc.append(_ncdf(x) - c)
            L.append(_ncdf(-x) + c)
            J2.append(cols[i, 1] * norm)
            J1.append(j1[i, 0] * norm / beta)
    gamma = arb.const_euler()
    lnz = -gamma
    sph = arb(0)
    pur = arb(0)
    nn = arb(n)
    for i in range(N):
        lc, l = Lc[i], L[i]
        logL = (-lc).log1p() if float(lc.mid()) < 0.5 else l.log()
        if rs_f[i] < 0:
            lnz += wr[i] * (-(nn * logL).expm1())
        else:
            lnz -= wr[i] * (nn * logL).exp()
        Ln1 = ((nn - 1) * logL).exp()
        sph += wr[i] * Ln1 * J1[i]
        pur += wr[i] * Ln1 * J2[i]
    sph *= nn
    pur *= nn
    return _to_mpf(lnz), _to_mpf(sph), _to_mpf(pur)


def _ncdf(x: arb) -> arb:
    return (-x / arb(2).sqrt()).erfc() / 2
