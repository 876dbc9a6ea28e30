"""Benchmarks of the sparse-feature mechanism -> benchmarks/results/sparse.json.

1. Exact expectations (E|S|, missing signal, unseen mass) vs D = 1e2 ... 1e12: float64 (vectorised over
   D), 30 and 100 digits (both routes), against naive direct summation of the series term by term until
   the remainder is below the target accuracy (timed on its first terms and extrapolated to the number
   of terms it needs: ~(D/eps)^(1/s) for the missing signal).
2. Simulator cost vs D and N (s = 2, a = 0.5; 4 seeds) against a plain dense-numpy simulation of the
   same draws (the D x N feature matrix Phi = X_S F_S^T built explicitly, min-norm lstsq on it), with the
   largest loss difference between the two.

Run:  python benchmarks/bench_sparse.py
"""

from __future__ import annotations

import json
import math
import pathlib
import time

import numpy as np

from asymptotics.sparse.expectations import expectation
from asymptotics.sparse.model import SparseModel
from asymptotics.sparse.sampling import sample_design
from asymptotics.sparse.simulate import _blas_limit, simulate

NAMES = ("seen_expected", "missing_signal", "unseen_mass")


def timed(f, *a, repeat=3, **k):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f(*a, **k)
        best = min(best, time.perf_counter() - t)
    return best, out


def naive_time(model, D, digits=None):
    """Naive route: sum the terms i < J = (D/0.05)^(1/s) one by one (then the tail is a short binomial
    series).  Timed on the first terms and extrapolated to J terms (float64 numpy, or an mpmath loop)."""
    import mpmath

    s, a = model.s, model.a
    J = math.ceil((D / 0.05) ** (1 / s))
    if digits is None:
        k = 200_000
        i = np.arange(1, k + 1, dtype=float)
        t0 = time.perf_counter()
        for _ in range(3):  # the three expectations
            _ = np.sum(i ** -(1 + a) * np.exp(D * np.log1p(-np.minimum(1.0, i**-s) * 0.999999)))
        per = (time.perf_counter() - t0) / k
    else:
        k = 2000
        with mpmath.workdps(digits):
            t0 = time.perf_counter()
            tot = mpmath.mpf(0)
            for j in range(2, k + 2):
                x = mpmath.mpf(j)
                h = mpmath.exp(D * mpmath.log1p(-(x**-s)))
                tot += x ** -(1 + a) * h + x**-s * h - mpmath.expm1(D * mpmath.log1p(-(x**-s)))
            per = (time.perf_counter() - t0) / k
    return per * J, J


def bench_expectations():
    model = SparseModel(2.0, 0.5)
    Ds = [10**k for k in range(2, 13)]
    rows = []
    t_vec, _ = timed(lambda: [expectation(n, model, Ds) for n in NAMES])
    grid = np.unique(np.round(np.logspace(0, 12, 1000)).astype(np.int64))
    t_grid, _ = timed(lambda: [expectation(n, model, grid) for n in NAMES])
    for D in Ds:
        row = {"D": D}
        row["float64_s"], _ = timed(lambda D=D: [expectation(n, model, D) for n in NAMES])
        for digits in (30, 100):
            for route in ("mellin", "euler-maclaurin"):
                t, _ = timed(
                    lambda D=D, digits=digits, route=route: [
                        expectation(n, model, D, digits=digits, route=route)[0] for n in NAMES
                    ],
                    repeat=1,
                )
                row[f"{route}_{digits}_s"] = t
        t_naive, n_terms = naive_time(model, D)
        row["naive_terms"] = n_terms
        row["naive_float64_s_extrapolated"] = t_naive
        row["ratio_naive_over_float64"] = t_naive / row["float64_s"]
        t_naive30, _ = naive_time(model, D, 30)
        row["naive_30_s_extrapolated"] = t_naive30
        row["ratio_naive_over_mellin_30"] = t_naive30 / row["mellin_30_s"]
        rows.append(row)
    return {
        "model": {"s": 2.0, "a": 0.5},
        "vectorised_all_D_float64_s": t_vec,
        "vectorised_1000_D_values_float64_s": t_grid,
        "grid_size": int(grid.size),
        "rows": rows,
    }


