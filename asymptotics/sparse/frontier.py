"""Compute-optimal frontier of the sparse-feature mechanism (a stand-in model reproducing the
abstract's claims of arXiv 2605.23591): ``N*(C)``, ``D*(C)``, ``L*(C)`` at compute ``C = c N D``.

Three pieces:

* :func:`derive_frontier` (SymPy) -- the stationarity of the Lagrangian
  ``L(N, D) + mu (c N D - C)``, i.e. ``N dL/dN = D dL/dD`` on the constraint:

  - on the two-power-law caricature ``A N^-p + B D^-q`` it gives the closed forms
    ``N* = (p A/(q B))^(1/(p+q)) (C/c)^(q/(p+q))``, ``D* = C/(c N*)`` and ``L*``; with ``p = a``,
    ``q = a/s`` (the two exponents of :mod:`asymptotics.sparse.exponents`) the exponents are
    ``N* ~ C^(1/(1+s))``, ``D* ~ C^(s/(1+s))``, ``L* ~ C^(-a/(1+s))``: the data exponent exceeds the
    parameter exponent by ``(s-1)/(s+1) > 0`` for ``s > 1`` ("favours data"), equal (1/2, 1/2) in
    the dense limit ``s -> 1``;
  - on the full surface, which has the scaling form ``L = D^(-a/s) f(N D^(-1/s))`` (every term of the
    theory -- missing signal, seen fit at ``N ~ D^(1/s)``, aliasing -- scales so), the stationarity
    reads ``x f'(x)/f(x) = -a/(s+1)`` at ``x = N D^(-1/s)``: a C-independent ``x*``, hence the same
    exponents, with prefactors ``N* = x*^(s/(s+1)) (C/c)^(1/(s+1))``,
    ``D* = (C/(c x*))^(s/(s+1))``, ``L* = f(x*) (C/(c x*))^(-a/(s+1))``.  The double-descent peak
    sits inside the range of x where the caricature puts its optimum, so ``x*`` must come from the real
    ``f`` (:func:`scaling_function`).

* :func:`optimise_at` -- the numerical optimum of any surface on the constraint: a log-spaced scan
  over N (the ridgeless surface has two local minima, one on each side of the peak), then either a
  root of the stationarity condition (surfaces with an analytic gradient: the power-law test surface
  reaches 1e-14) or a bounded Brent minimisation in ``ln N``.  ``D = C/(c N)``, so ``c N* D* = C``
  to rounding.

* surfaces of the stand-in model: :class:`RidgelessSurface` (the expected loss of
  :class:`~asymptotics.sparse.learner.LossTheory`; inside the band ``|N - E rank| < 3 sd + 2``
  around the threshold the ridgeless expected loss is infinite, so the band is excluded) and
  :class:`OptimalRidgeSurface` (the loss at the optimal ridge of
  :class:`~asymptotics.sparse.ridge.RidgeTheory`, which has no peak).  N and D are treated as real
  numbers (the theory is smooth in both).

>>> surf = PowerLawSurface(1.0, 0.5, 1.0, 0.25)
>>> fr = frontier(surf, [1e4, 1e8])
>>> [round(v, 12) for v in fr.measured_exponents()[:2]]
[0.333333333333, 0.666666666667]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from asymptotics.sparse.model import SparseModel
from asymptotics.validation import InvalidInputError

__all__ = [
    "FixedRidgeSurface",
    "Frontier",
    "OptimalRidgeSurface",
    "PowerLawSurface",
    "RidgelessSurface",
    "check_compute",
    "derive_frontier",
    "frontier",
    "frontier_exponents",
    "optimise_at",
    "scaling_function",
    "scaling_optimum",
]


def check_compute(C, c: float = 1.0) -> tuple[np.ndarray, float]:
    """Validate compute values (> 0, finite, c N D = C with N, D >= 1 possible) and the cost factor c.

    >>> check_compute([0])
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: C must be > 0 and finite, got 0.0
    """
    try:
        c = float(c)
    except (TypeError, ValueError):
        raise InvalidInputError(f"c must be a number, got {c!r}") from None
    if not (math.isfinite(c) and c > 0):
        raise InvalidInputError(f"c (compute per parameter per sample) must be > 0 and finite, got {c}")
    try:
        Cs = np.atleast_1d(np.asarray(C, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise InvalidInputError(f"C must be numbers, got {C!r}") from None
    if Cs.size == 0:
        raise InvalidInputError("C must contain at least one value")
    for v in Cs:
        if not (math.isfinite(v) and v > 0):
            raise InvalidInputError(f"C must be > 0 and finite, got {v}")
        if v / c > 1e30:
            raise InvalidInputError(f"C/c must be <= 1e30, got {v / c:g}")
    return Cs, c


# ------------------------------------------------------------------------------------------------
# symbolic derivation
# ------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def derive_frontier() -> dict:
    """SymPy: Lagrangian stationarity on the caricature (closed forms) and on the scaling form.

    >>> d = derive_frontier()
    >>> d["exponent_N"], d["exponent_D"], d["exponent_loss"]
    (1/(s + 1), s/(s + 1), -a/(s + 1))
    >>> d["data_minus_parameter_exponent"], d["dense_limit"]
    ((s - 1)/(s + 1), (1/2, 1/2))
    """
    import sympy as sp

    N, D, C, c, A, B, p, q, mu = sp.symbols("N D C c A B p q mu", positive=True)
    s, a, x = sp.symbols("s a x", positive=True)
    L = A * N**-p + B * D**-q
    lag = L + mu * (c * N * D - C)
    # stationarity: dL/dN = -mu c D, dL/dD = -mu c N  =>  N dL/dN = D dL/dD; with D = C/(c N)
    eq = sp.Eq(sp.expand(N * sp.diff(L, N)), sp.expand(D * sp.diff(L, D)))
    D_of_N = C / (c * N)
    sol = sp.solve(eq.subs(D, D_of_N), N)
    if len(sol) != 1:  # pragma: no cover - SymPy regression
        raise AssertionError(f"unexpected stationarity solutions {sol}")
    N_star = sp.simplify(sol[0])
    D_star = sp.simplify(D_of_N.subs(N, N_star))
    L_star = sp.simplify(sp.powsimp(L.subs({N: N_star, D: D_star}), force=True))
    mu_star = sp.simplify(sp.solve(sp.diff(lag, N).subs({N: N_star, D: D_star}), mu)[0])
    ex = lambda e: sp.simplify(sp.expand_log(sp.log(e), force=True).diff(C) * C)
    eN, eD, eL = ex(N_star), ex(D_star), ex(L_star)
    sub = {p: a, q: a / s}
    eN_s, eD_s, eL_s = (sp.simplify(e.subs(sub)) for e in (eN, eD, eL))
    gap = sp.simplify(eD_s - eN_s)
    dense = (sp.limit(eN_s, s, 1), sp.limit(eD_s, s, 1))
    # full surface: L = D^(-a/s) f(N D^(-1/s)); stationarity N L_N = D L_D
    f = sp.Function("f")
    Lf = D ** (-a / s) * f(N * D ** (-1 / s))
    stat = sp.simplify((N * sp.diff(Lf, N) - D * sp.diff(Lf, D)) / D ** (-a / s))
    stat_x = sp.simplify(stat.subs(N, x * D ** (1 / s)).doit())  # a f + (s+1) x f' (over s)
    fp = sp.Symbol("fprime")
    log_derivative = sp.simplify(sp.solve(stat_x.subs(sp.Derivative(f(x), x), fp), fp)[0] * x / f(x))
    xs = sp.Symbol("x_star", positive=True)
    D_full = (C / (c * xs)) ** (s / (s + 1))
    N_full = sp.simplify(xs * D_full ** (1 / s))
    out = {
        "lagrangian": lag,
        "stationarity": eq,
        "N_star": N_star,
        "D_star": D_star,
        "L_star": L_star,
        "multiplier": mu_star,
        "exponent_N_general": eN,
        "exponent_D_general": eD,
        "exponent_loss_general": eL,
        "exponent_N": eN_s,
        "exponent_D": eD_s,
        "exponent_loss": eL_s,
        "data_minus_parameter_exponent": gap,
        "dense_limit": dense,
        "scaling_form": sp.Eq(sp.Symbol("L"), Lf),
        "scaling_stationarity": sp.Eq(sp.Symbol("x f'(x)/f(x)"), log_derivative),
        "N_star_full": N_full,
        "D_star_full": D_full,
        "L_star_full": sp.Symbol("f(x_star)") * (C / (c * xs)) ** (-a / (s + 1)),
        "exponents_full": tuple(
            sp.simplify(ex(e)) for e in (N_full, D_full, (C / (c * xs)) ** (-a / (s + 1)))
        ),
    }
    out["latex"] = {k: sp.latex(v) for k, v in out.items() if isinstance(v, (sp.Basic, sp.Eq))}
    return out


def frontier_exponents(s: float, a: float) -> dict:
    """Derived exponents ``1/(1+s)``, ``s/(1+s)``, ``-a/(1+s)`` as floats (from :func:`derive_frontier`).

    >>> frontier_exponents(2.0, 0.5)
    {'exponent_N': 0.3333333333333333, 'exponent_D': 0.6666666666666666, 'exponent_loss': -0.16666666666666666}
    """
    import sympy as sp

    d = derive_frontier()
    S, A_ = sp.symbols("s a", positive=True)
    sub = {S: sp.Float(s, 30), A_: sp.Float(a, 30)}
    return {k: float(d[k].subs(sub)) for k in ("exponent_N", "exponent_D", "exponent_loss")}


# ------------------------------------------------------------------------------------------------
# surfaces
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PowerLawSurface:
    """``A N^-p + B D^-q + E`` with its gradient and the closed-form frontier (test surface)."""

    A: float
    p: float
    B: float
    q: float
    E: float = 0.0
    name: str = "power-law surface A N^-p + B D^-q + E"

    def loss(self, N, D) -> float:
        return self.A * N**-self.p + self.B * D**-self.q + self.E

    def log_gradient(self, N, D) -> tuple[float, float]:
        """``(N dL/dN, D dL/dD)``."""
        return -self.p * self.A * N**-self.p, -self.q * self.B * D**-self.q

    def closed_form(self, C, c: float = 1.0) -> tuple[float, float, float]:
        """``(N*, D*, L*)`` from :func:`derive_frontier`'s formula."""
        p, q = self.p, self.q
        N = (p * self.A / (q * self.B)) ** (1 / (p + q)) * (C / c) ** (q / (p + q))
        D = C / (c * N)
        return N, D, self.loss(N, D)

    def search_bounds(self, C, c):
        N0 = self.closed_form(C, c)[0]
        return max(1e-300, N0 * 1e-4), N0 * 1e4


