"""Extrapolation of slope sequences to alpha -> infinity, and residual-order checks.

* :func:`fit_with_corrections` -- least squares ``s(alpha) = s_inf + sum_j c_j alpha^(-p_j)`` with
  known correction powers ``p_j`` (e.g. ``k/3`` for the boundary-layer expansions).
* :func:`richardson` -- repeated Richardson elimination of known powers on consecutive points.
* :func:`shanks` -- Wynn's epsilon algorithm (iterated Shanks transformation) for sequences whose
  corrections are geometric (powers unknown, alpha sampled geometrically).
* :func:`extrapolate_exponent` -- the estimator used by the toolkit: fits with 0..m known
  corrections on the full range and on its upper half; the reported value is the candidate with the
  smallest error estimate, the error estimate being the larger of (a) the change from the previous
  number of terms and (b) the change between full and upper-half ranges, plus the propagated input
  error.  ``asymptotic`` is False when that error exceeds ``tol`` (the curve is not yet asymptotic in
  the sampled range, or its corrections are not the assumed ones).
* :func:`residual_order_check` -- "the error of a k-term expansion is o() of its last term",
  checked numerically over a range of alpha.

>>> a = np.logspace(2, 6, 25)
>>> r = extrapolate_exponent(a, -1/3 + 0.7 * a ** (-1/3) - 0.2 * a ** (-2/3))
>>> abs(r.value + 1/3) < 1e-9 and r.asymptotic
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from asymptotics.validation import InvalidInputError, check_positive

__all__ = [
    "fit_with_corrections",
    "richardson",
    "shanks",
    "extrapolate_exponent",
    "Extrapolation",
    "residual_order_check",
    "ResidualOrderCheck",
    "default_correction_powers",
]


def default_correction_powers(step: float = 1 / 3, count: int = 4) -> tuple:
    """Powers ``step, 2 step, ..., count*step`` (default ``1/3, 2/3, 1, 4/3``).

    >>> [round(p, 4) for p in default_correction_powers()]
    [0.3333, 0.6667, 1.0, 1.3333]
    """
    return tuple(step * k for k in range(1, count + 1))


def _arrays(alpha, values):
    a = np.asarray(alpha, dtype=float).ravel()
    v = np.asarray(values, dtype=float).ravel()
    if a.shape != v.shape:
        raise InvalidInputError("alpha and values must have the same length")
    if a.size == 0 or np.any(a <= 0) or not np.all(np.isfinite(a)) or not np.all(np.isfinite(v)):
        raise InvalidInputError("alpha must be > 0 and all values finite")
    return a, v


def fit_with_corrections(alpha, values, powers, weights=None):
    """Least-squares fit ``values ~ s_inf + sum_j c_j alpha^(-p_j)``; returns ``(s_inf, c, rms)``.

    Columns are scaled to the largest alpha so the fit is well conditioned.  Exact for data of that
    form (up to rounding, ~1e-12 relative for a few terms).

    >>> a = np.array([10.0, 100.0, 1000.0, 1e4])
    >>> s, c, rms = fit_with_corrections(a, 2 + 3 / a, [1.0])
    >>> round(s, 12), round(float(c[0]), 10)
    (2.0, 3.0)
    """
    a, v = _arrays(alpha, values)
    powers = [float(p) for p in powers]
    if len(powers) + 1 > a.size:
        raise InvalidInputError(f"{len(powers) + 1} parameters need at least as many points, got {a.size}")
    ref = a.max()
    cols = [np.ones_like(a)] + [(a / ref) ** (-p) for p in powers]
    X = np.stack(cols, axis=1)
    w = np.ones_like(a) if weights is None else np.asarray(weights, dtype=float)
    norms = np.linalg.norm(X * w[:, None], axis=0)
    coef, *_ = np.linalg.lstsq(X * w[:, None] / norms, v * w, rcond=None)
    coef = coef / norms
    resid = v - X @ coef
    c = np.array([coef[j + 1] * ref**p for j, p in enumerate(powers)])
    return float(coef[0]), c, float(np.sqrt(np.mean(resid**2)))


def richardson(alpha, values, powers):
    """Eliminate the correction powers one by one using consecutive points (exact local solves).

    Returns ``(estimate, error)``: the last estimate with all powers removed and its change from the
    previous level (``len(powers) + 1`` points are used per estimate; the last points are used).

    >>> a = 10.0 ** np.arange(1, 6)
    >>> est, err = richardson(a, 0.5 + a ** -0.5 + 2 / a, [0.5, 1.0])
    >>> abs(est - 0.5) < 1e-12
    True
    """
    a, v = _arrays(alpha, values)
    powers = list(powers)
    m = len(powers)
    if a.size < m + 2:
        raise InvalidInputError(f"richardson with {m} powers needs at least {m + 2} points, got {a.size}")
    ests = []
    for level in (m - 1, m):
        s, _, _ = fit_with_corrections(a[-(level + 1) :], v[-(level + 1) :], powers[:level])
        ests.append(s)
    return ests[1], abs(ests[1] - ests[0])


def shanks(sequence):
    """Wynn epsilon (iterated Shanks) limit of a sequence; returns ``(estimate, error)``.

    Suited to geometric convergence, e.g. a slope sampled at alpha = r^n with corrections alpha^-p.
    The error is the difference between the last two even-column estimates.

    >>> seq = [1 + 0.5 ** n + 0.1 * 0.25 ** n for n in range(8)]
    >>> est, err = shanks(seq)
    >>> abs(est - 1) < 1e-10
    True
    """
    s = [float(x) for x in sequence]
    if len(s) < 3:
        raise InvalidInputError(f"shanks needs at least 3 terms, got {len(s)}")
    prev = [0.0] * (len(s) + 1)
    cur = list(s)
    evens = [s[-1]]
    k = 0
    while len(cur) > 1:
        nxt = []
        for i in range(len(cur) - 1):
            d = cur[i + 1] - cur[i]
            if d == 0:
                nxt.append(float("inf"))
            else:
                nxt.append(prev[i + 1] + 1.0 / d)
        prev, cur = cur, nxt
        k += 1
        if k % 2 == 0 and np.isfinite(cur[-1]):
            evens.append(cur[-1])
    est = evens[-1]
    err = abs(evens[-1] - evens[-2]) if len(evens) > 1 else abs(s[-1] - s[-2])
    return est, err


@dataclass
class Extrapolation:
    """Result of :func:`extrapolate_exponent`.

    ``value`` the extrapolated limit, ``error`` its error estimate, ``asymptotic`` whether ``error``
    is within ``tol``, ``n_terms`` the number of correction powers used, ``candidates`` per number of
    terms ``(value_full, value_upper_half, error)``, ``last_local`` the last input value.
    """

    value: float
    error: float
    asymptotic: bool
    n_terms: int
    powers: tuple
    tol: float
    last_local: float
    candidates: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "value": self.value,
            "error": self.error,
            "asymptotic": self.asymptotic,
            "n_terms": self.n_terms,
            "powers": [float(p) for p in self.powers[: self.n_terms]],
        }


def extrapolate_exponent(
    alpha, slopes, slope_errors=None, powers=None, *, tol: float = 1e-4, min_points_per_param: float = 1.5
) -> Extrapolation:
    """Extrapolate local slopes to alpha -> infinity with known correction powers.

    ``powers`` default ``(1/3, 2/3, 1, 4/3)``.  The sampled alphas should span several decades with
    >= 3 points per decade.  Accuracy: exact (to rounding) when the slopes have exactly the assumed
    corrections; otherwise the reported ``error`` estimates the truncation error, and ``asymptotic``
    flags whether it is below ``tol``.

    >>> a = np.logspace(0, 3, 16)
    >>> r = extrapolate_exponent(a, -1/3 + 2 * a ** -0.05, tol=1e-4)
    >>> r.asymptotic
    False
    """
    a, s = _arrays(alpha, slopes)
    check_positive("tol", tol)
    order = np.argsort(a)
    a, s = a[order], s[order]
    ds = np.zeros_like(s) if slope_errors is None else np.abs(np.asarray(slope_errors, float).ravel()[order])
    powers = tuple(default_correction_powers() if powers is None else powers)
    upper = a >= np.sqrt(a[0] * a[-1])
    if upper.sum() < 2:
        upper = np.arange(a.size) >= a.size // 2
    candidates = []
    prev_full = None
    for n in range(0, len(powers) + 1):
        need = int(np.ceil(min_points_per_param * (n + 1)))
        if upper.sum() < max(need, n + 2):
            break
        full, _, rms_full = fit_with_corrections(a, s, powers[:n])
        half, _, _ = fit_with_corrections(a[upper], s[upper], powers[:n])
        err = abs(full - half)
        if prev_full is not None:
            err = max(err, abs(full - prev_full))
        err = max(err, rms_full) + float(ds.max())
        candidates.append((full, half, err))
        prev_full = full
    if not candidates:
        raise InvalidInputError(f"too few points ({a.size}) to extrapolate")
    best = int(np.argmin([c[2] for c in candidates]))
    value, _, error = candidates[best]
    return Extrapolation(
        value=float(value),
        error=float(error),
        asymptotic=bool(error <= tol),
        n_terms=best,
        powers=powers,
        tol=tol,
        last_local=float(s[-1]),
        candidates=candidates,
    )


@dataclass
class ResidualOrderCheck:
    """Result of :func:`residual_order_check`.

    For each expansion length ``k`` (1..len(terms)): ``error_slope[k-1]`` the fitted exponent of
    ``|exact - sum_{j<k} t_j|`` over the tail, ``term_slope[k-1]`` that of ``|t_{k-1}|``,
    ``ratio_last[k-1]`` the last value of ``|error_k / t_{k-1}|`` and ``passed[k-1]`` whether the ratio
    decreases like a power (``error_slope < term_slope - margin``).
    """

    error_slope: list
    term_slope: list
    ratio_first: list
    ratio_last: list
    passed: list

    @property
    def ok(self) -> bool:
        return all(self.passed)


def _fit_slope(x, y):
    return float(np.polyfit(x, y, 1)[0])


def residual_order_check(
    alpha, exact, terms, *, margin: float = 0.05, tail: float = 0.5
) -> ResidualOrderCheck:
    """Check numerically that the error of each k-term expansion is o() of its last term.

    ``exact`` is a sequence of values (floats or ``mpmath.mpf``: residuals are formed in the input
    arithmetic, so use mpmath values when the residuals fall below float64 resolution); ``terms`` is a
    list of sequences ``t_0, t_1, ...`` on the same ``alpha``.  Over the last ``tail`` fraction of the
    points (in ``ln alpha``) the exponent of ``|error_k|`` must lie at least ``margin`` below that of
    ``|t_{k-1}|`` and the ratio ``|error_k/t_{k-1}|`` must have decreased.

    >>> a = np.logspace(1, 5, 20)
    >>> ex = 1 / a + 1 / a ** 2 + 1 / a ** 3
    >>> residual_order_check(a, ex, [1 / a, 1 / a ** 2]).ok
    True
    >>> residual_order_check(a, ex, [1 / a, 2 / a ** 2]).ok
    False
    """
    a = np.asarray(alpha, dtype=float).ravel()
    n = a.size
    if n < 4 or np.any(a <= 0) or np.any(np.diff(a) <= 0):
        raise InvalidInputError("alpha must hold >= 4 increasing positive values")
    if not 0 < tail <= 1:
        raise InvalidInputError(f"tail must be in (0, 1], got {tail}")
    exact = list(exact)
    terms = [list(t) for t in terms]
    if len(exact) != n or any(len(t) != n for t in terms) or not terms:
        raise InvalidInputError("exact and every term must have one value per alpha")
    x = np.log(a)
    sel = x >= x[-1] - tail * (x[-1] - x[0])
    if sel.sum() < 3:
        sel[-3:] = True
    partial = [0] * n
    err_slopes, term_slopes, r_first, r_last, passed = [], [], [], [], []
    for t in terms:
        partial = [p + ti for p, ti in zip(partial, t)]
        err = np.array([abs(float(e - p)) for e, p in zip(exact, partial)])
        tv = np.array([abs(float(ti)) for ti in t])
        if np.any(tv == 0):
            raise InvalidInputError("a term vanishes on the grid; cannot form the ratio")
        err = np.maximum(err, 1e-300)
        es = _fit_slope(x[sel], np.log(err[sel]))
        ts = _fit_slope(x[sel], np.log(tv[sel]))
        ratio = err / tv
        r0, r1 = float(ratio[sel][0]), float(ratio[-1])
        err_slopes.append(es)
        term_slopes.append(ts)
        r_first.append(r0)
        r_last.append(r1)
        passed.append(bool(es < ts - margin and r1 < r0))
    return ResidualOrderCheck(err_slopes, term_slopes, r_first, r_last, passed)