def dense_simulation(model, D, Ns, seeds, seed):
    """Same draws as :func:`simulate`, solved on the explicit D x N feature matrix."""
    s, a = model.s, model.a
    out = np.empty((seeds, len(Ns)))
    from scipy import special

    sig_total, p_total = float(special.zeta(1 + a)), float(special.zeta(s))
    for b, child in enumerate(np.random.SeedSequence(seed).spawn(seeds)):
        rng = np.random.default_rng(child)
        d = sample_design(rng, s, D)
        Z = rng.standard_normal((d.m, max(Ns)))
        X = d.A.toarray()
        i = d.idx.astype(float)
        w = np.sqrt(i ** (s - 1 - a))
        p = i**-s
        y = X @ w
        missing = sig_total - float(np.sum(i ** -(1 + a)))
        U = p_total - float(np.sum(p))
        for c, N in enumerate(Ns):
            G = Z[:, :N] / math.sqrt(N)
            theta = np.linalg.lstsq(X @ G, y, rcond=None)[0]
            out[b, c] = float(np.sum(p * (G @ theta - w) ** 2)) + missing + theta @ theta / N * U
    return out


def bench_simulator():
    model = SparseModel(2.0, 0.5)
    rows = []
    for D in (1000, 10000, 100000):
        for N in (50, 500, 2000):
            if D * N * N > 1e11:  # dense baseline beyond ~1 min per draw
                continue
            seeds = 4
            t_ours, res = timed(simulate, model, D, [N], seeds=seeds, seed=1, repeat=1)
            with _blas_limit(1):
                t_dense, dense = timed(dense_simulation, model, D, [N], seeds, 1, repeat=1)
            diff = float(np.max(np.abs(res.loss[:, 0] - dense[:, 0]) / dense[:, 0]))
            rows.append(
                {
                    "D": D,
                    "N": N,
                    "seeds": seeds,
                    "ours_s": t_ours,
                    "dense_numpy_s": t_dense,
                    "ratio_dense_over_ours": t_dense / t_ours,
                    "max_relative_loss_difference": diff,
                    "seen_count_mean": float(res.seen_count.mean()),
                }
            )
    return rows


def main():
    res = {"expectations": bench_expectations(), "simulator": bench_simulator()}
    out = pathlib.Path(__file__).parent / "results" / "sparse.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2))
    print(
        f"{'D':>8} {'float64':>10} {'mellin30':>10} {'EM30':>10} {'mellin100':>10} {'EM100':>10} "
        f"{'naive(extrap)':>14} {'ratio':>10}"
    )
    for r in res["expectations"]["rows"]:
        print(
            f"{r['D']:>8.0e} {r['float64_s']:>10.2e} {r['mellin_30_s']:>10.2e} {r['euler-maclaurin_30_s']:>10.2e}"
            f" {r['mellin_100_s']:>10.2e} {r['euler-maclaurin_100_s']:>10.2e}"
            f" {r['naive_float64_s_extrapolated']:>14.2e} {r['ratio_naive_over_float64']:>10.2e}"
        )
    print(f"\n{'D':>7} {'N':>6} {'ours (s)':>10} {'dense (s)':>10} {'ratio':>8} {'max rel diff':>13}")
    for r in res["simulator"]:
        print(
            f"{r['D']:>7} {r['N']:>6} {r['ours_s']:>10.3f} {r['dense_numpy_s']:>10.3f} "
            f"{r['ratio_dense_over_ours']:>8.2f} {r['max_relative_loss_difference']:>13.1e}"
        )


if __name__ == "__main__":
    main()