class _ModelSurface:
    """Common part of the stand-in surfaces: theory objects cached by D, bounds in the scaling variable."""

    x_range = (0.03, 300.0)  # N = x D^(1/s)
    grid_points = 41

    def __init__(self, model: SparseModel, *, cache: int = 4096):
        if not isinstance(model, SparseModel):
            raise InvalidInputError("model must be a SparseModel")
        if model.M is not None:
            raise InvalidInputError("the frontier needs M infinite")
        self.model = model
        self._cache = {}
        self._cache_size = cache
        self.evaluations = 0

    def theory(self, D: float):
        from asymptotics.sparse.learner import LossTheory

        key = float(D)
        th = self._cache.get(key)
        if th is None:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            th = self._cache[key] = LossTheory(self.model, key, continuous=True)
        return th

    def search_bounds(self, C, c):
        s = self.model.s
        lo, hi = self.x_range
        # N = x D^(1/s) with c N D = C:  D = (C/(c x))^(s/(s+1))
        N_of = lambda x: x * (C / (c * x)) ** (1 / (s + 1))
        n_lo, n_hi = max(1.0, N_of(lo)), min(C / (2.0 * c), N_of(hi))
        if not n_hi > n_lo:
            raise InvalidInputError(
                f"C = {C:g} is too small for the sparse model's frontier (need c N D with "
                "N >= 1, D >= 2 around the optimum)"
            )
        return n_lo, n_hi


