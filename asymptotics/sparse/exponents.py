"""The two scaling exponents of the sparse model and their gap, derived in SymPy and measured.

Derivation (:func:`derive_exponents`):

* **under-parameterised** (1 << N << E|S|): as D -> infinity every coordinate the fit resolves is
  seen many times, ``d_i = D p_i``, and the deterministic equivalent becomes the in-distribution one:
  ``N = sum_i p_i/(p_i + kappa)``, ``fit = kappa^2 sum_i p_i w_i^2/(p_i + kappa)^2 / (1 - df2/N)``.
  With the power laws ``p_i = i^-s``, ``p_i w_i^2 = i^-(1+a)`` the sums become Mellin integrals
  (``x = (u/kappa)^(1/s)``, SymPy evaluates ``int u^(b-1)/(1+u)^m du``): ``N = C_N kappa^(-1/s)``,
  ``df2/N = 1 - 1/s`` and ``fit = A_under N^-a`` -- exponent ``-a``, prefactor derived.
* **over-parameterised floor** (N >> E|S|): the loss tends to the missing signal (plus the collision
  term, relatively O(D^(1/s-1))), ``(1/s) Gamma(a/s) D^(-a/s) (1 + O(1/D))`` from the Mellin series --
  exponent ``-a/s``.
* **gap** ``(-a/s) - (-a) = a (1 - 1/s)``: set by the sparsity alone, zero in the dense limit s -> 1.
* **threshold**: at ``N = E rank = E|S| - E defect``; ``E|S| ~ Gamma(1-1/s) D^(1/s)`` and the
  singleton-collision defect ``~ n1^2/(2D)`` with ``n1 ~ (1/s) Gamma(1-1/s) D^(1/s)`` so
  ``E rank/E|S| -> 1`` like ``1 - Gamma(1-1/s) D^(1/s-1)/(2 s^2)``.
* **peak** (median loss; the mean is infinite): width ``~ sd(r) ~ sqrt((2^(1/s)-1) Gamma(1-1/s))
  D^(1/(2s))``, excess height ``~ E[|w_S|^2 U_S]/(0.6745 sd(r)) ~ D^((1/2-a)/s)`` for a < s (0.6745 =
  median of |Z|).

Measurement: :func:`theory_slopes` applies :func:`asymptotics.analysis.slopes.local_slope` to the
D = infinity deterministic equivalent (N = 1e4 ... 1e6) and to the exact missing-signal floor
(D = 1e6 ... 1e8).

>>> d = derive_exponents()
>>> d["exponent_under"], d["exponent_over"], d["exponent_gap"]
(-a, -a/s, a - a/s)
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import integrate, optimize

from asymptotics.sparse.model import SparseModel
from asymptotics.validation import InvalidInputError

__all__ = ["derive_exponents", "exponent_values", "floor_curve", "infinite_data_fit", "theory_slopes"]


def _mellin(c, m, s, kappa):
    """int_0^inf x^c (1 + kappa x^s)^-m dx via x = (u/kappa)^(1/s) and SymPy's Mellin integral."""
    u = sp.Symbol("u", positive=True)
    b = sp.Symbol("b", positive=True)
    core = sp.integrate(u ** (b - 1) / (1 + u) ** m, (u, 0, sp.oo), conds="none")
    return sp.simplify(kappa ** (-(c + 1) / s) / s * core.subs(b, (c + 1) / s))


