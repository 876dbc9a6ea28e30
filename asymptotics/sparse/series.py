"""Asymptotic series in D of the exact expectations, by the Mellin transform method (SymPy).

Each expectation is a harmonic sum ``H(D) = sum_i i^-alpha g(D, p_i)`` (see
:mod:`asymptotics.sparse.expectations`).  With ``nu_i = -ln(1 - p_i)`` one has ``(1-p_i)^D = exp(-D nu_i)``
exactly, so for i >= 2 (coordinate 1 has p = 1 and contributes ``g(D, 1)``, i.e. 1 if seen, 0 if
unseen)

    H(D) - g(D, 1) = (1/2 pi i) int_(c) G(u) D^-u Z(u) du,     Z(u) = sum_{i>=2} i^-alpha nu_i^-u,

with ``G(u) = Gamma(u)`` (unseen: Mellin transform of e^-x, 0 < c) or ``-Gamma(u)`` (seen: Mellin
transform of 1 - e^-x, -1 < c < 0).  Expanding ``nu^-u = p^-u (-ln(1-p)/p)^-u = p^-u sum_k e_k(u) p^k``
gives ``Z(u) = sum_k e_k(u) zeta(alpha - s u + s k, 2)``.  Closing the contour to the right picks up

* the poles of the Dirichlet series, ``alpha - s u + s k = 1`` (``k = 0``: the leading term; ``k >= 1``:
  the corrections from ``(1-p)^D != e^-Dp``), and
* the pole of ``Gamma`` at ``u = 0`` for the seen kind (the "other pole"; e.g. the constant -1/2 of E|S|),

so that ``H(D) ~ g(D,1) - sum Res``.  SymPy finds the poles (``solve``) and the residues
(``residue``); SymPy cannot expand ``zeta`` at its pole, so the Laurent series
``zeta(1+z) = 1/z + sum_n (-1)^n gamma_n z^n/n!`` (Stieltjes constants) is substituted first, which also
gives the ``log D`` terms when two poles merge (seen sum with alpha = 1).  The remainder after all
residues is smaller than any power of D (it is the Poisson-summation correction; see
:func:`asymptotics.sparse.harmonic.d_switch`).

>>> terms = series_terms("seen_expected", order=2)                    # symbolic s, a
>>> [t.expr for t in terms]
[D**(1/s)*gamma((s - 1)/s), -1/2]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from asymptotics.sparse.expectations import EXPECTATIONS, alpha_of
from asymptotics.sparse.harmonic import e_coefficients
from asymptotics.sparse.model import SparseModel
from asymptotics.validation import InvalidInputError, check_digits

__all__ = [
    "SYMBOLS",
    "SeriesTerm",
    "asymptotic_series",
    "evaluate_series",
    "mellin_representation",
    "series_terms",
]

S_SYM, A_SYM, D_SYM = sp.symbols("s a D", positive=True)
U_SYM, EPS = sp.symbols("u epsilon")
SYMBOLS = {"s": S_SYM, "a": A_SYM, "D": D_SYM, "u": U_SYM}


@dataclass(frozen=True)
class SeriesTerm:
    """One term ``coefficient * D^power * (ln D)^log_power`` of an asymptotic series.

    ``source`` names the pole: ``"zeta k"`` (Dirichlet pole of the k-th correction) or ``"gamma"``.
    """

    coefficient: sp.Expr
    power: sp.Expr
    log_power: int
    pole: sp.Expr
    source: str

    @property
    def expr(self) -> sp.Expr:
        return self.coefficient * D_SYM**self.power * sp.log(D_SYM) ** self.log_power

    @property
    def latex(self) -> str:
        return sp.latex(self.expr)


def _zeta_minus_one_near_pole(z, order: int):
    """Laurent series of ``zeta(1 + z) - 1`` (the Hurwitz zeta(., 2)) about z = 0 up to z^(order-1)."""
    out = 1 / z - 1
    for n in range(order):
        out += (-1) ** n * sp.stieltjes(n) * z**n / sp.factorial(n)
    return out


def mellin_representation(name: str) -> dict:
    """The Mellin-Barnes representation of an expectation, symbolic in s, a (LaTeX included).

    >>> r = mellin_representation("missing_signal")
    >>> r["alpha"], r["kind"], r["mellin_g"]
    (a + 1, 'unseen', gamma(u))
    """
    kind = EXPECTATIONS[name][0] if name in EXPECTATIONS else None
    if kind is None:
        raise InvalidInputError(f"unknown expectation {name!r}; choose from {sorted(EXPECTATIONS)}")
    alpha = sp.sympify(alpha_of(name, S_SYM, A_SYM))
    u, k = U_SYM, sp.Symbol("k", integer=True, nonnegative=True)
    G = sp.gamma(u) if kind == "unseen" else -sp.gamma(u)
    dirichlet = sp.Sum(sp.Function("e_k")(u) * sp.zeta(alpha - S_SYM * u + S_SYM * k, 2), (k, 0, sp.oo))
    boundary = sp.Integer(0) if kind == "unseen" else sp.Integer(1)
    latex = (
        rf"H(D) = {sp.latex(boundary)} + \frac{{1}}{{2\pi i}}\int_{{(c)}} {sp.latex(G)}\, D^{{-u}}"
        rf"\sum_{{k\ge 0}} e_k(u)\,\zeta\!\left({sp.latex(alpha - S_SYM * u + S_SYM * k)}, 2\right) du,"
        r"\quad \sum_k e_k(u)x^k = \left(\frac{-\ln(1-x)}{x}\right)^{-u}"
    )
    return {
        "name": name,
        "kind": kind,
        "alpha": alpha,
        "mellin_g": G,
        "dirichlet": dirichlet,
        "boundary": boundary,
        "latex": latex,
    }


def _residue_terms(G, ek, alpha, s, k: int, pole, n_laurent: int) -> list[tuple]:
    """Residue of ``G(u) e_k(u) (zeta(alpha - s u + s k) - 1) D^-u`` at ``pole`` as (coeff, log_power)."""
    eps = EPS
    z = alpha - s * (pole + eps) + s * k - 1  # zeta argument minus 1
    z = sp.expand(z)
    if sp.simplify(z.subs(eps, 0)) == 0:  # the Dirichlet pole: Laurent series of zeta
        zeta_part = _zeta_minus_one_near_pole(z, n_laurent)
    else:
        zeta_part = sp.zeta(alpha - s * (pole + eps) + s * k) - 1
    expr = G.subs(U_SYM, pole + eps) * ek.subs(U_SYM, pole + eps) * zeta_part
    L = sp.Symbol("L")  # ln D: D^-(pole+eps) = D^-pole e^(-eps L)
    expr = expr * sp.exp(-eps * L)
    r = sp.residue(expr, eps, 0)
    r = sp.expand(r)
    poly = sp.Poly(r, L) if r.has(L) else None
    if poly is None:
        return [(sp.simplify(r), 0)]
    return [(sp.simplify(c), int(m[0])) for m, c in zip(poly.monoms(), poly.coeffs())]


def _merge(terms: list[SeriesTerm]) -> list[SeriesTerm]:
    """Add up terms with the same power of D and of ln D (e.g. the Gamma-pole constant and i = 1)."""
    out: list[SeriesTerm] = []
    for t in terms:
        for j, o in enumerate(out):
            if o.log_power == t.log_power and sp.simplify(o.power - t.power) == 0:
                src = o.source if t.source == "i = 1" else f"{o.source} + {t.source}"
                out[j] = SeriesTerm(
                    sp.simplify(o.coefficient + t.coefficient), o.power, o.log_power, o.pole, src
                )
                break
        else:
            out.append(t)
    return [t for t in out if t.coefficient != 0]


def series_terms(name: str, order: int, model: SparseModel | None = None) -> list[SeriesTerm]:
    """The first ``order`` non-zero terms of the asymptotic series of an expectation in D.

    ``model=None`` keeps s, a symbolic (generic positions: all poles simple and distinct; the terms
    are ordered for 1 < s, 0 < a < s); with a model, s and a are exact rationals of the model's floats,
    coinciding poles are merged (log D terms) and the terms are sorted by decreasing power of D.

    >>> m = SparseModel(2.0, 0.5)
    >>> [(t.power, t.coefficient) for t in series_terms("missing_signal", 2, m)]
    [(-1/4, gamma(1/4)/2), (-5/4, -5*gamma(1/4)/64)]
    """
    return list(_series_terms_cached(name, order, model))


@lru_cache(maxsize=256)
def _series_terms_cached(name: str, order: int, model: SparseModel | None = None) -> tuple:
    """The first ``order`` non-zero terms of the asymptotic series of an expectation in D.

    ``model=None`` keeps s, a symbolic (generic positions: all poles simple and distinct; the terms
    are ordered for 1 < s, 0 < a < s); with a model, s and a are exact rationals of the model's floats,
    coinciding poles are merged (log D terms) and the terms are sorted by decreasing power of D.

    >>> m = SparseModel(2.0, 0.5)
    >>> [(t.power, t.coefficient) for t in series_terms("missing_signal", 2, m)]
    [(-1/4, gamma(1/4)/2), (-5/4, -5*gamma(1/4)/64)]
    """
    if not isinstance(order, int) or order < 1 or order > 40:
        raise InvalidInputError(f"order must be an integer in [1, 40], got {order!r}")
    rep = mellin_representation(name)
    kind = rep["kind"]
    if model is None:
        s, a = S_SYM, A_SYM
    else:
        if model.M is not None:
            raise InvalidInputError(
                "the asymptotic series in D is derived for M = infinity (with finite M "
                "the sums saturate at M); use a model with M=None"
            )
        s, a = sp.Rational(model.s_exact), sp.Rational(model.a_exact)
    alpha = sp.sympify(alpha_of(name, s, a))
    G = rep["mellin_g"]
    K = order + 2
    ek = [sp.expand(e) for e in e_coefficients(-U_SYM, K, one=sp.Integer(1))]
    candidates = []
    for k in range(K + 1):
        zeta_pole = sp.solve(sp.Eq(alpha - s * U_SYM + s * k, 1), U_SYM)[0]
        poles = [zeta_pole]
        if kind == "seen" and k == 0 and sp.simplify(zeta_pole) != 0:  # Gamma pole at u = 0 (strip (-1, 0))
            poles.append(sp.Integer(0))
        for pole in poles:
            src = "gamma" if pole == 0 and sp.simplify(zeta_pole) != 0 else f"zeta {k}"
            for coeff, lp in _residue_terms(G, ek[k], alpha, s, k, pole, n_laurent=3):
                if coeff != 0:
                    candidates.append(
                        SeriesTerm(
                            coefficient=sp.simplify(-coeff),
                            power=sp.simplify(-pole),
                            log_power=lp,
                            pole=pole,
                            source=src,
                        )
                    )
    if kind == "seen":  # coordinate 1 (p_1 = 1) is always seen
        candidates.append(
            SeriesTerm(
                coefficient=sp.Integer(1), power=sp.Integer(0), log_power=0, pole=sp.nan, source="i = 1"
            )
        )
    candidates = _merge(candidates)
    # order by decreasing power (then by log power); symbolic case: generic order for 1 < s, 0 < a < s
    if model is None:
        subs = {S_SYM: sp.Rational(7, 3), A_SYM: sp.Rational(2, 3)}
        key = lambda t: (-float(t.power.subs(subs)), -t.log_power)
    else:
        key = lambda t: (-float(t.power), -t.log_power)
    candidates.sort(key=key)
    return tuple(candidates[:order])


def asymptotic_series(name: str, model: SparseModel, order: int, *, digits: int | None = None) -> list[dict]:
    """Coefficient/power pairs of the first ``order`` terms for a model, evaluated numerically.

    Each entry: ``{"coefficient": c, "power": p, "log_power": j, "latex": ..., "source": ...}`` with
    the term ``c D^p (ln D)^j``; c and p are floats, or decimal strings with ``digits`` digits.

    >>> [(r["coefficient"], r["power"]) for r in asymptotic_series("seen_expected", SparseModel(2.0, 0.5), 2)]
    [(1.772453850905516, 0.5), (-0.5, 0.0)]
    """
    terms = series_terms(name, order, model)
    out = []
    for t in terms:
        if digits is None:
            c, p = float(sp.N(t.coefficient, 20)), float(t.power)
        else:
            check_digits(digits, minimum=5, maximum=1000)
            c, p = str(sp.N(t.coefficient, digits)), str(sp.N(t.power, digits))
        out.append(
            {"coefficient": c, "power": p, "log_power": t.log_power, "latex": t.latex, "source": t.source}
        )
    return out


def evaluate_series(terms: list[SeriesTerm], D, digits: int = 30):
    """Sum of the given terms at D (mpmath, ``digits`` digits)."""
    import mpmath

    with mpmath.workdps(digits + 10):
        Dm = mpmath.mpf(D)
        tot = mpmath.mpf(0)
        for t in terms:
            c = mpmath.mpf(sp.N(t.coefficient, digits + 10))
            p = mpmath.mpf(sp.N(t.power, digits + 10))
            tot += c * Dm**p * mpmath.log(Dm) ** t.log_power
    with mpmath.workdps(digits):
        return +tot
