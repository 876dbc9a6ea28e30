"""Exact sampling of the sparse training design restricted to its seen coordinates.

Coordinates are independent, so the training matrix is drawn column by column: coordinate i is
active in ``k_i ~ Binomial(D, p_i)`` of the D samples, on a uniformly random set of k_i rows (by
exchangeability of the samples), with N(0, 1) values.  Only seen coordinates (k_i >= 1) matter for
the fit; the rest enter the loss through exact complement sums.

* ``i <= I_A`` (``D p_i`` not small): ``k_i`` drawn directly (vectorised binomials);
* ``i > I_A`` (up to M or infinity): the seen coordinates are drawn by thinning a Poisson process of
  intensity ``1.01 D x^-s`` on ``(I_A, M]`` (it dominates the seen probability
  ``q_i = 1 - (1-p_i)^D``), keeping an occupied cell i with probability ``q_i/(1 - e^-Lambda_i)``;
  their ``k_i`` is ``1 + Binomial(D - J, p_i)`` with J the first active row (truncated geometric).

The result is exact in distribution for the infinite model (no coordinate is dropped).

>>> import numpy as np
>>> smp = sample_design(np.random.default_rng(0), 2.0, 500)
>>> int(smp.idx[0]), int(smp.counts[0]), smp.A.shape[0]     # coordinate 1 is active in every sample
(1, 500, 500)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps

__all__ = ["Design", "sample_design", "seen_counts"]

#: direct binomials up to I_A with D p_{I_A} <= 1e-3 (capped)
I_A_MAX = 2_000_000


@dataclass
class Design:
    """The seen part of one training design: ``A`` (D x m, CSC), coordinate indices ``idx`` (1-based,
    increasing) and their activity counts ``counts``."""

    A: sps.csc_matrix
    idx: np.ndarray
    counts: np.ndarray

    @property
    def m(self) -> int:
        return int(self.idx.size)


def _tail_seen(rng, s: float, D: int, lo: int, hi) -> tuple[np.ndarray, np.ndarray]:
    """Seen coordinates i in (lo, hi] (hi None: infinity) and their counts, by Poisson thinning."""
    c = 1.01
    a = float(lo) ** (1.0 - s)
    b = 0.0 if hi is None else float(hi) ** (1.0 - s)
    total = c * D * (a - b) / (s - 1.0)
    n = rng.poisson(total)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    u = rng.random(n)
    x = (a - u * (a - b)) ** (1.0 / (1.0 - s))
    cells = np.unique(np.ceil(x).astype(np.int64))
    cells = cells[(cells > lo) & ((cells <= hi) if hi is not None else True)]
    i = cells.astype(float)
    p = i**-s
    # (i-1)^(1-s) - i^(1-s) without cancellation (cells reach i ~ 1e15 for s near 1)
    lam = c * D * i ** (1.0 - s) * np.expm1((1.0 - s) * np.log1p(-1.0 / i)) / (s - 1.0)
    q = -np.expm1(D * np.log1p(-p))
    occ = -np.expm1(-lam)
    if np.any(q > occ * (1 + 1e-12)):
        raise RuntimeError("thinning bound violated (q_i > P(cell occupied))")
    keep = rng.random(cells.size) < q / occ
    cells, p, q = cells[keep], p[keep], q[keep]
    # first active row J ~ P(J = j) = (1-p)^(j-1) p / q, j = 1..D; then k = 1 + Binomial(D - J, p)
    v = rng.random(cells.size)
    J = np.ceil(np.log1p(-v * q) / np.log1p(-p)).astype(np.int64)
    J = np.clip(J, 1, D)
    k = 1 + rng.binomial(D - J, p)
    return cells, k


def seen_counts(rng, s: float, D: int, M: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices (1-based) and activity counts of the seen coordinates (exact in distribution)."""
    I_A = int(min(I_A_MAX, max(2.0, np.ceil((1000.0 * D) ** (1.0 / s)))))
    if M is not None:
        I_A = min(I_A, M)
    i = np.arange(1, I_A + 1, dtype=float)
    p = np.minimum(1.0, i**-s)
    k = rng.binomial(D, p)
    seen = k > 0
    idx, counts = np.nonzero(seen)[0] + 1, k[seen]
    if M is None or M > I_A:
        ti, tk = _tail_seen(rng, s, D, I_A, M)
        idx, counts = np.concatenate([idx, ti]), np.concatenate([counts, tk])
    return idx.astype(np.int64), counts.astype(np.int64)


def _rows(rng, D: int, counts: np.ndarray) -> np.ndarray:
    """Uniform random row subsets of the given sizes, concatenated (one subset per coordinate)."""
    total = int(counts.sum())
    out = np.empty(total, np.int64)
    offs = np.concatenate([[0], np.cumsum(counts)])
    dense = np.nonzero(counts * 4 >= D)[0]
    for j in dense:
        out[offs[j] : offs[j + 1]] = rng.choice(D, size=int(counts[j]), replace=False)
    sparse = np.ones(counts.size, bool)
    sparse[dense] = False
    owner = np.repeat(np.arange(counts.size), counts)
    mask = sparse[owner]
    allpos = np.nonzero(mask)[0]
    out[allpos] = rng.integers(0, D, size=allpos.size)
    for _ in range(200):
        # duplicates within a coordinate: redraw all but the first occurrence (rejection sampling of a
        # uniform subset: the accepted configuration is uniform over k-subsets)
        key = owner[allpos] * np.int64(D) + out[allpos]
        order = np.argsort(key, kind="stable")
        dup = np.zeros(allpos.size, bool)
        dup[order[1:]] = key[order[1:]] == key[order[:-1]]
        if not dup.any():
            return out
        redo = allpos[dup]
        out[redo] = rng.integers(0, D, size=redo.size)
    raise RuntimeError("row sampling did not converge")


def sample_design(rng, s: float, D: int, M: int | None = None) -> Design:
    """Draw the seen part of a D-sample training design of the model with exponent s."""
    idx, counts = seen_counts(rng, s, D, M)
    rows = _rows(rng, D, counts)
    cols = np.repeat(np.arange(idx.size), counts)
    vals = rng.standard_normal(rows.size)
    A = sps.csc_matrix((vals, (rows, cols)), shape=(D, idx.size))
    return Design(A=A, idx=idx, counts=counts)
