"""Wall time and peak memory to integrate the exact closure from D = Delta = 0 to large alpha.

Measures, in one run on the same machine:

* :func:`asymptotics.dynamics.flow.integrate_closure` (LSODA in tau = ln(1 + alpha), default
  rtol = 1e-10) for K = 2 and K = 3, eta = 1, up to alpha = 1e3, 1e4, 1e6 and 1e8: wall time, number of
  flow (right-hand-side) evaluations and peak traced memory (a separate traced run; K = 3 only up to
  1e4), i.e. how the cost grows with the range;
* a naive baseline: the same flow integrated directly in alpha with an explicit Runge--Kutta method
  (RK45, the textbook choice), which the stiffness of the late-time Delta relaxation (rate ~ alpha^(2/3)
  in log time) makes very expensive; it is run only to alpha = 1e3 and 1e4 and the ratio is taken
  at equal range.

Writes ``benchmarks/results/flow.json`` and prints a table.  ``--quick`` skips alpha = 1e8 for K = 3.

    python benchmarks/bench_flow.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import tracemalloc
from pathlib import Path

from scipy.integrate import solve_ivp

from asymptotics.dynamics.flow import integrate_closure
from asymptotics.numeric.closure import closure_moments

RESULTS = Path(__file__).resolve().parent / "results" / "flow.json"


def measure(fn, *, memory: bool = False):
    """Wall time of ``fn()``; with ``memory`` a second, traced run gives the peak Python allocation
    (tracing slows Python code several-fold, so it is never timed)."""
    start = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - start
    peak = float("nan")
    if memory:
        tracemalloc.start()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return value, elapsed, peak


def naive_rk45(K, eta, alpha_max, rtol=1e-10):
    """Textbook baseline: explicit RK45 directly in alpha."""

    def rhs(alpha, s):
        m = closure_moments(K, max(s[0], 0.0), max(s[1], 0.0))
        return [eta / (K - 1) * m.drift, eta / (K - 1) * (-2 * s[1] * m.restoring + eta * m.noise)]

    return solve_ivp(rhs, (0.0, alpha_max), [0.0, 0.0], method="RK45", rtol=rtol, atol=rtol * 1e-4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = []
    for K in (2, 3):
        for alpha_max in (1e3, 1e4, 1e6, 1e8):
            if args.quick and K == 3 and alpha_max > 1e6:
                continue
            curve, elapsed, peak = measure(
                lambda: integrate_closure(K, 1.0, [alpha_max]), memory=(K == 2 or alpha_max <= 1e4)
            )
            row = {
                "K": K,
                "alpha_max": alpha_max,
                "method": "LSODA in ln(1+alpha)",
                "seconds": elapsed,
                "rhs_evaluations": curve.rhs_evaluations,
                "peak_memory_MB": peak / 2**20,
                "D_end": float(curve.D[-1]),
                "Delta_end": float(curve.Delta[-1]),
            }
            if alpha_max <= 1e4:
                sol, naive_elapsed, _ = measure(lambda: naive_rk45(K, 1.0, alpha_max))
                row.update(
                    naive_method="RK45 in alpha",
                    naive_seconds=naive_elapsed,
                    naive_rhs_evaluations=int(sol.nfev),
                    speedup=naive_elapsed / elapsed,
                    naive_D_end=float(sol.y[0, -1]),
                    relative_difference_D=abs(float(sol.y[0, -1]) / float(curve.D[-1]) - 1),
                )
            rows.append(row)
            print(
                f"K={K} alpha_max={alpha_max:8.0e}  {elapsed:8.2f} s  {curve.rhs_evaluations:6d} evals  "
                f"{peak / 2**20:6.1f} MB"
                + (
                    f"   naive {row['naive_seconds']:8.2f} s  "
                    f"{row['naive_rhs_evaluations']:7d} evals  speedup {row['speedup']:.1f}x"
                    if "naive_seconds" in row
                    else ""
                ),
                flush=True,
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"load_average_1min": os.getloadavg()[0], "rows": rows}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