class RidgelessSurface(_ModelSurface):
    """Expected loss of the min-norm learner (deterministic equivalent / exact-given-data over-param.);
    ``inf`` inside the band around the threshold, where the ridgeless expected loss is infinite."""

    name = "ridgeless expected loss (band around the threshold excluded)"

    def loss(self, N, D) -> float:
        from asymptotics.sparse.learner import LossTheory  # noqa: F401

        self.evaluations += 1
        if D < 2 or N < 1:
            return math.inf
        th = self.theory(D)
        try:
            r = th.loss(N)
        except InvalidInputError:
            return math.inf
        return math.inf if r["near_peak"] else float(r["loss"])

    def details(self, N, D) -> dict:
        r = self.theory(D).loss(N)
        return {"regime": r["regime"], "threshold": float(r["threshold"]), "near_peak": bool(r["near_peak"])}


class OptimalRidgeSurface(_ModelSurface):
    """Loss of the ridge learner at its optimal ridge (theory of :mod:`asymptotics.sparse.ridge`)."""

    name = "expected loss at the optimal ridge"

    def loss(self, N, D) -> float:
        from asymptotics.sparse.ridge import RidgeTheory

        self.evaluations += 1
        if D < 2 or N < 1:
            return math.inf
        try:
            return float(RidgeTheory(self.theory(D)).optimal(N)["loss"])
        except InvalidInputError:
            return math.inf

    def details(self, N, D) -> dict:
        from asymptotics.sparse.ridge import RidgeTheory

        o = RidgeTheory(self.theory(D)).optimal(N)
        th = self.theory(D)
        return {
            "ridge": float(o["ridge"]),
            "threshold": float(th.threshold),
            "regime": "over" if N > th.threshold else "under",
            "near_peak": False,
        }


