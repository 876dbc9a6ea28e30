"""Cost of one closure right-hand side per loss, K = 2, 3: the loss-generic engine against today's
cross-entropy path.

For each loss the generic engine (:func:`asymptotics.losses.moments.loss_moments`: the loss's integrands
derived and compiled from its expression, handed to the K = 2 and K = 3 routes) evaluates the moments of
one flow right-hand side at states of a late-time trajectory (D in 0.5 .. 300, Delta = 0.25); the baseline
is the specialised cross-entropy path of today (:func:`asymptotics.numeric.closure.closure_moments`) at
the same states, timed in the same run (interleaved, median of repeats).  The ratio generic/baseline is
the figure of merit (target <= 1.5).  The one-off derivation + compilation time of each loss is reported
separately (it is paid once per process).

Run:  PYTHONPATH=. python benchmarks/bench_losses.py [--quick]   ->  benchmarks/results/losses.json
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import statistics
import time

from asymptotics.losses import get_loss
from asymptotics.losses.moments import loss_moments
from asymptotics.numeric.closure import closure_moments

LOSSES = (
    "cross_entropy",
    "cross_entropy:T=2",
    "label_smoothing:eps=0.1",
    "focal:gamma=2",
    "brier",
    "margin:m=1",
)
STATES = ((0.5, 0.25), (3.0, 0.25), (30.0, 0.25), (300.0, 0.25))
RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "losses.json"


def rhs_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for D, Delta in STATES:
            fn(D, Delta)
        times.append((time.perf_counter() - t0) / len(STATES))
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    repeats = 5 if args.quick else 15
    out = {"platform": platform.platform(), "states": STATES, "repeats": repeats, "rows": []}
    for K in (2, 3):
        closure_moments(K, 1.0, 0.25)  # warm-up of the baseline
        for name in LOSSES:
            loss = get_loss(name)
            t0 = time.perf_counter()
            loss_moments(loss, K, 1.0, 0.25)  # derivation + compilation (once per process)
            compile_s = time.perf_counter() - t0
            # interleave: baseline, generic, baseline, generic ...
            base, gen = [], []
            for _ in range(3):
                base.append(rhs_time(lambda D, x: closure_moments(K, D, x), repeats))
                gen.append(rhs_time(lambda D, x, _l=loss: loss_moments(_l, K, D, x), repeats))
            tb = min(b[1] for b in base)
            tg = min(g[1] for g in gen)
            row = {
                "K": K,
                "loss": name,
                "compile_seconds": round(compile_s, 3),
                "baseline_ms": round(1e3 * tb, 4),
                "generic_ms": round(1e3 * tg, 4),
                "ratio": round(tg / tb, 3),
            }
            print(row, flush=True)
            out["rows"].append(row)
    out["max_ratio"] = max(r["ratio"] for r in out["rows"])
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    print("max ratio", out["max_ratio"], "wrote", RESULTS)


if __name__ == "__main__":
    main()
