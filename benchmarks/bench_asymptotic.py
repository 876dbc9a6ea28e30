"""Benchmark of the boundary-layer asymptotics: constants to 30/100 digits, expansion cost vs order and K.

Writes benchmarks/results/asymptotic.json and prints a table.  Runtime ~8 min, most of it in the traced
memory runs (``--quick``: ~3 min).
Times are wall-clock without tracing; peak memory comes from a second, traced run (tracemalloc slows
Python code several-fold, so it is never timed).

* Delta*(eta), C_D, C_eps, C_L (K = 3, eta = 1) at 30 and 100 digits: Newton iteration with the
  heat-equation derivative (library); at 30 digits also a naive baseline (secant ``findroot`` on the
  generic layer moment ``binary_layer_moment('noise', ...)``).
* Junction moments: the library's reduction to 1-D integrals (trapezoid on one grid) against the naive
  m-dimensional route (2-D tensor Gauss-Legendre, ``local_binary.junction_moment``) for m = 2, float64;
  the 1-D reduction for m = 1..4 at 15, 30 and 50 digits.
* Order-n 1/D expansion (all five expectations at Delta = 0.25) for n = 1..4 and K = 2, 3, 5, 10, at float64
  and (K = 3, 5) at 30 digits: how the cost grows with n and with K.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import mpmath

from asymptotics.asymptotic import (
    expansion,
    gap_density,
    junctions,
    layer_integrals,
    local_binary,
    reduced_flow,
)
from asymptotics.asymptotic.expansion import expansion_coefficients
from asymptotics.asymptotic.reduced_flow import leading_prefactors

RESULTS = Path(__file__).resolve().parent / "results" / "asymptotic.json"


def _clear():
    for fn in (
        reduced_flow._fixed_point_cached,
        layer_integrals._moment_cached,
        layer_integrals._moment_float,
        gap_density._joint_derivative_cached,
        junctions._moment_cached,
        junctions._workspace,
        local_binary._junction_cached,
        local_binary._weight_grid_cached,
    ):
        fn.cache_clear()


def _timed(fn):
    """(value, seconds, peak bytes): one untraced timed run, one traced run for memory (caches cleared)."""
    _clear()
    t = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - t
    _clear()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return value, elapsed, peak


def naive_fixed_point(eta, digits):
    with mpmath.workdps(digits + 10):
        root = mpmath.findroot(
            lambda d: d - eta * layer_integrals.binary_layer_moment("noise", 0, d, digits + 5) / 2,
            mpmath.mpf(eta) * (mpmath.log(2) - mpmath.mpf(1) / 2),
        )
    return root


def constants_rows():
    rows = []
    for digits in (30, 100):
        lead, t_lib, mem = _timed(lambda: leading_prefactors(3, 1, digits))
        row = {
            "task": f"Delta*, C_D, C_eps, C_L (K=3, eta=1) at {digits} digits",
            "seconds": t_lib,
            "peak_bytes": mem,
            "C_eps": mpmath.nstr(lead["C_eps"], 20),
        }
        if digits <= 30:  # the naive secant on the generic 1-D layer quadrature is too slow at 100 digits
            _clear()
            t = time.perf_counter()
            naive = naive_fixed_point(1, digits)
            t_naive = time.perf_counter() - t
            with mpmath.workdps(digits + 5):
                row["baseline_difference"] = mpmath.nstr(abs(naive - lead["Delta_star"]), 3)
            row.update(baseline_seconds=t_naive, ratio=t_naive / t_lib)
        rows.append(row)
    return rows


def junction_rows(quick):
    rows = []
    for alpha in ((0, 0), (1, 1)):
        value, t_new, mem = _timed(
            lambda: [junctions.junction_moment(n, alpha, 0.25) for n in expansion.QUANTITIES]
        )
        naive, t_naive, _ = _timed(
            lambda: [local_binary.junction_moment(n, alpha, 0.25, nodes=24) for n in expansion.QUANTITIES]
        )
        rows.append(
            {
                "task": f"junction moments m=2 alpha={alpha}, 5 quantities, float64",
                "seconds": t_new,
                "peak_bytes": mem,
                "baseline_seconds": t_naive,
                "ratio": t_naive / t_new,
                "baseline": "2-D tensor Gauss-Legendre (24 nodes/panel)",
                "max_difference": max(abs(float(a) - b) for a, b in zip(value, naive)),
            }
        )
    for digits in (15, 30) if quick else (15, 30, 50):
        for m in (1, 2, 3, 4):
            alpha = (0,) * m
            _, t, mem = _timed(
                lambda: [
                    junctions.junction_moment(n, alpha, mpmath.mpf("0.25"), digits)
                    for n in expansion.QUANTITIES
                ]
            )
            rows.append(
                {
                    "task": f"junction moments m={m}, 5 quantities, {digits} digits",
                    "seconds": t,
                    "peak_bytes": mem,
                }
            )
    return rows


def expansion_rows(quick):
    rows = []
    for digits, Ks in ((15, (2, 3, 5, 10)), (30, (3,) if quick else (3, 5))):
        for K in Ks:
            for n in (1, 2, 3, 4):
                _, t, mem = _timed(lambda: expansion_coefficients(K, mpmath.mpf("0.25"), n, digits))
                rows.append(
                    {
                        "task": f"1/D expansion K={K} order {n} (5 expectations, {digits} digits)",
                        "seconds": t,
                        "peak_bytes": mem,
                    }
                )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer cases (~1 min)")
    args = parser.parse_args(argv)
    rows = constants_rows() + junction_rows(args.quick) + expansion_rows(args.quick)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(f"{'task':70s} {'s':>9s} {'baseline s':>10s} {'ratio':>6s} {'peak MB':>8s}")
    for r in rows:
        print(
            f"{r['task']:70s} {r['seconds']:9.3g} {r.get('baseline_seconds', float('nan')):10.3g} "
            f"{r.get('ratio', float('nan')):6.1f} {r['peak_bytes'] / 1e6:8.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
