"""Benchmark of the boundary-layer asymptotics: constants to 30/100 digits, expansion cost vs order and K.

Writes benchmarks/results/asymptotic.json and prints a table.  Default runtime ~2 min.

* Delta*(eta), C_D, C_eps, C_L (K = 3, eta = 1) at 30 and 100 digits: Newton iteration with the
  heat-equation derivative B' = E[sigma sigma(-)] (library); at 30 digits also a naive baseline (secant
  ``findroot`` on the generic layer moment ``binary_layer_moment('noise', ...)``).
* Order-n 1/D expansion (all five expectations at Delta = 0.25), n = 1, 2, 4 (K = 2), 1..3 (K = 3), n = 1 for
  K = 5, 10: wall time and peak memory (tracemalloc).
"""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import mpmath

from asymptotics.asymptotic import gap_density, layer_integrals, local_binary, reduced_flow
from asymptotics.asymptotic.expansion import expansion_coefficients
from asymptotics.asymptotic.reduced_flow import leading_prefactors

RESULTS = Path(__file__).resolve().parent / "results" / "asymptotic.json"


def _clear():
    for fn in (reduced_flow._fixed_point_cached, layer_integrals._moment_cached, layer_integrals._moment_float,
               gap_density._joint_derivative_cached,
               local_binary._junction_cached, local_binary._weight_grid_cached):
        fn.cache_clear()


def _timed(fn):
    _clear()
    tracemalloc.start()
    t = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return value, elapsed, peak


def naive_fixed_point(eta, digits):
    with mpmath.workdps(digits + 10):
        root = mpmath.findroot(lambda d: d - eta * layer_integrals.binary_layer_moment("noise", 0, d, digits + 5) / 2,
                               mpmath.mpf(eta) * (mpmath.log(2) - mpmath.mpf(1) / 2))
    return root


def main() -> int:
    rows = []
    for digits in (30, 100):
        lead, t_lib, mem = _timed(lambda: leading_prefactors(3, 1, digits))
        row = {"task": f"Delta*, C_D, C_eps, C_L (K=3, eta=1) at {digits} digits", "seconds": t_lib,
               "peak_bytes": mem, "C_eps": mpmath.nstr(lead["C_eps"], 20)}
        if digits <= 30:      # the naive secant on the generic 1-D layer quadrature is too slow at 100 digits
            naive, t_naive, _ = _timed(lambda: naive_fixed_point(1, digits))
            with mpmath.workdps(digits + 5):
                row["baseline_difference"] = mpmath.nstr(abs(naive - lead["Delta_star"]), 3)
            row.update(baseline_seconds=t_naive, ratio=t_naive / t_lib)
        rows.append(row)
    for K, orders in ((2, (1, 2, 4)), (3, (1, 2, 3)), (5, (1,)), (10, (1,))):
        for n in orders:
            _, t, mem = _timed(lambda: expansion_coefficients(K, 0.25, n))
            rows.append({"task": f"1/D expansion K={K} order {n} (5 expectations, float64)", "seconds": t,
                         "peak_bytes": mem})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(f"{'task':70s} {'s':>8s} {'baseline s':>10s} {'ratio':>6s} {'peak MB':>8s}")
    for r in rows:
        print(f"{r['task']:70s} {r['seconds']:8.2f} {r.get('baseline_seconds', float('nan')):10.2f} "
              f"{r.get('ratio', float('nan')):6.1f} {r['peak_bytes'] / 1e6:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
