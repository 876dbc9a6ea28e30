"""Throughput of the finite-N online SGD simulator against a naive per-seed, per-step loop.

Measures, in one run on the same machine:

* steps per second (one step = one online update of every seed; also seed-steps per second) of
  :func:`asymptotics.dynamics.sgd.simulate_sgd` for K = 3, 8 seeds, N = 250 ... 8000;
* the same for a naive baseline: a Python loop over seeds and steps drawing one x at a time, one
  ``np.outer`` update per step (the textbook implementation);
* their ratio, and the peak memory (tracemalloc: numpy allocations) of the simulator;
* the simulator with input generation in the calling thread (workers = 0) at N = 1000;
* the floor set by drawing the Gaussian inputs alone (seeds x N normals per step, one thread):
  both implementations must draw them, so at large N the ratio tends to 1 (memory/RNG bound).

Writes ``benchmarks/results/sgd.json`` and prints a table.  Default runtime about 1-2 minutes;
``--quick`` runs a smaller version.  Timings are wall-clock and sensitive to other load on the
machine: the 1-minute load average before the run is recorded alongside.

    python benchmarks/bench_sgd.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from asymptotics.dynamics.sgd import orthogonal_teacher, simulate_sgd

RESULTS = Path(__file__).resolve().parent / "results" / "sgd.json"


def naive_sgd(K: int, eta: float, N: int, seeds: int, steps: int, seed: int = 0) -> np.ndarray:
    """Baseline: for each seed, for each step, draw x, compute y, z, softmax, and do W += outer."""
    rng = np.random.Generator(np.random.SFC64(seed))  # same bit generator as the simulator
    W_all = []
    for _ in range(seeds):
        B = orthogonal_teacher(rng, K, N)
        W = np.zeros((K, N))
        for _ in range(steps):
            x = rng.standard_normal(N)
            c = np.argmax(B @ x)
            z = W @ x / math.sqrt(N)
            p = np.exp(z - z.max())
            p /= p.sum()
            e = -p
            e[c] += 1.0
            W += (eta / math.sqrt(N)) * np.outer(e, x)
        W_all.append(W)
    return np.array(W_all)


def time_fast(K, N, seeds, steps, workers=None):
    t0 = time.perf_counter()
    simulate_sgd(K, 1.0, N=N, seeds=seeds, alphas=[steps / N], n_test=1, workers=workers)
    return time.perf_counter() - t0


def time_input_generation(N, seeds, steps, block=16):
    """Floor: only drawing the seeds x steps x N Gaussian inputs (one thread), in blocks."""
    rngs = [np.random.Generator(np.random.SFC64(i)) for i in range(seeds)]
    buf = np.empty((block, N))
    t0 = time.perf_counter()
    for _ in range(0, steps, block):
        for g in rngs:
            g.standard_normal(out=buf)
    return time.perf_counter() - t0


def peak_memory_fast(K, N, seeds, steps):
    tracemalloc.start()
    simulate_sgd(K, 1.0, N=N, seeds=seeds, alphas=[steps / N], n_test=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller work per point (about 20 s)")
    args = ap.parse_args(argv)
    scale = 0.2 if args.quick else 1.0
    K, seeds = 3, 8
    Ns = [250, 500, 1000, 2000, 4000, 8000]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    simulate_sgd(K, 1.0, N=100, seeds=2, alphas=[1.0], n_test=10)  # warm-up (imports, BLAS init)
    rows = []
    for N in Ns:
        fast_steps = max(200, int(scale * 4e6 / N))
        naive_steps = max(50, int(scale * 5e5 / N))
        t_fast = time_fast(K, N, seeds, fast_steps)
        t0 = time.perf_counter()
        naive_sgd(K, 1.0, N, seeds, naive_steps)
        t_naive = time.perf_counter() - t0
        t_inputs = time_input_generation(N, seeds, fast_steps)
        peak = peak_memory_fast(K, N, seeds, min(fast_steps, 200))
        row = {
            "N": N,
            "fast_steps": fast_steps,
            "fast_seconds": t_fast,
            "fast_steps_per_s": fast_steps / t_fast,
            "fast_seed_steps_per_s": seeds * fast_steps / t_fast,
            "naive_steps": naive_steps,
            "naive_seconds": t_naive,
            "naive_steps_per_s": naive_steps / t_naive,
            "speedup": (fast_steps / t_fast) / (naive_steps / t_naive),
            "input_generation_only_steps_per_s": fast_steps / t_inputs,
            "fast_peak_memory_MB": peak / 2**20,
            "state_memory_MB": 2 * seeds * K * N * 8 / 2**20,
        }
        rows.append(row)
        print(
            f"N={N:5d}  fast {row['fast_steps_per_s']:9.0f} steps/s  naive {row['naive_steps_per_s']:8.0f} "
            f"steps/s  ratio {row['speedup']:5.1f}  peak {row['fast_peak_memory_MB']:6.1f} MB",
            file=sys.stderr,
        )

    serial_steps = max(200, int(scale * 4000))
    t_serial = time_fast(K, 1000, seeds, serial_steps, workers=0)
    ref = next(r for r in rows if r["N"] == 1000)
    # log-log slope of time per step against N (1 = linear in N)
    logN = np.log([r["N"] for r in rows])
    slope = float(np.polyfit(logN, np.log([1 / r["fast_steps_per_s"] for r in rows]), 1)[0])
    slope_naive = float(np.polyfit(logN, np.log([1 / r["naive_steps_per_s"] for r in rows]), 1)[0])
    result = {
        "benchmark": "online SGD simulator, K = 3, 8 seeds, eta = 1 (one step = one update of every seed)",
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpus": os.cpu_count(),
            "load_average_1min_before": load,
            "max_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        },
        "K": K,
        "seeds": seeds,
        "rows": rows,
        "N1000": {
            "fast_steps_per_s": ref["fast_steps_per_s"],
            "naive_steps_per_s": ref["naive_steps_per_s"],
            "speedup": ref["speedup"],
            "fast_steps_per_s_without_input_threads": serial_steps / t_serial,
        },
        "time_per_step_vs_N_loglog_slope": {"fast": slope, "naive": slope_naive},
        "quick": bool(args.quick),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")

    print(
        f"{'N':>6} {'fast steps/s':>13} {'naive steps/s':>14} {'ratio':>7} {'inputs only':>12} {'peak MB':>8}"
    )
    for r in rows:
        print(
            f"{r['N']:>6} {r['fast_steps_per_s']:>13.0f} {r['naive_steps_per_s']:>14.0f} "
            f"{r['speedup']:>7.1f} {r['input_generation_only_steps_per_s']:>12.0f} "
            f"{r['fast_peak_memory_MB']:>8.1f}"
        )
    print(f"N = 1000 without input threads: {serial_steps / t_serial:.0f} steps/s")
    print(f"time per step ~ N^{slope:.2f} (fast), N^{slope_naive:.2f} (naive); load before run {load:.2f}")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
