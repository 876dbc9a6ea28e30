"""Simulator of the min-norm random-feature learner on the sparse model: exact population loss.

For each seed: the seen part A (D x |S|) of the training design is drawn exactly
(:mod:`asymptotics.sparse.sampling`, no coordinate dropped), the feature columns of the seen
coordinates ``G = F_S^T`` (|S| x N, entries N(0, 1/N); the first N of one N_max draw, so that the
curves over N are nested), and the min-norm least-squares fit is solved in the |S|-dimensional
reduction: with ``A^T A = V diag(lambda) V^T`` restricted to its r = rank(A) non-zero eigenvalues (r
from a maximum bipartite matching of A's pattern: the generic rank),
``|A(G theta - w)|^2 = |R (G theta - w)|^2`` with ``R = diag(sqrt(lambda_r)) V_r^T``, so
``theta = (R G)^+ R w`` (for N >= r the same solution set is written with ``V_r^T`` instead of R,
which is well conditioned).  The population loss is then evaluated exactly through the decomposition
(never with a test set):

    seen_fit = sum_{i in S} p_i (beta_i - w_i)^2,   beta_S = G theta,
    missing  = sum_{i not in S} p_i w_i^2 = (sum over all i) - (sum over S),
    aliasing = (|theta|^2 / N) sum_{i not in S} p_i,

the complement sums over all coordinates being exact zeta values (or finite sums for finite M): the
coordinates beyond any explicit range enter analytically.  Seeds are processed in batches: the
Gram matrices of a batch are zero-padded to a common size and diagonalised together, and the
pseudo-inverses of a batch are taken together for each N.  For N >= r + 2 the exact conditional
expectation over the feature draw (inverse-Wishart mean, see :mod:`asymptotics.sparse.learner`) is
reported as well.

Reproducible from one seed: seed j uses the j-th child of ``SeedSequence(seed)``, so its draw does
not depend on the number of seeds.

>>> from asymptotics.sparse.model import SparseModel
>>> r = simulate(SparseModel(2.0, 0.5), 200, [5, 40], seeds=4, seed=1)
>>> r.loss.shape, bool(np.all(r.loss == r.seen_fit + r.missing[:, None] + r.aliasing))
((4, 2), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special
from scipy.sparse.csgraph import maximum_bipartite_matching

from asymptotics.sparse.model import SparseModel, check_count, check_counts
from asymptotics.sparse.sampling import sample_design
from asymptotics.validation import InvalidInputError

__all__ = ["SimulationResult", "simulate", "summarize"]


@dataclass
class SimulationResult:
    """Per-seed, per-N parts of the population loss (arrays of shape (seeds, len(N))).

    ``missing`` and ``unseen`` (the unseen mass) depend only on the seed (shape (seeds,)).
    ``conditional`` is the exact E over the feature draw given the data (NaN for N < r + 2).
    """

    model: SparseModel
    D: int
    N: np.ndarray
    seen_fit: np.ndarray
    aliasing: np.ndarray
    theta_norm2: np.ndarray
    conditional: np.ndarray
    missing: np.ndarray
    unseen: np.ndarray
    seen_count: np.ndarray
    rank: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def loss(self) -> np.ndarray:
        return self.seen_fit + self.missing[:, None] + self.aliasing

    def summary(self) -> dict:
        return summarize(self)


def _totals(model: SparseModel) -> tuple[float, float]:
    """sum_i i^-(1+a) and sum_i p_i over all coordinates (exact)."""
    if model.M is None:
        return float(special.zeta(1 + model.a)), float(special.zeta(model.s))
    i = np.arange(1, model.M + 1, dtype=float)
    return float(np.sum(i ** -(1 + model.a))), float(np.sum(np.minimum(1.0, i**-model.s)))


def _structural_rank(A) -> int:
    pattern = A.tocsr().astype(bool).astype(np.int8)
    match = maximum_bipartite_matching(pattern, perm_type="row")
    return int(np.sum(match >= 0))


def _blas_limit(threads):
    """Context limiting BLAS threads (small dense problems on a busy machine run ~100x slower with
    oversubscribed OpenBLAS threads); a no-op if threadpoolctl is not installed or threads is None."""
    import contextlib

    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional dependency
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(threads))


def simulate(
    model: SparseModel,
    D,
    N,
    *,
    seeds: int = 64,
    seed: int = 0,
    batch: int | None = None,
    progress=None,
    blas_threads: int | None = 1,
    ridge=0.0,
) -> SimulationResult:
    """Simulate ``seeds`` independent draws (data and features) at sample size D for each N.

    ``ridge`` is the penalty lambda >= 0 of ``(1/D)|Phi theta - y|^2 + lambda |theta|^2`` (0: the
    minimum-norm least-squares fit; a scalar, or one value per N); in the reduced problem
    ``theta = (B^T B + D lambda)^-1 B^T R w`` with ``B = R G`` (SVD).  The exact conditional
    expectation is reported for the ridgeless fit only.
    ``progress`` is an optional callable ``(done, total)`` called after each batch of seeds;
    ``blas_threads`` limits the BLAS threads during the run (default 1; None: library default).
    """
    with _blas_limit(blas_threads):
        return _simulate(model, D, N, seeds=seeds, seed=seed, batch=batch, progress=progress, ridge=ridge)


def _ridge_values(ridge, size: int) -> np.ndarray:
    try:
        lam = np.atleast_1d(np.asarray(ridge, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise InvalidInputError(f"ridge must be a number >= 0, got {ridge!r}") from None
    if lam.size == 1:
        lam = np.repeat(lam, size)
    if lam.size != size:
        raise InvalidInputError(f"ridge must be a scalar or one value per N ({size}), got {lam.size}")
    if not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise InvalidInputError(f"ridge must be finite and >= 0, got {ridge!r}")
    return lam


def _simulate(model, D, N, *, seeds, seed, batch, progress, ridge=0.0) -> SimulationResult:
    if not isinstance(model, SparseModel):
        raise InvalidInputError("model must be a SparseModel")
    D = check_count("D", D, maximum=10**7)
    Ns = check_counts("N", N, maximum=20000)
    seeds = check_count("seeds", seeds, maximum=100000)
    lams = _ridge_values(ridge, Ns.size)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError(f"seed must be a non-negative integer, got {seed!r}")
    s, a = model.s, model.a
    sig_total, p_total = _totals(model)
    children = np.random.SeedSequence(int(seed)).spawn(seeds)
    n_max = int(Ns.max())
    out = {
        k: np.full((seeds, Ns.size), np.nan) for k in ("seen_fit", "aliasing", "theta_norm2", "conditional")
    }
    missing, unseen = np.empty(seeds), np.empty(seeds)
    seen_count, rank = np.empty(seeds, np.int64), np.empty(seeds, np.int64)
    # memory per batch ~ batch * m_max^2 * 8 bytes; choose the batch from the expected seen count
    m_guess = max(8.0, 1.5 * math.gamma(1 - 1 / s) * D ** (1 / s) + 8)
    if batch is None:
        batch = int(max(1, min(64, 2e8 / (8 * (m_guess**2 + m_guess * n_max)))))
    for start in range(0, seeds, batch):
        stop = min(seeds, start + batch)
        rng_list = [np.random.default_rng(c) for c in children[start:stop]]
        designs = [sample_design(r, s, D, model.M) for r in rng_list]
        ms = np.array([d.m for d in designs])
        m_max = int(ms.max())
        K = np.zeros((stop - start, m_max, m_max))
        for j, d in enumerate(designs):
            K[j, : d.m, : d.m] = (d.A.T @ d.A).toarray()
        lam, V = np.linalg.eigh(K)  # ascending
        lam, V = lam[:, ::-1], V[:, :, ::-1]  # descending
        for j, (d, r_g) in enumerate(zip(designs, rng_list)):
            b = start + j
            i = d.idx.astype(float)
            pS = np.minimum(1.0, i**-s)
            w = np.sqrt(i ** (s - 1 - a))
            sigS = i ** -(1 + a)
            seen_count[b] = d.m
            r = _structural_rank(d.A)
            rank[b] = r
            missing[b] = sig_total - float(np.sum(sigS))
            U = p_total - float(np.sum(pS))
            unseen[b] = U
            Vr = V[j, : d.m, :r]
            lr = np.clip(lam[j, :r], 0.0, None)
            R = np.sqrt(lr)[:, None] * Vr.T  # r x m
            Z = r_g.standard_normal((d.m, n_max))
            w_row = Vr.T @ w
            w_perp = w - Vr @ w_row
            # exact conditional pieces (N >= r + 2): |P_perp w|^2_Sigma, tr(Sigma P_perp), |P_r w|^2
            fit_perp = float(np.sum(pS * w_perp**2))
            tr_perp = float(np.sum(pS * (1.0 - np.sum(Vr**2, axis=1))))
            for c, n in enumerate(Ns):
                G = Z[:, :n] / math.sqrt(n)
                if lams[c] > 0:
                    U_, sv, Vt = np.linalg.svd(R @ G, full_matrices=False)
                    theta = Vt.T @ (sv / (sv**2 + D * lams[c]) * (U_.T @ (R @ w)))
                else:
                    if n >= r:
                        Bm, rhs = Vr.T @ G, w_row
                    else:
                        Bm, rhs = R @ G, R @ w
                    theta = np.linalg.lstsq(Bm, rhs, rcond=None)[0]
                e = G @ theta - w
                th2 = float(theta @ theta)
                out["seen_fit"][b, c] = float(np.sum(pS * e**2))
                out["theta_norm2"][b, c] = th2
                out["aliasing"][b, c] = th2 / n * U
                if n >= r + 2 and lams[c] == 0:
                    out["conditional"][b, c] = (
                        fit_perp + missing[b] + float(w_row @ w_row) / (n - r - 1) * (U + tr_perp)
                    )
        if progress is not None:
            progress(stop, seeds)
    return SimulationResult(
        model=model,
        D=D,
        N=Ns,
        seen_fit=out["seen_fit"],
        aliasing=out["aliasing"],
        theta_norm2=out["theta_norm2"],
        conditional=out["conditional"],
        missing=missing,
        unseen=unseen,
        seen_count=seen_count,
        rank=rank,
        meta={"seed": int(seed), "seeds": int(seeds), "batch": int(batch), "ridge": lams.tolist()},
    )


def summarize(res: SimulationResult) -> dict:
    """Means, standard errors (std/sqrt(seeds)) and medians of the loss and of its three parts."""
    n = res.loss.shape[0]
    se = lambda x: np.std(x, axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(x.shape[1:], np.nan)
    miss = np.repeat(res.missing[:, None], res.N.size, axis=1)
    parts = {"loss": res.loss, "seen_fit": res.seen_fit, "missing_signal": miss, "aliasing": res.aliasing}
    out = {"N": res.N.tolist(), "D": res.D, "seeds": n}
    for k, x in parts.items():
        out[k] = {"mean": np.mean(x, axis=0), "se": se(x), "median": np.median(x, axis=0)}
    out["seen_count"] = {"mean": float(np.mean(res.seen_count)), "se": float(se(res.seen_count[:, None])[0])}
    out["rank"] = {"mean": float(np.mean(res.rank)), "se": float(se(res.rank[:, None].astype(float))[0])}
    out["unseen_mass"] = {"mean": float(np.mean(res.unseen)), "se": float(se(res.unseen[:, None])[0])}
    return out
