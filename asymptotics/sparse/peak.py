"""The double-descent peak: the loss distribution near the threshold, its median, the peak location.

Near the interpolation threshold the expected loss is infinite (see :mod:`.learner`), so the peak is
described by the median (or any quantile) of the loss.  Model of the distribution (asymptotic):

* the rank r of the seen design is the random threshold: normal with mean ``E rank`` and variance
  ``Var|S| + E defect`` (Var|S| exact; the collision defect treated as Poisson), discretised on a
  grid of step ``max(1, sd/40)``;
* over-parameterised draws (r <= N): given the data, ``|theta|^2/N = |P_r w|^2/chi^2_(N-r+1)``
  **exactly** (for fixed w and ``W ~ Wishart_r(N, I)``, ``w^T W^-1 w ~ |w|^2/chi^2_(N-r+1)``), so
  ``L = c0 + X_r/chi^2_(N-r+1)`` with ``X_r = E[|P_r w|^2 (U_S + tr Sigma P_perp) | r]`` (linear in r
  through the exact covariance of ``|w_S|^2 U_S`` with |S|) and ``c0`` the missing signal plus the
  collision null-space signal;
* under-parameterised draws (r > N): the deterministic equivalent of :mod:`.learner` at the same
  relative position ``N' = N E(rank)/r`` (near the threshold: the same gap ``g = r - N``; far below it:
  N itself) gives the fit and the mean aliasing ``A(N')``; the aliasing is given the mirror law
  ``A(N') g/chi^2_(g+1)`` (mean ``A g/(g-1)``, the finite-size form of the isotropic case) -- an
  approximation.

The median solves ``sum_r P(r) P(L <= m | r) = 1/2``.  The peak is the maximiser over integer N of
the median; its location divided by E|S| tends to 1 (``E rank/E|S| = 1 - Gamma(1-1/s) D^(1/s-1)/(2 s^2)
+ ...``, :func:`asymptotics.sparse.exponents.derive_exponents`), its width scales like
sd(r) ~ D^(1/(2s)) and its excess height like ``E[|w_S|^2 U_S]/(0.6745 sd(r))``.

>>> from asymptotics.sparse.model import SparseModel
>>> from asymptotics.sparse.learner import LossTheory
>>> pk = PeakModel(LossTheory(SparseModel(2.0, 0.5), 1000))
>>> lo, mid, hi = (pk.quantile(50, q) for q in (0.25, 0.5, 0.75))
>>> bool(lo < mid < hi)
True
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

from asymptotics.sparse.learner import LossTheory
from asymptotics.sparse.model import check_count
from asymptotics.validation import InvalidInputError

__all__ = ["PeakModel", "find_peak"]


class PeakModel:
    """Quantiles of the loss at fixed D (any N), from a :class:`LossTheory`."""

    def __init__(self, theory: LossTheory, width: float = 7.0):
        self.th = theory
        st = theory.stats
        self.mean_r = st.rank
        self.sd_r = math.sqrt(max(st.var_n + st.defect, 1e-12))
        step = max(1.0, self.sd_r / 40)
        lo = max(1.0, self.mean_r - width * self.sd_r)
        hi = self.mean_r + width * self.sd_r
        if step == 1.0:
            r = np.arange(math.floor(lo), math.ceil(hi) + 1, dtype=float)
        else:
            r = np.arange(lo, hi + step, step)
        edges = np.concatenate([r - step / 2, [r[-1] + step / 2]])
        pr = np.diff(stats.norm.cdf((edges - self.mean_r) / self.sd_r))
        keep = pr > 1e-15
        self.r_values, self.r_probs = r[keep], pr[keep] / pr[keep].sum()
        X = st.weight_unseen - st.removed_weight * st.unseen
        self._X = X
        self._slope = st.cov_weight_unseen_n / st.var_n if st.var_n > 0 else 0.0
        self._wr_mass = (st.weight - st.removed_weight) * st.removed_mass
        self._c0_over = st.missing + st.removed_signal
        self._gap_table = self._build_gap_table()

    def _build_gap_table(self):
        """fit and mean aliasing of the under-parameterised equivalent at N' = E rank - g, tabulated in
        u = ln(N'/g) (logarithmic resolution at both ends: near the threshold and at small N')."""
        rbar = self.mean_r
        if rbar <= 1.0:
            return np.array([0.0, 1.0]), np.array([np.nan, np.nan]), np.array([np.nan, np.nan])
        u = np.linspace(math.log(0.5 / (rbar - 0.5)), math.log((rbar - 0.5) / 0.5), 160)
        g = rbar / (1.0 + np.exp(u))  # N'/g = e^u, N' + g = rbar
        fit, alias = [], []
        for gi in g:
            try:
                out = self.th._under_mean_field(rbar - gi)
                fit.append(out["seen_fit"]), alias.append(out["aliasing"])
            except InvalidInputError:
                fit.append(np.nan), alias.append(np.nan)
        fit, alias = np.array(fit), np.array(alias)
        ok = np.isfinite(fit) & np.isfinite(alias) & (alias > 0) & (fit > 0)
        return u[ok], np.log(fit[ok]), np.log(alias[ok])

    def _under(self, N: float, r: np.ndarray):
        """fit and A(N') g at N' = N E(rank)/r for draws with rank r > N."""
        lu, lf, la = self._gap_table
        Np = N * self.mean_r / r
        x = np.clip(np.log(Np / (self.mean_r - Np)), lu[0], lu[-1])
        fit = np.exp(np.interp(x, lu, lf))
        alias = np.exp(np.interp(x, lu, la))
        return fit, alias * (r - N)

    def conditional_laws(self, N: float):
        """Arrays (probability, c0, c1, nu) with L = c0 + c1/chi^2_nu given the rank."""
        r, pr = self.r_values, self.r_probs
        over = r <= N
        c0 = np.empty_like(r)
        c1 = np.empty_like(r)
        nu = np.empty_like(r)
        c0[over] = self._c0_over
        c1[over] = np.maximum(self._X + self._slope * (r[over] - self.mean_r), 1e-300) + self._wr_mass
        nu[over] = N - r[over] + 1
        fit, ag = self._under(N, r[~over])
        c0[~over] = self.th.stats.missing + fit
        c1[~over] = ag
        nu[~over] = r[~over] - N + 1
        ok = np.isfinite(c0) & np.isfinite(c1)
        return pr[ok] / pr[ok].sum(), c0[ok], c1[ok], nu[ok]

    def quantile(self, N, q: float = 0.5) -> float:
        """The q-quantile of the loss at N (q = 0.5: the median)."""
        N = check_count("N", N)
        if not 0 < q < 1:
            raise InvalidInputError(f"q must lie in (0, 1), got {q}")
        pr, c0, c1, nu = self.conditional_laws(N)

        def F(v):
            m = v > c0
            return float(np.sum(pr[m] * stats.chi2.sf(c1[m] / (v - c0[m]), nu[m]))) - q

        a = float(c0.min()) * (1 + 1e-12)
        if F(a) >= 0:
            return a
        hi = float(np.max(c0 + c1 / stats.chi2.ppf(1e-9, nu)))
        return optimize.brentq(F, a, hi, xtol=1e-15, rtol=1e-11)

    def median(self, N) -> float:
        return self.quantile(N, 0.5)


def find_peak(theory: LossTheory, *, span: float = 4.0) -> dict:
    """Maximiser over integer N of the median loss near the threshold, its height and half-width."""
    pk = PeakModel(theory)
    lo = max(1, int(pk.mean_r - span * pk.sd_r) - 2)
    hi = int(pk.mean_r + span * pk.sd_r) + 3
    step = max(1, int(pk.sd_r / 15))
    Ns = np.arange(lo, hi + 1, step)
    med = np.array([pk.median(int(n)) for n in Ns])
    j = int(np.argmax(med))
    if step > 1:  # refine on integers around the coarse maximum
        fine = np.arange(max(1, Ns[j] - step), Ns[j] + step + 1)
        fmed = np.array([pk.median(int(n)) for n in fine])
        Ns, med = np.concatenate([Ns, fine]), np.concatenate([med, fmed])
        order = np.argsort(Ns, kind="stable")
        Ns, med = Ns[order], med[order]
        Ns, idx = np.unique(Ns, return_index=True)
        med = med[idx]
        j = int(np.argmax(med))
    floor = theory.stats.missing + theory.stats.removed_signal
    half = floor + (med[j] - floor) / 2
    above = Ns[med >= half]
    return {
        "peak_N": int(Ns[j]),
        "peak_median": float(med[j]),
        "threshold": pk.mean_r,
        "sd_rank": pk.sd_r,
        "seen_expected": theory.stats.n,
        "ratio_to_seen": float(Ns[j] / theory.stats.n),
        "half_width": float((above.max() - above.min() + 1) / 2) if above.size else 0.0,
        "N_grid": Ns.tolist(),
        "median_grid": med.tolist(),
        "floor": floor,
    }
