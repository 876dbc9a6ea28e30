"""Benchmarks of the sparse frontier and instability -> benchmarks/results/sparse_frontier_instability.json.

1. Frontier cost per C value (ridgeless and optimal-ridge surfaces, s = 2, a = 1/2, C = 1e4 ... 1e10).
2. Instability Monte Carlo: lambda_max draws per second with batched power iteration and ARPACK Lanczos
   against numpy.linalg.eigvalsh of the explicit N x N Hessian (the baseline), at N = 100 ... 2000
   (D = 1000), in the same run; the eigenvalue part alone is timed as well (designs drawn once).

Run:  python benchmarks/bench_sparse_frontier_instability.py
"""

from __future__ import annotations

import json
import pathlib
import time

import numpy as np

from asymptotics.sparse.frontier import OptimalRidgeSurface, RidgelessSurface, frontier
from asymptotics.sparse.instability import _draw, _power_batch, sample_lambda_max
from asymptotics.sparse.model import SparseModel
from asymptotics.sparse.simulate import _blas_limit


def bench_frontier():
    m = SparseModel(2.0, 0.5)
    Cs = [1e4, 1e6, 1e8, 1e10]
    out = {}
    for name, surf in (("ridgeless", RidgelessSurface(m)), ("optimal_ridge", OptimalRidgeSurface(m))):
        t = time.perf_counter()
        frontier(surf, Cs)
        out[name] = {
            "seconds_per_C": (time.perf_counter() - t) / len(Cs),
            "evaluations_per_C": surf.evaluations / len(Cs),
        }
    return out


def bench_instability():
    rows = []
    with _blas_limit(1):
        for N in (100, 500, 2000):
            draws = 40 if N < 2000 else 12
            rng = np.random.default_rng(1)
            prob = [_draw(rng, 2.0, N, 1000) for _ in range(draws)]
            Ks, Gs = [p[0] for p in prob], [p[1] for p in prob]
            t = time.perf_counter()
            lp, _ = _power_batch(Ks, Gs, 1000)
            t_power = time.perf_counter() - t
            t = time.perf_counter()
            le = np.array([np.linalg.eigvalsh(G.T @ K @ G / 1000)[-1] for K, G in zip(Ks, Gs)])
            t_eig = time.perf_counter() - t
            t = time.perf_counter()
            sample_lambda_max(2.0, N, 1000, draws, seed=2, method="lanczos")
            t_lanczos_total = time.perf_counter() - t
            t = time.perf_counter()
            sample_lambda_max(2.0, N, 1000, draws, seed=2, method="power")
            t_power_total = time.perf_counter() - t
            rows.append(
                {
                    "N": N,
                    "D": 1000,
                    "draws": draws,
                    "eigen_part_draws_per_s": {"power": draws / t_power, "eigvalsh": draws / t_eig},
                    "speedup_power_vs_eigvalsh": t_eig / t_power,
                    "total_draws_per_s": {"power": draws / t_power_total, "lanczos": draws / t_lanczos_total},
                    "max_rel_difference": float(np.max(np.abs(lp / le - 1))),
                }
            )
    return rows


def main():
    res = {"frontier": bench_frontier(), "instability": bench_instability()}
    path = pathlib.Path(__file__).parent / "results" / "sparse_frontier_instability.json"
    path.write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