@lru_cache(maxsize=1)
def derive_exponents() -> dict:
    """SymPy derivation of the exponents, the under-parameterised prefactor and the peak scalings."""
    s, a, N, D, kappa = sp.symbols("s a N D kappa", positive=True)
    sigma = sp.Symbol("sigma", positive=True)  # s = 1 + sigma > 1
    N_k = _mellin(0, 1, s, kappa)  # sum p/(p+kappa) = int dx/(1+kappa x^s)
    df2 = _mellin(0, 2, s, kappa)
    ratio = sp.simplify(sp.gammasimp(df2 / N_k))  # df2/N = 1 - 1/s
    # fit: kappa^2 int x^(2s-1-a) (1 + kappa x^s)^-2 dx / (1 - df2/N)
    fit_k = sp.simplify(kappa**2 * _mellin(2 * s - 1 - a, 2, s, kappa) / (1 - ratio))
    kappa_N = sp.solve(sp.Eq(N, N_k), kappa)[0]
    fit_N = sp.simplify(sp.powsimp(fit_k.subs(kappa, kappa_N), force=True))
    exp_under = sp.simplify(sp.diff(sp.log(fit_N), N) * N)
    A_under = sp.simplify(fit_N / N**exp_under)
    floor = sp.gamma(a / s) / s * D ** (-a / s)
    exp_over = sp.simplify(sp.diff(sp.log(floor), D) * D)
    gap = sp.simplify(exp_over - exp_under)
    n = sp.gamma(1 - 1 / s) * D ** (1 / s)
    n1 = sp.gamma(1 - 1 / s) / s * D ** (1 / s)
    defect = n1**2 / (2 * D)
    rank_ratio = sp.simplify(1 - defect / n)
    var_n = (2 ** (1 / s) - 1) * sp.gamma(1 - 1 / s) * D ** (1 / s)
    weight = sp.gamma(a / s) / (s - a) * D ** (1 - a / s)  # E|w_S|^2, a < s
    unseen = sp.gamma(1 - 1 / s) / s * D ** (1 / s - 1)
    height = sp.simplify(weight * unseen / (sp.Float("0.6744897501960817") * sp.sqrt(var_n)))
    exp_height = sp.simplify(sp.diff(sp.log(height), D) * D)
    exp_width = sp.simplify(sp.diff(sp.log(sp.sqrt(var_n)), D) * D)
    out = {
        "N_of_kappa": N_k,
        "df2_over_N": ratio,
        "fit_of_kappa": fit_k,
        "kappa_of_N": kappa_N,
        "fit_of_N": fit_N,
        "exponent_under": exp_under,
        "prefactor_under": A_under,
        "floor": floor,
        "exponent_over": exp_over,
        "exponent_gap": gap,
        "dense_limit_gap": sp.limit(gap, s, 1),
        "threshold_ratio": rank_ratio,
        "threshold_ratio_limit": sp.limit(rank_ratio.subs(s, 1 + sigma), D, sp.oo),
        "peak_width": sp.sqrt(var_n),
        "exponent_peak_width": exp_width,
        "peak_excess_height": height,
        "exponent_peak_height": exp_height,
    }
    out["latex"] = {k: sp.latex(v) for k, v in out.items() if isinstance(v, sp.Basic)}
    return out


def exponent_values(model: SparseModel) -> dict:
    """Numerical values of the derived exponents and prefactors for a model."""
    d = derive_exponents()
    s, a = sp.symbols("s a", positive=True)
    sub = {s: sp.Rational(model.s), a: sp.Rational(model.a)}
    f = lambda e: float(sp.N(e.subs(sub), 20))
    return {
        "exponent_under": f(d["exponent_under"]),
        "exponent_over": f(d["exponent_over"]),
        "exponent_gap": f(d["exponent_gap"]),
        "prefactor_under": f(d["prefactor_under"]),
        "prefactor_over": f(sp.gamma(sub[a] / sub[s]) / sub[s]),
        "exponent_peak_width": f(d["exponent_peak_width"]),
        "exponent_peak_height": f(d["exponent_peak_height"]),
    }


# ------------------------------------------------------------------------------------------------
# the D = infinity deterministic equivalent on the integer lattice (for the theory slope in N)
# ------------------------------------------------------------------------------------------------