class FixedRidgeSurface(_ModelSurface):
    """Loss of the ridge learner at a fixed ridge lambda > 0 (theory of :mod:`asymptotics.sparse.ridge`)."""

    def __init__(self, model: SparseModel, ridge: float, **kw):
        from asymptotics.sparse.ridge import check_ridge

        super().__init__(model, **kw)
        self.ridge = check_ridge(ridge, allow_zero=False)
        self.name = f"expected loss at ridge {self.ridge:g}"

    def loss(self, N, D) -> float:
        from asymptotics.sparse.ridge import RidgeTheory

        self.evaluations += 1
        if D < 2 or N < 1:
            return math.inf
        try:
            return float(RidgeTheory(self.theory(D)).loss(N, self.ridge)["loss"])
        except InvalidInputError:
            return math.inf

    def details(self, N, D) -> dict:
        th = self.theory(D)
        return {
            "ridge": self.ridge,
            "threshold": float(th.threshold),
            "regime": "over" if N > th.threshold else "under",
            "near_peak": False,
        }


# ------------------------------------------------------------------------------------------------
# the optimiser
# ------------------------------------------------------------------------------------------------


def optimise_at(surface, C: float, c: float = 1.0, *, bounds=None, grid_points: int | None = None) -> dict:
    """Minimise ``surface.loss(N, C/(c N))`` over N; returns N, D, loss and how it was found.

    A log-spaced scan locates the global minimum (the surface may have several local minima); the
    minimum is then refined between the neighbouring scan points: by a root of ``N L_N - D L_D`` when
    the surface has ``log_gradient`` (exact stationarity of the Lagrangian), else by bounded Brent in
    ``ln N`` (``xatol = 1e-10``).
    """
    Cs, c = check_compute(C, c)
    C = float(Cs[0])
    lo, hi = bounds if bounds is not None else surface.search_bounds(C, c)
    n = grid_points or getattr(surface, "grid_points", 61)
    lnN = np.linspace(math.log(lo), math.log(hi), n)
    f = lambda t: surface.loss(math.exp(t), C / (c * math.exp(t)))
    vals = np.array([f(t) for t in lnN])
    if not np.any(np.isfinite(vals)):
        raise InvalidInputError(f"the loss is not finite anywhere on the search range at C = {C:g}")
    j = int(np.nanargmin(np.where(np.isfinite(vals), vals, np.nan)))
    a_, b_ = lnN[max(0, j - 1)], lnN[min(n - 1, j + 1)]
    method = "scan + bounded Brent in ln N"
    t_best = None
    if hasattr(surface, "log_gradient") and 0 < j < n - 1:

        def g(t):
            N = math.exp(t)
            D = C / (c * N)
            gN, gD = surface.log_gradient(N, D)
            return gN - gD

        if g(a_) * g(b_) < 0:
            t_best = brentq(g, a_, b_, xtol=1e-15, rtol=1e-15, maxiter=200)
            method = "scan + root of the Lagrangian stationarity N L_N = D L_D"
    if t_best is None:
        res = minimize_scalar(f, bounds=(a_, b_), method="bounded", options={"xatol": 1e-10})
        t_best = res.x if res.fun <= vals[j] else lnN[j]
    N = math.exp(t_best)
    D = C / (c * N)
    value = surface.loss(N, D)
    edge = j in (0, n - 1)
    # the optimum next to an excluded (infinite) band is reported: it would be a boundary optimum
    near_excluded = bool(
        (j > 0 and not np.isfinite(vals[j - 1])) or (j < n - 1 and not np.isfinite(vals[j + 1]))
    )
    return {
        "C": C,
        "N": N,
        "D": D,
        "loss": value,
        "method": method,
        "at_search_edge": bool(edge),
        "next_to_excluded_band": near_excluded,
        "scan_lnN": lnN,
        "scan_loss": vals,
    }


