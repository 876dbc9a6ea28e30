"""Sweep machinery on Dask, and the cost of K = 3 closure points at a requested accuracy.

Measures, in one run on the same machine (run it alone, on an otherwise idle machine):

* overhead per point: a trivial function (:func:`asymptotics.sweep.tasks.noop`) over many points,
  in-process and on a LocalCluster with 2 workers, with and without the on-disk cache
  (cluster start-up is reported separately);
* speed-up on CPU-bound points: 12 ``busy`` points (pure-Python LCG, ~1 s each) run serially in-process
  (the naive baseline), on a LocalCluster with 1 worker and with 2 workers, three times interleaved,
  fastest of each kept; the results must be identical to the serial ones;
* closure K = 3 at rtol = 1e-6, 1e-8, 1e-10, 1e-12 (``closure_moments(3, D, Delta, rtol=...)``):
  time per call and true relative error against a tighter reference (the gap rule at h = 1/9,
  ~1e-15) over the states of a closure trajectory (eta = 1, alpha = 0.1 ... 1e6) and the domain's
  edges, against the fixed ~1e-12 rule used without rtol (the baseline).

Writes ``benchmarks/results/sweep.json`` (each part records the machine's load average before it: the
speed-up needs an otherwise idle machine).  ``--quick`` runs a smaller version; ``--parts speedup``
re-measures one part and keeps the others.

    python benchmarks/bench_sweep.py [--quick] [--parts overhead,speedup,closure]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from asymptotics.numeric.closure import closure_moments
from asymptotics.numeric.closure_quadrature import k3_moments
from asymptotics.numeric.moments import MOMENT_NAMES
from asymptotics.sweep.grid import product_grid
from asymptotics.sweep.runner import run_sweep

RESULTS = Path(__file__).resolve().parent / "results" / "sweep.json"


def local_client(workers: int):
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    client.run(lambda: __import__("asymptotics.sweep.tasks"))  # warm the workers' imports
    return cluster, client, time.perf_counter() - t0


def overhead(points: int) -> dict:
    grid = product_grid({"i": list(range(points))})
    out = {"points": points}
    res = run_sweep("asymptotics.sweep.tasks:noop", grid, scheduler="synchronous")
    out["in_process_s_per_point"] = res.elapsed / points
    with tempfile.TemporaryDirectory() as tmp:
        res = run_sweep("asymptotics.sweep.tasks:noop", grid, scheduler="synchronous", cache=tmp)
        out["in_process_cached_write_s_per_point"] = res.elapsed / points
        res = run_sweep("asymptotics.sweep.tasks:noop", grid, scheduler="synchronous", cache=tmp)
        out["cache_hit_s_per_point"] = res.elapsed / points
    cluster, client, startup = local_client(2)
    try:
        out["local_cluster_2_workers_startup_s"] = startup
        run_sweep("asymptotics.sweep.tasks:noop", grid[:10], client=client)  # warm-up
        res = run_sweep("asymptotics.sweep.tasks:noop", grid, client=client)
        out["local_cluster_2_workers_s_per_point"] = res.elapsed / points
        with tempfile.TemporaryDirectory() as tmp:
            res = run_sweep("asymptotics.sweep.tasks:noop", grid, client=client, cache=tmp)
            out["local_cluster_2_workers_with_cache_s_per_point"] = res.elapsed / points
    finally:
        client.close()
        cluster.close()
    return out


def speedup(points: int, n: int, repeats: int = 3) -> dict:
    """Serial (in-process) versus LocalCluster with 1 and 2 workers; each timed ``repeats`` times,
    interleaved, keeping the fastest (the least disturbed by other load on the machine)."""
    grid = product_grid({"seed": list(range(points))}, fixed={"n": n})
    reference = [
        r["result"]
        for r in run_sweep("asymptotics.sweep.tasks:busy", grid[:1], scheduler="synchronous").records
    ]
    clusters = {w: local_client(w) for w in (1, 2)}
    times = {"serial": [], 1: [], 2: []}
    identical = {1: True, 2: True}
    try:
        for _ in range(repeats):
            serial = run_sweep("asymptotics.sweep.tasks:busy", grid, scheduler="synchronous")
            times["serial"].append(serial.elapsed)
            reference = [r["result"] for r in serial.records]
            for w in (1, 2):
                res = run_sweep("asymptotics.sweep.tasks:busy", grid, client=clusters[w][1])
                times[w].append(res.elapsed)
                identical[w] &= [r["result"] for r in res.records] == reference
    finally:
        for cluster, client, _ in clusters.values():
            client.close()
            cluster.close()
    best = min(times["serial"])
    out = {
        "points": points,
        "busy_n": n,
        "repeats": repeats,
        "serial_s": best,
        "serial_s_per_point": best / points,
        "serial_s_all": times["serial"],
    }
    for w in (1, 2):
        out[f"workers_{w}_s"] = min(times[w])
        out[f"workers_{w}_s_all"] = times[w]
        out[f"workers_{w}_startup_s"] = clusters[w][2]
        out[f"workers_{w}_speedup"] = best / min(times[w])
        out[f"workers_{w}_identical_to_serial"] = identical[w]
    return out


def closure_states(quick: bool) -> list:
    from asymptotics.dynamics.flow import integrate_closure

    alphas = np.logspace(-1, 4 if quick else 6, 12 if quick else 25)
    curve = integrate_closure(3, 1.0, alphas)
    states = [(float(d), float(v)) for d, v in zip(curve.D, curve.Delta)]
    edges = [(1e-3, 1e-3), (0.0, 0.5), (0.0, 50.0), (3.0, 0.0), (1e4, 5.0), (1e5, 0.5), (2.0, 50.0)]
    return states + edges


def rel_error(m, ref) -> float:
    worst = 0.0
    for name in MOMENT_NAMES:
        r = float(getattr(ref, name))
        if r != 0.0:
            worst = max(worst, abs(float(getattr(m, name)) - r) / abs(r))
    return worst


def time_call(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def closure_rtol(quick: bool) -> dict:
    states = closure_states(quick)
    refs = [k3_moments(D, De, h=1 / 9) for D, De in states]
    repeats = 3 if quick else 7
    rows = []
    levels = [None, 1e-6, 1e-8, 1e-10, 1e-12]
    for rtol in levels:
        times, errors, honest = [], [], []
        for (D, De), ref in zip(states, refs):
            fn = (
                (lambda D=D, De=De: closure_moments(3, D, De))
                if rtol is None
                else (lambda D=D, De=De, r=rtol: closure_moments(3, D, De, rtol=r))
            )
            times.append(time_call(fn, repeats))
            m = fn()
            errors.append(rel_error(m, ref))
            honest.append(
                all(
                    abs(float(getattr(m, n)) - float(getattr(ref, n)))
                    <= float(m.errors[n]) + 2e-15 * abs(float(getattr(ref, n)))
                    for n in MOMENT_NAMES
                )
            )
        traj = len(states) - 7
        rows.append(
            {
                "rtol": rtol if rtol is not None else "default (fixed ~1e-12 rule)",
                "time_ms_median": 1e3 * statistics.median(times),
                "time_ms_trajectory_mean": 1e3 * statistics.fmean(times[:traj]),
                "time_ms_max": 1e3 * max(times),
                "true_rel_error_max": max(errors),
                "error_estimate_bounds_true_error_at_all_states": all(honest),
            }
        )
    base = rows[0]["time_ms_trajectory_mean"]
    for row in rows[1:]:
        row["speedup_vs_default_trajectory_mean"] = base / row["time_ms_trajectory_mean"]
    return {
        "states": len(states),
        "trajectory_states": len(states) - 7,
        "reference": "k3_moments(h=1/9): gap rule at ~1e-15",
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--parts",
        default="overhead,speedup,closure",
        help="comma-separated parts to (re)measure; the others are kept from the results file",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    out = RESULTS if not args.quick else RESULTS.with_name("sweep_quick.json")
    result = (
        json.loads(out.read_text()) if out.exists() and parts != {"overhead", "speedup", "closure"} else {}
    )
    result["benchmark"] = "sweep machinery (Dask) and closure K = 3 at a requested rtol"
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "load_average_1min_before": load}
    if "overhead" in parts:
        result["overhead"] = {**overhead(100 if args.quick else 400), "machine": machine}
    if "speedup" in parts:
        result["speedup"] = {
            **speedup(8 if args.quick else 12, 2_000_000 if args.quick else 8_000_000),
            "machine": machine,
        }
    if "closure" in parts:
        result["closure_k3_rtol"] = {**closure_rtol(args.quick), "machine": machine}
    result.pop("machine", None)
    result["total_seconds_last_run"] = time.perf_counter() - t0
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