def _lattice_sum(alpha: float, s: float, kappa: float, m: int, I0: int = 4000) -> float:
    """sum_{i>=1} i^-alpha (i^-s + kappa)^-m (alpha > 1): direct below I0, Euler-Maclaurin above.

    The tail is ``int_I0^inf f + f(I0)/2 - f'(I0)/12 + f^(3)(I0)/720``; f varies on scales >= I0/(alpha+s),
    so the next Euler-Maclaurin term is below 1e-16 relative.  The integral is done in ln x by adaptive
    quadrature, split around the transition ``x* = kappa^(-1/s)``.
    """
    i = np.arange(1, I0, dtype=float)
    head = float(np.sum(i**-alpha * (i**-s + kappa) ** -m))
    f = lambda x: x**-alpha * (x**-s + kappa) ** -m
    g = lambda t: math.exp(t) * f(math.exp(t))
    t0 = math.log(I0)
    ts = math.log(kappa ** (-1.0 / s))
    t_end = max(t0, ts) + 60.0 / (alpha - 1.0)
    edges = [t0] + [t for t in (ts - 3, ts, ts + 3) if t0 < t < t_end] + [t_end]
    tail = sum(
        integrate.quad(g, lo, hi, epsabs=0, epsrel=1e-13, limit=400)[0]
        for lo, hi in itertools.pairwise(edges)
    )
    h = 0.5
    d1 = (f(I0 + h) - f(I0 - h)) / (2 * h)
    d3 = (f(I0 + 2 * h) - 2 * f(I0 + h) + 2 * f(I0 - h) - f(I0 - 2 * h)) / (2 * h**3)
    return head + tail + f(I0) / 2 - d1 / 12 + d3 / 720


def infinite_data_fit(model: SparseModel, N: float) -> float:
    """Seen-fit loss of the D = infinity deterministic equivalent (in-distribution resolvent).

    ``N = sum_i p_i/(p_i+kappa)``; ``fit = kappa^2 sum p_i w_i^2/(p_i+kappa)^2 / (1 - df2/N)`` with
    lattice sums over i = 1, 2, ... (accuracy ~1e-12 relative).
    """
    s, a = model.s, model.a
    Nf = lambda lk: _lattice_sum(s, s, math.exp(lk), 1) - N  # sum p/(p+kappa)
    kappa = math.exp(optimize.brentq(Nf, -40 * s, 20.0, xtol=1e-14, rtol=1e-15))
    df2 = _lattice_sum(2 * s, s, kappa, 2)  # sum p^2/(p+kappa)^2
    return kappa**2 * _lattice_sum(1 + a, s, kappa, 2) / (1 - df2 / N)


def floor_curve(model: SparseModel, D) -> np.ndarray:
    """Over-parameterised floor of the theory: missing signal + collision null-space signal."""
    from asymptotics.sparse.seen_set import seen_statistics

    Ds = np.atleast_1d(D)
    out = []
    for d in Ds:
        st = seen_statistics(model, round(float(d)))
        out.append(st.missing + st.removed_signal)
    return np.array(out)


def theory_slopes(model: SparseModel, *, N_range=(1e4, 1e6), D_range=(1e6, 1e8)) -> dict:
    """Local slopes of the theory (>= 2 decades each).

    * ``under``: seen fit vs N of the D = infinity deterministic equivalent (-> -a);
    * ``over``: the missing-signal floor vs D (exact expectation; -> -a/s with O(1/D) corrections);
    * ``over_with_collisions``: ``lim_{N->inf} E L`` = missing signal + collision null-space signal,
      whose slope approaches -a/s only like D^(1/s - 1) (the collision term is relatively that small).
    """
    from asymptotics.analysis.slopes import effective_exponents
    from asymptotics.sparse.expectations import missing_signal

    if model.M is not None:
        raise InvalidInputError("exponents are defined for M = infinity")
    under = effective_exponents(lambda n: infinite_data_fit(model, n), *N_range, per="decade", label="fit(N)")
    over = effective_exponents(
        lambda d: float(missing_signal(model, round(d))[0]), *D_range, per="decade", label="missing(D)"
    )
    full = effective_exponents(
        lambda d: float(floor_curve(model, d)[0]), *D_range, per="decade", label="floor(D)"
    )
    return {"under": under, "over": over, "over_with_collisions": full}