@dataclass
class Frontier:
    """The optimum at each C, with the measured exponents (secant slopes) and the derived ones."""

    C: np.ndarray
    N: np.ndarray
    D: np.ndarray
    loss: np.ndarray
    c: float
    surface: str
    info: list = field(default_factory=list)

    def measured_exponents(self) -> tuple[float, float, float]:
        """Least-squares slopes of ln N*, ln D*, ln L* against ln C over the whole range (secant for 2)."""
        if self.C.size < 2:
            raise InvalidInputError("measured exponents need at least two values of C")
        x = np.log(self.C)
        return tuple(float(np.polyfit(x, np.log(v), 1)[0]) for v in (self.N, self.D, self.loss))

    def secant_exponents(self) -> dict:
        """Secant slopes between consecutive C values (local exponents)."""
        x = np.log(self.C)
        return {
            k: (np.diff(np.log(v)) / np.diff(x)).tolist()
            for k, v in (("N", self.N), ("D", self.D), ("loss", self.loss))
        }


def frontier(surface, C_values, c: float = 1.0) -> Frontier:
    """The compute-optimal frontier of ``surface`` at each compute value (sorted ascending)."""
    Cs, c = check_compute(C_values, c)
    Cs = np.sort(Cs)
    rows = [optimise_at(surface, C, c) for C in Cs]
    return Frontier(
        C=Cs,
        N=np.array([r["N"] for r in rows]),
        D=np.array([r["D"] for r in rows]),
        loss=np.array([r["loss"] for r in rows]),
        c=c,
        surface=getattr(surface, "name", ""),
        info=[{k: v for k, v in r.items() if not k.startswith("scan")} for r in rows],
    )


# ------------------------------------------------------------------------------------------------
# the scaling function of the stand-in theory and its optimum x*
# ------------------------------------------------------------------------------------------------


def scaling_function(model: SparseModel, x, *, D: float = 1e12, ridge: str = "0") -> np.ndarray:
    """``f(x) = D^(a/s) L(x D^(1/s), D)`` at a large D (the limit D -> infinity up to O(D^(-1/s)))."""
    surf = RidgelessSurface(model) if ridge == "0" else OptimalRidgeSurface(model)
    xs = np.atleast_1d(np.asarray(x, dtype=float))
    return np.array([surf.loss(v * D ** (1 / model.s), D) * D ** (model.a / model.s) for v in xs])


def scaling_optimum(model: SparseModel, *, D: float = 1e12, ridge: str = "0") -> dict:
    """``x*`` minimising ``x^(a/(s+1)) f(x)`` and the frontier prefactors it implies (c = 1):
    ``N* = P_N C^(1/(s+1))``, ``D* = P_D C^(s/(s+1))``, ``L* = P_L C^(-a/(s+1))``."""
    s, a = model.s, model.a
    surf = RidgelessSurface(model) if ridge == "0" else OptimalRidgeSurface(model)
    g = lambda t: math.log(surf.loss(math.exp(t) * D ** (1 / s), D)) + (a / s) * math.log(D) + a / (s + 1) * t
    ts = np.linspace(math.log(0.03), math.log(300.0), 61)
    vals = np.array([g(t) if math.isfinite(surf.loss(math.exp(t) * D ** (1 / s), D)) else np.inf for t in ts])
    j = int(np.argmin(vals))
    res = minimize_scalar(
        g, bounds=(ts[max(0, j - 1)], ts[min(ts.size - 1, j + 1)]), method="bounded", options={"xatol": 1e-9}
    )
    x = math.exp(res.x)
    fx = math.exp(res.fun - a / (s + 1) * res.x)
    return {
        "x_star": x,
        "f_x_star": fx,
        "prefactor_N": x ** (s / (s + 1)),
        "prefactor_D": x ** (-s / (s + 1)),
        "prefactor_loss": fx * x ** (a / (s + 1)),
        "D_used": D,
    }
