"""Benchmark: effective-exponent tables and schedule optimisation.

1. Full effective-exponent table of the exact closure (K = 3, eta = 1, alpha up to 1e8 by default):
   stiff LSODA integration (``integrate_closure``) + dense-output slopes
   (``asymptotics.analysis.cli.exponent_report``), against the naive baseline of an explicit DOP853
   integration of the same flow on shorter ranges (the explicit solver needs ~1e5-1e6 steps to reach
   1e8; it is timed for K = 2 up to alpha_max = 1e5 and compared with the stiff solver on the same range).
2. Schedule optimisation (reduced flow, K = 2) for growing budgets, against a naive grid search over
   (alpha0, beta) with the same number of flow evaluations per axis.

Writes benchmarks/results/exponents.json and prints a table.  Default runtime ~2-3 minutes on a loaded 2-core machine (``--quick``: under a minute).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np


def measure(fn, *args, **kw):
    """Wall time and the process's peak resident memory after the call (MB; resource.getrusage).

    tracemalloc is not used: tracing every allocation slows the Python right-hand sides several-fold.
    """
    t = time.perf_counter()
    out = fn(*args, **kw)
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out, dt, peak


def naive_explicit_closure(K: int, eta: float, alpha_max: float, rtol: float) -> int:
    """The closure integrated with an explicit Runge--Kutta method (DOP853); returns the RHS count."""
    import math

    from scipy.integrate import solve_ivp

    from asymptotics.numeric.closure import closure_moments

    n = [0]

    def rhs(tau, s):
        n[0] += 1
        D, Delta = max(s[0], 0.0), max(s[1], 0.0)
        m = closure_moments(K, D, Delta)
        sc = (1 + math.expm1(tau)) * eta / (K - 1)
        return [sc * float(m.drift), sc * (-2 * Delta * float(m.restoring) + eta * float(m.noise))]

    solve_ivp(rhs, (0.0, math.log1p(alpha_max)), [0.0, 0.0], method="DOP853", rtol=rtol, atol=rtol * 1e-4)
    return n[0]


def main(quick: bool = False) -> dict:
    from asymptotics.analysis.closure_observables import exact_closure_observables
    from asymptotics.analysis.exponent_report import exponent_report
    from asymptotics.asymptotic.schedule_exponents import _final_eps, delta_star, optimise_schedule
    from asymptotics.dynamics.schedules import PowerLaw

    results = {"tables": [], "solver_vs_naive": [], "optimise": []}
    # 1a. table as the work grows
    for amax in [1e4, 1e6] if quick else [1e4, 1e6, 1e8]:
        rep, dt, mem = measure(exponent_report, 3, 1.0, alpha_max=amax)
        results["tables"].append(
            {
                "K": 3,
                "alpha_max": amax,
                "seconds": dt,
                "peak_MB": mem,
                "eps_g_exponent": rep["eps_g_exponent"],
                "eps_g_exponent_error": rep["eps_g_exponent_error"],
                "loss_exponent": rep["loss_exponent"],
                "rhs_evaluations": rep["rhs_evaluations"],
            }
        )
    # 1b. stiff (LSODA, integrate_closure) vs a naive explicit DOP853 integration of the same flow: the
    # explicit solver is fine on short ranges and loses by a growing factor once Delta's relaxation
    # becomes stiff (alpha >~ 1e3)
    for K, amax in [(2, 1e3)] if quick else [(2, 1e3), (2, 1e4), (2, 1e5)]:
        _, t_stiff, _ = measure(exact_closure_observables, K, 1.0, amax, rtol=1e-9)
        n_naive, t_naive, _ = measure(naive_explicit_closure, K, 1.0, amax, 1e-9)
        results["solver_vs_naive"].append(
            {
                "K": K,
                "alpha_max": amax,
                "stiff_seconds": t_stiff,
                "explicit_seconds": t_naive,
                "ratio": t_naive / t_stiff,
                "explicit_rhs_evaluations": n_naive,
            }
        )
    # 2. schedule optimisation vs naive grid search
    for budget in [1e4] if quick else [1e4, 1e6]:
        opt, dt, mem = measure(optimise_schedule, 2, budget)
        L = np.log(budget)

        def grid_search():
            best = (np.inf, None)
            d0 = delta_star(1.0)
            for la0 in np.linspace(L - 5, L, 8):
                for beta in np.linspace(0.0, 8.0, 8):
                    e = _final_eps(2, PowerLaw(1.0, beta, np.exp(la0)), budget, 1.0, d0, 1e-8)
                    best = min(best, (e, (float(np.exp(la0)), float(beta))))
            return best

        naive, dt_naive, _ = measure(grid_search)
        results["optimise"].append(
            {
                "K": 2,
                "alpha_budget": budget,
                "seconds": dt,
                "peak_MB": mem,
                "evaluations": opt["evaluations"],
                "eps_g": opt["eps_g"],
                "alpha0": opt["alpha0"],
                "beta": opt["beta"],
                "eps_g_constant": opt["eps_g_constant"],
                "eps_g_anytime": opt["eps_g_anytime"],
                "grid_search_seconds": dt_naive,
                "grid_search_eps_g": naive[0],
                "ratio_time_grid_over_opt": dt_naive / dt,
            }
        )
    return results


def report(results: dict) -> None:
    print("effective-exponent table, exact closure K = 3, eta = 1")
    print(
        f"{'alpha_max':>10} {'seconds':>8} {'peak MB':>8} {'eps_g exponent':>16} {'error':>9} {'rhs evals':>9}"
    )
    for r in results["tables"]:
        print(
            f"{r['alpha_max']:10.0e} {r['seconds']:8.2f} {r['peak_MB']:8.1f} {r['eps_g_exponent']:+16.8f} "
            f"{r['eps_g_exponent_error']:9.1e} {r['rhs_evaluations']:9d}"
        )
    print("\nstiff (LSODA) vs explicit DOP853 (naive) closure integration")
    for r in results["solver_vs_naive"]:
        print(
            f"  K = {r['K']}, alpha_max {r['alpha_max']:.0e}: stiff {r['stiff_seconds']:.2f}s, explicit {r['explicit_seconds']:.2f}s, "
            f"ratio {r['ratio']:.1f}"
        )
    print("\nschedule optimisation (reduced flow, K = 2, eta <= 1)")
    for r in results["optimise"]:
        print(
            f"  budget {r['alpha_budget']:.0e}: {r['seconds']:.2f}s ({r['evaluations']} flows), eps_g {r['eps_g']:.4e} "
            f"[alpha0 {r['alpha0']:.3g}, beta {r['beta']:.3f}]; grid search {r['grid_search_seconds']:.2f}s "
            f"eps_g {r['grid_search_eps_g']:.4e}; constant {r['eps_g_constant']:.4e}, anytime {r['eps_g_anytime']:.4e}"
        )


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    res = main(quick)
    report(res)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "exponents.json").write_text(json.dumps(res, indent=2))
    print(f"\nwritten {out / 'exponents.json'}")
