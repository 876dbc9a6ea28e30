"""Cost and accuracy of one closure evaluation, K = 2..5, against a naive Monte Carlo baseline.

For each K and D (Delta = 0.25): time of the deterministic float64 path (median of repeats),
its accuracy against a reference (K = 2: the 25-digit mpmath path; K = 3: the independent
Laplace route, and the 20-digit mpmath route at selected D; K = 4, 5: the Laplace route with
halved steps), peak memory (tracemalloc), and a naive Monte Carlo run with 2e5 samples (time,
relative standard error).  Monte Carlo error scales as 1/sqrt(n), so its time to reach the
quadrature's accuracy is extrapolated as t_MC * (se_MC / acc)^2; the ratio of that to the
quadrature time is reported as ``speedup_at_equal_accuracy`` (extrapolated, not measured).

Run:  python benchmarks/bench_closure.py [--quick]   ->  benchmarks/results/closure.json
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import statistics
import sys
import time
import tracemalloc

import mpmath

from asymptotics.numeric import closure_quadrature as cq
from asymptotics.numeric.closure import closure_moments
from asymptotics.numeric.closure_binary import binary_moments_mp
from asymptotics.numeric.closure_montecarlo import montecarlo_moments
from asymptotics.numeric.moments import MOMENT_NAMES

DELTA = 0.25
RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "closure.json"


def timed(fn, repeats):
    fn()  # warm-up (code generation, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def peak_memory(fn):
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def max_rel(a, ref):
    worst = 0.0
    for name in MOMENT_NAMES:
        r = float(getattr(ref, name))
        if r != 0.0:
            worst = max(worst, abs(float(getattr(a, name)) - r) / abs(r))
    return worst


def reference(K, D):
    if K == 2:
        return binary_moments_mp(D, DELTA, digits=25), "binary mpmath 25 digits"
    if K == 3:
        return cq.laplace_moments(3, D, DELTA), "independent Laplace route (float64)"
    fine = cq._laplace_sums(K, float(D), DELTA, h_t=0.125, h_kappa=0.125, gl=12)
    ref = cq.ClosureMoments(K, D, DELTA, *map(float, fine))
    return ref, "Laplace route with halved steps"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no mpmath timings")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 7
    rows = []
    print(
        f"{'K':>2} {'D':>6} {'method':>19} {'t_quad[ms]':>10} {'acc':>8} {'mem[kB]':>8} "
        f"{'t_MC[s]':>8} {'se_MC':>8} {'speedup':>9}",
        file=sys.stderr,
    )
    for K in (2, 3, 4, 5):
        for D in (1.0, 10.0, 100.0, 1000.0):
            res, t_quad = timed(lambda: closure_moments(K, D, DELTA), repeats)
            ref, ref_name = reference(K, D)
            acc = max(max_rel(res, ref), 1e-16)
            mem = peak_memory(lambda: closure_moments(K, D, DELTA))
            t0 = time.perf_counter()
            mc = montecarlo_moments(K, D, DELTA, samples=200_000, seed=1)
            t_mc = time.perf_counter() - t0
            se = max(mc.errors[n] / abs(getattr(mc, n)) for n in MOMENT_NAMES)
            t_mc_equal = t_mc * (se / acc) ** 2
            row = {
                "K": K,
                "D": D,
                "Delta": DELTA,
                "method": res.method,
                "time_s": t_quad,
                "accuracy_rel": acc,
                "reference": ref_name,
                "error_estimate_rel": max(
                    res.errors[n] / abs(getattr(res, n)) for n in MOMENT_NAMES if getattr(res, n)
                ),
                "peak_memory_bytes": mem,
                "mc_samples": 200_000,
                "mc_time_s": t_mc,
                "mc_rel_se": se,
                "mc_time_at_equal_accuracy_s_extrapolated": t_mc_equal,
                "speedup_at_equal_accuracy": t_mc_equal / t_quad,
                "speedup_at_mc_cost": t_mc / t_quad,
            }
            rows.append(row)
            print(
                f"{K:>2} {D:>6g} {res.method:>19} {1e3 * t_quad:>10.2f} {acc:>8.1e} "
                f"{mem / 1024:>8.0f} {t_mc:>8.3f} {se:>8.1e} {row['speedup_at_equal_accuracy']:>9.1e}",
                file=sys.stderr,
            )

    mp_rows = []
    if not args.quick:
        for K, D, digits in [
            (2, 1, 30),
            (2, 1000, 30),
            (2, 1000, 50),
            (3, 20, 20),
            (3, 200, 20),
            (3, 2000, 20),
        ]:
            t0 = time.perf_counter()
            m = closure_moments(K, D, DELTA, digits=digits)
            dt = time.perf_counter() - t0
            row = {
                "K": K,
                "D": D,
                "Delta": DELTA,
                "digits": digits,
                "method": m.method,
                "time_s": dt,
                "error_estimate_rel": float(
                    max(m.errors[n] / abs(getattr(m, n)) for n in MOMENT_NAMES if getattr(m, n))
                ),
            }
            if K == 3:
                exact = cq.k3_eps_g_exact(D, DELTA, digits=digits + 5)
                with mpmath.workdps(digits + 5):
                    row["eps_g_vs_closed_form_rel"] = float(abs(m.eps_g - exact) / exact)
                f64 = closure_moments(3, D, DELTA)
                row["float64_vs_mpmath_rel"] = max_rel(f64, m)
            mp_rows.append(row)
            print(f"mpmath K={K} D={D:g} digits={digits}: {dt:.2f} s  {row}", file=sys.stderr)

    out = {
        "benchmark": "closure",
        "python": platform.python_version(),
        "note": "speedup_at_equal_accuracy extrapolates Monte Carlo time as t*(se/acc)^2",
        "rows": rows,
        "arbitrary_precision": mp_rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1))
    print(json.dumps({"written": str(RESULTS), "rows": len(rows)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
