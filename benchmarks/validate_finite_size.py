"""The finite-size study: online SGD at finite N against the N -> infinity closure (K = 2, 3; eta = 0.5, 1).

Runs :func:`asymptotics.analysis.finite_size.run_study` as a sweep on a local Dask cluster (2 workers)
with its result cache in ``output/finite_size_cache`` (an interrupted run resumes; ``--analyse-only``
analyses whatever blocks are cached), then writes

* ``benchmarks/results/finite_size.json`` -- per (K, eta, observable, alpha): closure value, means, standard
  errors, deviations and z-scores per N, the fitted exponent of the deviation in 1/N with its error, the
  secant (local) exponents between successive N, the coefficient N x deviation, the spreads and their
  exponent, and for K = 2 the derived 1/N coefficient and spread;
* ``benchmarks/results/finite_size.png`` -- the figure (:func:`asymptotics.analysis.finite_size.plot_finite_size`).

Seeds per N are planned from a pilot (N = 100 and 400, 3000 and 750 seeds): the largest deviation
coefficients were c ~ 0.1-0.16 against spread coefficients s ~ 0.1-0.17 (eps_g at alpha = 1-2, Delta at
alpha <= 0.5), i.e. (s/c)^2 ~ 1, so S(N) = max(1000, 3 N) resolves them at about 1.7 standard errors
at N = 2000 and better below.  Cost: 200 points, 2.1 CPU-hours of worker time (60 min on 2 workers,
with other load on the machine).  Run it alone,

    python benchmarks/validate_finite_size.py [--quick] [--analyse-only]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

from asymptotics.analysis.finite_size import (
    StudyConfig,
    analyse,
    headline,
    plan_seeds,
    plot_finite_size,
    pooled_from_cache,
    run_study,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def config(quick: bool) -> StudyConfig:
    if quick:
        Ns = (100, 200, 400)
        return StudyConfig(
            Ns=Ns,
            alphas=(0.5, 2.0),
            seeds=plan_seeds(Ns, ratio=1.0, z=1.0, minimum=500, block=250),
            block=250,
        )
    Ns = (100, 200, 500, 1000, 2000)
    return StudyConfig(
        Ns=Ns,
        alphas=(0.25, 0.5, 1.0, 2.0),
        seeds=plan_seeds(Ns, ratio=1.0, z=math.sqrt(3.0), minimum=1000, block=250),
        block=250,
    )


def _clean(obj):
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small version (~2 minutes)")
    parser.add_argument("--analyse-only", action="store_true", help="analyse the cached blocks, run nothing")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    cfg = config(args.quick)
    cache = ROOT / "output" / ("finite_size_cache_quick" if args.quick else "finite_size_cache")
    t0 = time.perf_counter()
    load = os.getloadavg()[0]
    if args.analyse_only:
        results = analyse(pooled_from_cache(cfg, cache), cfg)
        entries = [json.loads(f.read_text()) for f in cache.glob("??/*.json")]
        results["sweep"] = {
            "note": "analysed from the cache",
            "cached_points": len(entries),
            "cpu_seconds_of_points": sum(e["wall_time"] for e in entries),
        }
    else:
        results = run_study(cfg, cache=cache, workers=args.workers, progress=True)
    results["headline"] = headline(results)
    results["wall_seconds"] = time.perf_counter() - t0
    results["load_average_1min_before"] = load
    stem = "finite_size_quick" if args.quick else "finite_size"
    out = RESULTS / f"{stem}.json"
    out.write_text(json.dumps(_clean(results), indent=1) + "\n")
    plot_finite_size(results, RESULTS / f"{stem}.png")
    print(f"wrote {out} and {RESULTS / f'{stem}.png'} ({results['wall_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
